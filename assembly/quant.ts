// Quantized spike kernels (src/kernels/quant.ts): each active input adds a row of integer weight codes, 16
// outputs per i8x16 add (ternary codes) or 8 per i16x8 add (4- and 8-bit codes, widened as they are loaded),
// with no multiplies. A lane may take `seg` rows before it could overflow; longer lists are summed in segments whose
// sums are widened into i32. Each output then gets one f32 multiply by its channel's scale. The integer sums
// are exact, so the bits do not depend on the order of the rows or on the number of threads.
import { f4, transpose16 } from './geom';
import { activeOffsets, activePacked } from './spike';

/** True when codes of `bits` are summed in i16 lanes (4 and 8 bits), false for i8 lanes (ternary). */
@inline export function wideLanes(bits: i32): bool {
  return bits != 2;
}

/**
 * Rows a lane may add before it is widened: 127 ternary codes in i8 (127·1 ≤ 127), 4095 4-bit codes in i16
 * (4095·8 ≤ 32767), 255 8-bit codes in i16 (255·128 ≤ 32767).
 */
@inline export function segmentRows(bits: i32): i32 {
  return bits == 2 ? 127 : bits == 4 ? 4095 : 255;
}

/** Bytes of the i32 carries of one segment: up to 8 vectors of 8 or 16 lanes. */
export const CARRY_BYTES: i32 = 512;

// The lane type L of a sum is a type parameter, i8 or i16, so that each instantiation is compiled for its own
// lanes (a runtime flag passed to inlined code was folded back into a test inside the loop).

/** True when L is i16 (wide lanes). */
@inline export function isWide<L>(): bool {
  return sizeof<L>() == 2;
}


/** a + b in L lanes. */
@inline export function addLanes<L>(a: v128, b: v128): v128 {
  return isWide<L>() ? i16x8.add(a, b) : i8x16.add(a, b);
}

/** i32 sums of 8 outputs (group j) from the i16 lanes of a, added to or stored at carry. */
@inline function carry16(a: v128, j: i32, carry: usize, carried: bool): void {
  const o = carry + (<usize>j << 5);
  let x = i32x4.extend_low_i16x8_s(a), y = i32x4.extend_high_i16x8_s(a);
  if (carried) { x = i32x4.add(x, v128.load(o)); y = i32x4.add(y, v128.load(o, 16)); }
  v128.store(o, x);
  v128.store(o, y, 16);
}

/** Outputs 8j … 8j + 7: fround(scale · f32(sum)), the sums in the i16 lanes of a (plus the carries when carried). */
@inline export function finish16(a: v128, j: i32, out: usize, scale: usize, carry: usize, carried: bool): void {
  const o = <usize>j << 5;
  let x = i32x4.extend_low_i16x8_s(a), y = i32x4.extend_high_i16x8_s(a);
  if (carried) { x = i32x4.add(x, v128.load(carry + o)); y = i32x4.add(y, v128.load(carry + o, 16)); }
  v128.store(out + o, f32x4.mul(f32x4.convert_i32x4_s(x), v128.load(scale + o)));
  v128.store(out + o, f32x4.mul(f32x4.convert_i32x4_s(y), v128.load(scale + o, 16)), 16);
}

/** Vector v of a sum (16 i8 lanes, or 8 i16 lanes): carried into i32 at carry. */
@inline export function carryVector<L>(a: v128, v: i32, carry: usize, carried: bool): void {
  if (isWide<L>()) { carry16(a, v, carry, carried); return; }
  carry16(i16x8.extend_low_i8x16_s(a), 2 * v, carry, carried);
  carry16(i16x8.extend_high_i8x16_s(a), 2 * v + 1, carry, carried);
}

/** Vector v of a sum finished into f32 outputs at out (scales at scale, carries at carry when carried). */
@inline export function finishVector<L>(a: v128, v: i32, out: usize, scale: usize, carry: usize, carried: bool): void {
  if (isWide<L>()) { finish16(a, v, out, scale, carry, carried); return; }
  finish16(i16x8.extend_low_i8x16_s(a), 2 * v, out, scale, carry, carried);
  finish16(i16x8.extend_high_i8x16_s(a), 2 * v + 1, out, scale, carry, carried);
}

/**
 * The sums of np (a constant, 1 … 4) pixels, vector v0 of each in a, the second (i16 lanes) in b, carried into
 * the i32 carries of pixel p at carry + 64·p.
 */
