/**
 * A NIR file in memory, as read.ts returns it and write.ts takes it: the version string and the top-level
 * graph, whose nodes are groups of datasets (NIR's fields) and whose edges name nodes. Numbers keep the
 * stored element type next to their values (held as doubles, exactly for every type NIR files use).
 */

/** Element types of numeric datasets. */
export type NirDtype = 'f16' | 'f32' | 'f64' | 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'u16' | 'u32' | 'u64';

/** A numeric dataset: its values (row-major), its shape ([] for a scalar) and its stored type. */
export interface NirArray {
  readonly dtype: NirDtype;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** A field of a node: numbers, or a string (a node's type, a "same"/"valid" padding). */
export type NirField = NirArray | string;

/** Free-form metadata: datasets (numbers, strings, lists of strings) and nested groups. */
export interface NirMeta { readonly [key: string]: NirArray | string | readonly string[] | NirMeta }

/** A node other than a graph: its type string and its fields by dataset name. */
export interface NirLeaf {
  readonly type: string;
  readonly fields: Readonly<Record<string, NirField>>;
  readonly metadata: NirMeta;
}

/** A (sub)graph: nodes by name and identity edges [source, target] between them. */
export interface NirGraph {
  readonly type: 'NIRGraph';
  readonly nodes: Readonly<Record<string, NirNode>>;
  readonly edges: readonly (readonly [string, string])[];
  readonly metadata: NirMeta;
}

/** Any node. */
export type NirNode = NirLeaf | NirGraph;

/** A whole file. */
export interface NirFile {
  /** The `version` dataset, or null when the file has none. */
  readonly version: string | null;
  readonly graph: NirGraph;
}

/** True for a (sub)graph node. */
export const isGraph = (n: NirNode): n is NirGraph => n.type === 'NIRGraph';

/** True for a numeric dataset. */
export const isArray = (v: unknown): v is NirArray => typeof v === 'object' && v !== null && 'data' in v && (v as NirArray).data instanceof Float64Array;

/** Numbers as a NIR array of float32 (the default for weights and parameters). */
export function f32(data: ArrayLike<number>, shape: readonly number[] = [data.length]): NirArray {
  const out = new Float64Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(data[i]!);
  return { dtype: 'f32', shape: [...shape], data: out };
}

/** Numbers as a NIR array of float64. */
export function f64(data: ArrayLike<number>, shape: readonly number[] = [data.length]): NirArray {
  const out = new Float64Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = data[i]!;
  return { dtype: 'f64', shape: [...shape], data: out };
}

/** Integers as a NIR array of int64 (shapes, strides, paddings, dims); a number alone is a scalar. */
export function i64(data: ArrayLike<number> | number): NirArray {
  return typeof data === 'number'
    ? { dtype: 'i64', shape: [], data: Float64Array.of(data) }
    : { dtype: 'i64', shape: [data.length], data: new Float64Array(data) };
}
