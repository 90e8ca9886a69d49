/**
 * A minimal HDF5 writer for small test and export files: superblock v2, version-2 object headers
 * (Jenkins lookup3 checksums), compact groups (link messages), contiguous 1-d datasets of numbers
 * and 1-d variable-length sequences stored in global heap collections, as SHD's spikes/times are.
 */
import { EdgespikeError } from '../../util/errors.js';

/** Scalar element types the writer knows. */
export type H5Scalar = 'u8' | 'u16' | 'u32' | 'i16' | 'i32' | 'f16' | 'f32' | 'f64';
/** A tree node: a group, a 1-d dataset of numbers, or a 1-d dataset of variable-length rows. */
export type H5Node =
  | { readonly group: Readonly<Record<string, H5Node>> }
  | { readonly type: H5Scalar; readonly values: ArrayLike<number> }
  | { readonly type: H5Scalar; readonly rows: ReadonlyArray<ArrayLike<number>> };

const UNDEF = -1;
const SIZE: Record<H5Scalar, number> = { u8: 1, u16: 2, u32: 4, i16: 2, i32: 4, f16: 2, f32: 4, f64: 8 };
const FLOAT: Partial<Record<H5Scalar, [number, number, number, number]>> = {
  // [sign location, exponent location, exponent size, bias]; mantissa at 0, size = exponent location
  f16: [15, 10, 5, 15], f32: [31, 23, 8, 127], f64: [63, 52, 11, 1023],
};
const MAX_HEAP_OBJECTS = 60000;

/** Jenkins lookup3 `hashlittle` with initval 0, as HDF5 uses for metadata checksums. */
export function lookup3(k: Uint8Array): number {
  let a = (0xdeadbeef + k.length) | 0, b = a, c = a, i = 0, len = k.length;
  const rot = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  const word = (j: number): number => k[j] | (k[j + 1] << 8) | (k[j + 2] << 16) | (k[j + 3] << 24);
  while (len > 12) {
    a = (a + word(i)) | 0; b = (b + word(i + 4)) | 0; c = (c + word(i + 8)) | 0;
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0; b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0; a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0; c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    len -= 12; i += 12;
  }
  if (len === 0) return c >>> 0;
  const tail = [0, 0, 0];
  for (let j = 0; j < len; j++) tail[j >> 2] += k[i + j] << (8 * (j & 3));
  a = (a + tail[0]) | 0; b = (b + tail[1]) | 0; c = (c + tail[2]) | 0;
  c ^= b; c = (c - rot(b, 14)) | 0; a ^= c; a = (a - rot(c, 11)) | 0; b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0; a ^= c; a = (a - rot(c, 4)) | 0; b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

/** Little-endian field bytes: [value, width] pairs; width 8 with value UNDEF writes all ones. */
function le(...fields: Array<[number, number]>): Uint8Array {
  const out = new Uint8Array(fields.reduce((s, [, w]) => s + w, 0));
  let o = 0;
  for (const [v, w] of fields) {
    for (let j = 0; j < w; j++) out[o + j] = v === UNDEF ? 0xff : Math.floor(v / 2 ** (8 * j)) & 0xff;
    o += w;
  }
  return out;
}

function cat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function datatype(t: H5Scalar): Uint8Array {
  const f = FLOAT[t], size = SIZE[t];
  if (f) return cat([le([0x11, 1], [0x20, 1], [f[0], 1], [0, 1], [size, 4], [0, 2], [size * 8, 2]),
    le([f[1], 1], [f[2], 1], [0, 1], [f[1], 1], [f[3], 4])]);
  return le([0x10, 1], [t[0] === 'i' ? 0x08 : 0, 1], [0, 2], [size, 4], [0, 2], [size * 8, 2]);
}

/** An object header v2 holding the given [type, body] messages. */
function objectHeader(msgs: Array<[number, Uint8Array]>): Uint8Array {
  const body = cat(msgs.map(([type, m]) => cat([le([type, 1], [m.length, 2], [0, 1]), m])));
  const head = cat([new TextEncoder().encode('OHDR'), le([2, 1], [2, 1], [body.length, 4]), body]);
  return cat([head, le([lookup3(head), 4])]);
}

type Block = { addr: number; bytes: () => Uint8Array };

/** Serializes a tree of groups and datasets (the root must be a group) into HDF5 file bytes. */
export function encodeHdf5(root: H5Node): Uint8Array {
  if (!('group' in root)) throw new EdgespikeError('encodeHdf5: the root must be a group');
  const blocks: Block[] = [];
  let end = 48;
  const alloc = (n: number, bytes: () => Uint8Array): number => {
    const addr = end;
    end += n;
    blocks.push({ addr, bytes });
    return addr;
  };
  const rootAddr = place(root, alloc);
  const sb = cat([new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), le([2, 1], [8, 1], [8, 1], [0, 1]),
    le([0, 8], [UNDEF, 8], [end, 8], [rootAddr, 8])]);
  const out = new Uint8Array(end);
  out.set(cat([sb, le([lookup3(sb), 4])]));
  for (const b of blocks) out.set(b.bytes(), b.addr);
  return out;
}

