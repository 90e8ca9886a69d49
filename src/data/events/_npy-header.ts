/**
 * Parsing of the .npy header dict and scalar readers for its dtypes (b1, i1–i8, u1–u8, f2, f4, f8,
 * either byte order). The body size is checked against the file size before anything is allocated.
 */
import { formatError, latin1 } from './_bytes.js';

/** One field of a structured dtype. */
export interface NpyField {
  readonly name: string;
  /** NumPy type string, e.g. '<i8'. */
  readonly type: string;
  /** Byte offset within the record. */
  readonly offset: number;
}

/** A parsed .npy header. */
export interface NpyHeader {
  /** The descr as written (a type string, or the list text for structured arrays). */
  readonly descr: string;
  /** Fields of a structured array, or null for a plain numeric array. */
  readonly fields: readonly NpyField[] | null;
  readonly shape: readonly number[];
  /** Bytes per scalar (plain arrays) or per record (structured). */
  readonly itemSize: number;
  /** Bytes per record along the first axis. */
  readonly recordSize: number;
  /** Length of the first axis. */
  readonly records: number;
  /** Offset of the array data. */
  readonly dataStart: number;
}

const LABEL = 'NPY';
const SIZES: Record<string, readonly number[]> = { b: [1], i: [1, 2, 4, 8], u: [1, 2, 4, 8], f: [2, 4, 8] };

/** Bytes of a NumPy scalar type string, or 0 if unsupported. */
export function typeSize(type: string): number {
  const m = /^([<>|=]?)([biuf?])(\d*)$/.exec(type);
  if (!m) return 0;
  const kind = m[2] === '?' ? 'b' : m[2], size = m[2] === '?' ? 1 : Number(m[3]);
  return SIZES[kind]?.includes(size) ? size : 0;
}

/** A reader (DataView, byte offset) → number for a NumPy scalar type string. */
export function fieldReader(type: string): (dv: DataView, o: number) => number {
  const le = type[0] !== '>', kind = type.replace(/^[<>|=]/, '')[0], size = typeSize(type);
  switch (`${kind === '?' ? 'b' : kind}${size}`) {
    case 'b1': case 'u1': return (dv, o) => dv.getUint8(o);
    case 'i1': return (dv, o) => dv.getInt8(o);
    case 'i2': return (dv, o) => dv.getInt16(o, le);
    case 'u2': return (dv, o) => dv.getUint16(o, le);
    case 'i4': return (dv, o) => dv.getInt32(o, le);
    case 'u4': return (dv, o) => dv.getUint32(o, le);
    case 'i8': return (dv, o) => dv.getInt32(o + (le ? 4 : 0), le) * 4294967296 + dv.getUint32(o + (le ? 0 : 4), le);
    case 'u8': return (dv, o) => dv.getUint32(o + (le ? 4 : 0), le) * 4294967296 + dv.getUint32(o + (le ? 0 : 4), le);
    case 'f2': return (dv, o) => half(dv.getUint16(o, le));
    case 'f4': return (dv, o) => dv.getFloat32(o, le);
    default: return (dv, o) => dv.getFloat64(o, le);
  }
}

/** The first `n` values of a plain (unstructured) array whose header is `h`, read from `bytes` as float32. */
export function npyValues(bytes: Uint8Array, h: NpyHeader, n: number): Float32Array {
  const read = fieldReader(h.descr);
  const view = new DataView(bytes.buffer, bytes.byteOffset + h.dataStart, n * h.itemSize);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = read(view, i * h.itemSize);
  return x;
}

/** IEEE 754 half precision bits → number. */
export function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function parseFields(text: string, name: string): NpyField[] {
  const fields: NpyField[] = [];
  let offset = 0;
  for (const m of text.matchAll(/\(\s*'([^']*)'\s*,\s*'([^']*)'\s*(,[^)]*)?\)/g)) {
    const size = typeSize(m[2]);
    if (!size || m[3]) throw formatError(LABEL, name, 10, `unsupported field ('${m[1]}', '${m[2]}'${m[3] ?? ''})`);
    fields.push({ name: m[1], type: m[2], offset });
    offset += size;
  }
  if (fields.length === 0) throw formatError(LABEL, name, 10, `expected fields in descr, found "${text.slice(0, 60)}"`);
  return fields;
}

function parseShape(dict: string, name: string): number[] {
  const m = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict);
  if (!m) throw formatError(LABEL, name, 10, "header has no 'shape'");
  const dims = m[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw formatError(LABEL, name, 10, `bad shape (${m[1]})`);
  return dims;
}

/** Parses the header at the start of `bytes` (at least the header) of a file of `fileSize` bytes. */
export function parseNpyHeader(bytes: Uint8Array, name: string, fileSize: number): NpyHeader {
  if (bytes.length < 10 || latin1(bytes.subarray(0, 6)) !== '\x93NUMPY') {
    throw formatError(LABEL, name, 0, 'expected magic "\\x93NUMPY"');
  }
  const major = bytes[6], wide = major >= 2;
  const hlen = wide ? (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 16777216 : bytes[8] | (bytes[9] << 8);
  const dataStart = (wide ? 12 : 10) + hlen;
  if (major < 1 || major > 3) throw formatError(LABEL, name, 6, `unsupported version ${major}`);
  if (dataStart > bytes.length) throw formatError(LABEL, name, bytes.length, `truncated header (${hlen} bytes declared)`);
  const dict = latin1(bytes.subarray(wide ? 12 : 10, dataStart));
  if (/'fortran_order'\s*:\s*True/.test(dict)) throw formatError(LABEL, name, 10, 'Fortran-order arrays are not supported');
  const shape = parseShape(dict, name);
  const list = /'descr'\s*:\s*\[(.*)\]/s.exec(dict), simple = /'descr'\s*:\s*'([^']*)'/.exec(dict);
  const fields = list ? parseFields(list[1], name) : null;
  const descr = list ? list[0] : simple?.[1] ?? '';
  const itemSize = fields ? fields.reduce((a, f) => a + typeSize(f.type), 0) : typeSize(descr);
  if (!itemSize) throw formatError(LABEL, name, 10, `unsupported descr "${descr.slice(0, 60)}"`);
  const records = shape.length ? shape[0] : 1;
  const recordSize = itemSize * shape.slice(1).reduce((a, b) => a * b, 1);
  const need = records * recordSize;
  if (recordSize === 0 && records > 0) throw formatError(LABEL, name, 10, `empty records in shape (${shape.join(', ')})`);
  if (dataStart + need !== fileSize) {
    throw formatError(LABEL, name, Math.min(fileSize, dataStart + need),
      `expected ${need} data bytes for shape (${shape.join(', ')}) of ${itemSize}-byte items, file has ${fileSize - dataStart}`);
  }
  return { descr, fields, shape, itemSize, recordSize, records, dataStart };
}

/** Fields with offsets for a list of [name, type] (record size = sum of sizes). */
export function layoutFields(list: ReadonlyArray<readonly [string, string]>): { fields: NpyField[]; size: number } {
  let offset = 0;
  const fields = list.map(([name, type]) => {
    const f = { name, type, offset };
    offset += typeSize(type);
    return f;
  });
  return { fields, size: offset };
}
