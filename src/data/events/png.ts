/**
 * A picture of frames: one PNG strip of the T frames side by side, written atomically. With two
 * channels polarity 1 is drawn red and polarity 0 green (the DVS loader's colours); three channels
 * are drawn as RGB; one channel as grey (|value|). Values are scaled by the strip's maximum.
 */
import { checkBudget } from '../../util/budget.js';
import pngjs from 'pngjs';
import { writeFileAtomic } from '../../util/atomic.js';
import { EdgespikeError } from '../../util/errors.js';

/** Layout options: integer upscaling and the gap between frames, in output pixels. */
export interface PngOptions {
  readonly scale?: number;
  readonly gap?: number;
}

/** Colour of pixel (y, x) of frame k as [r, g, b] in 0 … 1 (before scaling by the maximum). */
function colour(frames: Float32Array, [, C, H, W]: readonly number[], k: number, y: number, x: number): [number, number, number] {
  const at = (c: number): number => Math.abs(frames[((k * C + c) * H + y) * W + x]);
  if (C === 1) { const v = at(0); return [v, v, v]; }
  if (C === 2) return [at(1), at(0), 0];
  return [at(0), at(1), at(2)];
}

/** Checks that a strip of T frames of H × W at `scale` fits the memory budget (before the frames are made). */
export function checkStrip(T: number, H: number, W: number, opts: PngOptions = {}): void {
  const s = opts.scale ?? 1, gap = opts.gap ?? 1, width = T * W * s + (T - 1) * gap, height = H * s;
  checkBudget(4 * width * height, `framesToPng: a strip of ${width}×${height} pixels`, 'fewer frames or a smaller --scale');
}

/** Encodes frames [T, C, H, W] (C = 1, 2 or 3) as PNG bytes: a strip of T frames. */
export function framesToPngBytes(frames: Float32Array, shape: readonly [number, number, number, number], opts: PngOptions = {}): Uint8Array {
  const [T, C, H, W] = shape, s = opts.scale ?? 1, gap = opts.gap ?? 1;
  if (frames.length !== T * C * H * W || C < 1 || C > 3 || T < 1 || !Number.isInteger(s) || s < 1) {
    throw new EdgespikeError(`framesToPng: expected frames [T, C ≤ 3, H, W] of ${T * C * H * W} floats and an integer scale ≥ 1, `
      + `got ${frames.length} floats for [${shape.join(', ')}], scale ${s}`);
  }
  let max = 0;
  for (let i = 0; i < frames.length; i++) max = Math.max(max, Math.abs(frames[i]));
  checkStrip(T, H, W, opts);
  const width = T * W * s + (T - 1) * gap, height = H * s;
  const png = new pngjs.PNG({ width, height });
  png.data.fill(0);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  for (let k = 0; k < T; k++) {
    for (let y = 0; y < H * s; y++) {
      for (let x = 0; x < W * s; x++) {
        const rgb = colour(frames, shape, k, Math.floor(y / s), Math.floor(x / s));
        const o = (y * png.width + k * (W * s + gap) + x) * 4;
        for (let c = 0; c < 3; c++) png.data[o + c] = max > 0 ? Math.round((255 * rgb[c]) / max) : 0;
      }
    }
    if (k < T - 1) for (let y = 0; y < H * s; y++) for (let g = 0; g < gap; g++) {
      const o = (y * png.width + (k + 1) * (W * s + gap) - gap + g) * 4;
      png.data[o] = png.data[o + 1] = png.data[o + 2] = 96;
    }
  }
  return pngjs.PNG.sync.write(png);
}

/** Writes frames [T, C, H, W] to `path` as one PNG strip, atomically. */
export function framesToPng(frames: Float32Array, shape: readonly [number, number, number, number], path: string, opts: PngOptions = {}): void {
  writeFileAtomic(path, framesToPngBytes(frames, shape, opts));
}
