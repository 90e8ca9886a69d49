/**
 * edgespike model and checkpoint files: safetensors files whose __metadata__ holds
 *   format      "edgespike" | "edgespike-checkpoint"
 *   version     "2" (version "1" files, float32 only and without checksums, are still read)
 *   meta        a JSON object as a string (the graph, run settings, training summary, …)
 *   storage     JSON: how each tensor that is not plain float32 is stored ({dtype, shape, scale, zero})
 *   meta_crc32  CRC-32 of meta + "\n" + storage, 8 hex digits
 *   data_crc32  CRC-32 of the data section (every byte after the header), 8 hex digits
 * so a flipped byte anywhere but in the safetensors header entries is a one-line error, and a damaged
 * header entry fails the safetensors layout checks. This module encodes and decodes bytes (in Node and in
 * a browser); model-file.ts reads and writes files.
 *
 * Tensors may be stored as F32, F16, I8, U8 or packed signed codes of 4, 2 or 1 bits (Q4, Q2, Q1), each
 * with a scale (one, or one per slice of axis 0) and, for U8, a zero point: value = scale·(code − zero).
 * Q1's bit b stands for code 2b − 1 (−1 or +1). Packed codes fill each byte from its low bits up, element
 * after element; a packed tensor is a safetensors U8 tensor of ⌈n·bits/8⌉ bytes.
 */
import { EdgespikeError } from '../util/errors.js';
import { crc32Hex } from '../util/crc32.js';
import { halfToFloat, parseSafetensors, serializeSafetensors, toFloat32, type SafetensorsFile, type TensorInput } from './safetensors-codec.js';

/** How a tensor is stored. */
export type StoreDtype = 'F32' | 'F16' | 'I8' | 'U8' | 'Q4' | 'Q2' | 'Q1';

/** Every storage dtype. */
export const STORE_DTYPES: readonly StoreDtype[] = ['F32', 'F16', 'I8', 'U8', 'Q4', 'Q2', 'Q1'];

/** Bits per element of each storage dtype. */
export const STORE_BITS: Record<StoreDtype, number> = { F32: 32, F16: 16, I8: 8, U8: 8, Q4: 4, Q2: 2, Q1: 1 };

/** A named tensor: shape, float values, and how it is (to be) stored. */
export interface FloatTensor {
  readonly shape: number[];
  /** Values (for a quantized tensor, the dequantized values scale·(code − zero)). */
  readonly data: Float32Array;
  /** Storage dtype (default F32). */
  readonly dtype?: StoreDtype;
  /** Integer dtypes: one scale, or one per slice along axis 0. */
  readonly scale?: number | readonly number[];
  /** U8: the code that stands for 0. */
  readonly zero?: number;
  /** Integer dtypes: the codes (signed; U8 as stored, 0..255), when known. */
  readonly codes?: Int16Array;
}

/** Format tag of a model file. */
export const MODEL_FORMAT = 'edgespike';
/** Format tag of a checkpoint file. */
export const CHECKPOINT_FORMAT = 'edgespike-checkpoint';
/** Format version written. */
export const FORMAT_VERSION = '2';
/** Versions read. */
export const READ_VERSIONS: readonly string[] = ['1', '2'];

type JsonObject = Record<string, unknown>;

/** One stored tensor's description in `storage`. */
interface StorageEntry { dtype: StoreDtype; shape: number[]; scale?: number | number[]; zero?: number }

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Code range of an integer dtype. */
function codeRange(dtype: StoreDtype): [number, number] {
  switch (dtype) {
    case 'I8': return [-128, 127];
    case 'U8': return [0, 255];
    case 'Q4': return [-8, 7];
    case 'Q2': return [-2, 1];
    case 'Q1': return [-1, 1];
    default: throw new EdgespikeError(`codeRange: ${dtype} is not an integer dtype`);
  }
}

/** The scale of element i: per tensor, or per slice along axis 0. */
function scaleAt(scale: number | readonly number[], i: number, perSlice: number): number {
  return typeof scale === 'number' ? scale : scale[Math.floor(i / perSlice)]!;
}

/**
 * Quantizes float values for storage as `dtype`: symmetric codes with scale max|x|/qmax (per tensor, or
 * per slice of axis 0 with `perChannel`), Q1 as sign·mean|x|, U8 as min..max in 256 steps with a zero
 * point. Returns the tensor with its codes, scale and the values they stand for.
 */
