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

/**
 * Sets bits o … o + 15 of the packed spikes at sb (bit j & 7 of byte j >> 3) from the fire masks of 16 neurons:
 * one u16 store when o is a multiple of 8 (those bytes are these neurons' alone), else or-ed into a u32.
 */
@inline function packed16(sb: usize, o: i32, f0: v128, f1: v128, f2: v128, f3: v128): void {
  packedMask16(sb, o, i8x16.bitmask(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(f0, f1), i16x8.narrow_i32x4_s(f2, f3))));
}

/** Sets bits o … o + 15 of the packed spikes at sb from the 16-bit mask (as packed16). */
@inline function packedMask16(sb: usize, o: i32, mask: i32): void {
  const a = sb + <usize>(o >> 3), sh = o & 7;
  if (sh == 0) store<u16>(a, <u16>mask);
  else store<u32>(a, load<u32>(a) | (<u32>mask << <u32>sh));
}

/** Or-s the fire mask of n neurons (n ≤ 4 lanes of f, the rest 0) into bits o … of the packed spikes at sb. */
@inline function packedOr(sb: usize, o: i32, f: v128): void {
  const a = sb + <usize>(o >> 3);
  store<u16>(a, load<u16>(a) | <u16>(i32x4.bitmask(f) << (o & 7)));
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
  top: v128, i0: i32, i1: i32, counter: usize, sb: usize, pow2: bool): i32 {
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
      if (sb != 0) packed16(sb, t * m + i, f0, f1, f2, f3);
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
      if (sb != 0) packedOr(sb, t * m + i, fire);
      count = i32x4.sub(count, fire);
      lv = quantize(h, fire, th, vlb, iv, rv, top, pow2);
    }
    storeLevels(level + <usize>i, lv);
  }
  v128.store(counter, count);
  return i;
}

function blocksPow2(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, th: v128, vlb: v128, iv: v128, rv: v128,
  top: v128, i0: i32, i1: i32, counter: usize, sb: usize): i32 {
  return blocks(x, level, s, T, m, stat, vt, th, vlb, iv, rv, top, i0, i1, counter, sb, true);
}

function blocksDiv(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, th: v128, vlb: v128, iv: v128, rv: v128,
  top: v128, i0: i32, i1: i32, counter: usize, sb: usize): i32 {
  return blocks(x, level, s, T, m, stat, vt, th, vlb, iv, rv, top, i0, i1, counter, sb, false);
}

/** True when v is a power of two in float32's normal range (its reciprocal is exact). */
@inline function powerOfTwo(v: f32): bool {
  const b = reinterpret<u32>(v), e = (b >> 23) & 0xff;
  return (b & 0x7fffff) == 0 && (b >> 31) == 0 && e > 1 && e < 253;
}

// The step path, for grids of at most STEP_LEVELS levels. As a function of the charged value h, a neuron that does
// not fire moves to a level that never decreases as h grows (a step function), so its next level is the number of
// breakpoints b_1 … b_n (n = levels − 1) with h ≥ b_j, b_j the least float32 h whose level is ≥ j (NaN where none
// is, which no h reaches; a NaN h reaches none, level 0 as in the reference). Every b_j that some h reaches lies at
// or below θ, so a neuron that fires (h − θ > 0 exactly when h > θ) has all of those, the level L(θ), and goes to
// the level of 0 instead. The charge of the next step, tv = τ·(lb + level·interval), comes from the bits of the
// level's charge, summed as integers (wrapping) in telescoping differences: bits(tv_0) + Σ_{h ≥ b_j} (bits(tv_j) −
// bits(tv_{j−1})) + (fire ? bits(tv of the level of 0) − bits(tv_{L(θ)}) : 0). A step is then an add, a compare
// with θ, and per breakpoint a compare, an and and an add.
// The glue (src/backends/wasm/quant.ts, qlifStepTable) finds the breakpoints with the reference's own rounding and
// uses this path only when the level is a step function of h; its table at `tab` (4-byte slots): b_j (f32) at slot
// j − 1, tv_0 (f32) at 16, the differences (i32) at 16 + j, the one for a spike (i32) at 32, at 33 the level of 0
// minus L(θ) (i32) and at 34 the number of breakpoints n (i32). The first REG breakpoints and differences are held
// in registers (one function per n up to REG); beyond them a loop reads the rest from the table at every use, which
// runs as fast as more registers would (those spill).

