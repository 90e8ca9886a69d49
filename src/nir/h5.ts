/**
 * The HDF5 side of NIR files, through h5wasm's Node build (its file system is the host's): reading a
 * file into a tree of groups and datasets with every size checked before it is read, and writing a tree
 * atomically (a temporary file renamed over the target). Numbers of any integer or float width (float16
 * included) and either byte order, contiguous or chunked and gzip-compressed, read as doubles; strings as
 * strings. Any failure is an EdgespikeError naming the file and the object.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EdgespikeError } from '../util/errors.js';
import { checkBudget, fmtBytes } from '../util/budget.js';
import { fsError } from '../util/fsx.js';
import { MAX_TENSOR_BYTES } from '../backends/index.js';
import { half } from '../data/events/_npy-header.js';
import type { NirArray, NirDtype } from './types.js';
import { loadH5, type H5File, type H5Lib, type H5Mod } from '../io/h5wasm.js';

/** Strings stored as an array dataset (a graph's edges): flat, row-major, with the dataset's shape. */
export interface H5Strings { readonly shape: readonly number[]; readonly data: readonly string[] }

/** A dataset's value. */
export type H5Value = NirArray | string | H5Strings;

/** A group or dataset of the tree. */
export type H5Tree = { readonly group: ReadonlyMap<string, H5Tree> } | { readonly value: H5Value };

/** The deepest nesting of groups read (hard links can make a group contain itself). */
const MAX_DEPTH = 48;
/** The most objects one file may hold. */
const MAX_OBJECTS = 1_000_000;

/** The last useful line of an HDF5 error stack. */
export function h5Message(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const minors = [...text.matchAll(/minor: ([^\n]+)/g)].map((m) => m[1]!.trim());
  return (minors[minors.length - 1] ?? text.split('\n')[0] ?? '').slice(0, 160);
}

/** Where HDF5 looks for its signature: byte 0, then 512, 1024, 2048, … (a user block before it). */
function hasSignature(path: string, size: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const sig = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      if (readSync(fd, sig, 0, 8, at) === 8 && sig[0] === 0x89 && sig.toString('latin1', 1, 8) === 'HDF\r\n\x1a\n') return true;
    }
    return false;
  } finally { closeSync(fd); }
}

/** What a file read needs besides the path: the name errors use and the running byte count. */
interface Reader { readonly h5: H5Lib; readonly mod: H5Mod; readonly file: H5File; readonly label: string; bytes: number; objects: number }

