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

/** A view of `n` samples spread evenly over `d` (for sets stored class by class, where the first n would be one class). */
export function spread(d: Dataset, n: number): Dataset {
  const length = Math.min(d.length, Math.max(0, Math.floor(n)));
  const at = (i: number): number => Math.floor((i * d.length) / Math.max(length, 1));
  return {
    name: d.name, length, shape: d.shape, temporal: d.temporal, numClasses: d.numClasses, classNames: d.classNames,
    label: (i) => d.label(at(i)),
    read: (i, out, off) => d.read(at(i), out, off),
  };
}
