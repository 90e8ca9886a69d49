/**
 * A Dataset over 8-bit images kept as bytes ([N, C, H, W], channel planes) with byte labels:
 * the shared body of the MNIST, Fashion-MNIST and CIFAR loaders. Samples are decoded on read.
 */
import { EdgespikeError } from '../util/errors.js';
import type { Normalization } from './augment.js';
import type { Dataset } from './dataset.js';

/** What a byte-image data set is built from. */
export interface PixelSource {
  readonly name: string;
  /** Shape of one sample, [C, H, W]. */
  readonly shape: readonly [number, number, number];
  /** Pixels, sample after sample, each C planes of H·W bytes. */
  readonly pixels: Uint8Array;
  /** Byte offset of each sample in `pixels` is first + i·stride (default 0 and C·H·W). */
  readonly first?: number;
  readonly stride?: number;
  /** Labels: label(i) = labels[labelFirst + i·labelStride] (defaults 0 and 1). */
  readonly labels: Uint8Array;
  readonly labelFirst?: number;
  readonly labelStride?: number;
  readonly length: number;
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  /** null: pixels/255 in [0, 1]; otherwise (pixels/255 − mean[c]) / std[c]. */
  readonly norm: Normalization | null;
}

/** Builds the Dataset for `src`; read(i) writes C·H·W floats. */
export function pixelDataset(src: PixelSource): Dataset {
  const [c, h, w] = src.shape;
  const plane = h * w, size = c * plane;
  const stride = src.stride ?? size, first = src.first ?? 0;
  const lStride = src.labelStride ?? 1, lFirst = src.labelFirst ?? 0;
  // One 256-entry table per channel: lut[c][v] = (v/255 − mean[c]) / std[c], or v/255 when raw.
  const luts = Array.from({ length: c }, (_, ch) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = src.norm ? (v / 255 - src.norm.mean[ch]) / src.norm.std[ch] : v / 255;
    return t;
  });
  const check = (op: string, i: number): void => {
    if (!Number.isInteger(i) || i < 0 || i >= src.length) {
      throw new EdgespikeError(`${src.name}.${op}: index must be an integer in [0, ${src.length}), got ${i}`);
    }
  };
  return {
    name: src.name,
    length: src.length,
    shape: src.shape,
    temporal: false,
    numClasses: src.numClasses,
    classNames: src.classNames,
    label(i: number): number {
      check('label', i);
      return src.labels[lFirst + i * lStride];
    },
    read(i: number, out: Float32Array, offset: number): void {
      check('read', i);
      if (out.length - offset < size || offset < 0) {
        throw new EdgespikeError(`${src.name}.read: out needs ${size} floats from offset ${offset}, has ${out.length - offset}`);
      }
      const p = src.pixels, base = first + i * stride;
      for (let ch = 0; ch < c; ch++) {
        const lut = luts[ch], s = base + ch * plane, o = offset + ch * plane;
        for (let k = 0; k < plane; k++) out[o + k] = lut[p[s + k]];
      }
    },
  };
}
