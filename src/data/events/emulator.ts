/**
 * A saccade emulator that turns a static grey image into events the way N-MNIST was recorded: the
 * sensor moves in three saccades around a triangle (~100 ms each) over the image, and every pixel
 * is a log-intensity change detector (contrast threshold with per-pixel mismatch, ON/OFF polarity,
 * a per-pixel refractory period). A 28×28 input lands on a 34×34 sensor, as in N-MNIST.
 */
import { makeDirs } from '../../util/fsx.js';
import { join } from 'node:path';
import { EdgespikeError } from '../../util/errors.js';
import { writeAtis } from './atis.js';
import { allocEvents, sortByTime, trimEvents, type Events } from './events.js';
import { createRng, type Rng } from './rng.js';

/** Emulator settings; only the seed is required. */
export interface SaccadeOptions {
  /** Seed of the threshold mismatch, event timing and noise. */
  readonly seed: number;
  /** Input image size (default 28 × 28). */
  readonly width?: number;
  readonly height?: number;
  /** Triangle size in pixels; the sensor is (w + amplitude) × (h + amplitude) (default 6 → 34×34). */
  readonly amplitude?: number;
  /** Contrast threshold on log intensity (default 0.35) and its per-pixel relative spread (default 0.05). */
  readonly threshold?: number;
  readonly thresholdSpread?: number;
  /** Per-pixel refractory period in µs (default 1000). */
  readonly refractoryUs?: number;
  /** Duration of one saccade in µs (default 100 000: three take 300 ms). */
  readonly saccadeUs?: number;
  /** Simulation step in µs (default 500). */
  readonly stepUs?: number;
  /** Background brightness added before the log, relative to white = 1 (default 0.15). */
  readonly background?: number;
  /** Noise events per pixel per second (default 0). */
  readonly noiseHz?: number;
}

/** Image offset on the sensor at time t: linear moves A → B → C → A, vertices (0, a), (a/2, 0), (a, a). */
function offsetAt(t: number, saccade: number, a: number): [number, number] {
  const v: Array<[number, number]> = [[0, a], [a / 2, 0], [a, a], [0, a]];
  const leg = Math.min(2, Math.floor(t / saccade)), f = Math.min(1, t / saccade - leg);
  return [v[leg][0] + f * (v[leg + 1][0] - v[leg][0]), v[leg][1] + f * (v[leg + 1][1] - v[leg][1])];
}

/** The image as floats in [0, 1] with a black border of `pad` pixels, so shifted reads need no bounds checks. */
function padded(img: Uint8Array, w: number, h: number, pad: number): { data: Float64Array; stride: number } {
  const stride = w + 2 * pad, data = new Float64Array(stride * (h + 2 * pad));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(y + pad) * stride + x + pad] = img[y * w + x] / 255;
  return { data, stride };
}

/**
 * Log intensity of the sensor at image offset (ox, oy), bilinear, black outside the image. The shift
 * is the same for every pixel, so the four bilinear weights are computed once per call.
 */
const LOG_STEPS = 8192;
const logTables = new Map<number, Float64Array>();

/** log(bg + v) for v in [0, 1], tabulated at 8192 steps (linear interpolation error below 1e-6). */
function logTable(bg: number): Float64Array {
  let t = logTables.get(bg);
  if (!t) {
    t = new Float64Array(LOG_STEPS + 2);
    for (let i = 0; i <= LOG_STEPS + 1; i++) t[i] = Math.log(bg + i / LOG_STEPS);
    logTables.set(bg, t);
  }
  return t;
}

function render(img: { data: Float64Array; stride: number }, pad: number, sw: number, sh: number, ox: number, oy: number, bg: number, out: Float64Array): void {
  const lt = logTable(bg);
  const fx0 = Math.floor(-ox), fy0 = Math.floor(-oy), fx = -ox - fx0, fy = -oy - fy0;
  const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
  const P = img.data, st = img.stride;
  for (let sy = 0; sy < sh; sy++) {
    const y0 = sy + fy0 + pad;
    if (y0 < 0 || y0 + 1 >= P.length / st) { for (let sx = 0; sx < sw; sx++) out[sy * sw + sx] = Math.log(bg); continue; }
    for (let sx = 0; sx < sw; sx++) {
      const x0 = sx + fx0 + pad;
      let v = 0;
      if (x0 >= 0 && x0 + 1 < st) {
        const o = y0 * st + x0;
        v = w00 * P[o] + w01 * P[o + 1] + w10 * P[o + st] + w11 * P[o + st + 1];
      }
      const z = v * LOG_STEPS, zi = Math.floor(z), zf = z - zi;
      out[sy * sw + sx] = lt[zi] + zf * (lt[zi + 1] - lt[zi]);
    }
  }
}

interface Pixels { ref: Float64Array; last: Float64Array; thr: Float64Array }

