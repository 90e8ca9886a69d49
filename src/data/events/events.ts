/**
 * Events in memory: a struct of typed arrays (x, y, t, p) plus the sensor size, as tonic keeps them.
 * Time is in microseconds in a Float64Array (exact for integers below 2^53, and able to hold the
 * fractional times that jitter or skew produce); polarity is 0 (OFF) or 1 (ON).
 */

/** Sensor size as tonic writes it: [width, height, polarities]. */
export type SensorSize = readonly [width: number, height: number, polarities: number];

/** A stream of events. Every array has exactly `length` elements; events are usually sorted by t. */
export interface Events {
  /** Column, 0 … width − 1. */
  x: Uint16Array;
  /** Row, 0 … height − 1. */
  y: Uint16Array;
  /** Timestamp in microseconds. */
  t: Float64Array;
  /** Polarity: 0 (OFF) or 1 (ON). */
  p: Uint8Array;
  /** Number of events. */
  length: number;
  /** Sensor the events live on. */
  sensor: SensorSize;
}

/** Allocates `n` zeroed events on `sensor`. */
export function allocEvents(n: number, sensor: SensorSize): Events {
  return {
    x: new Uint16Array(n), y: new Uint16Array(n), t: new Float64Array(n), p: new Uint8Array(n),
    length: n, sensor,
  };
}

/** Builds events from plain arrays (handy in tests). */
export function makeEvents(
  cols: { x: ArrayLike<number>; y: ArrayLike<number>; t: ArrayLike<number>; p: ArrayLike<number> },
  sensor: SensorSize,
): Events {
  const n = cols.t.length;
  const ev = allocEvents(n, sensor);
  ev.x.set(cols.x); ev.y.set(cols.y); ev.t.set(cols.t); ev.p.set(cols.p);
  return ev;
}

/** Events [start, end) as views on the same memory (no copy). */
export function sliceEvents(ev: Events, start: number, end: number): Events {
  const s = Math.max(0, Math.min(start, ev.length)), e = Math.max(s, Math.min(end, ev.length));
  return {
    x: ev.x.subarray(s, e), y: ev.y.subarray(s, e), t: ev.t.subarray(s, e), p: ev.p.subarray(s, e),
    length: e - s, sensor: ev.sensor,
  };
}

/**
 * The first `n` events. Views on the same memory when little would be wasted (n ≥ 7/8 of the
 * capacity); otherwise copied into arrays of exactly that size, freeing the over-allocation.
 */
export function trimEvents(ev: Events, n: number): Events {
  if (n === ev.x.length && n === ev.length) return ev;
  if (n >= ev.x.length * 0.875) return sliceEvents({ ...ev, length: ev.x.length }, 0, n);
  return {
    x: ev.x.slice(0, n), y: ev.y.slice(0, n), t: ev.t.slice(0, n), p: ev.p.slice(0, n),
    length: n, sensor: ev.sensor,
  };
}

/** A copy of the events for which keep(i) is true, in order. */
export function filterEvents(ev: Events, keep: (i: number) => boolean, sensor = ev.sensor): Events {
  const out = allocEvents(ev.length, sensor);
  let k = 0;
  for (let i = 0; i < ev.length; i++) {
    if (!keep(i)) continue;
    out.x[k] = ev.x[i]; out.y[k] = ev.y[i]; out.t[k] = ev.t[i]; out.p[k] = ev.p[i];
    k++;
  }
  return trimEvents(out, k);
}

/** A deep copy. */
export function cloneEvents(ev: Events): Events {
  return {
    x: ev.x.slice(), y: ev.y.slice(), t: ev.t.slice(), p: ev.p.slice(), length: ev.length, sensor: ev.sensor,
  };
}

/** Concatenates event streams (the sensor of the first one is kept). */
export function concatEvents(parts: readonly Events[], sensor?: SensorSize): Events {
  const n = parts.reduce((a, e) => a + e.length, 0);
  const out = allocEvents(n, sensor ?? parts[0]?.sensor ?? [0, 0, 2]);
  let k = 0;
  for (const e of parts) {
    out.x.set(e.x.subarray(0, e.length), k); out.y.set(e.y.subarray(0, e.length), k);
    out.t.set(e.t.subarray(0, e.length), k); out.p.set(e.p.subarray(0, e.length), k);
    k += e.length;
  }
  return out;
}

/** A copy sorted by time (stable: equal times keep their order). */
export function sortByTime(ev: Events): Events {
  let sorted = true;
  for (let i = 1; i < ev.length && sorted; i++) sorted = ev.t[i - 1] <= ev.t[i];
  if (sorted) return ev;
  const idx = new Uint32Array(ev.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  const order = Array.from(idx).sort((a, b) => ev.t[a] - ev.t[b] || a - b);
  const out = allocEvents(ev.length, ev.sensor);
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    out.x[k] = ev.x[i]; out.y[k] = ev.y[i]; out.t[k] = ev.t[i]; out.p[k] = ev.p[i];
  }
  return out;
}

/** First index i with t[i] ≥ value (t sorted ascending), searching [lo, hi). */
export function lowerBound(t: Float64Array, value: number, lo = 0, hi = t.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < value) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Largest x + 1, y + 1 and number of polarities seen: a sensor size guessed from the data. */
/**
 * Grows a default sensor size to hold every event (an ATIS file from a sensor larger than
 * N-MNIST's 34 × 34, such as N-Caltech101's): the reader's and `data inspect`'s size then agree.
 */
export function coverSensor(ev: Events, base: SensorSize): SensorSize {
  const g = guessSensor(ev);
  return [Math.max(base[0], g[0]), Math.max(base[1], g[1]), Math.max(base[2], g[2])];
}

export function guessSensor(ev: Events): SensorSize {
  let w = 0, h = 0, pmax = 0;
  for (let i = 0; i < ev.length; i++) {
    if (ev.x[i] >= w) w = ev.x[i] + 1;
    if (ev.y[i] >= h) h = ev.y[i] + 1;
    if (ev.p[i] > pmax) pmax = ev.p[i];
  }
  return [w, h, pmax + 1];
}