@inline export function carryPixels<L>(a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128, carry: usize,
  carried: bool, np: i32): void {
  const wide = isWide<L>();
  carryVector<L>(a0, 0, carry, carried); if (wide) carryVector<L>(b0, 1, carry, carried);
  if (np > 1) { carryVector<L>(a1, 0, carry + 64, carried); if (wide) carryVector<L>(b1, 1, carry + 64, carried); }
  if (np > 2) { carryVector<L>(a2, 0, carry + 128, carried); if (wide) carryVector<L>(b2, 1, carry + 128, carried); }
  if (np > 3) { carryVector<L>(a3, 0, carry + 192, carried); if (wide) carryVector<L>(b3, 1, carry + 192, carried); }
}

/** The sums of the first `valid` of np pixels (as carryPixels holds them) finished into floats at out + p·ld. */
@inline export function finishPixels<L>(a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128, out: usize, ld: i32,
  valid: i32, scale: usize, carry: usize, carried: bool, np: i32): void {
  const wide = isWide<L>();
  finishVector<L>(a0, 0, out, scale, carry, carried); if (wide) finishVector<L>(b0, 1, out, scale, carry, carried);
  if (np > 1 && valid > 1) { const o = out + f4(ld); finishVector<L>(a1, 0, o, scale, carry + 64, carried); if (wide) finishVector<L>(b1, 1, o, scale, carry + 64, carried); }
  if (np > 2 && valid > 2) { const o = out + f4(2 * ld); finishVector<L>(a2, 0, o, scale, carry + 128, carried); if (wide) finishVector<L>(b2, 1, o, scale, carry + 128, carried); }
  if (np > 3 && valid > 3) { const o = out + f4(3 * ld); finishVector<L>(a3, 0, o, scale, carry + 192, carried); if (wide) finishVector<L>(b3, 1, o, scale, carry + 192, carried); }
}

// Codes are stored one byte per lane; i16 lanes widen them as they are loaded (load8x8_s), so that 4- and 8-bit
// rows take the cache of ternary ones.

/** Vector 0 … 3 of the row of codes at p, as L lanes (16 bytes, or 8 bytes widened to i16). */
@inline function codes0<L>(p: usize): v128 { return isWide<L>() ? v128.load8x8_s(p) : v128.load(p); }
@inline function codes1<L>(p: usize): v128 { return isWide<L>() ? v128.load8x8_s(p, 8) : v128.load(p, 16); }
@inline function codes2<L>(p: usize): v128 { return isWide<L>() ? v128.load8x8_s(p, 16) : v128.load(p, 32); }
@inline function codes3<L>(p: usize): v128 { return isWide<L>() ? v128.load8x8_s(p, 24) : v128.load(p, 48); }

/**
 * Σ over the entries (byte offsets) in [list, end) of the rows at w + offset: nv vectors (1, 2 or 4, a
 * constant) of L lanes (i8 or i16), kept in registers; the outputs fround(scale · sum) go to out (16 or 8 floats
 * per vector). Two rows per step: with more vectors the loaded rows and the sums outgrow V8's 16 registers and
 * spill. The list is taken in segments of at most seg entries; every segment but the last is widened into the
 * i32 carries, which the last one adds. With `once` (a constant) the caller knows the list is one segment; with
 * `raw` (a constant, once as well) the L lanes themselves are stored at out, unscaled.
 */