/** One simulation step: emits events for pixels whose log intensity moved a threshold away. */
function step(L: Float64Array, px: Pixels, t0: number, dt: number, refractory: number, rng: Rng, emit: (i: number, t: number, p: number) => void): void {
  for (let i = 0; i < L.length; i++) {
    const d = L[i] - px.ref[i];
    if (Math.abs(d) < px.thr[i]) continue;
    const t = t0 + Math.floor(rng.next() * dt);
    if (t - px.last[i] < refractory) continue;
    px.ref[i] += d > 0 ? px.thr[i] : -px.thr[i];
    px.last[i] = t;
    emit(i, t, d > 0 ? 1 : 0);
  }
}

/** Emulates N-MNIST-style saccades over an h × w grey image (row-major, 0 … 255); events sorted by t. */
export function emulateSaccades(image: Uint8Array, opts: SaccadeOptions): Events {
  const w = opts.width ?? 28, h = opts.height ?? 28, a = opts.amplitude ?? 6;
  if (image.length !== w * h) throw new EdgespikeError(`emulateSaccades: image has ${image.length} pixels, expected ${h}×${w} = ${w * h}`);
  const sw = w + a, sh = h + a, n = sw * sh, rng = createRng(opts.seed);
  const C = opts.threshold ?? 0.35, spread = opts.thresholdSpread ?? 0.05, bg = opts.background ?? 0.15;
  const saccade = opts.saccadeUs ?? 100_000, dt = opts.stepUs ?? 500, refractory = opts.refractoryUs ?? 1000;
  const noise = ((opts.noiseHz ?? 0) * dt) / 1e6;
  const L = new Float64Array(n);
  const px: Pixels = { ref: new Float64Array(n), last: new Float64Array(n).fill(-Infinity), thr: new Float64Array(n) };
  for (let i = 0; i < n; i++) px.thr[i] = Math.max(0.01, C * (1 + spread * rng.normal()));
  const pad = a + 2, img = padded(image, w, h, pad);
  render(img, pad, sw, sh, ...offsetAt(0, saccade, a), bg, px.ref);
  let ev = allocEvents(1024, [sw, sh, 2]), k = 0;
  const emit = (i: number, t: number, p: number): void => {
    if (k === ev.length) ev = grow(ev);
    ev.x[k] = i % sw; ev.y[k] = Math.floor(i / sw); ev.t[k] = t; ev.p[k] = p; k++;
  };
  for (let t0 = 0; t0 < 3 * saccade; t0 += dt) {
    render(img, pad, sw, sh, ...offsetAt(t0 + dt, saccade, a), bg, L);
    step(L, px, t0, dt, refractory, rng, emit);
    if (noise > 0) for (let i = 0; i < n; i++) if (rng.next() < noise) emit(i, t0 + Math.floor(rng.next() * dt), rng.int(2));
  }
  return sortByTime(trimEvents(ev, k));
}

function grow(ev: Events): Events {
  const out = allocEvents(ev.length * 2, ev.sensor);
  out.x.set(ev.x); out.y.set(ev.y); out.t.set(ev.t); out.p.set(ev.p);
  return out;
}

/** Summary of a written emulated data set. */
export interface EmulatedSummary {
  readonly train: number;
  readonly test: number;
  readonly events: number;
}

/**
 * Emulates every image (n images of h × w, concatenated) and writes an N-MNIST-layout directory:
 * outDir/Train/<digit>/<index>.bin and outDir/Test/<digit>/<index>.bin (ATIS format, all ten digit
 * folders created). The last ⌊n · testFraction⌉ images (default 1/7, as 10 000 of 70 000) go to Test.
 */
export function writeEmulatedDataset(outDir: string, images: Uint8Array, labels: ArrayLike<number>, h: number, w: number,
  opts: SaccadeOptions & { readonly testFraction?: number; readonly onProgress?: (done: number, total: number) => void }): EmulatedSummary {
  const n = labels.length;
  if (images.length !== n * h * w) throw new EdgespikeError(`writeEmulatedDataset: ${images.length} bytes for ${n} images of ${h}×${w}`);
  const nTest = Math.round(n * (opts.testFraction ?? 1 / 7));
  for (const split of ['Train', 'Test']) for (let d = 0; d < 10; d++) makeDirs(join(outDir, split, String(d)));
  let events = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label > 9) throw new EdgespikeError(`writeEmulatedDataset: label ${i} is ${label}, expected a digit 0 … 9`);
    const ev = emulateSaccades(images.subarray(i * h * w, (i + 1) * h * w), { ...opts, width: w, height: h, seed: opts.seed * 1_000_003 + i });
    writeAtis(join(outDir, i < n - nTest ? 'Train' : 'Test', String(label), `${String(i).padStart(5, '0')}.bin`), ev);
    events += ev.length;
    opts.onProgress?.(i + 1, n);
  }
  return { train: n - nTest, test: nTest, events };
}
