/**
 * Events → dense frames. toFrame counts events per (polarity, y, x) in each slice as tonic's ToFrame
 * ([T, P, H, W]; a one-polarity sensor counts everything in channel 0). Also SpikingJelly's split by
 * number, the DVS loader's RGB occupancy frames and tonic's voxel grid (bilinear in time, ±1).
 */
import { checkBudget } from '../../util/budget.js';
import { EdgespikeError } from '../../util/errors.js';
import type { Events, SensorSize } from './events.js';
import { sliceEventsBy, splitSegments, type SliceSpec, type Slices } from './slice.js';

/** Frames and their shape [T, C, H, W]. */
export interface Frames {
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number, number];
}

function outside(op: string, ev: Events, i: number, sensor: SensorSize): EdgespikeError {
  return new EdgespikeError(`${op}: event ${i} at x ${ev.x[i]}, y ${ev.y[i]}, p ${ev.p[i]} lies outside sensor `
    + `[${sensor.join(', ')}]`);
}

/**
 * Adds 1 at (p, y, x) of frame k for every event of slices[k] into `out` (frames [T, P, H, W] from
 * `offset`). The hot loop: one bounds check and one add per event.
 */
export function accumulate(ev: Events, slices: Slices, sensor: SensorSize, out: Float32Array, offset = 0): void {
  const [W, H, P] = sensor, plane = W * H, frame = plane * P;
  const { x, y, p } = ev, pm = P === 1 ? 0 : 0xff;
  for (let k = 0; k < slices.length; k++) {
    const base = offset + k * frame, [s, e] = slices[k];
    for (let i = s; i < e; i++) {
      const xi = x[i], yi = y[i], pi = p[i] & pm;
      if (xi >= W || yi >= H || pi >= P) throw outside('toFrame', ev, i, sensor);
      out[base + pi * plane + yi * W + xi] += 1;
    }
  }
}

/** tonic's ToFrame: per-slice event counts, shape [T, P, H, W] (sensor defaults to ev.sensor). */
export function toFrame(ev: Events, spec: SliceSpec, sensor: SensorSize = ev.sensor): Frames {
  const slices = sliceEventsBy(ev, spec);
  const [W, H, P] = sensor;
  checkBudget(4 * slices.length * P * H * W, `toFrame: ${slices.length} frames of ${P}×${H}×${W}`, 'fewer frames: a longer window or fewer bins');
  const data = new Float32Array(slices.length * P * H * W);
  accumulate(ev, slices, sensor, data);
  return { data, shape: [slices.length, P, H, W] };
}

/** SpikingJelly's fixed number of frames, split by event number (default) or time; [T, P, H, W] counts. */
export function framesBySplit(ev: Events, frames: number, by: 'number' | 'time' = 'number', sensor: SensorSize = ev.sensor): Frames {
  const [W, H, P] = sensor;
  checkBudget(4 * frames * P * H * W, `framesBySplit: ${frames} frames of ${P}×${H}×${W}`, 'fewer frames');
  const data = new Float32Array(frames * P * H * W);
  accumulate(ev, splitSegments(ev, frames, by), sensor, data);
  return { data, shape: [frames, P, H, W] };
}

/**
 * The DVS loader's RGB occupancy frames [T, 3, H, W] written into `out` (values 0/1):
 * dt = floor((t_last − t_0)/(T − 1)), frame = min(floor((t − t_0)/dt), T − 1); an event paints its
 * pixel red (1, 0, 0) for polarity 1 and green (0, 1, 0) for polarity 0, later events overwriting.
 * With dt = 0 (T = 1 or one timestamp) events at t_0 go to frame 0 and later ones to frame T − 1.
 */
export function rgbOccupancyInto(ev: Events, frames: number, sensor: SensorSize, out: Float32Array, offset = 0): void {
  const [W, H] = sensor, plane = W * H, n = ev.length;
  if (n === 0) return;
  const t0 = ev.t[0], dt = frames > 1 ? Math.floor((ev.t[n - 1] - t0) / (frames - 1)) : 0;
  for (let i = 0; i < n; i++) {
    const xi = ev.x[i], yi = ev.y[i];
    if (xi >= W || yi >= H) throw outside('rgbOccupancy', ev, i, sensor);
    const d = ev.t[i] - t0;
    const k = dt > 0 ? Math.min(Math.floor(d / dt), frames - 1) : (d > 0 ? frames - 1 : 0);
    const base = offset + k * 3 * plane + yi * W + xi, on = ev.p[i] ? 1 : 0;
    out[base] = on; out[base + plane] = 1 - on; out[base + 2 * plane] = 0;
  }
}

/** RGB occupancy frames as a new array, shape [T, 3, H, W]. */
export function rgbOccupancy(ev: Events, frames: number, sensor: SensorSize = ev.sensor): Frames {
  const [W, H] = sensor;
  const data = new Float32Array(frames * 3 * H * W);
  rgbOccupancyInto(ev, frames, sensor, data);
  return { data, shape: [frames, 3, H, W] };
}

/**
 * tonic's voxel grid [B, 1, H, W]: τ = B·(t − t_0)/(t_last − t_0), polarity ±1 split between bins
 * ⌊τ⌋ (weight 1 − frac) and ⌊τ⌋ + 1 (weight frac); parts landing at bin ≥ B are dropped.
 */
export function voxelGridInto(ev: Events, bins: number, sensor: SensorSize, out: Float32Array, offset = 0): void {
  const [W, H] = sensor, plane = W * H, n = ev.length;
  if (n === 0) return;
  const t0 = ev.t[0], span = ev.t[n - 1] - t0;
  for (let i = 0; i < n; i++) {
    const xi = ev.x[i], yi = ev.y[i];
    if (xi >= W || yi >= H) throw outside('voxelGrid', ev, i, sensor);
    const tau = span > 0 ? (bins * (ev.t[i] - t0)) / span : 0;
    const k = Math.floor(tau), frac = tau - k, pol = ev.p[i] ? 1 : -1, at = offset + yi * W + xi;
    if (k < bins) out[at + k * plane] += pol * (1 - frac);
    if (k + 1 < bins) out[at + (k + 1) * plane] += pol * frac;
  }
}

/** Voxel grid as a new array, shape [B, 1, H, W]. */
export function voxelGrid(ev: Events, bins: number, sensor: SensorSize = ev.sensor): Frames {
  const [W, H] = sensor;
  const data = new Float32Array(bins * H * W);
  voxelGridInto(ev, bins, sensor, data);
  return { data, shape: [bins, 1, H, W] };
}