@inline function sumRows<L>(list: usize, end: usize, w: usize, out: usize, scale: usize, carry: usize, nv: i32, seg: i32, once: bool, raw: bool = false): void {
  let e = list, carried = false;
  for (;;) {
    const stop = once ? end : min<usize>(end, e + (<usize>seg << 2));
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (; e + 8 <= stop; e += 8) {
      const p = w + <usize>load<i32>(e), q = w + <usize>load<i32>(e, 4);
      a0 = addLanes<L>(addLanes<L>(a0, codes0<L>(p)), codes0<L>(q));
      if (nv > 1) a1 = addLanes<L>(addLanes<L>(a1, codes1<L>(p)), codes1<L>(q));
      if (nv > 2) {
        a2 = addLanes<L>(addLanes<L>(a2, codes2<L>(p)), codes2<L>(q));
        a3 = addLanes<L>(addLanes<L>(a3, codes3<L>(p)), codes3<L>(q));
      }
    }
    if (e < stop) {
      const p = w + <usize>load<i32>(e);
      e += 4;
      a0 = addLanes<L>(a0, codes0<L>(p));
      if (nv > 1) a1 = addLanes<L>(a1, codes1<L>(p));
      if (nv > 2) { a2 = addLanes<L>(a2, codes2<L>(p)); a3 = addLanes<L>(a3, codes3<L>(p)); }
    }
    if (raw) {
      v128.store(out, a0);
      if (nv > 1) v128.store(out, a1, 16);
      if (nv > 2) { v128.store(out, a2, 32); v128.store(out, a3, 48); }
      return;
    }
    if (once || e >= end) {
      const c = once ? false : carried;
      finishVector<L>(a0, 0, out, scale, carry, c);
      if (nv > 1) finishVector<L>(a1, 1, out, scale, carry, c);
      if (nv > 2) { finishVector<L>(a2, 2, out, scale, carry, c); finishVector<L>(a3, 3, out, scale, carry, c); }
      return;
    }
    carryVector<L>(a0, 0, carry, carried);
    if (nv > 1) carryVector<L>(a1, 1, carry, carried);
    if (nv > 2) { carryVector<L>(a2, 2, carry, carried); carryVector<L>(a3, 3, carry, carried); }
    carried = true;
  }
}

/** Outputs [0, lanes) by sumRows in passes of at most 4 vectors (see sumLanes). */
@inline function lanePasses<L>(list: usize, end: usize, w: usize, out: usize, scale: usize, carry: usize, lanes: i32, seg: i32, once: bool): void {
  const per: i32 = 16 / <i32>sizeof<L>();
  let j = 0;
  for (; j + 4 * per <= lanes; j += 4 * per) sumRows<L>(list, end, w + <usize>j, out + f4(j), scale + f4(j), carry, 4, seg, once);
  if (j + 2 * per <= lanes) { sumRows<L>(list, end, w + <usize>j, out + f4(j), scale + f4(j), carry, 2, seg, once); j += 2 * per; }
  if (!isWide<L>() && j < lanes) sumRows<L>(list, end, w + <usize>j, out + f4(j), scale + f4(j), carry, 1, seg, once);
}

/**
 * Outputs [0, lanes) of one list of at most one segment as raw L lanes at out (lanes·sizeof<L> bytes, unscaled),
 * in passes of at most 4 vectors: for rawPlanes, which scales them as it writes the planes.
 */
export function sumLanesRaw<L>(list: usize, end: usize, w: usize, out: usize, lanes: i32): void {
  const per: i32 = 16 / <i32>sizeof<L>(), lb = <i32>sizeof<L>();
  let j = 0;
  for (; j + 4 * per <= lanes; j += 4 * per) sumRows<L>(list, end, w + <usize>j, out + <usize>(j * lb), 0, 0, 4, 0, true, true);
  if (j + 2 * per <= lanes) { sumRows<L>(list, end, w + <usize>j, out + <usize>(j * lb), 0, 0, 2, 0, true, true); j += 2 * per; }
  if (!isWide<L>() && j < lanes) sumRows<L>(list, end, w + <usize>j, out + <usize>j, 0, 0, 1, 0, true, true);
}

@inline function lo16(a: v128, b: v128): v128 { return v128.shuffle<u16>(a, b, 0, 8, 1, 9, 2, 10, 3, 11); }
@inline function hi16(a: v128, b: v128): v128 { return v128.shuffle<u16>(a, b, 4, 12, 5, 13, 6, 14, 7, 15); }
@inline function lo32(a: v128, b: v128): v128 { return v128.shuffle<u32>(a, b, 0, 4, 1, 5); }
@inline function hi32(a: v128, b: v128): v128 { return v128.shuffle<u32>(a, b, 2, 6, 3, 7); }
@inline function lo64(a: v128, b: v128): v128 { return v128.shuffle<u64>(a, b, 0, 2); }
@inline function hi64(a: v128, b: v128): v128 { return v128.shuffle<u64>(a, b, 1, 3); }

/** 8 i16 sums of one channel (v) as floats fround(scale · sum) at d. */
@inline function put8Floats(d: usize, v: v128, sc: v128): void {
  v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v)), sc));
  v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v)), sc), 16);
}

/** Pixels of one block of rawPlanes: 16 for i8 lanes, 8 for i16; fewer pixels do not take raw lanes. */
@inline export function rawPixels<L>(): i32 {
  return isWide<L>() ? 8 : 16;
}

