/**
 * Slicing an event stream into index windows [start, end), with tonic's slicer semantics: by time
 * window, by event count, by a number of time bins or a number of event bins, with overlap; and
 * SpikingJelly's fixed-number split by event number or by time. Events must be sorted by t.
 */
import { EdgespikeError } from '../../util/errors.js';
import { lowerBound, type Events } from './events.js';

/** Index windows [start, end) into an event stream. */
export type Slices = Array<[start: number, end: number]>;

/** Exactly one slicing method, tonic's ToFrame parameters. */
export type SliceSpec =
  | { readonly timeWindow: number; readonly overlap?: number; readonly includeIncomplete?: boolean }
  | { readonly eventCount: number; readonly overlap?: number; readonly includeIncomplete?: boolean }
  | { readonly nTimeBins: number; readonly overlap?: number }
  | { readonly nEventBins: number; readonly overlap?: number };

function windowsAt(t: Float64Array, starts: number[], width: number): Slices {
  return starts.map((s) => [lowerBound(t, s), lowerBound(t, s + width)]);
}

/**
 * Windows of `window` µs every window − overlap µs from the first event: n = floor((t_last − t_0 − w) / s) + 1
 * (ceil with includeIncomplete), at least 1; window i = [t_0 + i·s, t_0 + i·s + w).
 */
export function sliceByTime(ev: Events, window: number, overlap = 0, includeIncomplete = false): Slices {
  const stride = window - overlap;
  if (!(window > 0) || !(stride > 0)) throw new EdgespikeError(`sliceByTime: need window > 0 and window > overlap, got ${window}, ${overlap}`);
  if (ev.length === 0) return [[0, 0]];
  const t0 = ev.t[0], span = ev.t[ev.length - 1] - t0;
  const q = (span - window) / stride;
  const n = Math.max(1, (includeIncomplete ? Math.ceil(q) : Math.floor(q)) + 1);
  checkCount('sliceByTime', n, `windows of ${window} µs over ${span} µs`);
  return windowsAt(ev.t, Array.from({ length: n }, (_, i) => t0 + i * stride), window);
}

/** Windows of `count` events every count − overlap events (tonic's SliceByEventCount). */
export function sliceByCount(ev: Events, count: number, overlap = 0, includeIncomplete = false): Slices {
  const stride = count - overlap;
  if (!(count > 0) || !(stride > 0)) throw new EdgespikeError(`sliceByCount: need count > 0 and count > overlap, got ${count}, ${overlap}`);
  const c = Math.min(count, ev.length), q = (ev.length - c) / stride;
  const n = (includeIncomplete ? Math.ceil(q) : Math.floor(q)) + 1;
  checkCount('sliceByCount', n, `windows of ${count} events over ${ev.length}`);
  return Array.from({ length: n }, (_, i): [number, number] => [i * stride, Math.min(ev.length, i * stride + c)]);
}

/** `bins` windows of (t_last − t_0) // bins · (1 + overlap) µs, stride window · (1 − overlap). */
export function sliceByTimeBins(ev: Events, bins: number, overlap = 0): Slices {
  checkBins('sliceByTimeBins', bins, overlap);
  if (ev.length === 0) return Array.from({ length: bins }, (): [number, number] => [0, 0]);
  const t0 = ev.t[0], window = Math.floor((ev.t[ev.length - 1] - t0) / bins) * (1 + overlap);
  const stride = window * (1 - overlap);
  return windowsAt(ev.t, Array.from({ length: bins }, (_, i) => t0 + i * stride), window);
}

/** `bins` windows of floor(N // bins · (1 + overlap)) events, stride floor(count · (1 − overlap)). */
export function sliceByEventBins(ev: Events, bins: number, overlap = 0): Slices {
  checkBins('sliceByEventBins', bins, overlap);
  const count = Math.floor(Math.floor(ev.length / bins) * (1 + overlap)), stride = Math.floor(count * (1 - overlap));
  return Array.from({ length: bins }, (_, i): [number, number] => [i * stride, Math.min(ev.length, i * stride + count)]);
}

function checkBins(op: string, bins: number, overlap: number): void {
  if (!Number.isInteger(bins) || bins < 1 || !(overlap >= 0 && overlap < 1)) {
    throw new EdgespikeError(`${op}: need an integer number of bins ≥ 1 and 0 ≤ overlap < 1, got ${bins}, ${overlap}`);
  }
  checkCount(op, bins, 'bins');
}

/** Most slices of one recording (each becomes a frame). */
export const MAX_SLICES = 1_000_000;

function checkCount(op: string, n: number, what: string): void {
  if (n > MAX_SLICES) throw new EdgespikeError(`${op}: ${n} ${what} is more than the ${MAX_SLICES.toLocaleString('en-US')} frames one recording may give`);
}

/** The windows of one SliceSpec (exactly one method must be given). */
export function sliceEventsBy(ev: Events, spec: SliceSpec): Slices {
  const keys = ['timeWindow', 'eventCount', 'nTimeBins', 'nEventBins'].filter((k) => (spec as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) throw new EdgespikeError(`toFrame: give exactly one of timeWindow, eventCount, nTimeBins, nEventBins; got ${keys.length}`);
  const o = spec.overlap ?? 0;
  if ('timeWindow' in spec) return sliceByTime(ev, spec.timeWindow, o, spec.includeIncomplete);
  if ('eventCount' in spec) return sliceByCount(ev, spec.eventCount, o, spec.includeIncomplete);
  if ('nTimeBins' in spec) return sliceByTimeBins(ev, spec.nTimeBins, o);
  return sliceByEventBins(ev, spec.nEventBins, o);
}

/**
 * SpikingJelly's split into `frames` segments: by 'number', di = N // frames and segment i =
 * [i·di, (i+1)·di) with the last one taking the rest; by 'time', dt = (t_last − t_0) // frames and
 * segment i = events with t_0 + i·dt ≤ t < t_0 + (i+1)·dt, the last one running to the end.
 */
export function splitSegments(ev: Events, frames: number, by: 'number' | 'time' = 'number'): Slices {
  if (!Number.isInteger(frames) || frames < 1) throw new EdgespikeError(`splitSegments: frames must be an integer ≥ 1, got ${frames}`);
  const n = ev.length;
  const out: Slices = [];
  if (by === 'number') {
    const di = Math.floor(n / frames);
    for (let i = 0; i < frames; i++) out.push([i * di, i === frames - 1 ? n : (i + 1) * di]);
    return out;
  }
  const t0 = n ? ev.t[0] : 0, dt = n ? Math.floor((ev.t[n - 1] - t0) / frames) : 0;
  for (let i = 0; i < frames; i++) {
    out.push([lowerBound(ev.t, t0 + i * dt), i === frames - 1 ? n : lowerBound(ev.t, t0 + (i + 1) * dt)]);
  }
  return out;
}
