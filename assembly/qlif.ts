// The quantized-membrane LIF neuron (qlifForward in src/kernels/quant.ts): four neurons per f32x4 lane group,
// their levels in i32 lanes for all T steps, then the remaining neurons one lane at a time. Every float32
// operation rounds as the reference body's Math.fround does, so spikes and levels match it bit for bit.
import { f4 } from './geom';

/** h = τ·v + x of four neurons, v = lb + level·interval from their levels lv (i32 lanes). */
@inline function charge(lv: v128, x: v128, tau: v128, lb: v128, iv: v128): v128 {
  return f32x4.add(f32x4.mul(tau, f32x4.add(lb, f32x4.mul(f32x4.convert_i32x4_s(lv), iv))), x);
}

/** The next levels of four neurons: h, or 0 where they fire (mask `fire`), clamped and rounded to the nearest level. */
@inline function quantize(h: v128, fire: v128, th: v128, lb: v128, iv: v128, top: v128): v128 {
  const c = f32x4.min(f32x4.max(v128.andnot(h, fire), lb), th);
  // trunc_sat maps NaN to 0, as the reference body does
  const u = i32x4.trunc_sat_f32x4_s(f32x4.floor(f32x4.div(f32x4.sub(c, lb), iv)));
  const k = i32x4.min_s(i32x4.max_s(u, i32x4.splat(0)), top);
  const lo = f32x4.add(lb, f32x4.mul(f32x4.convert_i32x4_s(k), iv)), hi = f32x4.add(lo, iv);
  return i32x4.sub(k, f32x4.lt(f32x4.abs(f32x4.sub(c, hi)), f32x4.abs(f32x4.sub(c, lo)))); // k + 1 where hi is nearer
}

/**
 * Neurons i0 ≤ i < i1 (i0 a multiple of 4) of m over T steps: x [T, m] (or [m] when stat), level [m] (i8) in and
 * out, s [T, m] written; the number of spikes is written to cnt (i32).
 */
export function qlifForward(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, tau: f32, thresh: f32, lb: f32, interval: f32,
  levels: i32, i0: i32, i1: i32, cnt: usize): void {
  const vt = f32x4.splat(tau), th = f32x4.splat(thresh), vlb = f32x4.splat(lb), iv = f32x4.splat(interval), top = i32x4.splat(levels - 2);
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  let count = i32x4.splat(0), i = i0;
  for (; i + 4 <= i1; i += 4) {
    let lv = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(level + <usize>i)));
    for (let t = 0; t < T; t++) {
      const o = f4(t * m + i), h = charge(lv, v128.load(x + (stat != 0 ? f4(i) : o)), vt, vlb, iv);
      const fire = f32x4.gt(f32x4.sub(h, th), zero);
      v128.store(s + o, v128.and(fire, one));
      count = i32x4.sub(count, fire);
      lv = quantize(h, fire, th, vlb, iv, top);
    }
    const l16 = i16x8.narrow_i32x4_s(lv, lv);
    store<i32>(level + <usize>i, i32x4.extract_lane(i8x16.narrow_i16x8_s(l16, l16), 0));
  }
  // the remaining neurons in lane 0 of a splat
  let tail = 0;
  for (; i < i1; i++) {
    let lv = i32x4.splat(load<i8>(level + <usize>i));
    for (let t = 0; t < T; t++) {
      const o = f4(t * m + i), h = charge(lv, f32x4.splat(load<f32>(x + (stat != 0 ? f4(i) : o))), vt, vlb, iv);
      const fire = f32x4.gt(f32x4.sub(h, th), zero);
      store<f32>(s + o, f32x4.extract_lane(v128.and(fire, one), 0));
      tail -= i32x4.extract_lane(fire, 0);
      lv = quantize(h, fire, th, vlb, iv, top);
    }
    store<i8>(level + <usize>i, <i8>i32x4.extract_lane(lv, 0));
  }
  store<i32>(cnt, i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3) + tail);
}