/**
 * Plane c (planeBytes apart from dst on) gets fround(scale[c] · raw[i·lanes + c]) for pixels i < pixels and
 * channels c < channels, raw holding L lanes (sumLanesRaw), pixels ≥ rawPixels<L>(): blocks of 16 pixels × 16
 * channels (i8, through 256 bytes at tmp) or 8 × 8 (i16, in registers) are transposed before they are widened,
 * so that each channel's pixels leave as whole vectors. The last block ends at the last pixel, overlapping the
 * one before it (whose values it writes again).
 */
export function rawPlanes<L>(raw: usize, lanes: i32, dst: usize, planeBytes: usize, pixels: i32, channels: i32, scale: usize, tmp: usize): void {
  const lb = <usize>sizeof<L>(), ld = <usize>lanes * lb, pb = rawPixels<L>();
  // channel blocks outermost: each plane's pixels are written one after the other (the planes are often 4 KB
  // apart, and lines of planes visited in turn would evict each other before they are full)
  for (let c = 0; c < channels; c += pb) {
    for (let i0 = 0; i0 < pixels; i0 += pb) {
      const i = min(i0, pixels - pb), src = raw + <usize>i * ld, n = min(pb, channels - c), d = dst + planeBytes * <usize>c + f4(i), sc = scale + f4(c);
      if (!isWide<L>()) {
        transpose16(src + <usize>c, ld, tmp, 16);
        for (let k = 0; k < n; k++) {
          const v = v128.load(tmp + <usize>(k << 4)), s = v128.load32_splat(sc + f4(k)), o = d + planeBytes * <usize>k;
          put8Floats(o, i16x8.extend_low_i8x16_s(v), s);
          put8Floats(o + 32, i16x8.extend_high_i8x16_s(v), s);
        }
        continue;
      }
      const p = src + <usize>c * lb;
      const r0 = v128.load(p), r1 = v128.load(p + ld), r2 = v128.load(p + 2 * ld), r3 = v128.load(p + 3 * ld);
      const r4 = v128.load(p + 4 * ld), r5 = v128.load(p + 5 * ld), r6 = v128.load(p + 6 * ld), r7 = v128.load(p + 7 * ld);
      const t0 = lo16(r0, r1), t1 = hi16(r0, r1), t2 = lo16(r2, r3), t3 = hi16(r2, r3);
      const t4 = lo16(r4, r5), t5 = hi16(r4, r5), t6 = lo16(r6, r7), t7 = hi16(r6, r7);
      const u0 = lo32(t0, t2), u1 = hi32(t0, t2), u2 = lo32(t1, t3), u3 = hi32(t1, t3);
      const u4 = lo32(t4, t6), u5 = hi32(t4, t6), u6 = lo32(t5, t7), u7 = hi32(t5, t7);
      put8Floats(d, lo64(u0, u4), v128.load32_splat(sc));
      if (n > 1) put8Floats(d + planeBytes, hi64(u0, u4), v128.load32_splat(sc, 4));
      if (n > 2) put8Floats(d + 2 * planeBytes, lo64(u1, u5), v128.load32_splat(sc, 8));
      if (n > 3) put8Floats(d + 3 * planeBytes, hi64(u1, u5), v128.load32_splat(sc, 12));
      if (n > 4) put8Floats(d + 4 * planeBytes, lo64(u2, u6), v128.load32_splat(sc, 16));
      if (n > 5) put8Floats(d + 5 * planeBytes, hi64(u2, u6), v128.load32_splat(sc, 20));
      if (n > 6) put8Floats(d + 6 * planeBytes, lo64(u3, u7), v128.load32_splat(sc, 24));
      if (n > 7) put8Floats(d + 7 * planeBytes, hi64(u3, u7), v128.load32_splat(sc, 28));
    }
  }
}

/** lanePasses over a list longer than one segment: a function of its own, so the common case stays small. */
function segmentedLanes<L>(list: usize, end: usize, w: usize, out: usize, scale: usize, carry: usize, lanes: i32, seg: i32): void {
  lanePasses<L>(list, end, w, out, scale, carry, lanes, seg, false);
}

/**
 * Outputs [0, lanes) of rows `lanes` bytes wide (a multiple of 16): the sums of the listed rows in passes of at
 * most 4 vectors, written to out (f32) with scales from scale.
 */
