/**
 * NIR files written with h5wasm's own calls (not our writer), in the layouts other libraries produce:
 * every field a dataset in the node's group, strings as variable-length UTF-8, parameters of any float
 * width, shapes int64 or int32, arrays contiguous or chunked with gzip, float16 through the low-level call.
 */
import h5wasm from 'h5wasm/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A dataset value: a string, or numbers with their dtype ('<f4', '<f8', '<e' (float16), '<i8', '<i4') and shape. */
export type Val = string | { readonly dtype: string; readonly data: readonly number[]; readonly shape?: readonly number[] };

/** A node: its type and fields; a graph holds nodes and edges instead. */
export type Node = { readonly type: string; readonly [field: string]: Val | Node | Record<string, Node> | (readonly [string, string])[] | undefined }
  | { readonly type: 'NIRGraph'; readonly nodes: Record<string, Node>; readonly edges: readonly (readonly [string, string])[]; readonly metadata?: Record<string, Val> };

export const f4 = (data: readonly number[], shape?: readonly number[]): Val => ({ dtype: '<f4', data, shape: shape ?? [data.length] });
export const f8 = (data: readonly number[], shape?: readonly number[]): Val => ({ dtype: '<f8', data, shape: shape ?? [data.length] });
export const f2 = (data: readonly number[], shape?: readonly number[]): Val => ({ dtype: '<e', data, shape: shape ?? [data.length] });
export const i8 = (data: readonly number[] | number): Val => (typeof data === 'number' ? { dtype: '<i8', data: [data], shape: [] } : { dtype: '<i8', data, shape: [data.length] });
export const i4 = (data: readonly number[] | number): Val => (typeof data === 'number' ? { dtype: '<i4', data: [data], shape: [] } : { dtype: '<i4', data, shape: [data.length] });

/** float32 → IEEE half bits (values used in tests are exact in half precision). */
function halfBits(v: number): number {
  if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
  const s = v < 0 ? 0x8000 : 0, a = Math.abs(v);
  const e = Math.floor(Math.log2(a));
  if (e < -14) return s | Math.round(a / 2 ** -24);
  const f = Math.round((a / 2 ** e - 1) * 1024);
  return s | ((e + 15) << 10) | f;
}

type H5 = typeof h5wasm;
type Group = ReturnType<InstanceType<H5['File']>['create_group']>;

let ready: Promise<unknown> | null = null;

/** Writes one dataset; `gzip` chunks arrays of two or more values (the nir package's default since 2026). */
function put(mod: Awaited<H5['ready']>, g: Group, name: string, v: Val, gzip: boolean): void {
  if (typeof v === 'string') { g.create_dataset({ name, data: v }); return; }
  const shape = [...(v.shape ?? [v.data.length])];
  const n = v.data.length;
  const chunked = gzip && n > 1;
  const opts = chunked ? { chunks: shape, compression: 'gzip' as const, compression_opts: 4 } : {};
  if (v.dtype === '<e') {
    // h5wasm's high-level writer has no float16: hand the bytes to the module's own call
    const bytes = new Uint8Array(Uint16Array.from(v.data, halfBits).buffer);
    const ptr = mod._malloc(bytes.length);
    try {
      mod.HEAPU8.set(bytes, ptr);
      mod.create_dataset(g.file_id, `${g.path === '/' ? '' : g.path}/${name}`, BigInt(ptr), {
        type: 1, size: 2, signed: false, vlen: false, littleEndian: true, shape: shape.map(BigInt), maxshape: shape.map(BigInt),
        chunks: chunked ? shape.map(BigInt) : null, compression: chunked ? 1 : 0, compression_opts: chunked ? [4] : [], track_order: false,
      } as never);
    } finally { mod._free(ptr); }
    return;
  }
  const data = v.dtype === '<i8' ? BigInt64Array.from(v.data, (x) => BigInt(x)) : v.dtype === '<i4' ? Int32Array.from(v.data)
    : v.dtype === '<f8' ? Float64Array.from(v.data) : Float32Array.from(v.data);
  g.create_dataset({ name, data, shape, ...opts });
}

function putNode(mod: Awaited<H5['ready']>, g: Group, n: Node, gzip: boolean): void {
  for (const [k, v] of Object.entries(n)) {
    if (v === undefined) continue;
    if (k === 'nodes') {
      const ng = g.create_group('nodes');
      for (const [name, child] of Object.entries(v as Record<string, Node>)) putNode(mod, ng.create_group(name), child, gzip);
    } else if (k === 'edges') {
      const e = v as (readonly [string, string])[];
      g.create_dataset({ name: 'edges', data: e.flat(), shape: [e.length, 2] });
    } else if (k === 'metadata') {
      const mg = g.create_group('metadata');
      for (const [mk, mv] of Object.entries(v as Record<string, Val>)) put(mod, mg, mk, mv, false);
    } else put(mod, g, k, v as Val, gzip);
  }
}

/** Writes a NIR file: /version (omitted when null) and /node = `graph`. */
export async function writeRaw(path: string, version: string | null, graph: Node, o: { gzip?: boolean } = {}): Promise<void> {
  ready ??= h5wasm.ready.then((m) => { m.activate_throwing_error_handler(); return m; });
  const mod = (await ready) as Awaited<H5['ready']>;
  const f = new h5wasm.File(path, 'w');
  try {
    if (version !== null) f.create_dataset({ name: 'version', data: version });
    putNode(mod, f.create_group('node'), graph, o.gzip ?? false);
  } finally { f.close(); }
}

/** A fresh temporary directory and its removal. */
export function tempDir(prefix: string): { dir: string; path: (name: string) => string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), done: () => rmSync(dir, { recursive: true, force: true }) };
}
