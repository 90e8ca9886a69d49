/**
 * Deterministic seeded train/test split shared by the audio data sets, and a small lazy, memoised
 * Dataset builder. The split is reproducible across runs and machines (it does not reproduce numpy's
 * global-seed permutation, which depends on every random call made before it).
 */
import { EdgespikeError } from '../../util/errors.js';
import type { Dataset } from '../dataset.js';

/** Which part of a data set to expose. */
export type SplitName = 'train' | 'test' | 'all';

/** mulberry32: a 32-bit seeded generator returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Splits indices 0 … n−1: a Fisher–Yates shuffle driven by mulberry32(seed) (for i = n−1 down to 1,
 * swap i with ⌊u·(i+1)⌋); the first ⌈testFraction·n⌉ entries of the permutation are the test set and the
 * rest the train set (sklearn's train_test_split sizes). Both lists are returned in ascending order.
 */
export function seededSplit(n: number, testFraction: number, seed: number): { train: number[]; test: number[] } {
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new EdgespikeError(`seededSplit: testFraction must be in [0, 1], got ${testFraction}`);
  }
  const perm = Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const nTest = Math.ceil(testFraction * n - 1e-9);
  const asc = (a: number, b: number) => a - b;
  return { test: perm.slice(0, nTest).sort(asc), train: perm.slice(nTest).sort(asc) };
}

/** Checks a split name given by a caller. */
export function checkSplit(op: string, split: string): SplitName {
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new EdgespikeError(`${op}: split must be 'train', 'test' or 'all', got '${split}'`);
  }
  return split;
}

/** What {@link lazyDataset} needs: the chosen global indices and how to label and compute a sample. */
export interface LazySource {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  /** Global sample indices exposed, in order. */
  readonly indices: readonly number[];
  /** Label of global sample g. */
  labelOf(g: number): number;
  /** Computes global sample g; may return further samples (global index → data) to keep in the cache. */
  compute(g: number): Map<number, Float32Array>;
  /** Keep computed samples in memory (default true). */
  readonly cache?: boolean;
}

/** A Dataset whose samples are computed on first read and, unless `cache` is false, kept in memory. */
export function lazyDataset(src: LazySource): Dataset {
  const size = src.shape.reduce((a, b) => a * b, 1);
  const memo = new Map<number, Float32Array>();
  const keep = src.cache ?? true;
  const wanted = new Set(src.indices);
  const check = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= src.indices.length) {
      throw new EdgespikeError(`${src.name}: sample index must be an integer in 0…${src.indices.length - 1}, got ${i}`);
    }
    return src.indices[i];
  };
  return {
    name: src.name, length: src.indices.length, shape: src.shape, temporal: false,
    numClasses: src.numClasses, classNames: src.classNames,
    label: (i) => src.labelOf(check(i)),
    read(i, out, offset) {
      const g = check(i);
      let data = memo.get(g);
      if (!data) {
        const computed = src.compute(g);
        data = computed.get(g)!;
        if (keep) for (const [k, v] of computed) if (wanted.has(k)) memo.set(k, v);
      }
      if (data.length !== size) throw new Error(`${src.name}: sample ${g} has ${data.length} values, expected ${size}`);
      out.set(data, offset);
    },
  };
}
