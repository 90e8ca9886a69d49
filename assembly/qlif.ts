// The quantized-membrane LIF neuron (qlifForward in src/kernels/quant.ts): four neurons per f32x4 lane group,
// their levels held as small whole floats (exact) for all T steps and stored as int8 after the last, then the
// remaining neurons one lane at a time. Every float32 operation rounds as the reference body's Math.fround
// does, so spikes and levels match it bit for bit.
import { f4 } from './geom';

/** h = τ·v + x of four neurons, v = lb + level·interval from their levels lv (whole floats). */
@inline function charge(lv: v128, x: v128, tau: v128, lb: v128, iv: v128): v128 {
  return f32x4.add(f32x4.mul(tau, f32x4.add(lb, f32x4.mul(lv, iv))), x);
}

/**
 * The next levels of four neurons: h, or 0 where they fire (mask `fire`), clamped and rounded to the nearest level.
 * With `pow2` (a constant) the interval is a power of two and (c − lb)/interval is computed as (c − lb)·(1/interval),
 * the same real number rounded once, so the same float.
 */
@inline function quantize(h: v128, fire: v128, th: v128, lb: v128, iv: v128, rv: v128, top: v128, pow2: bool): v128 {
  const c = f32x4.min(f32x4.max(v128.andnot(h, fire), lb), th), d = f32x4.sub(c, lb);
  const u = f32x4.floor(pow2 ? f32x4.mul(d, rv) : f32x4.div(d, iv));
  // k = min(max(u, 0), top) with pmax/pmin (one instruction each): pmax(0, u) = 0 < u ? u : 0 maps NaN to 0, as
  // the reference body does, and ±∞ go to the ends as they do there
  const k = f32x4.pmin(f32x4.pmax(f32x4.splat(0), u), top);
  const lo = f32x4.add(lb, f32x4.mul(k, iv)), hi = f32x4.add(lo, iv);
  // k + 1 where hi is nearer
  return f32x4.add(k, v128.and(f32x4.lt(f32x4.abs(f32x4.sub(c, hi)), f32x4.abs(f32x4.sub(c, lo))), f32x4.splat(1)));
}

/** The levels of four neurons from i8 at p, as whole floats. */
@inline function loadLevels(p: usize): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p))));
}

/** Stores the levels lv (whole floats, 0 … 127) of four neurons as i8 at p. */
@inline function storeLevels(p: usize, fl: v128): void {
  const lv = i32x4.trunc_sat_f32x4_s(fl), l16 = i16x8.narrow_i32x4_s(lv, lv);
  store<i32>(p, i32x4.extract_lane(i8x16.narrow_i16x8_s(l16, l16), 0));
}

/**
 * Neurons [i0, i1) in blocks of 16, then of 4 (i1 − i0 rounded down to them); returns where it stopped. The 16
 * neurons of a block are four independent chains through the T steps, so their latencies overlap. Spikes are
 * counted into *count (i32x4).
 */
@inline function blocks(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, th: v128, vlb: v128, iv: v128, rv: v128,
  top: v128, i0: i32, i1: i32, counter: usize, pow2: bool): i32 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  let count = v128.load(counter), i = i0;
  for (; i + 16 <= i1; i += 16) {
    const lp = level + <usize>i;
    let l0 = loadLevels(lp), l1 = loadLevels(lp + 4), l2 = loadLevels(lp + 8), l3 = loadLevels(lp + 12);
    for (let t = 0; t < T; t++) {
      const o = f4(t * m + i), xp = x + (stat != 0 ? f4(i) : o), sp = s + o;
      const h0 = charge(l0, v128.load(xp), vt, vlb, iv), h1 = charge(l1, v128.load(xp, 16), vt, vlb, iv);
      const h2 = charge(l2, v128.load(xp, 32), vt, vlb, iv), h3 = charge(l3, v128.load(xp, 48), vt, vlb, iv);
      const f0 = f32x4.gt(f32x4.sub(h0, th), zero), f1 = f32x4.gt(f32x4.sub(h1, th), zero);
      const f2 = f32x4.gt(f32x4.sub(h2, th), zero), f3 = f32x4.gt(f32x4.sub(h3, th), zero);
      v128.store(sp, v128.and(f0, one)); v128.store(sp, v128.and(f1, one), 16);
      v128.store(sp, v128.and(f2, one), 32); v128.store(sp, v128.and(f3, one), 48);
      count = i32x4.sub(count, i32x4.add(i32x4.add(f0, f1), i32x4.add(f2, f3)));
      l0 = quantize(h0, f0, th, vlb, iv, rv, top, pow2); l1 = quantize(h1, f1, th, vlb, iv, rv, top, pow2);
      l2 = quantize(h2, f2, th, vlb, iv, rv, top, pow2); l3 = quantize(h3, f3, th, vlb, iv, rv, top, pow2);
    }
    storeLevels(lp, l0); storeLevels(lp + 4, l1); storeLevels(lp + 8, l2); storeLevels(lp + 12, l3);
  }
  for (; i + 4 <= i1; i += 4) {
    let lv = loadLevels(level + <usize>i);
    for (let t = 0; t < T; t++) {
      const o = f4(t * m + i), h = charge(lv, v128.load(x + (stat != 0 ? f4(i) : o)), vt, vlb, iv);
      const fire = f32x4.gt(f32x4.sub(h, th), zero);
      v128.store(s + o, v128.and(fire, one));
      count = i32x4.sub(count, fire);
      lv = quantize(h, fire, th, vlb, iv, rv, top, pow2);
    }
    storeLevels(level + <usize>i, lv);
  }
  v128.store(counter, count);
  return i;
}