/** Allocates a node (and its data) and returns its object header address. */
function place(node: H5Node, alloc: (n: number, bytes: () => Uint8Array) => number): number {
  if ('group' in node) {
    const names = Object.keys(node.group);
    const addrs = names.map((n) => place(node.group[n], alloc));
    const links = names.map((n, i): [number, Uint8Array] => {
      const name = new TextEncoder().encode(n);
      if (name.length > 255) throw new EdgespikeError(`encodeHdf5: link name "${n.slice(0, 20)}…" longer than 255 bytes`);
      return [6, cat([le([1, 1], [0, 1], [name.length, 1]), name, le([addrs[i], 8])])];
    });
    const oh = objectHeader([[2, le([0, 1], [0, 1], [UNDEF, 8], [UNDEF, 8])], [10, le([0, 1], [0, 1])], ...links]);
    return alloc(oh.length, () => oh);
  }
  const isVlen = 'rows' in node;
  const n = isVlen ? node.rows.length : node.values.length;
  const elem = isVlen ? 16 : SIZE[node.type];
  const raw = isVlen ? vlenData(node.type, node.rows, alloc) : () => scalars(node.type, node.values);
  const dataAddr = n > 0 ? alloc(n * elem, raw) : UNDEF;
  const dt = isVlen ? cat([le([0x19, 1], [0, 3], [16, 4]), datatype(node.type)]) : datatype(node.type);
  const oh = objectHeader([[1, le([2, 1], [1, 1], [0, 1], [1, 1], [n, 8])], [3, dt], [5, le([3, 1], [0x0a, 1])],
    [8, le([3, 1], [1, 1], [dataAddr, 8], [n * elem, 8])]]);
  return alloc(oh.length, () => oh);
}

function scalars(type: H5Scalar, values: ArrayLike<number>): Uint8Array {
  const size = SIZE[type], out = new Uint8Array(values.length * size), dv = new DataView(out.buffer);
  const set: Record<H5Scalar, (o: number, v: number) => void> = {
    u8: (o, v) => dv.setUint8(o, v), u16: (o, v) => dv.setUint16(o, v, true), u32: (o, v) => dv.setUint32(o, v, true),
    i16: (o, v) => dv.setInt16(o, v, true), i32: (o, v) => dv.setInt32(o, v, true),
    f16: (o, v) => dv.setUint16(o, toHalf(v), true), f32: (o, v) => dv.setFloat32(o, v, true),
    f64: (o, v) => dv.setFloat64(o, v, true),
  };
  for (let i = 0; i < values.length; i++) set[type](i * size, values[i]);
  return out;
}

/** Places the global heap collections of the rows; returns the writer of the 16-byte row references. */
function vlenData(type: H5Scalar, rows: ReadonlyArray<ArrayLike<number>>,
  alloc: (n: number, bytes: () => Uint8Array) => number): () => Uint8Array {
  const refs: Array<[number, number]> = rows.map(() => [0, 0]);
  const full = rows.map((r, i) => i).filter((i) => rows[i].length > 0);
  for (let s = 0; s < full.length; s += MAX_HEAP_OBJECTS) {
    const ids = full.slice(s, s + MAX_HEAP_OBJECTS);
    const objs = ids.map((i) => scalars(type, rows[i]));
    const used = 16 + objs.reduce((a, o) => a + 16 + Math.ceil(o.length / 8) * 8, 0);
    const size = Math.max(4096, used + 16);
    const addr = alloc(size, () => cat([new TextEncoder().encode('GCOL'), le([1, 1], [0, 3], [size, 8]),
      ...objs.flatMap((o, j) => [le([j + 1, 2], [0, 2], [0, 4], [o.length, 8]), o, new Uint8Array((8 - (o.length % 8)) % 8)]),
      le([0, 2], [0, 2], [0, 4], [size - used, 8]), new Uint8Array(size - used - 16)]));
    ids.forEach((i, j) => { refs[i] = [addr, j + 1]; });
  }
  return () => cat(rows.map((r, i) => le([r.length, 4], [refs[i][0], 8], [refs[i][1], 4])));
}

/** Rounds a number to the nearest IEEE 754 half (ties to even) and returns its bits. */
export function toHalf(v: number): number {
  const f32 = new Float32Array([v]), bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000, exp = ((bits >>> 23) & 0xff) - 127 + 15, man = bits & 0x7fffff;
  if (Number.isNaN(v)) return 0x7e00;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = man | 0x800000, shift = 14 - exp;
    const r = m >> shift, rest = m & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    return sign | (r + (rest > halfway || (rest === halfway && (r & 1)) ? 1 : 0));
  }
  const r = (exp << 10) | (man >> 13), rest = man & 0x1fff;
  return sign | (r + (rest > 0x1000 || (rest === 0x1000 && (r & 1)) ? 1 : 0));
}
