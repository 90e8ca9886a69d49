/**
 * Batches from a data set: samples (in a given order, optionally augmented) copied into one tensor
 * [n, …shape] with their labels. Used by training, evaluation, accounting and the benchmarks.
 */
import { Tensor } from '../tensor/tensor.js';
import { augment, type AugmentOptions } from './augment.js';
import { sampleSize, type Dataset } from './dataset.js';
import type { Rng } from './rng.js';

/** Reads samples order[from … to) of d (identity order when null), with optional augmentation. */
export function makeBatch(d: Dataset, order: ArrayLike<number> | null, from: number, to: number,
  aug?: { opts: AugmentOptions; rng: Rng }): { x: Tensor; y: Int32Array } {
  const n = to - from, size = sampleSize(d);
  const x = new Float32Array(n * size), y = new Int32Array(n);
  const tmp = aug ? new Float32Array(size) : null;
  for (let i = 0; i < n; i++) {
    const j = order ? order[from + i]! : from + i;
    y[i] = d.label(j);
    if (tmp && aug) { d.read(j, tmp, 0); augment(tmp, x.subarray(i * size, (i + 1) * size), d.shape, aug.rng, aug.opts); }
    else d.read(j, x, i * size);
  }
  return { x: new Tensor(x, [n, ...d.shape]), y };
}
