/**
 * Single images for inference: read PNG (grey, grey+alpha, RGB, RGBA, palette) and binary PGM (P5)
 * into [C, H, W] floats in [0, 1], convert them to a model's input shape, and write PNGs.
 */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../util/atomic.js';
import { EdgespikeError } from '../util/errors.js';
import { readInput } from '../util/fsx.js';
import { checkBudget } from '../util/budget.js';
import { decodePgm, type Image } from './image-input.js';

export {
  decodePgm, resizeBilinear, LUMA, toModelInput, DARK_BACKGROUND_DATASETS, borderMean, matchPolarity, type Image, type InvertMode,
} from './image-input.js';

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
    // pngjs says "read requests waiting on finished stream" when the data ends early
    const msg = (e as Error).message;
    throw new EdgespikeError(`${file}: not a readable PNG (${/read requests wait/i.test(msg) ? `the data ends early: ${bytes.length} bytes` : msg})`);
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