export function quantizeTensor(t: { shape: number[]; data: Float32Array }, dtype: StoreDtype, perChannel = false): FloatTensor {
  const n = t.data.length;
  if (dtype === 'F32') return { shape: t.shape, data: t.data };
  if (dtype === 'F16') {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = halfToFloat(floatToHalf(t.data[i]!));
    return { shape: t.shape, data, dtype };
  }
  const slices = perChannel && t.shape.length > 0 ? t.shape[0]! : 1, per = n / Math.max(1, slices);
  const scales: number[] = [];
  let zero = 0;
  const codes = new Int16Array(n);
  const [lo, hi] = codeRange(dtype);
  for (let c = 0; c < slices; c++) {
    const seg = t.data.subarray(c * per, (c + 1) * per);
    let s: number;
    if (dtype === 'U8') {
      let mn = 0, mx = 0;
      for (const v of seg) { if (v < mn) mn = v; if (v > mx) mx = v; }
      s = Math.fround((mx - mn) / 255) || 1;
      zero = Math.min(255, Math.max(0, Math.round(-mn / s)));
    } else if (dtype === 'Q1') {
      let sum = 0;
      for (const v of seg) sum += Math.abs(v);
      s = Math.fround(sum / Math.max(1, seg.length)) || 1;
    } else {
      let mx = 0;
      for (const v of seg) mx = Math.max(mx, Math.abs(v));
      s = Math.fround(mx / hi) || 1;
    }
    scales.push(s);
    for (let i = 0; i < seg.length; i++) {
      const v = seg[i]!;
      codes[c * per + i] = dtype === 'Q1' ? (v >= 0 ? 1 : -1) : Math.min(hi, Math.max(lo, Math.round(v / s) + zero));
    }
  }
  const scale = perChannel ? scales : scales[0]!;
  return { shape: t.shape, data: dequantize(codes, scale, dtype === 'U8' ? zero : 0, per), dtype, scale, ...(dtype === 'U8' ? { zero } : {}), codes };
}

/** Values scale·(code − zero). */
function dequantize(codes: Int16Array, scale: number | readonly number[], zero: number, perSlice: number): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = scaleAt(scale, i, perSlice) * (codes[i]! - zero);
  return out;
}

