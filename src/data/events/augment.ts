/**
 * Event-level transforms with tonic's semantics: denoise, downsample, crops, flips, time jitter and
 * skew, dropping events (random fraction, a time span, a box). Random ones take a seeded Rng.
 * Each returns new Events and never changes its input. Times stay unrounded (Float64 µs).
 */
import { EdgespikeError } from '../../util/errors.js';
import { cloneEvents, filterEvents, guessSensor, sortByTime, type Events, type SensorSize } from './events.js';
import { draw, type RangeOr, type Rng } from './rng.js';

/**
 * tonic's Denoise: keep an event if one of its 4 neighbours fired within `filterTime` µs before it.
 * As in tonic, the memory starts at filterTime for every pixel and the grid is the data's own
 * (max x + 1) × (max y + 1); the event writes its own pixel (t + filterTime) before the check.
 */
export function denoise(ev: Events, filterTime: number): Events {
  const [W, H] = guessSensor(ev);
  const mem = new Float64Array(W * H).fill(filterTime);
  return filterEvents(ev, (i) => {
    const x = ev.x[i], y = ev.y[i], t = ev.t[i], at = y * W + x;
    mem[at] = t + filterTime;
    return (x > 0 && mem[at - 1] > t) || (x < W - 1 && mem[at + 1] > t)
      || (y > 0 && mem[at - W] > t) || (y < H - 1 && mem[at + W] > t);
  });
}

/**
 * tonic's Downsample: t ← t · timeFactor, x ← ⌊x · spatialFactor⌋, y likewise (no event dropped).
 * The sensor becomes ⌊(W − 1)·f⌋ + 1 by ⌊(H − 1)·f⌋ + 1.
 */
export function downsample(ev: Events, opts: { timeFactor?: number; spatialFactor?: number }): Events {
  const tf = opts.timeFactor ?? 1, sf = opts.spatialFactor ?? 1;
  if (!(sf > 0) || !(tf > 0)) throw new EdgespikeError(`downsample: factors must be > 0, got time ${tf}, spatial ${sf}`);
  const [W, H, P] = ev.sensor;
  const out = cloneEvents(ev);
  out.sensor = [Math.floor((W - 1) * sf) + 1, Math.floor((H - 1) * sf) + 1, P];
  for (let i = 0; i < ev.length; i++) {
    out.x[i] = Math.floor(ev.x[i] * sf); out.y[i] = Math.floor(ev.y[i] * sf); out.t[i] = ev.t[i] * tf;
  }
  return out;
}

/** Keeps events with x0 ≤ x < x0 + w, y0 ≤ y < y0 + h and shifts them by (dx, dy) onto a w × h sensor. */
function cropShift(ev: Events, box: [number, number, number, number], shift: [number, number], size: [number, number]): Events {
  const [x0, y0, w, h] = box;
  const kept = filterEvents(ev, (i) => ev.x[i] >= x0 && ev.x[i] < x0 + w && ev.y[i] >= y0 && ev.y[i] < y0 + h,
    [size[0], size[1], ev.sensor[2]]);
  for (let i = 0; i < kept.length; i++) { kept.x[i] -= shift[0]; kept.y[i] -= shift[1]; }
  return kept;
}

/**
 * tonic's CenterCrop to [w, h]: offset = (W − w) // 2 (floor, may be negative: the sensor is then
 * padded); events inside [max(offset, 0), max(offset, 0) + size) are kept and moved by −offset.
 */
export function centerCrop(ev: Events, size: readonly [number, number], sensor: SensorSize = ev.sensor): Events {
  const ox = Math.floor((sensor[0] - size[0]) / 2), oy = Math.floor((sensor[1] - size[1]) / 2);
  return cropShift(ev, [Math.max(ox, 0), Math.max(oy, 0), size[0], size[1]], [ox, oy], [size[0], size[1]]);
}

/** tonic's RandomCrop to [w, h]: x0 = ⌊u·(W − w)⌋ then y0 = ⌊u·(H − h)⌋; keeps the box, shifts to 0. */
export function randomCrop(ev: Events, size: readonly [number, number], rng: Rng, sensor: SensorSize = ev.sensor): Events {
  if (size[0] > sensor[0] || size[1] > sensor[1]) {
    throw new EdgespikeError(`randomCrop: target ${size[0]}×${size[1]} larger than sensor ${sensor[0]}×${sensor[1]}`);
  }
  const x0 = Math.floor(rng.next() * (sensor[0] - size[0])), y0 = Math.floor(rng.next() * (sensor[1] - size[1]));
  return cropShift(ev, [x0, y0, size[0], size[1]], [x0, y0], [size[0], size[1]]);
}

/** Left-right flip: x ← W − 1 − x. */
export function flipLR(ev: Events, sensor: SensorSize = ev.sensor): Events {
  const out = cloneEvents(ev);
  for (let i = 0; i < out.length; i++) out.x[i] = sensor[0] - 1 - ev.x[i];
  return out;
}

/** Up-down flip: y ← H − 1 − y. */
export function flipUD(ev: Events, sensor: SensorSize = ev.sensor): Events {
  const out = cloneEvents(ev);
  for (let i = 0; i < out.length; i++) out.y[i] = sensor[1] - 1 - ev.y[i];
  return out;
}

