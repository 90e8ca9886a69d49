// The table path of the quantized spike convolution: the kw taps of one kernel row (c, ky) read kw bits of one
// input row mask, so their codes' sum over the active taps is one of 2^kw rows of integers, laid out once with the
// packed codes. An output pixel then adds one table row per (c, ky), whatever the density: one load and one add of
// 16 channels (i8 lanes for ternary codes, two of i16 for 4 and 8 bits), no branch on spike bits. The integer sums
// are exact, so this path gives the bits of the others.
import { Conv, f4 } from './geom';
import { QuantLutPlan } from './plan';
import { addLanes, carryPixels, finishPixels, isWide, wideLanes } from './quant';
import { windowLane, windowsApply } from './quant-windows';

/** Largest table (bytes, every group and channel block) worth laying out: it must stay in the second-level cache. */
const MAX_LUT_BYTES: i32 = 256 << 10;

/** Largest code magnitude of each bit width (QuantBits in src/kernels/quant.ts). */
@inline function maxCode(bits: i32): i32 {
  return bits == 2 ? 1 : bits == 4 ? 8 : 128;
}

/** Rows of one channel block's table: 2^kw patterns per kernel row (c, ky) of a group. */
export function lutRows(g: Conv): i32 {
  return (g.cin / g.groups) * g.kh << g.kw;
}

/**
 * True when the table path can hold the shape: the windows' row masks (padded rows of at most 16 bits), kw ≤ 6,
 * the kh rows of one channel within a segment, a table that fits.
 */
export function lutApplies(g: Conv, bits: i32): bool {
  if (!windowsApply(g) || g.kw > 6 || g.kh > lutSegment(g, bits)) return false;
  const blocks = ((g.cout / g.groups) + 15) >> 4, lb = wideLanes(bits) ? 2 : 1;
  return <i64>g.groups * <i64>blocks * <i64>lutRows(g) * 16 * <i64>lb <= <i64>MAX_LUT_BYTES;
}

/**
 * Kernel rows whose table rows one lane may add before it could overflow: a table entry is a sum of at most kw
 * codes, so 127 / (kw·max code) rows in i8 lanes, 32767 / (kw·max code) in i16.
 */
export function lutSegment(g: Conv, bits: i32): i32 {
  return (wideLanes(bits) ? 32767 : 127) / (g.kw * maxCode(bits));
}

/** Lays out the table path's scratch after `start` (the windows' row masks) and returns its end. */
export function planLut(p: QuantLutPlan, start: i32): i32 {
  p.masks = start;
  return p.masks + p.cin * (p.h + 2 * p.pH) * 2 + 16;
}

/**
 * Packs the codes q [cout, cinG, kh, kw] (i8) of every group into tables at wr (zeroed by the caller): per block
 * of 16 output channels, per kernel row r = ci·kh + ky, row r·2^kw + pattern holds Σ_{kx in pattern} of the
 * block's codes of tap (ci, ky, kx), in the windows' [block][row][16 lanes] order.
 */
export function lutPack(q: usize, wr: usize, p: QuantLutPlan): void {
  const cinG = p.cin / p.groups, coutG = p.cout / p.groups, kh = p.kh, kw = p.kw, taps = cinG * kh * kw, P = 1 << kw;
  const lb: i32 = wideLanes(p.bits) ? 2 : 1, rows = p.rows;
  for (let grp = 0; grp < p.groups; grp++) {
    for (let co = 0; co < coutG; co++) {
      const codes = q + <usize>((grp * coutG + co) * taps), base = wr + <usize>(grp * p.groupBytes);
      for (let r = 0; r < cinG * kh; r++) {
        for (let pt = 1; pt < P; pt++) {
          let sum = 0;
          for (let kx = 0; kx < kw; kx++) if ((pt >> kx) & 1) sum += <i32>load<i8>(codes + <usize>(r * kw + kx));
          const at = base + <usize>windowLane(rows, r * P + pt, co, lb);
          if (lb == 2) store<i16>(at, <i16>sum);
          else store<i8>(at, <i8>sum);
        }
      }
    }
  }
}