/** Rounds a number to the nearest IEEE half (ties to even) and returns its bits. */
export function floatToHalf(x: number): number {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000, exp = (u >>> 23) & 0xff, man = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = man | 0x800000, shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** Packs codes of `bits` bits (two's complement; Q1: −1 → 0, +1 → 1) from the low bits of each byte up. */
function pack(codes: Int16Array, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((codes.length * bits) / 8)), mask = (1 << bits) - 1;
  for (let i = 0; i < codes.length; i++) {
    const c = bits === 1 ? (codes[i]! > 0 ? 1 : 0) : codes[i]! & mask, at = i * bits;
    out[at >> 3]! |= c << (at & 7);
  }
  return out;
}

/** Unpacks n codes of `bits` bits (sign-extended; Q1: 0 → −1, 1 → +1). */
function unpack(bytes: Uint8Array, n: number, bits: number): Int16Array {
  const out = new Int16Array(n), mask = (1 << bits) - 1, sign = 1 << (bits - 1);
  for (let i = 0; i < n; i++) {
    const at = i * bits, c = (bytes[at >> 3]! >> (at & 7)) & mask;
    out[i] = bits === 1 ? 2 * c - 1 : c & sign ? c - (1 << bits) : c;
  }
  return out;
}

/** The safetensors entry and storage description of one tensor. */
function encode(name: string, t: FloatTensor, who: string): { input: TensorInput; entry?: StorageEntry } {
  const dtype = t.dtype ?? 'F32';
  if (!STORE_DTYPES.includes(dtype)) throw new EdgespikeError(`${who}: tensor "${name}" has unknown storage dtype ${JSON.stringify(dtype)} (expected ${STORE_DTYPES.join(', ')})`);
  if (dtype === 'F32') return { input: { shape: t.shape, data: t.data, dtype: 'F32' } };
  if (dtype === 'F16') {
    const bits = new Uint16Array(t.data.length);
    for (let i = 0; i < bits.length; i++) bits[i] = floatToHalf(t.data[i]!);
    return { input: { shape: t.shape, data: bits, dtype: 'F16' }, entry: { dtype, shape: t.shape } };
  }
  const q = t.codes && t.scale !== undefined ? t : quantizeTensor(t, dtype);
  const codes = q.codes!, scale = q.scale!;
  const entry: StorageEntry = { dtype, shape: t.shape, scale: typeof scale === 'number' ? scale : [...scale], ...(dtype === 'U8' ? { zero: q.zero ?? 0 } : {}) };
  if (dtype === 'I8') return { input: { shape: t.shape, data: Int8Array.from(codes), dtype: 'I8' }, entry };
  if (dtype === 'U8') return { input: { shape: t.shape, data: Uint8Array.from(codes), dtype: 'U8' }, entry };
  const bytes = pack(codes, STORE_BITS[dtype]);
  return { input: { shape: [bytes.length], data: bytes, dtype: 'U8' }, entry };
}

/** Serializes tensors and meta as a version-2 file's bytes. */
export function serializeTagged(format: string, tensors: Record<string, FloatTensor>, meta: object, who: string): Uint8Array {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new EdgespikeError(`${who}: meta must be a JSON object, got ${Array.isArray(meta) ? 'an array' : String(meta)}`);
  }
  const inputs: Record<string, TensorInput> = {};
  const storage: Record<string, StorageEntry> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t?.data instanceof Float32Array) || !Array.isArray(t.shape)) {
      throw new EdgespikeError(`${who}: tensor "${name}" must be {shape: number[], data: Float32Array}`);
    }
    const n = count(t.shape);
    if (n !== t.data.length) throw new EdgespikeError(`${who}: tensor "${name}" has ${t.data.length} values, shape [${t.shape.join(', ')}] needs ${n}`);
    const e = encode(name, t, who);
    inputs[name] = e.input;
    if (e.entry) storage[name] = e.entry;
  }
  let json: string;
  try {
    json = JSON.stringify(meta);
  } catch (e) {
    throw new EdgespikeError(`${who}: meta is not JSON-serialisable (${(e as Error).message})`);
  }
  const storageJson = JSON.stringify(storage);
  const header = (dataCrc: string) => ({ format, version: FORMAT_VERSION, meta: json, storage: storageJson, meta_crc32: metaCrc(json, storageJson), data_crc32: dataCrc });
  // The data section's CRC is known once the layout is; a second pass writes it (same header length).
  const draft = serializeSafetensors(inputs, header('00000000'));
  return serializeSafetensors(inputs, header(crc32Hex(draft.subarray(dataStart(draft)))));
}

/** Byte offset of the data section: 8 + the header length. */
function dataStart(bytes: Uint8Array): number {
  return 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
}

function metaCrc(meta: string, storage: string): string {
  return crc32Hex(new TextEncoder().encode(`${meta}\n${storage}`));
}

/** A decoded file: tensors (dequantized to float32, with their storage), meta and the format version. */
export interface TaggedFile {
  readonly tensors: Record<string, FloatTensor>;
  readonly meta: JsonObject;
  readonly version: string;
}

/** Decodes a parsed safetensors file of `format`, checking version and checksums; `path` names it in errors. */
export function decodeTagged(file: SafetensorsFile, bytes: Uint8Array | null, path: string, format: string, what: string): TaggedFile {
  const md = file.metadata;
  if (md.format !== format) {
    throw new EdgespikeError(`${path}: not an ${what}: safetensors __metadata__.format is ${md.format === undefined ? 'missing' : `"${md.format}"`}, expected "${format}"`);
  }
  if (!READ_VERSIONS.includes(md.version ?? '')) {
    throw new EdgespikeError(`${path}: unsupported ${what} version ${JSON.stringify(md.version)}, expected one of ${READ_VERSIONS.map((v) => `"${v}"`).join(', ')}`);
  }
  const v2 = md.version === '2';
  if (v2) {
    if (md.meta_crc32 !== metaCrc(md.meta ?? '', md.storage ?? '')) throw new EdgespikeError(`${path}: ${what} metadata is damaged (its CRC-32 does not match meta_crc32)`);
    if (bytes) {
      if (md.data_crc32 !== crc32Hex(bytes.subarray(dataStart(bytes)))) throw new EdgespikeError(`${path}: ${what} tensor data is damaged (its CRC-32 does not match data_crc32 ${md.data_crc32})`);
    }
  }
  const meta = parseObject(md.meta, path, `${what} __metadata__.meta`);
  const storage = v2 ? parseObject(md.storage ?? '{}', path, `${what} __metadata__.storage`) as Record<string, StorageEntry> : {};
  const tensors: Record<string, FloatTensor> = {};
  for (const [name, t] of Object.entries(file.tensors)) {
    const s = Object.hasOwn(storage, name) ? storage[name] : undefined;
    let ft: FloatTensor;
    if (!s) {
      if (t.dtype !== 'F32') throw new EdgespikeError(`${path}: ${what} tensor "${name}" has dtype ${t.dtype}, expected F32${v2 ? ' (or a storage entry saying how to read it)' : ''}`);
      ft = { shape: [...t.shape], data: toFloat32(t, name) };
    } else {
      ft = decodeStored(name, t, s, path, what);
    }
    Object.defineProperty(tensors, name, { value: ft, enumerable: true, writable: true, configurable: true });
  }
  for (const name of Object.keys(storage)) if (!Object.hasOwn(file.tensors, name)) throw new EdgespikeError(`${path}: ${what} storage names tensor "${name}", which the file does not hold`);
  return { tensors, meta, version: md.version! };
}

