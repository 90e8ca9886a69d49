/**
 * Single images for inference: read PNG (grey, grey+alpha, RGB, RGBA, palette) and binary PGM (P5)
 * into [C, H, W] floats in [0, 1], convert them to a model's input shape, and write PNGs.
 */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../util/atomic.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { readInput } from '../util/fsx.js';
import { checkBudget } from '../util/budget.js';

/** A decoded image: data is [C, H, W] in [0, 1]; C = 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
export interface Image {
  readonly data: Float32Array;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

function readBytes(path: string): Uint8Array {
  return readInput(path, 'image', 256 * 2 ** 20);
}

/**
 * Width and height from a PNG's IHDR chunk (bytes 16–23), checked against the memory budget before
 * anything is decoded: pngjs holds 4 bytes per pixel, we 4 more per channel.
 */
function checkPngSize(bytes: Uint8Array, file: string): void {
  if (bytes.length < 24) throw new EdgespikeError(`${file}: not a readable PNG (truncated: ${bytes.length} bytes, its IHDR chunk ends at byte 24)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = v.getUint32(16), h = v.getUint32(20);
  if (w === 0 || h === 0) throw new EdgespikeError(`${file}: PNG of ${w}×${h} pixels has no pixels`);
  if (w * h > MAX_IMAGE_PIXELS) throw new EdgespikeError(`${file}: PNG of ${w}×${h} pixels is larger than the ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} pixels an input image may have`);
  checkBudget(w * h * 20, `${file}: decoding a PNG of ${w}×${h} pixels`, 'use a smaller image');
}

/** Most pixels of an input image (a 64-megapixel photo is far larger than any model input). */
export const MAX_IMAGE_PIXELS = 64 * 2 ** 20;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Reads a PNG or PGM (P5) file, chosen by its first bytes. */
export function readImage(path: string): Image {
  const bytes = readBytes(path);
  if (PNG_MAGIC.every((b, i) => bytes[i] === b)) return decodePng(bytes, path);
  if (bytes[0] === 0x50 && bytes[1] === 0x35) return decodePgm(bytes, path);
  throw new EdgespikeError(`${path}: unknown image format at byte offset 0: expected a PNG signature or "P5" (binary PGM)`);
}

/** Decodes PNG bytes (8- and 16-bit; 16-bit is reduced to 8). `file` names it in errors. */
export function decodePng(bytes: Uint8Array, file: string): Image {
  checkPngSize(bytes, file);
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  } catch (e) {
    throw new EdgespikeError(`${file}: not a readable PNG (${(e as Error).message})`);
  }
  const { width: w, height: h, data: rgba } = png;
  const c = (png.color ? 3 : 1) + (png.alpha ? 1 : 0);
  // pngjs always hands back RGBA; pick the channels the file really has.
  const src = png.color ? [0, 1, 2] : [0];
  if (png.alpha) src.push(3);
  const data = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    const k = src[ch], base = ch * h * w;
    for (let p = 0; p < h * w; p++) data[base + p] = rgba[4 * p + k] / 255;
  }
  return { data, c, h, w };
}

/** Decodes a binary PGM (P5, maxval ≤ 65535, 16-bit samples big-endian). */
export function decodePgm(bytes: Uint8Array, file: string): Image {
  let i = 2;
  const field = (what: string): number => {
    for (;;) {
      while (i < bytes.length && (bytes[i] === 0x20 || (bytes[i] >= 0x09 && bytes[i] <= 0x0d))) i++;
      if (bytes[i] !== 0x23) break;
      while (i < bytes.length && bytes[i] !== 0x0a) i++;
    }
    const start = i;
    let v = 0;
    while (bytes[i] >= 0x30 && bytes[i] <= 0x39) v = v * 10 + bytes[i++] - 0x30;
    if (i === start || v === 0) throw new EdgespikeError(`${file}: bad PGM header at byte offset ${start}: expected a positive ${what}`);
    return v;
  };
  const w = field('width'), h = field('height'), max = field('maxval');
  if (max > 65535) throw new EdgespikeError(`${file}: bad PGM maxval ${max}: expected at most 65535`);
  const start = i + 1, size = max < 256 ? 1 : 2;
  const expected = start + w * h * size;
  if (bytes.length < expected) {
    throw new EdgespikeError(`${file}: truncated PGM: ${w}×${h} samples of ${size} byte(s) from byte offset ${start} need ${expected} bytes, file has ${bytes.length}`);
  }
  const data = new Float32Array(w * h);
  for (let p = 0; p < w * h; p++) {
    const v = size === 1 ? bytes[start + p] : (bytes[start + 2 * p] << 8) | bytes[start + 2 * p + 1];
    data[p] = Math.min(v, max) / max;
  }
  return { data, c: 1, h, w };
}

/** Bilinear resize of x: [C, H, W] to [C, oh, ow], pixel centres aligned (align_corners = false), edges clamped. */
export function resizeBilinear(x: Float32Array, c: number, h: number, w: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(c * oh * ow);
  const sy = h / oh, sx = w / ow;
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), ty = fy - y0;
    for (let xo = 0; xo < ow; xo++) {
      const fx = Math.min(Math.max((xo + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), tx = fx - x0;
      for (let ch = 0; ch < c; ch++) {
        const b = ch * h * w;
        const top = x[b + y0 * w + x0] * (1 - tx) + x[b + y0 * w + x1] * tx;
        const bot = x[b + y1 * w + x0] * (1 - tx) + x[b + y1 * w + x1] * tx;
        out[ch * oh * ow + y * ow + xo] = top * (1 - ty) + bot * ty;
      }
    }
  }
  return out;
}

/** Luminance weights (ITU-R BT.601) used for RGB → grey. */
export const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * Converts img to a model input of shape [C, H, W] (C = 1 or 3), values in [0, 1]: alpha is dropped,
 * RGB → grey by luminance (LUMA), grey → RGB by repeating, then a bilinear resize to H×W.
 */
export function toModelInput(img: Image, shape: readonly number[]): Float32Array {
  const [c, h, w] = shape;
  if (shape.length !== 3 || (c !== 1 && c !== 3) || !(h > 0 && w > 0)) {
    throw new EdgespikeError(`toModelInput: model input shape must be [1 or 3, H, W], got ${fmtShape(shape)}`);
  }
  const plane = img.h * img.w, colour = img.c >= 3;
  const conv = new Float32Array(c * plane);
  for (let p = 0; p < plane; p++) {
    const r = img.data[p], g = colour ? img.data[plane + p] : r, b = colour ? img.data[2 * plane + p] : r;
    if (c === 1) conv[p] = colour ? LUMA[0] * r + LUMA[1] * g + LUMA[2] * b : r;
    else { conv[p] = r; conv[plane + p] = g; conv[2 * plane + p] = b; }
  }
  const out = img.h === h && img.w === w ? conv : resizeBilinear(conv, c, img.h, img.w, h, w);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
  return out;
}

/** Writes data: [C, H, W] in [0, 1] (C = 1 grey, 3 RGB, 4 RGBA) as an 8-bit PNG, atomically. */
export function writePng(path: string, data: Float32Array, c: number, h: number, w: number): void {
  if ((c !== 1 && c !== 3 && c !== 4) || data.length !== c * h * w || !(h > 0 && w > 0)) {
    throw new EdgespikeError(`writePng ${path}: expected [1, 3 or 4, H, W] data of ${c}×${h}×${w} floats, got ${data.length}`);
  }
  const png = new PNG({ width: w, height: h });
  const plane = h * w;
  const byte = (v: number): number => Math.round(Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v)) * 255);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) png.data[4 * p + k] = byte(data[(c === 1 ? 0 : k) * plane + p]);
    png.data[4 * p + 3] = c === 4 ? byte(data[3 * plane + p]) : 255;
  }
  const colorType = c === 1 ? 0 : c === 3 ? 2 : 6;
  writeFileAtomic(path, PNG.sync.write(png, { colorType, inputColorType: 6 }));
}

/** Data sets whose images are light strokes on a dark background (the MNIST family). */
export const DARK_BACKGROUND_DATASETS: ReadonlySet<string> = new Set(['mnist', 'fashion-mnist', 'kmnist', 'emnist']);

/** Mean value of an image's one-pixel border over all channels: the background's brightness. */
export function borderMean(x: Float32Array, c: number, h: number, w: number): number {
  let s = 0, n = 0;
  for (let ch = 0; ch < c; ch++) {
    const o = ch * h * w;
    for (let j = 0; j < w; j++) { s += x[o + j]! + (h > 1 ? x[o + (h - 1) * w + j]! : 0); n += h > 1 ? 2 : 1; }
    for (let i = 1; i < h - 1; i++) { s += x[o + i * w]! + (w > 1 ? x[o + i * w + w - 1]! : 0); n += w > 1 ? 2 : 1; }
  }
  return n ? s / n : 0;
}

/** How an input's polarity is matched to the training data's: detected, always inverted, or never. */
export type InvertMode = 'auto' | 'yes' | 'no';

/**
 * Inverts an input in place (x → 1 − x) when it does not match the training images' polarity.
 * In 'auto' mode, an image for a model trained on a dark-background data set is inverted when its
 * border is mostly light (mean above 0.5): a dark digit drawn on white paper or a canvas.
 * Returns whether it inverted.
 */
export function matchPolarity(x: Float32Array, shape: readonly number[], mode: InvertMode, dataset: string | undefined): boolean {
  const [c, h, w] = shape as [number, number, number];
  const invert = mode === 'yes' || (mode === 'auto' && dataset !== undefined && DARK_BACKGROUND_DATASETS.has(dataset) && borderMean(x, c, h, w) > 0.5);
  if (invert) for (let i = 0; i < x.length; i++) x[i] = 1 - x[i]!;
  return invert;
}