/**
 * The sums of np (a constant, 1 … 4) neighbouring pixels of one output row over the cinG·kh kernel rows: each
 * kernel row's 16-bit row mask (from masks, kernel rows 2 bytes apart, channels ciStep apart, already shifted to
 * the first pixel by `shift`) gives each pixel its pattern (kw bits, sW apart), the offset of its row in the
 * kernel row's table (tab on, rowTable bytes per kernel row; one channel block). The results go to out + p·ld
 * floats (16 channels, scales at scale).
 *
 * Every segCi channels the lanes are emptied before they could overflow: i16 sums (4- and 8-bit codes, two
 * vectors a and b per pixel) are carried into i32 at carry; i8 sums (ternary) are widened into i16 sums held in
 * registers (b low, h high lanes). A ternary sum fits i16: it adds at most cinG·kh·kw codes of ±1, and a table
 * within MAX_LUT_BYTES has cinG·kh·2^kw ≤ 16384 rows, so cinG·kh·kw ≤ 8192.
 */
@inline function lutPixels<L>(masks: usize, shift: i32, sW: i32, km: i32, tab: usize, rowTable: usize, ciStep: usize, cinG: i32, kh: i32,
  segCi: i32, out: usize, ld: i32, scale: usize, carry: usize, np: i32, raw: bool = false): void {
  const z = i32x4.splat(0), wide = isWide<L>(), sh: i32 = wide ? 5 : 4;
  let a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z, h0 = z, h1 = z, h2 = z, h3 = z, carried = false;
  let mc = masks, t = tab;
  for (let c0 = 0; c0 < cinG; c0 += segCi) {
    const c1 = min(cinG, c0 + segCi);
    for (let c = c0; c < c1; c++, mc += ciStep) {
      let m = mc;
      for (let ky = 0; ky < kh; ky++, m += 2, t += rowTable) {
        // the pattern bits already at the row's byte offset: each pixel's offset is a shift and a mask
        const bits = (<i32>load<u16>(m) >> shift) << sh, ks = km << sh;
        const r0 = t + <usize>(bits & ks);
        a0 = addLanes<L>(a0, v128.load(r0)); if (wide) b0 = addLanes<L>(b0, v128.load(r0, 16));
        if (np > 1) { const r1 = t + <usize>((bits >> sW) & ks); a1 = addLanes<L>(a1, v128.load(r1)); if (wide) b1 = addLanes<L>(b1, v128.load(r1, 16)); }
        if (np > 2) { const r2 = t + <usize>((bits >> (2 * sW)) & ks); a2 = addLanes<L>(a2, v128.load(r2)); if (wide) b2 = addLanes<L>(b2, v128.load(r2, 16)); }
        if (np > 3) { const r3 = t + <usize>((bits >> (3 * sW)) & ks); a3 = addLanes<L>(a3, v128.load(r3)); if (wide) b3 = addLanes<L>(b3, v128.load(r3, 16)); }
      }
    }
    if (!wide) {
      b0 = i16x8.add(b0, i16x8.extend_low_i8x16_s(a0)); h0 = i16x8.add(h0, i16x8.extend_high_i8x16_s(a0)); a0 = z;
      if (np > 1) { b1 = i16x8.add(b1, i16x8.extend_low_i8x16_s(a1)); h1 = i16x8.add(h1, i16x8.extend_high_i8x16_s(a1)); a1 = z; }
      if (np > 2) { b2 = i16x8.add(b2, i16x8.extend_low_i8x16_s(a2)); h2 = i16x8.add(h2, i16x8.extend_high_i8x16_s(a2)); a2 = z; }
      if (np > 3) { b3 = i16x8.add(b3, i16x8.extend_low_i8x16_s(a3)); h3 = i16x8.add(h3, i16x8.extend_high_i8x16_s(a3)); a3 = z; }
    } else if (c1 < cinG) {
      carryPixels<L>(a0, a1, a2, a3, b0, b1, b2, b3, carry, carried, np);
      a0 = z; a1 = z; a2 = z; a3 = z; b0 = z; b1 = z; b2 = z; b3 = z;
      carried = true;
    }
  }
  if (wide) { finishPixels<L>(a0, a1, a2, a3, b0, b1, b2, b3, out, ld, np, scale, carry, carried, np); return; }
  if (!raw) { finishPixels<i16>(b0, b1, b2, b3, h0, h1, h2, h3, out, ld, np, scale, carry, false, np); return; }
  // raw i16 sums (ternary): pixel p's 16 lanes at out + p·ld·2 bytes
  const step = <usize>(ld << 1);
  v128.store(out, b0); v128.store(out, h0, 16);
  if (np > 1) { v128.store(out + step, b1); v128.store(out + step, h1, 16); }
  if (np > 2) { v128.store(out + 2 * step, b2); v128.store(out + 2 * step, h2, 16); }
  if (np > 3) { v128.store(out + 3 * step, b3); v128.store(out + 3 * step, h3, 16); }
}