/**
 * Largest number of levels the step path takes (the table has room for 15 breakpoints): its cost grows by a compare,
 * an and and an add per level, and past 8 levels its lead over the general path (with a power-of-two interval)
 * shrinks to nothing by 16.
 */
const STEP_LEVELS = 8;
/** Breakpoints held in registers (b1 … b3, d1 … d3). */
const REG = 3;

/** τ·(lb + level·interval) of four neurons from their levels lv (whole floats), as charge() rounds it. */
@inline function chargeOf(lv: v128, tau: v128, lb: v128, iv: v128): v128 {
  return f32x4.mul(tau, f32x4.add(lb, f32x4.mul(lv, iv)));
}

/** The charge of the next step of four neurons from h (see above); fire is their h > θ. */
@inline function nextCharge(h: v128, fire: v128, n: i32, b1: v128, b2: v128, b3: v128, t0: v128, d1: v128, d2: v128, d3: v128, dz: v128,
  tab: usize): v128 {
  let tv = i32x4.add(t0, v128.and(f32x4.ge(h, b1), d1));
  if (n >= 2) tv = i32x4.add(tv, v128.and(f32x4.ge(h, b2), d2));
  if (n >= 3) tv = i32x4.add(tv, v128.and(f32x4.ge(h, b3), d3));
  if (n > REG) tv = more(h, tv, tab);
  return i32x4.add(tv, v128.and(fire, dz));
}

/** Breakpoints REG + 1 … n (n from the table's slot 34) of the charge, read from the table at each use. */
@inline function more(h: v128, tv: v128, tab: usize): v128 {
  const end = tab + 4 * <usize>load<i32>(tab, 136);
  for (let p = tab + 4 * REG; p < end; p += 4) {
    tv = i32x4.add(tv, v128.and(f32x4.ge(h, v128.load32_splat(p)), v128.load32_splat(p, 68)));
  }
  return tv;
}

/** Breakpoints REG + 1 … n of the level, as more() (minus the count). */
@inline function moreLevel(h: v128, k: v128, tab: usize): v128 {
  const end = tab + 4 * <usize>load<i32>(tab, 136);
  for (let p = tab + 4 * REG; p < end; p += 4) k = i32x4.add(k, f32x4.ge(h, v128.load32_splat(p)));
  return k;
}

/** The next levels (i32 lanes) of four neurons from h: the number of breakpoints at or below h, plus zl where they fire. */
@inline function nextLevel(h: v128, fire: v128, n: i32, b1: v128, b2: v128, b3: v128, zl: v128, tab: usize): v128 {
  // each true compare is −1: the sum of the masks is minus the count
  let k = f32x4.ge(h, b1);
  if (n >= 2) k = i32x4.add(k, f32x4.ge(h, b2));
  if (n >= 3) k = i32x4.add(k, f32x4.ge(h, b3));
  if (n > REG) k = moreLevel(h, k, tab);
  return i32x4.sub(v128.and(fire, zl), k);
}

/** Stores the levels (i32 lanes, 0 … 127) of four neurons as i8 at p. */
@inline function storeLevelsInt(p: usize, lv: v128): void {
  const l16 = i16x8.narrow_i32x4_s(lv, lv);
  store<i32>(p, i32x4.extract_lane(i8x16.narrow_i16x8_s(l16, l16), 0));
}

/**
 * The step path over neurons [i0, i1) (T ≥ 1): blocks of 16 neurons (four independent chains), then of 4, then
 * the rest one at a time in lane 0; the spike count is written to cnt. n (a constant) is the number of breakpoints,
 * REG + 1 standing for more than REG (those past REG counted from the table).
 */