function parseObject(text: string | undefined, path: string, what: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text ?? '');
  } catch {
    throw new EdgespikeError(`${path}: ${what} is not a JSON string: ${JSON.stringify((text ?? '').slice(0, 60))}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new EdgespikeError(`${path}: ${what} must be a JSON object`);
  return v as JsonObject;
}

function decodeStored(name: string, t: SafetensorsFile['tensors'][string], s: StorageEntry, path: string, what: string): FloatTensor {
  const fail = (why: string): never => { throw new EdgespikeError(`${path}: ${what} tensor "${name}" ${why}`); };
  if (!STORE_DTYPES.includes(s.dtype)) fail(`has unknown storage dtype ${JSON.stringify(s.dtype)}`);
  if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`has a bad storage shape ${JSON.stringify(s.shape)}`);
  const n = count(s.shape);
  if (s.dtype === 'F16') {
    if (t.dtype !== 'F16' || count(t.shape) !== n) fail(`should be F16 × ${n}, the file holds ${t.dtype} × ${count(t.shape)}`);
    return { shape: [...s.shape], data: toFloat32(t, name), dtype: 'F16' };
  }
  if (s.dtype === 'F32') fail('lists F32 in storage');
  const scale = s.scale;
  const slices = Array.isArray(scale) ? scale.length : 1;
  const goodScale = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  if (!(goodScale(scale) || (Array.isArray(scale) && scale.length > 0 && scale.every(goodScale)))) fail(`needs a finite scale (one, or one per slice of axis 0), got ${JSON.stringify(scale)?.slice(0, 60)}`);
  if (Array.isArray(scale) && (s.shape.length === 0 || s.shape[0] !== slices)) fail(`has ${slices} scales for shape [${s.shape.join(', ')}] (one per slice of axis 0 expected)`);
  const zero = s.dtype === 'U8' ? s.zero ?? 0 : 0;
  if (!Number.isInteger(zero) || zero < 0 || zero > 255) fail(`has zero point ${JSON.stringify(s.zero)}, expected an integer in [0, 255]`);
  let codes: Int16Array;
  if (s.dtype === 'I8' || s.dtype === 'U8') {
    if (t.dtype !== s.dtype || count(t.shape) !== n) fail(`should be ${s.dtype} × ${n}, the file holds ${t.dtype} × ${count(t.shape)}`);
    codes = Int16Array.from(s.dtype === 'I8' ? new Int8Array(t.bytes.buffer, t.bytes.byteOffset, n) : t.bytes);
  } else {
    const bits = STORE_BITS[s.dtype], bytes = Math.ceil((n * bits) / 8);
    if (t.dtype !== 'U8' || t.shape.length !== 1 || t.shape[0] !== bytes) fail(`should hold ${bytes} packed bytes (${n} × ${bits} bits), the file holds ${t.dtype} [${t.shape.join(', ')}]`);
    codes = unpack(t.bytes, n, bits);
  }
  const per = n / slices;
  return { shape: [...s.shape], data: dequantize(codes, scale as number | number[], zero, per), dtype: s.dtype, scale: scale as number | number[], ...(s.dtype === 'U8' ? { zero } : {}), codes };
}

/** Decodes model-file bytes (a file read elsewhere, or in a browser); `name` names it in errors. */
export function parseModel(bytes: Uint8Array, name: string): TaggedFile {
  return decodeTagged(parseSafetensors(bytes, name), bytes, name, MODEL_FORMAT, 'edgespike model');
}

