/**
 * The safetensors format: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the data
 * buffer (little-endian, row-major; offsets relative to its start). Written as the reference writer
 * does: tensors sorted by dtype alignment (largest first) then name, header padded with spaces to 8.
 */
import { EdgespikeError } from '../util/errors.js';

/** Element size of each dtype, listed in the format's alignment order (smallest first). */
export const DTYPE_SIZES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
} as const;

/** A safetensors element type. */
export type Dtype = keyof typeof DTYPE_SIZES;

/** One stored tensor: its dtype, shape and raw little-endian bytes. */
export interface RawTensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** A whole file: tensors in offset order and the string metadata ({} when absent). */
export interface SafetensorsFile {
  readonly tensors: Record<string, RawTensor>;
  readonly metadata: Record<string, string>;
}

/** Typed arrays the writer accepts, with the dtype each one is stored as. */
export type TensorData = Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** A tensor to write: shape and data (dtype defaults from the array type; F16/BF16 take Uint16Array bits). */
export interface TensorInput {
  readonly shape: readonly number[];
  readonly data: TensorData;
  readonly dtype?: Dtype;
}

/** The largest header accepted (as in the reference reader): 100 000 000 bytes. */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_RANK = Object.keys(DTYPE_SIZES) as Dtype[];
const isDtype = (s: unknown): s is Dtype => typeof s === 'string' && Object.hasOwn(DTYPE_SIZES, s);
const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function defaultDtype(d: TensorData): Dtype {
  if (d instanceof Float32Array) return 'F32';
  if (d instanceof Float64Array) return 'F64';
  if (d instanceof Int32Array) return 'I32';
  if (d instanceof Uint32Array) return 'U32';
  if (d instanceof Int16Array) return 'I16';
  if (d instanceof Uint16Array) return 'U16';
  if (d instanceof Int8Array) return 'I8';
  return 'U8';
}