@inline function steps(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, vlb: v128, iv: v128, th: v128, tab: usize,
  i0: i32, i1: i32, cnt: usize, sb: usize, n: i32): void {
  const b1 = v128.load32_splat(tab), b2 = v128.load32_splat(tab + 4), b3 = v128.load32_splat(tab + 8);
  const t0 = v128.load32_splat(tab + 64), d1 = v128.load32_splat(tab + 68), d2 = v128.load32_splat(tab + 72), d3 = v128.load32_splat(tab + 76);
  const dz = v128.load32_splat(tab + 128), zl = v128.load32_splat(tab + 132), one = f32x4.splat(1);
  const last = T - 1;
  let count = i32x4.splat(0), i = i0;
  for (; i + 16 <= i1; i += 16) {
    const lp = level + <usize>i;
    let v0 = chargeOf(loadLevels(lp), vt, vlb, iv), v1 = chargeOf(loadLevels(lp + 4), vt, vlb, iv);
    let v2 = chargeOf(loadLevels(lp + 8), vt, vlb, iv), v3 = chargeOf(loadLevels(lp + 12), vt, vlb, iv);
    for (let t = 0; ; t++) {
      const o = f4(t * m + i), xp = x + (stat != 0 ? f4(i) : o), sp = s + o;
      const h0 = f32x4.add(v0, v128.load(xp)), h1 = f32x4.add(v1, v128.load(xp, 16));
      const h2 = f32x4.add(v2, v128.load(xp, 32)), h3 = f32x4.add(v3, v128.load(xp, 48));
      const f0 = f32x4.gt(h0, th), f1 = f32x4.gt(h1, th), f2 = f32x4.gt(h2, th), f3 = f32x4.gt(h3, th);
      v128.store(sp, v128.and(f0, one)); v128.store(sp, v128.and(f1, one), 16);
      v128.store(sp, v128.and(f2, one), 32); v128.store(sp, v128.and(f3, one), 48);
      if (sb != 0) packed16(sb, t * m + i, f0, f1, f2, f3);
      count = i32x4.sub(count, i32x4.add(i32x4.add(f0, f1), i32x4.add(f2, f3)));
      if (t == last) {
        storeLevelsInt(lp, nextLevel(h0, f0, n, b1, b2, b3, zl, tab));
        storeLevelsInt(lp + 4, nextLevel(h1, f1, n, b1, b2, b3, zl, tab));
        storeLevelsInt(lp + 8, nextLevel(h2, f2, n, b1, b2, b3, zl, tab));
        storeLevelsInt(lp + 12, nextLevel(h3, f3, n, b1, b2, b3, zl, tab));
        break;
      }
      v0 = nextCharge(h0, f0, n, b1, b2, b3, t0, d1, d2, d3, dz, tab);
      v1 = nextCharge(h1, f1, n, b1, b2, b3, t0, d1, d2, d3, dz, tab);
      v2 = nextCharge(h2, f2, n, b1, b2, b3, t0, d1, d2, d3, dz, tab);
      v3 = nextCharge(h3, f3, n, b1, b2, b3, t0, d1, d2, d3, dz, tab);
    }
  }
  for (; i + 4 <= i1; i += 4) {
    const lp = level + <usize>i;
    let v = chargeOf(loadLevels(lp), vt, vlb, iv);
    for (let t = 0; ; t++) {
      const o = f4(t * m + i), h = f32x4.add(v, v128.load(x + (stat != 0 ? f4(i) : o))), fire = f32x4.gt(h, th);
      v128.store(s + o, v128.and(fire, one));
      if (sb != 0) packedOr(sb, t * m + i, fire);
      count = i32x4.sub(count, fire);
      if (t == last) { storeLevelsInt(lp, nextLevel(h, fire, n, b1, b2, b3, zl, tab)); break; }
      v = nextCharge(h, fire, n, b1, b2, b3, t0, d1, d2, d3, dz, tab);
    }
  }
  // the remaining neurons in lane 0 of a splat
  let tail = 0;
  for (; i < i1; i++) {
    let v = chargeOf(f32x4.splat(<f32>load<i8>(level + <usize>i)), vt, vlb, iv);
    for (let t = 0; ; t++) {
      const o = f4(t * m + i), h = f32x4.add(v, f32x4.splat(load<f32>(x + (stat != 0 ? f4(i) : o)))), fire = f32x4.gt(h, th);
      store<f32>(s + o, f32x4.extract_lane(v128.and(fire, one), 0));
      if (sb != 0) packedOr(sb, t * m + i, v128.and(fire, i32x4(-1, 0, 0, 0)));
      tail -= i32x4.extract_lane(fire, 0);
      if (t == last) { store<i8>(level + <usize>i, <i8>i32x4.extract_lane(nextLevel(h, fire, n, b1, b2, b3, zl, tab), 0)); break; }
      v = nextCharge(h, fire, n, b1, b2, b3, t0, d1, d2, d3, dz, tab);
    }
  }
  store<i32>(cnt, i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3) + tail);
}