function blocksPow2(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, th: v128, vlb: v128, iv: v128, rv: v128,
  top: v128, i0: i32, i1: i32, counter: usize): i32 {
  return blocks(x, level, s, T, m, stat, vt, th, vlb, iv, rv, top, i0, i1, counter, true);
}

function blocksDiv(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, th: v128, vlb: v128, iv: v128, rv: v128,
  top: v128, i0: i32, i1: i32, counter: usize): i32 {
  return blocks(x, level, s, T, m, stat, vt, th, vlb, iv, rv, top, i0, i1, counter, false);
}

/** True when v is a power of two in float32's normal range (its reciprocal is exact). */
@inline function powerOfTwo(v: f32): bool {
  const b = reinterpret<u32>(v), e = (b >> 23) & 0xff;
  return (b & 0x7fffff) == 0 && (b >> 31) == 0 && e > 1 && e < 253;
}

/**
 * Neurons i0 ≤ i < i1 (i0 a multiple of 4) of m over T steps: x [T, m] (or [m] when stat), level [m] (i8) in and
 * out, s [T, m] written; the number of spikes is written to cnt (i32).
 */
export function qlifForward(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, tau: f32, thresh: f32, lb: f32, interval: f32,
  levels: i32, i0: i32, i1: i32, cnt: usize): void {
  const vt = f32x4.splat(tau), th = f32x4.splat(thresh), vlb = f32x4.splat(lb), iv = f32x4.splat(interval), top = f32x4.splat(<f32>(levels - 2));
  const pow2 = powerOfTwo(interval), rv = f32x4.splat(pow2 ? 1 / interval : 0);
  // cnt points at this call's 32 bytes: the count goes to cnt, a vector counter lives at cnt + 16
  const counter = cnt + 16;
  v128.store(counter, i32x4.splat(0));
  let i = pow2 ? blocksPow2(x, level, s, T, m, stat, vt, th, vlb, iv, rv, top, i0, i1, counter)
    : blocksDiv(x, level, s, T, m, stat, vt, th, vlb, iv, rv, top, i0, i1, counter);
  const count = v128.load(counter);
  // the remaining neurons in lane 0 of a splat
  let tail = 0;
  for (; i < i1; i++) {
    let lv = f32x4.splat(<f32>load<i8>(level + <usize>i));
    for (let t = 0; t < T; t++) {
      const o = f4(t * m + i), h = charge(lv, f32x4.splat(load<f32>(x + (stat != 0 ? f4(i) : o))), vt, vlb, iv);
      const fire = f32x4.gt(f32x4.sub(h, th), f32x4.splat(0));
      store<f32>(s + o, f32x4.extract_lane(v128.and(fire, f32x4.splat(1)), 0));
      tail -= i32x4.extract_lane(fire, 0);
      lv = quantize(h, fire, th, vlb, iv, rv, top, false);
    }
    store<i8>(level + <usize>i, <i8>i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(lv), 0));
  }
  store<i32>(cnt, i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3) + tail);
}