const utf8 = new TextEncoder();
/** Compares names as UTF-8 byte strings (the reference writer's order). */
function byteOrder(a: string, b: string): number {
  const x = utf8.encode(a), y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Encodes tensors and metadata into safetensors bytes, byte-identical to the reference writer. */
export function serializeSafetensors(tensors: Record<string, TensorInput>, metadata?: Record<string, string>): Uint8Array {
  const entries = Object.entries(tensors).map(([name, t]) => {
    const dtype = t.dtype ?? defaultDtype(t.data);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const ok = isDtype(dtype) && t.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      bytes.length === count(t.shape) * DTYPE_SIZES[dtype] && t.data.BYTES_PER_ELEMENT <= DTYPE_SIZES[dtype];
    if (!ok || name === '__metadata__') {
      throw new EdgespikeError(`serializeSafetensors: tensor "${name}" has ${t.data.length} elements of ${t.data.BYTES_PER_ELEMENT} byte(s), shape [${t.shape.join(', ')}] and dtype ${String(dtype)} do not match`);
    }
    return { name, dtype, shape: t.shape, bytes };
  });
  entries.sort((a, b) => DTYPE_RANK.indexOf(b.dtype) - DTYPE_RANK.indexOf(a.dtype) || byteOrder(a.name, b.name));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new EdgespikeError(`serializeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  const json = utf8.encode(JSON.stringify(header));
  const n = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}

interface Entry { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }

function parseHeader(bytes: Uint8Array, file: string): { n: number; header: Record<string, unknown> } {
  const fail = (msg: string): never => { throw new EdgespikeError(`${file}: ${msg}`); };
  if (bytes.length < 8) fail(`truncated safetensors file: ${bytes.length} bytes, the 8-byte header length at byte offset 0 is incomplete`);
  const big = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (big > BigInt(MAX_HEADER_BYTES)) fail(`safetensors header length ${big} at byte offset 0 exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(big);
  if (8 + n > bytes.length) fail(`safetensors header length ${n} at byte offset 0 runs past the end of the ${bytes.length}-byte file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail(`safetensors header at byte offset 8 is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    return fail(`safetensors header at byte offset 8 (${n} bytes) is not parseable JSON`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(`safetensors header at byte offset 8 must be a JSON object`);
  return { n, header: header as Record<string, unknown> };
}

function toEntry(name: string, v: unknown, file: string): Entry {
  const info = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  const shape = info?.shape, offs = info?.data_offsets;
  const isUint = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!info || typeof info !== 'object' || !isDtype(info.dtype) || !Array.isArray(shape) || !shape.every(isUint) ||
    !Array.isArray(offs) || offs.length !== 2 || !offs.every(isUint)) {
    throw new EdgespikeError(`${file}: safetensors header entry "${name}" must be {dtype: one of ${DTYPE_RANK.join('|')}, shape: [uint…], data_offsets: [begin, end]}, got ${JSON.stringify(v)}`);
  }
  return { name, dtype: info.dtype, shape: shape as number[], begin: offs[0] as number, end: offs[1] as number };
}

/** Validates entries against each other and the data buffer (which starts at byte `start`). */
function checkLayout(entries: Entry[], start: number, dataLength: number, file: string): void {
  let at = 0;
  for (const e of entries) {
    const where = `tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] (file bytes ${start + e.begin}..${start + e.end})`;
    if (e.end < e.begin) throw new EdgespikeError(`${file}: ${where} end before begin`);
    if (e.begin < at) throw new EdgespikeError(`${file}: ${where} overlap the previous tensor, which ends at ${at}`);
    if (e.begin > at) throw new EdgespikeError(`${file}: ${where} leave bytes ${at}..${e.begin} of the buffer uncovered`);
    const want = count(e.shape) * DTYPE_SIZES[e.dtype];
    if (e.end - e.begin !== want) {
      throw new EdgespikeError(`${file}: ${where} hold ${e.end - e.begin} bytes, ${e.dtype} × [${e.shape.join(', ')}] needs ${want}`);
    }
    at = e.end;
  }
  if (at > dataLength) {
    throw new EdgespikeError(`${file}: truncated safetensors file: tensor data ends at byte offset ${start + at}, file has ${start + dataLength} bytes`);
  }
  if (at < dataLength) {
    throw new EdgespikeError(`${file}: safetensors data_offsets cover the buffer up to byte offset ${start + at}, but the file has ${start + dataLength} bytes`);
  }
}

/** Sets an own property even for names such as "__proto__". */
function define<T>(o: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Parses and validates safetensors bytes; `file` names it in errors. Tensor bytes are copies. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const { n, header } = parseHeader(bytes, file);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name !== '__metadata__') { entries.push(toEntry(name, v, file)); continue; }
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((s) => typeof s === 'string')) {
      throw new EdgespikeError(`${file}: safetensors "__metadata__" must map strings to strings, got ${JSON.stringify(v)}`);
    }
    for (const [k, m] of Object.entries(v)) define(metadata, k, m as string);
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const start = 8 + n;
  checkLayout(entries, start, bytes.length - start, file);
  const tensors: Record<string, RawTensor> = {};
  for (const e of entries) {
    define(tensors, e.name, { dtype: e.dtype, shape: e.shape, bytes: bytes.slice(start + e.begin, start + e.end) });
  }
  return { tensors, metadata };
}

/** IEEE half-precision bits → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decodes a stored tensor to float32 values (F32, F16, BF16, F64, integer and BOOL dtypes). */
export function toFloat32(t: RawTensor, what = 'tensor'): Float32Array {
  const size = DTYPE_SIZES[t.dtype], n = t.bytes.length / size;
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const get: ((o: number) => number) | undefined = {
    F32: (o: number) => v.getFloat32(o, true), F64: (o: number) => v.getFloat64(o, true),
    F16: (o: number) => halfToFloat(v.getUint16(o, true)), BF16: (o: number) => bf16(v.getUint16(o, true)),
    I32: (o: number) => v.getInt32(o, true), U32: (o: number) => v.getUint32(o, true),
    I16: (o: number) => v.getInt16(o, true), U16: (o: number) => v.getUint16(o, true),
    I8: (o: number) => v.getInt8(o), U8: (o: number) => v.getUint8(o), BOOL: (o: number) => (v.getUint8(o) ? 1 : 0),
    I64: (o: number) => Number(v.getBigInt64(o, true)), U64: (o: number) => Number(v.getBigUint64(o, true)),
  }[t.dtype as string];
  if (!get) throw new EdgespikeError(`toFloat32: ${what} has dtype ${t.dtype}, which cannot be converted to float32`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = get(i * size);
  return out;
}

const bfView = new DataView(new ArrayBuffer(4));
function bf16(bits: number): number {
  bfView.setUint32(0, bits << 16, false);
  return bfView.getFloat32(0, false);
}
