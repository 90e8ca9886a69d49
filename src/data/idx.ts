/**
 * IDX files (the MNIST container): bytes 0–1 zero, byte 2 the element type, byte 3 the number of
 * dimensions, then each dimension as a big-endian uint32, then the elements, big-endian, row-major.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';

/** Element types of the IDX format, keyed by their type byte. */
export const IDX_TYPES = {
  0x08: { name: 'ubyte', size: 1 },
  0x09: { name: 'sbyte', size: 1 },
  0x0b: { name: 'short', size: 2 },
  0x0c: { name: 'int', size: 4 },
  0x0d: { name: 'float', size: 4 },
  0x0e: { name: 'double', size: 8 },
} as const;

/** Name of an IDX element type. */
export type IdxType = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]['name'];

/** Typed array holding each IDX element type once decoded (host byte order). */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file. `data` has prod(dims) elements. */
export interface IdxFile {
  readonly type: IdxType;
  readonly dims: readonly number[];
  readonly data: IdxData;
}

const codeOf = (type: IdxType): number =>
  Number(Object.entries(IDX_TYPES).find(([, v]) => v.name === type)![0]);

/** Decodes an IDX file held in `bytes`; `file` names it in error messages. */
export function parseIdx(bytes: Uint8Array, file: string): IdxFile {
  if (bytes.length < 4) {
    throw new EdgespikeError(`${file}: truncated IDX header: expected at least 4 bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new EdgespikeError(`${file}: bad IDX magic at byte offset 0: expected 00 00, got ${hex(bytes[0])} ${hex(bytes[1])}`);
  }
  const spec = (IDX_TYPES as Record<number, { name: IdxType; size: number }>)[bytes[2]];
  if (!spec) {
    throw new EdgespikeError(`${file}: unknown IDX element type at byte offset 2: expected one of 08 09 0b 0c 0d 0e, got ${hex(bytes[2])}`);
  }
  const ndim = bytes[3];
  const start = 4 + 4 * ndim;
  if (bytes.length < start) {
    throw new EdgespikeError(`${file}: truncated IDX header: ${ndim} dimensions need ${start} bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = start + count * spec.size;
  if (bytes.length !== expected) {
    throw new EdgespikeError(
      `${file}: IDX data length mismatch: header ${fmtShape(dims)} × ${spec.size} byte(s) from byte offset ${start} needs ${expected} bytes, file has ${bytes.length}`,
    );
  }
  return { type: spec.name, dims, data: decode(spec.name, bytes.subarray(start), view, start, count) };
}

function decode(type: IdxType, body: Uint8Array, view: DataView, start: number, n: number): IdxData {
  switch (type) {
    case 'ubyte': return body;
    case 'sbyte': return new Int8Array(body.buffer, body.byteOffset, n);
    case 'short': return fill(new Int16Array(n), (i) => view.getInt16(start + 2 * i, false));
    case 'int': return fill(new Int32Array(n), (i) => view.getInt32(start + 4 * i, false));
    case 'float': return fill(new Float32Array(n), (i) => view.getFloat32(start + 4 * i, false));
    case 'double': return fill(new Float64Array(n), (i) => view.getFloat64(start + 8 * i, false));
  }
}

function fill<T extends Exclude<IdxData, Uint8Array | Int8Array>>(a: T, get: (i: number) => number): T {
  for (let i = 0; i < a.length; i++) a[i] = get(i);
  return a;
}

const hex = (b: number | undefined): string => (b ?? 0).toString(16).padStart(2, '0');

/** Reads and decodes the IDX file at `path` (uncompressed; gzip is not supported). */
export function loadIdx(path: string): IdxFile {
  let bytes: Uint8Array;
  try {
    const buf = readFileSync(path);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  } catch (e) {
    throw new EdgespikeError(`${path}: cannot read IDX file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseIdx(bytes, path);
}

/** Encodes `data` with dimensions `dims` as IDX bytes. `type` defaults to ubyte. */
export function encodeIdx(data: ArrayLike<number>, dims: readonly number[], type: IdxType = 'ubyte'): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count || dims.length > 255) {
    throw new EdgespikeError(`encodeIdx: data has ${data.length} elements, dims ${fmtShape(dims)} need ${count} (at most 255 dims)`);
  }
  const size = IDX_TYPES[codeOf(type) as keyof typeof IDX_TYPES].size;
  const start = 4 + 4 * dims.length;
  const out = new Uint8Array(start + count * size);
  const view = new DataView(out.buffer);
  out[2] = codeOf(type);
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const v = data[i], o = start + i * size;
    switch (type) {
      case 'ubyte': view.setUint8(o, v); break;
      case 'sbyte': view.setInt8(o, v); break;
      case 'short': view.setInt16(o, v, false); break;
      case 'int': view.setInt32(o, v, false); break;
      case 'float': view.setFloat32(o, v, false); break;
      case 'double': view.setFloat64(o, v, false); break;
    }
  }
  return out;
}

/** Writes an IDX file atomically (see encodeIdx). */
export function writeIdx(path: string, data: ArrayLike<number>, dims: readonly number[], type: IdxType = 'ubyte'): void {
  writeFileAtomic(path, encodeIdx(data, dims, type));
}