function steps1(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, vlb: v128, iv: v128, th: v128, tab: usize, i0: i32, i1: i32, cnt: usize,
  sb: usize): void {
  steps(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb, 1);
}
function steps2(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, vlb: v128, iv: v128, th: v128, tab: usize, i0: i32, i1: i32, cnt: usize,
  sb: usize): void {
  steps(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb, 2);
}
function steps3(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, vlb: v128, iv: v128, th: v128, tab: usize, i0: i32, i1: i32, cnt: usize,
  sb: usize): void {
  steps(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb, 3);
}
function stepsMore(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, vlb: v128, iv: v128, th: v128, tab: usize, i0: i32, i1: i32, cnt: usize,
  sb: usize): void {
  steps(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb, REG + 1);
}
/** The step path over [i0, i1) with n breakpoints (its count stored at cnt). */
function stepsRange(n: i32, x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, vt: v128, vlb: v128, iv: v128, th: v128, tab: usize,
  i0: i32, i1: i32, cnt: usize, sb: usize): void {
  if (n == 1) steps1(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb);
  else if (n == 2) steps2(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb);
  else if (n == 3) steps3(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb);
  else stepsMore(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb);
}

// The pattern path, for a static input from the level of 0 (the glue's qlifPatternTable, at `pt`): a neuron's T
// spikes and final level are a function of its input alone, constant between the K breakpoints X_1 < … < X_K, so
// the number of X at or below x indexes them (one i8x16.swizzle for 16 neurons). Blocks of 16 whose levels are not
// all the level of 0, and the neurons after the last whole block, take the step path.

/**
 * Neurons [i0, i1) of a static input x by the pattern table at pt (else the step path, table tab, n breakpoints);
 * the spike count is written to cnt, cnt + 16 serving the step path's counts.
 */
function patterns(x: usize, level: usize, s: usize, T: i32, m: i32, vt: v128, vlb: v128, iv: v128, th: v128, tab: usize, pt: usize,
  i0: i32, i1: i32, cnt: usize, sb: usize, n: i32): void {
  const K = load<i32>(pt, 96), zl = i8x16.splat(<i8>load<i32>(pt, 100)), pat = v128.load(pt, 64), fin = v128.load(pt, 80);
  const one = f32x4.splat(1), z = i32x4.splat(0);
  let count = 0, i = i0;
  for (; i + 16 <= i1; i += 16) {
    const lp = level + <usize>i;
    if (!i8x16.all_true(i8x16.eq(v128.load(lp), zl))) {
      stepsRange(n, x, level, s, T, m, 1, vt, vlb, iv, th, tab, i, i + 16, cnt + 16, sb);
      count += load<i32>(cnt, 16);
      continue;
    }
    const xp = x + f4(i), x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    // each true compare is −1: minus the sum of the masks counts the X at or below x (a NaN x: none)
    let c0 = z, c1 = z, c2 = z, c3 = z;
    for (let k = 0; k < K; k++) {
      const b = v128.load32_splat(pt + (<usize>k << 2));
      c0 = i32x4.sub(c0, f32x4.ge(x0, b)); c1 = i32x4.sub(c1, f32x4.ge(x1, b));
      c2 = i32x4.sub(c2, f32x4.ge(x2, b)); c3 = i32x4.sub(c3, f32x4.ge(x3, b));
    }
    const idx = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(c0, c1), i16x8.narrow_i32x4_u(c2, c3));
    const spikes = i8x16.swizzle(pat, idx);
    v128.store(lp, i8x16.swizzle(fin, idx));
    for (let t = 0; t < T; t++) {
      const bit = <i8>(<i32>1 << t), fire = i8x16.ne(v128.and(spikes, i8x16.splat(bit)), z);
      const lo = i16x8.extend_low_i8x16_s(fire), hi = i16x8.extend_high_i8x16_s(fire), sp = s + f4(t * m + i);
      v128.store(sp, v128.and(i32x4.extend_low_i16x8_s(lo), one)); v128.store(sp, v128.and(i32x4.extend_high_i16x8_s(lo), one), 16);
      v128.store(sp, v128.and(i32x4.extend_low_i16x8_s(hi), one), 32); v128.store(sp, v128.and(i32x4.extend_high_i16x8_s(hi), one), 48);
      const mask = i8x16.bitmask(fire);
      count += <i32>popcnt(mask);
      if (sb != 0) packedMask16(sb, t * m + i, mask);
    }
  }
  if (i < i1) {
    stepsRange(n, x, level, s, T, m, 1, vt, vlb, iv, th, tab, i, i1, cnt + 16, sb);
    count += load<i32>(cnt, 16);
  }
  store<i32>(cnt, count);
}