/** Reads the whole HDF5 file at `path` into a tree. `label` names it in errors ("NIR file \"m.nir\""). */
export async function readH5Tree(path: string, label: string): Promise<H5Tree> {
  const { h5, mod } = await loadH5();
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new EdgespikeError(`${label}: not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof EdgespikeError) throw e;
    throw fsError(path, 'read the file', e);
  }
  if (!hasSignature(path, size)) throw new EdgespikeError(`${label}: not an HDF5 file (no HDF5 signature at byte 0, 512, 1024, …)`);
  let file: H5File;
  try {
    file = new h5.File(resolve(path), 'r');
  } catch (e) {
    throw new EdgespikeError(`${label}: cannot open as HDF5 (${h5Message(e)})`);
  }
  const r: Reader = { h5, mod, file, label, bytes: 0, objects: 0 };
  try {
    return readGroup(r, '/', 0);
  } catch (e) {
    if (e instanceof EdgespikeError) throw e;
    throw new EdgespikeError(`${label}: cannot read (${h5Message(e)})`);
  } finally {
    try { file.close(); } catch { /* a damaged file may fail to close; nothing is left to release */ }
  }
}

function readGroup(r: Reader, path: string, depth: number): H5Tree {
  if (depth > MAX_DEPTH) throw new EdgespikeError(`${r.label}: group "${path}" is nested deeper than ${MAX_DEPTH} levels`);
  let names: string[];
  try {
    names = r.mod.get_names(r.file.file_id, path, false);
  } catch (e) {
    throw new EdgespikeError(`${r.label}: group "${path}" cannot be listed (${h5Message(e)})`);
  }
  const children = new Map<string, H5Tree>();
  for (const name of names) {
    if (++r.objects > MAX_OBJECTS) throw new EdgespikeError(`${r.label}: holds more than ${MAX_OBJECTS} objects`);
    const child = path === '/' ? `/${name}` : `${path}/${name}`;
    let type: number;
    try {
      type = r.mod.get_type(r.file.file_id, child);
    } catch (e) {
      throw new EdgespikeError(`${r.label}: object "${child}" cannot be read (${h5Message(e)})`);
    }
    if (type === r.mod.H5O_TYPE_GROUP) children.set(name, readGroup(r, child, depth + 1));
    else if (type === r.mod.H5O_TYPE_DATASET) children.set(name, { value: readDataset(r, child) });
    else throw new EdgespikeError(`${r.label}: object "${child}" is neither a group nor a dataset (a link or a named type)`);
  }
  return { group: children };
}

const DTYPES: Record<string, NirDtype> = {
  '1/2': 'f16', '1/4': 'f32', '1/8': 'f64',
  '0/1/s': 'i8', '0/2/s': 'i16', '0/4/s': 'i32', '0/8/s': 'i64', '0/1/u': 'u8', '0/2/u': 'u16', '0/4/u': 'u32', '0/8/u': 'u64',
};

function readDataset(r: Reader, path: string): H5Value {
  const fail = (why: string): never => { throw new EdgespikeError(`${r.label}: dataset "${path}" ${why}`); };
  let meta: ReturnType<H5Mod['get_dataset_metadata']>;
  try {
    meta = r.mod.get_dataset_metadata(r.file.file_id, path);
  } catch (e) {
    return fail(`cannot be read (${h5Message(e)})`);
  }
  const shape = meta.shape;
  if (!Array.isArray(shape)) return fail('has no dataspace (a null dataset)');
  const n = meta.total_size, bytes = n * meta.size;
  if (!Number.isSafeInteger(n) || n < 0) return fail(`has an invalid size ${n}`);
  if (bytes > MAX_TENSOR_BYTES) fail(`holds ${fmtBytes(bytes)}, above the ${fmtBytes(MAX_TENSOR_BYTES)} one tensor may hold`);
  r.bytes += Math.max(bytes, 8 * n);
  checkBudget(r.bytes, `${r.label}: reading ${fmtBytes(r.bytes)} of datasets`, 'a smaller file');
  if (meta.type === 3) {
    let v: unknown;
    try {
      v = new r.h5.Dataset(r.file.file_id, path).value;
    } catch (e) {
      return fail(`cannot be read (${h5Message(e)})`);
    }
    if (shape.length === 0) return typeof v === 'string' ? v : fail('is not a readable string');
    const list = Array.isArray(v) ? v : [v];
    if (list.length !== n || !list.every((s) => typeof s === 'string')) return fail('is not a readable list of strings');
    return { shape: [...shape], data: list as string[] };
  }
  if (meta.type !== 0 && meta.type !== 1) return fail(`has an element type NIR does not use (HDF5 class ${meta.type}: not a number or a string)`);
  const dtype = DTYPES[meta.type === 1 ? `1/${meta.size}` : `0/${meta.size}/${meta.signed ? 's' : 'u'}`];
  if (!dtype) return fail(`has ${meta.size}-byte ${meta.type === 1 ? 'floats' : 'integers'}, which are not supported`);
  const data = new Float64Array(n);
  if (n > 0) {
    const ptr = r.mod._malloc(bytes);
    if (!ptr) return fail(`(${fmtBytes(bytes)}) does not fit in the HDF5 reader's memory`);
    try {
      r.mod.get_dataset_data(r.file.file_id, path, null, null, null, BigInt(ptr));
      // HDF5 converts to the machine's (little-endian) order in memory, whatever the file stores
      const fast = view(r.mod.HEAPU8.buffer as ArrayBuffer, ptr, n, dtype);
      if (fast) data.set(fast);
      else decode(new DataView(r.mod.HEAPU8.slice(ptr, ptr + bytes).buffer), dtype, data);
    } catch (e) {
      return fail(`cannot be read (${h5Message(e)})`);
    } finally {
      r.mod._free(ptr);
    }
  }
  return { dtype, shape: [...shape], data };
}