@inline export function sumLanes<L>(list: usize, end: usize, w: usize, out: usize, scale: usize, carry: usize, lanes: i32, seg: i32): void {
  if (end - list > <usize>seg << 2) segmentedLanes<L>(list, end, w, out, scale, carry, lanes, seg);
  else lanePasses<L>(list, end, w, out, scale, carry, lanes, seg, true);
}

/** Lanes of a row of n outputs: n rounded up to a multiple of 16. */
@inline export function lanesOf(n: i32): i32 {
  return (n + 15) & ~15;
}

/** Bytes of spikeLinearQ's re-laid codes: k rows of lanesOf(n) lanes, then lanesOf(n) scales. */
export function spikeLinearQPackedBytes(n: i32, k: i32): i32 {
  return (k + 4) * lanesOf(n);
}

/** Scratch bytes per thread of spikeLinearQ: the carries, a tail of 16 outputs and the list of k offsets. */
export function spikeLinearQScratchBytes(k: i32): i32 {
  return CARRY_BYTES + 64 + 4 * k;
}

/** q [n, k] (i8) re-laid as k rows of lanesOf(n) bytes at qT: 16×16 blocks, scalar edges, zero pad lanes. */
function relayCodes(q: usize, qT: usize, n: i32, k: i32): void {
  const lanes = lanesOf(n), ld = <usize>lanes, n16 = n & ~15, k16 = k & ~15;
  for (let j = 0; j < n16; j += 16) {
    for (let p = 0; p < k16; p += 16) transpose16(q + <usize>(j * k + p), <usize>k, qT + <usize>p * ld + <usize>j, ld);
  }
  for (let p = 0; p < k; p++) {
    const row = qT + <usize>p * ld;
    for (let j = p < k16 ? n16 : 0; j < n; j++) store<i8>(row + <usize>j, load<i8>(q + <usize>(j * k + p)));
    memory.fill(row + <usize>n, 0, <usize>(lanes - n));
  }
}

/**
 * Re-lays spikeLinearQ's codes q [n, k] at packed: k rows of lanesOf(n) bytes (input p's codes contiguous), then
 * the scales padded with zeros to lanesOf(n).
 */
export function spikeLinearQPack(q: usize, scale: usize, packed: usize, n: i32, k: i32): void {
  const lanes = lanesOf(n), sp = packed + <usize>(k * lanes);
  relayCodes(q, packed, n, k);
  memory.copy(sp, scale, f4(n));
  memory.fill(sp + f4(n), 0, f4(lanes - n));
}

/**
 * Rows i0 ≤ i < i1 with L lanes: each row's outputs in full 16-lane blocks straight into y, the last partial
 * block through a tail buffer.
 */
function linearRows<L>(s: usize, sb: usize, packed: usize, y: usize, n: i32, k: i32, seg: i32, i0: i32, i1: i32, scratch: usize): void {
  const lanes = lanesOf(n), rowBytes = lanes, n16 = n & ~15, scale = packed + <usize>(k * rowBytes);
  const carry = scratch, tail = scratch + <usize>CARRY_BYTES, list = tail + 64;
  for (let i = i0; i < i1; i++) {
    const active = sb != 0 ? activePacked(sb, i * k, k, list, rowBytes) : activeOffsets(s + f4(i * k), k, list, rowBytes);
    const end = list + f4(active), yi = y + f4(i * n);
    sumLanes<L>(list, end, packed, yi, scale, carry, n16, seg);
    if (n16 == n) continue;
    sumLanes<L>(list, end, packed + <usize>n16, tail, scale + f4(n16), carry, 16, seg);
    memory.copy(yi + f4(n16), tail, f4(n - n16));
  }
}

/**
 * y[i, :] for rows i0 ≤ i < i1: each row lists its active inputs, then sums their rows of codes from
 * spikeLinearQPack (packed: codes, then scales); with sb ≠ 0 the active inputs are read from the spikes packed one
 * bit each there instead of the floats at s. Scratch: spikeLinearQScratchBytes(k).
 */
export function spikeLinearQ(s: usize, sb: usize, packed: usize, y: usize, m: i32, n: i32, k: i32, bits: i32, i0: i32, i1: i32, scratch: usize): void {
  if (wideLanes(bits)) linearRows<u16>(s, sb, packed, y, n, k, segmentRows(bits), i0, i1, scratch);
  else linearRows<i8>(s, sb, packed, y, n, k, segmentRows(bits), i0, i1, scratch);
}