/**
 * Neurons i0 ≤ i < i1 (i0 a multiple of 4) of m over T steps: x [T, m] (or [m] when stat), level [m] (i8) in and
 * out, s [T, m] written; the number of spikes is written to cnt (i32). With sb ≠ 0 the spikes are also or-ed into
 * the packed bits at sb (zeroed by the caller; bit t·m + i): ranges run by different threads must then start at
 * multiples of 16 neurons, with m a multiple of 16, so that no two write the same byte. With pt ≠ 0 (a static
 * input, T ≤ 8, and the step path's table) the pattern path runs where the levels start at the level of 0. With tab ≠ 0 (the step path's table, see
 * above) and 2 … STEP_LEVELS levels the step path runs; else the levels are rounded as the reference writes it.
 */
export function qlifForward(x: usize, level: usize, s: usize, T: i32, m: i32, stat: i32, tau: f32, thresh: f32, lb: f32, interval: f32,
  levels: i32, tab: usize, i0: i32, i1: i32, cnt: usize, sb: usize, pt: usize): void {
  const vt = f32x4.splat(tau), th = f32x4.splat(thresh), vlb = f32x4.splat(lb), iv = f32x4.splat(interval), top = f32x4.splat(<f32>(levels - 2));
  if (tab != 0 && T > 0 && levels >= 2 && levels <= STEP_LEVELS) {
    const n = levels - 1;
    if (pt != 0 && stat != 0 && T <= 8) { patterns(x, level, s, T, m, vt, vlb, iv, th, tab, pt, i0, i1, cnt, sb, n); return; }
    if (n == 1) steps1(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb);
    else if (n == 2) steps2(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb);
    else if (n == 3) steps3(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb);
    else stepsMore(x, level, s, T, m, stat, vt, vlb, iv, th, tab, i0, i1, cnt, sb);
    return;
  }
  const pow2 = powerOfTwo(interval), rv = f32x4.splat(pow2 ? 1 / interval : 0);
  // cnt points at this call's 32 bytes: the count goes to cnt, a vector counter lives at cnt + 16
  const counter = cnt + 16;
  v128.store(counter, i32x4.splat(0));
  let i = pow2 ? blocksPow2(x, level, s, T, m, stat, vt, th, vlb, iv, rv, top, i0, i1, counter, sb)
    : blocksDiv(x, level, s, T, m, stat, vt, th, vlb, iv, rv, top, i0, i1, counter, sb);
  const count = v128.load(counter);
  // the remaining neurons in lane 0 of a splat
  let tail = 0;
  for (; i < i1; i++) {
    let lv = f32x4.splat(<f32>load<i8>(level + <usize>i));
    for (let t = 0; t < T; t++) {
      const o = f4(t * m + i), h = charge(lv, f32x4.splat(load<f32>(x + (stat != 0 ? f4(i) : o))), vt, vlb, iv);
      const fire = f32x4.gt(f32x4.sub(h, th), f32x4.splat(0));
      store<f32>(s + o, f32x4.extract_lane(v128.and(fire, f32x4.splat(1)), 0));
      if (sb != 0) packedOr(sb, t * m + i, v128.and(fire, i32x4(-1, 0, 0, 0)));
      tail -= i32x4.extract_lane(fire, 0);
      lv = quantize(h, fire, th, vlb, iv, rv, top, false);
    }
    store<i8>(level + <usize>i, <i8>i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(lv), 0));
  }
  store<i32>(cnt, i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3) + tail);
}