// One function per pixel count, so that each keeps its own registers.
function lut4<L>(masks: usize, shift: i32, sW: i32, km: i32, tab: usize, rowTable: usize, ciStep: usize, cinG: i32, kh: i32, segCi: i32,
  out: usize, ld: i32, scale: usize, carry: usize): void {
  lutPixels<L>(masks, shift, sW, km, tab, rowTable, ciStep, cinG, kh, segCi, out, ld, scale, carry, 4);
}
function lut1<L>(masks: usize, shift: i32, sW: i32, km: i32, tab: usize, rowTable: usize, ciStep: usize, cinG: i32, kh: i32, segCi: i32,
  out: usize, ld: i32, scale: usize, carry: usize): void {
  lutPixels<L>(masks, shift, sW, km, tab, rowTable, ciStep, cinG, kh, segCi, out, ld, scale, carry, 1);
}
// The same, leaving ternary sums as raw i16 lanes (lutGroup's raw).
function lut4Raw(masks: usize, shift: i32, sW: i32, km: i32, tab: usize, rowTable: usize, ciStep: usize, cinG: i32, kh: i32, segCi: i32,
  out: usize, ld: i32): void {
  lutPixels<i8>(masks, shift, sW, km, tab, rowTable, ciStep, cinG, kh, segCi, out, ld, 0, 0, 4, true);
}
function lut1Raw(masks: usize, shift: i32, sW: i32, km: i32, tab: usize, rowTable: usize, ciStep: usize, cinG: i32, kh: i32, segCi: i32,
  out: usize, ld: i32): void {
  lutPixels<i8>(masks, shift, sW, km, tab, rowTable, ciStep, cinG, kh, segCi, out, ld, 0, 0, 1, true);
}

/**
 * Group grp's sums of one item into acc [oh·ow][width] (f32), from the item's row masks (windowsMasks, at
 * scratch + p.masks) and the group's tables at w (L lanes, `width` lanes of open channels) and scales at scale;
 * with `raw` (ternary codes only) the sums stay i16 lanes, unscaled, [oh·ow][width] at acc, for rawPlanes.
 */
export function lutGroup<L>(p: QuantLutPlan, grp: i32, w: usize, scale: usize, width: i32, acc: usize, carry: usize, scratch: usize, raw: bool): void {
  const cinG = p.cin / p.groups, kh = p.kh, oh = p.oh, ow = p.ow, sW = p.sW, hp = p.h + 2 * p.pH, lb: i32 = <i32>sizeof<L>();
  const rowTable = <usize>((16 * lb) << p.kw), blockBytes = <usize>(p.rows * 16 * lb), km = (1 << p.kw) - 1;
  const ciStep = <usize>(hp << 1), rowStep = <usize>(p.sH << 1), masks = scratch + <usize>p.masks + (<usize>(grp * cinG * hp) << 1);
  const segCi = max(1, lutSegment(p, p.bits) / kh);
  for (let c = 0; c < width; c += 16) {
    const tab = w + <usize>(c >> 4) * blockBytes, sc = scale + f4(c);
    for (let oy = 0; oy < oh; oy++) {
      const rows = masks + <usize>oy * rowStep;
      let ox = 0;
      if (raw) {
        const out = acc + (<usize>(oy * ow * width + c) << 1);
        for (; ox + 4 <= ow; ox += 4) lut4Raw(rows, ox * sW, sW, km, tab, rowTable, ciStep, cinG, kh, segCi, out + (<usize>(ox * width) << 1), width);
        for (; ox < ow; ox++) lut1Raw(rows, ox * sW, sW, km, tab, rowTable, ciStep, cinG, kh, segCi, out + (<usize>(ox * width) << 1), width);
        continue;
      }
      const out = acc + f4(oy * ow * width + c);
      for (; ox + 4 <= ow; ox += 4) lut4<L>(rows, ox * sW, sW, km, tab, rowTable, ciStep, cinG, kh, segCi, out + f4(ox * width), width, sc, carry);
      for (; ox < ow; ox++) lut1<L>(rows, ox * sW, sW, km, tab, rowTable, ciStep, cinG, kh, segCi, out + f4(ox * width), width, sc, carry);
    }
  }
}