/** Polarity flip: p ← 1 − p. */
export function flipPolarity(ev: Events): Events {
  const out = cloneEvents(ev);
  for (let i = 0; i < out.length; i++) out.p[i] = ev.p[i] ? 0 : 1;
  return out;
}

/** Applies `flip` to the whole stream with probability `prob` (one draw, as tonic's Random* flips). */
export function randomly(ev: Events, prob: number, rng: Rng, flip: (e: Events) => Events): Events {
  return rng.next() < prob ? flip(ev) : ev;
}

/** tonic's TimeJitter: t += N(0, std²) per event; drops t < 0 (clipNegative, default) and optionally re-sorts. */
export function timeJitter(ev: Events, std: number, rng: Rng, opts: { clipNegative?: boolean; sort?: boolean } = {}): Events {
  const out = cloneEvents(ev);
  for (let i = 0; i < out.length; i++) out.t[i] = ev.t[i] + std * rng.normal();
  const kept = opts.clipNegative ?? true ? filterEvents(out, (i) => out.t[i] >= 0) : out;
  return opts.sort ? sortByTime(kept) : kept;
}

/** tonic's TimeSkew: t ← t · coefficient + offset (each a value or a [lo, hi) range drawn once). */
export function timeSkew(ev: Events, coefficient: RangeOr, offset: RangeOr = 0, rng?: Rng): Events {
  const need = typeof coefficient !== 'number' || typeof offset !== 'number';
  if (need && !rng) throw new EdgespikeError('timeSkew: a range needs an Rng');
  const c = draw(coefficient, rng!), o = draw(offset, rng!);
  const out = cloneEvents(ev);
  for (let i = 0; i < out.length; i++) out.t[i] = ev.t[i] * c + o;
  return out;
}

/** tonic's DropEvent: removes round(prob · N) distinct events chosen uniformly (order kept). */
export function dropEvents(ev: Events, prob: RangeOr, rng: Rng): Events {
  const p = draw(prob, rng), n = ev.length, drop = Math.floor(p * n + 0.5);
  if (!(p >= 0 && p <= 1)) throw new EdgespikeError(`dropEvents: probability must be in [0, 1], got ${p}`);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const gone = new Uint8Array(n);
  for (let i = 0; i < drop; i++) {
    const j = i + rng.int(n - i);
    const tmp = idx[i]; idx[i] = idx[j]; idx[j] = tmp;
    gone[idx[i]] = 1;
  }
  return filterEvents(ev, (i) => gone[i] === 0);
}

/**
 * tonic's DropEventByTime: a span of ratio · t_max µs starting uniformly in [0, t_max − span) is
 * cut out (events with start ≤ t ≤ start + span are removed).
 */
export function dropByTime(ev: Events, ratio: RangeOr, rng: Rng): Events {
  if (ev.length === 0) return ev;
  const r = draw(ratio, rng);
  let tMax = ev.t[0];
  for (let i = 1; i < ev.length; i++) if (ev.t[i] > tMax) tMax = ev.t[i];
  const span = tMax * r, start = rng.uniform(0, tMax - span);
  return filterEvents(ev, (i) => !(ev.t[i] >= start && ev.t[i] <= start + span));
}

/**
 * tonic's DropEventByArea: a box of ⌊W·ratio⌋ × ⌊H·ratio⌋ pixels at x0 = int(0 … W − cw − 1),
 * y0 likewise, is emptied (inclusive bounds x0 … x0 + cw − 1).
 */
export function dropByArea(ev: Events, ratio: RangeOr, rng: Rng, sensor: SensorSize = ev.sensor): Events {
  const r = draw(ratio, rng);
  if (!(r >= 0 && r < 1)) throw new EdgespikeError(`dropByArea: ratio must be in [0, 1), got ${r}`);
  const cw = Math.floor(sensor[0] * r), ch = Math.floor(sensor[1] * r);
  const x0 = rng.int(sensor[0] - cw), y0 = rng.int(sensor[1] - ch);
  return filterEvents(ev, (i) => !(ev.x[i] >= x0 && ev.x[i] <= x0 + cw - 1 && ev.y[i] >= y0 && ev.y[i] <= y0 + ch - 1));
}

/** tonic's CropTime: keeps min ≤ t ≤ max. */
export function cropTime(ev: Events, min = 0, max = Infinity): Events {
  return filterEvents(ev, (i) => ev.t[i] >= min && ev.t[i] <= max);
}

/** tonic's MergePolarities: every p becomes 0 and the sensor has one polarity. */
export function mergePolarities(ev: Events): Events {
  const out = cloneEvents(ev);
  out.p.fill(0);
  out.sensor = [ev.sensor[0], ev.sensor[1], 1];
  return out;
}

/** Events with the first timestamp moved to 0 (tonic's TimeAlignment). */
export function alignTime(ev: Events): Events {
  const out = cloneEvents(ev);
  let t0 = Infinity;
  for (let i = 0; i < ev.length; i++) if (ev.t[i] < t0) t0 = ev.t[i];
  for (let i = 0; i < ev.length; i++) out.t[i] = ev.t[i] - t0;
  return out;
}
