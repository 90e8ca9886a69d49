/**
 * The data-set interface every loader implements (static images, framed events, audio features).
 * A data set is indexable and synchronous; batching, shuffling and augmentation live in the trainer.
 */

/** An indexable, labelled data set of fixed-shape float32 samples. */
export interface Dataset {
  /** Short name, e.g. "mnist/train". */
  readonly name: string;
  /** Number of samples. */
  readonly length: number;
  /** Shape of one sample: [C, H, W] for images, [T, C, H, W] for framed events (then `temporal`). */
  readonly shape: readonly number[];
  /** True when the first axis of `shape` is time (one frame per step). */
  readonly temporal: boolean;
  /** Number of classes; labels are 0 … numClasses − 1. */
  readonly numClasses: number;
  /** Optional human-readable class names, index = label. */
  readonly classNames?: readonly string[];
  /** Label of sample i. */
  label(i: number): number;
  /** Writes sample i (prod(shape) floats, already normalized) into out at offset. */
  read(i: number, out: Float32Array, offset: number): void;
}

/** Number of floats in one sample of `d`. */
export function sampleSize(d: Pick<Dataset, 'shape'>): number {
  return d.shape.reduce((a, b) => a * b, 1);
}

/** A view of the first `n` samples (or fewer, if the set is smaller). */
export function limit(d: Dataset, n: number): Dataset {
  const length = Math.min(d.length, Math.max(0, Math.floor(n)));
  return {
    name: d.name, length, shape: d.shape, temporal: d.temporal, numClasses: d.numClasses,
    classNames: d.classNames,
    label: (i) => d.label(i),
    read: (i, out, off) => d.read(i, out, off),
  };
}

/**
 * Index `i` of `n` samples spread over `length` (n ≤ length): one sample from each of n equal strata of the
 * indices, at a fixed pseudo-random place within its stratum. Spread, so a set stored class by class gives
 * every class its share; not on a fixed stride, so a set stored with its classes in a repeating cycle (0, 1,
 * …, 9, 0, 1, …) does too (a stride that is a multiple of the cycle would pick one class).
 */
export function stratumIndex(i: number, n: number, length: number): number {
  const start = Math.floor((i * length) / n), end = Math.floor(((i + 1) * length) / n);
  // a 32-bit mix of i (deterministic, so the same samples every run)
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return start + Math.floor((h / 2 ** 32) * Math.max(1, end - start));
}

/**
 * A view of `n` samples spread over `d` (stratumIndex): for sets stored class by class, where the first n
 * would be one class, or with their classes in a cycle.
 */
export function spread(d: Dataset, n: number): Dataset {
  const length = Math.min(d.length, Math.max(0, Math.floor(n)));
  const at = (i: number): number => stratumIndex(i, length, d.length);
  return {
    name: d.name, length, shape: d.shape, temporal: d.temporal, numClasses: d.numClasses, classNames: d.classNames,
    label: (i) => d.label(at(i)),
    read: (i, out, off) => d.read(at(i), out, off),
  };
}
