/**
 * Image augmentation and per-channel normalisation on [C, H, W] float32 samples: random crop with
 * padding, horizontal flip (both seeded through Rng), and the standard mean/std presets.
 */
import { EdgespikeError } from '../util/errors.js';
import type { Rng } from './rng.js';

/** Per-channel mean and standard deviation; a sample is stored as (x − mean[c]) / std[c]. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** The standard presets (values as used by the reference pipelines). */
export const NORMALIZATIONS = {
  mnist: { mean: [0.1307], std: [0.3081] },
  fashion: { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
  cifar100: { mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const satisfies Record<string, Normalization>;

/** Name of a normalisation preset. */
export type NormalizationName = keyof typeof NORMALIZATIONS;

/**
 * How a loader normalises: false (raw [0, 1] pixels), true (the data set's standard preset), a preset
 * name, an explicit {mean, std}, or [mean, std] applied to every channel.
 */
export type NormalizeOption = boolean | NormalizationName | Normalization | readonly [number, number];

/** Resolves a NormalizeOption for a `channels`-channel data set; null means no normalisation. */
export function resolveNormalization(
  opt: NormalizeOption | undefined, preset: NormalizationName, channels: number, who: string,
): Normalization | null {
  if (opt === undefined || opt === false) return null;
  let n: Normalization;
  if (opt === true) n = NORMALIZATIONS[preset];
  else if (typeof opt === 'string') {
    if (!(opt in NORMALIZATIONS)) {
      throw new EdgespikeError(`${who}: unknown normalisation "${opt}", expected one of ${Object.keys(NORMALIZATIONS).join(', ')}`);
    }
    n = NORMALIZATIONS[opt];
  } else if (Array.isArray(opt)) {
    const [m, s] = opt as readonly [number, number];
    n = { mean: new Array<number>(channels).fill(m), std: new Array<number>(channels).fill(s) };
  } else n = opt as Normalization;
  const ok = n.mean.length === channels && n.std.length === channels &&
    n.std.every((s) => Number.isFinite(s) && s > 0) && n.mean.every(Number.isFinite);
  if (!ok) {
    throw new EdgespikeError(
      `${who}: normalisation must give ${channels} finite mean(s) and positive std(s), got mean [${n.mean.join(', ')}] std [${n.std.join(', ')}]`,
    );
  }
  return n;
}

/** Normalises x: [C, H, W] (starting at `offset`) in place: x ← (x − mean[c]) / std[c]. */
export function normalize(x: Float32Array, c: number, h: number, w: number, norm: Normalization, offset = 0): void {
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) {
    const m = norm.mean[ch], s = norm.std[ch], base = offset + ch * plane;
    for (let i = 0; i < plane; i++) x[base + i] = (x[base + i] - m) / s;
  }
}

/** The value a black (0) pixel has after `norm`, per channel: −mean/std. Use it as the crop fill. */
export function blackAfter(norm: Normalization): number[] {
  return norm.mean.map((m, i) => -m / norm.std[i]);
}

function checkSizes(op: string, src: Float32Array, out: Float32Array, c: number, h: number, w: number): void {
  const n = c * h * w;
  if (src.length < n || out.length < n || src === out) {
    throw new EdgespikeError(`${op}: needs distinct src and out of at least ${c}×${h}×${w} = ${n} floats, got ${src.length} and ${out.length}${src === out ? ' (same array)' : ''}`);
  }
}

/**
 * Copies src: [C, H, W] shifted by (dy, dx) into out: out[c, y, x] = src[c, y + dy, x + dx], or
 * fill[c] where that falls outside the image. A random crop of a padded image is a shift in
 * [−pad, pad] on each axis.
 */
export function shiftImage(
  src: Float32Array, out: Float32Array, c: number, h: number, w: number, dy: number, dx: number,
  fill: number | readonly number[] = 0,
): void {
  checkSizes('shiftImage', src, out, c, h, w);
  for (let ch = 0; ch < c; ch++) {
    const f = typeof fill === 'number' ? fill : fill[ch], base = ch * h * w;
    for (let y = 0; y < h; y++) {
      const sy = y + dy, row = base + y * w;
      for (let x = 0; x < w; x++) {
        const sx = x + dx;
        out[row + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[base + sy * w + sx] : f;
      }
    }
  }
}

/**
 * Random crop of size H×W from src zero-padded by `pad` on every side (torchvision RandomCrop(H,
 * padding=pad)), written to out. The crop's top-left corner is drawn as rng.int(2·pad + 1) for the
 * row, then for the column. Returns the shift [dy, dx] applied.
 */
export function randomCrop(
  src: Float32Array, out: Float32Array, c: number, h: number, w: number, pad: number, rng: Rng,
  fill: number | readonly number[] = 0,
): [number, number] {
  const top = rng.int(2 * pad + 1), left = rng.int(2 * pad + 1);
  const dy = top - pad, dx = left - pad;
  shiftImage(src, out, c, h, w, dy, dx, fill);
  return [dy, dx];
}

/** Mirrors x: [C, H, W] left–right in place. */
export function flipHorizontal(x: Float32Array, c: number, h: number, w: number): void {
  for (let r = 0; r < c * h; r++) {
    const row = r * w;
    for (let i = 0, j = w - 1; i < j; i++, j--) {
      const t = x[row + i];
      x[row + i] = x[row + j];
      x[row + j] = t;
    }
  }
}

/** Mirrors x in place with probability p (one rng.float() draw: flip when it is < p). Returns whether it flipped. */
export function randomFlip(x: Float32Array, c: number, h: number, w: number, rng: Rng, p = 0.5): boolean {
  const flip = rng.float() < p;
  if (flip) flipHorizontal(x, c, h, w);
  return flip;
}

/** Options of the standard training augmentation. */
export interface AugmentOptions {
  /** Padding of the random crop (0: no crop). CIFAR uses 4. */
  readonly pad?: number;
  /** Probability of a horizontal flip (0: never). CIFAR uses 0.5. */
  readonly flip?: number;
  /** Value of padded pixels per channel; for normalised samples use blackAfter(norm). */
  readonly fill?: number | readonly number[];
}

/**
 * Random crop (if pad > 0) then random flip (if flip > 0) of src: [C, H, W] into out, with draws
 * from rng in that order. `src` is not modified.
 */
export function augment(
  src: Float32Array, out: Float32Array, shape: readonly number[], rng: Rng, opts: AugmentOptions,
): void {
  const [c, h, w] = shape;
  if (shape.length !== 3) throw new EdgespikeError(`augment: shape must be [C, H, W], got [${shape.join(', ')}]`);
  const pad = opts.pad ?? 0;
  if (pad > 0) randomCrop(src, out, c, h, w, pad, rng, opts.fill ?? 0);
  else {
    checkSizes('augment', src, out, c, h, w);
    out.set(src.subarray(0, c * h * w));
  }
  if ((opts.flip ?? 0) > 0) randomFlip(out, c, h, w, rng, opts.flip);
}