/** A typed view of `n` elements at `ptr` for the widths JavaScript has (aligned), else null (float16, 64-bit integers). */
function view(buf: ArrayBuffer, ptr: number, n: number, dtype: NirDtype): ArrayLike<number> | null {
  const make = { f32: Float32Array, f64: Float64Array, i8: Int8Array, i16: Int16Array, i32: Int32Array, u8: Uint8Array, u16: Uint16Array, u32: Uint32Array } as const;
  const C = make[dtype as keyof typeof make];
  if (!C || ptr % C.BYTES_PER_ELEMENT !== 0) return null;
  return new C(buf, ptr, n);
}

/** Little-endian elements of `dtype` into doubles. */
function decode(dv: DataView, dtype: NirDtype, out: Float64Array): void {
  const n = out.length;
  const get: (i: number) => number = {
    f16: (i: number) => half(dv.getUint16(2 * i, true)), f32: (i: number) => dv.getFloat32(4 * i, true), f64: (i: number) => dv.getFloat64(8 * i, true),
    i8: (i: number) => dv.getInt8(i), i16: (i: number) => dv.getInt16(2 * i, true), i32: (i: number) => dv.getInt32(4 * i, true),
    i64: (i: number) => Number(dv.getBigInt64(8 * i, true)), u8: (i: number) => dv.getUint8(i), u16: (i: number) => dv.getUint16(2 * i, true),
    u32: (i: number) => dv.getUint32(4 * i, true), u64: (i: number) => Number(dv.getBigUint64(8 * i, true)),
  }[dtype];
  for (let i = 0; i < n; i++) out[i] = get(i);
}

/** Writes a tree as an HDF5 file at `path`, atomically; arrays of two or more values are gzip-compressed when `compress`. */
export async function writeH5Tree(path: string, tree: H5Tree, o: { compress: boolean }): Promise<void> {
  if (!('group' in tree)) throw new EdgespikeError('writeH5Tree: the root must be a group');
  const { h5 } = await loadH5();
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let file: H5File | null = null;
  try {
    file = new h5.File(tmp, 'w');
    writeGroup(file, tree.group, o.compress);
    file.close();
    file = null;
    const fd = openSync(tmp, 'r+');
    try { (await import('node:fs')).fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, path);
  } catch (e) {
    if (file) { try { file.close(); } catch { /* already failing */ } }
    rmSync(tmp, { force: true });
    if (e instanceof EdgespikeError) throw e;
    if ((e as NodeJS.ErrnoException)?.code) throw fsError(path, 'write the file', e);
    throw new EdgespikeError(`NIR file "${basename(path)}": cannot write (${h5Message(e)})`);
  }
}

type H5Group = ReturnType<H5File['create_group']>;

function writeGroup(g: H5Group | H5File, children: ReadonlyMap<string, H5Tree>, compress: boolean): void {
  for (const [name, child] of children) {
    if ('group' in child) writeGroup(g.create_group(name), child.group, compress);
    else writeValue(g, name, child.value, compress);
  }
}

function writeValue(g: H5Group | H5File, name: string, v: H5Value, compress: boolean): void {
  if (typeof v === 'string') { g.create_dataset({ name, data: v }); return; }
  if ('dtype' in v) {
    const data = typed(v);
    const shape = [...v.shape];
    const chunked = compress && data.length > 1 && shape.every((d) => d > 0);
    g.create_dataset({ name, data, shape, ...(chunked ? { chunks: shape, compression: 'gzip' as const, compression_opts: 4 } : {}) });
    return;
  }
  g.create_dataset({ name, data: [...v.data], shape: [...v.shape] });
}

/** The typed array h5wasm writes for a NIR array (float16 is written as float32). */
function typed(v: NirArray): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array {
  switch (v.dtype) {
    case 'f64': return new Float64Array(v.data);
    case 'f16': case 'f32': return new Float32Array(v.data);
    case 'i8': case 'i16': case 'i32': return new Int32Array(v.data);
    case 'u8': return new Uint8Array(v.data);
    default: return BigInt64Array.from(v.data, (x) => BigInt(Math.trunc(x)));
  }
}
