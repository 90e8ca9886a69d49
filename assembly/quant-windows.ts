// The windows path of the quantized spike convolution, for small images (padded rows of at most 16 bits): per
// output row, the 16-bit row masks of the kernel rows are shifted to a group of up to four neighbouring
// pixels, cut to the window they share ((P − 1)·strideW + kw ≤ 8 bits) and narrowed to one byte per kernel
// row. Each set bit j of a kernel row's byte is tap j − p·strideW of pixel p, so one bit adds a code row to
// every pixel of the group: P adds of 16 lanes per bit found, from one block of P rows laid out together.
import { Conv, f4, nonZero16 } from './geom';
import { align64, QuantWindowsPlan } from './plan';
import { addLanes, carryPixels, finishPixels, isWide, wideLanes } from './quant';

/** True when the windows path can hold the shape: kw ≤ 8 and padded rows (and the last window) within 16 bits. */
export function windowsApply(g: Conv): bool {
  return g.kw <= 8 && g.w + 2 * g.pW <= 16 && (g.ow - 1) * g.sW + g.kw <= 16;
}

/** Pixels whose windows one 8-bit field holds: (P − 1)·sW + kw ≤ 8, at most 4. */
@inline function windowPixels(g: Conv): i32 {
  return min(4, (8 - g.kw) / g.sW + 1);
}

/** Kernel rows (ci, ky) of one group, rounded up to whole blocks of 16. */
@inline function kernelRows(g: Conv): i32 {
  return ((g.cin / g.groups) * g.kh + 15) & ~15;
}

/**
 * Rows of 16 lanes per block of 16 output channels in the windows layout: for each kernel row (ci, ky) and bit
 * j < 8 of its byte, a block of P rows, row p holding tap j − p·sW (zero where that is not a tap 0 … kw − 1).
 * A group's codes are its channel blocks one after the other ([block][kernel row][j][p][16 lanes]).
 */
export function windowRows(g: Conv): i32 {
  return 8 * kernelRows(g) * windowPixels(g);
}

/** Byte offset within a group's windows layout of row r's lane for channel ch (rowsPerBlock rows per channel block). */
@inline export function windowLane(rowsPerBlock: i32, r: i32, ch: i32, lb: i32): i32 {
  return (((ch >> 4) * rowsPerBlock + r) << 4) * lb + (ch & 15) * lb;
}

/**
 * Packs the codes q [cout, cinG, kh, kw] (i8) of every group into the windows layout at wr (zeroed first by the
 * caller): each block row is filled lane by lane from the 16 channels' codes of its tap.
 */
export function windowsPack(q: usize, wr: usize, p: QuantWindowsPlan): void {
  const cinG = p.cin / p.groups, coutG = p.cout / p.groups, kh = p.kh, kw = p.kw, sW = p.sW, np = p.pixels, taps = cinG * kh * kw;
  const lb: i32 = wideLanes(p.bits) ? 2 : 1, row = <usize>(16 * lb), block = row * <usize>np;
  for (let grp = 0; grp < p.groups; grp++) {
    for (let c0 = 0; c0 < coutG; c0 += 16) {
      const lanes = min(16, coutG - c0), codes = q + <usize>((grp * coutG + c0) * taps);
      let at = wr + <usize>(grp * p.groupBytes + windowLane(p.rows, 0, c0, lb));
      for (let r = 0; r < cinG * kh; r++) {
        for (let j = 0; j < 8; j++, at += block) {
          // row px of block (r, j) holds tap j − px·sW of the 16 channels
          for (let px = 0; px < np; px++) {
            const t = j - px * sW;
            if (t < 0 || t >= kw) continue;
            const src = codes + <usize>(r * kw + t), dst = at + <usize>px * row;
            for (let l = 0; l < lanes; l++) {
              const c = load<i8>(src + <usize>(l * taps));
              if (lb == 2) store<i16>(dst + (<usize>l << 1), <i16>c);
              else store<i8>(dst + <usize>l, c);
            }
          }
        }
      }
    }
  }
}

/** Lays out the windows path's scratch after `start` and returns its end. */
export function planWindows(p: QuantWindowsPlan, start: i32): i32 {
  p.pixels = windowPixels(p);
  p.masks = start;
  p.rows16 = align64(p.masks + p.cin * (p.h + 2 * p.pH) * 2 + 16);
  p.words = align64(p.rows16 + kernelRows(p) * 2 + 32);
  return align64(p.words + kernelRows(p));
}

/**
 * The sums of np pixels (a constant) over the set bits of nw words, 16 channels (one vector of L lanes, or two
 * of i16): bit b of word t adds the block at w + (64·t + b)·blockBytes, row p to pixel p. With `once` (a
 * constant) the caller knows the words hold at most seg bits; otherwise, before a word could take a lane past
 * seg rows, the sums so far are carried into i32. Pixels p < valid are finished to out + p·ld floats.
 */
@inline function windowSums<L>(words: usize, nw: i32, w: usize, blockBytes: usize, out: usize, ld: i32, valid: i32, scale: usize,
  carry: usize, np: i32, seg: i32, once: bool): void {
  const z = i32x4.splat(0), wide = isWide<L>();
  let a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z, used = 0, carried = false;
  for (let t = 0; t < nw; t++) {
    let word = load<u64>(words + (<usize>t << 3));
    if (!once) {
      if (word == 0) continue;
      const c = <i32>popcnt(word);
      if (used + c > seg) {
        carryPixels<L>(a0, a1, a2, a3, b0, b1, b2, b3, carry, carried, np);
        a0 = z; a1 = z; a2 = z; a3 = z; b0 = z; b1 = z; b2 = z; b3 = z;
        carried = true;
        used = 0;
      }
      used += c;
    }
    const base = w + (<usize>t << 6) * blockBytes;
    while (word != 0) {
      const r = base + <usize>ctz(word) * blockBytes;
      word &= word - 1;
      a0 = addLanes<L>(a0, v128.load(r)); if (wide) b0 = addLanes<L>(b0, v128.load(r, 16));
      if (np > 1) { a1 = addLanes<L>(a1, v128.load(r, 16 * sizeof<L>())); if (wide) b1 = addLanes<L>(b1, v128.load(r, 16 * sizeof<L>() + 16)); }
      if (np > 2) { a2 = addLanes<L>(a2, v128.load(r, 32 * sizeof<L>())); if (wide) b2 = addLanes<L>(b2, v128.load(r, 32 * sizeof<L>() + 16)); }
      if (np > 3) { a3 = addLanes<L>(a3, v128.load(r, 48 * sizeof<L>())); if (wide) b3 = addLanes<L>(b3, v128.load(r, 48 * sizeof<L>() + 16)); }
    }
  }
  finishPixels<L>(a0, a1, a2, a3, b0, b1, b2, b3, out, ld, valid, scale, carry, once ? false : carried, np);
}

/** windowSums without carries when the words hold at most seg bits (the common case), else with them. */
@inline function sumWindow<L>(words: usize, nw: i32, w: usize, blockBytes: usize, out: usize, ld: i32, valid: i32, scale: usize,
  carry: usize, np: i32, seg: i32): void {
  let bits = 0;
  for (let t = 0; t < nw; t++) bits += <i32>popcnt(load<u64>(words + (<usize>t << 3)));
  if (bits <= seg) windowSums<L>(words, nw, w, blockBytes, out, ld, valid, scale, carry, np, seg, true);
  else windowSums<L>(words, nw, w, blockBytes, out, ld, valid, scale, carry, np, seg, false);
}

/** windowsGroup with np (a constant) pixels per word and L lanes (the geometry read into locals first, as the sums store). */
@inline function windowsPixels<L>(p: QuantWindowsPlan, grp: i32, w: usize, scale: usize, width: i32, acc: usize, carry: usize,
  masks: usize, rows16: usize, words: usize, np: i32, seg: i32): void {
  const cinG = p.cin / p.groups, kh = p.kh, oh = p.oh, ow = p.ow, sW = p.sW, hp = p.h + 2 * p.pH, nw = (cinG * kh + 7) >> 3;
  const blocks = kernelRows(p) >> 4, blockBytes = <usize>(np << 4) * sizeof<L>(), chanBytes = <usize>(p.rows << 4) * sizeof<L>();
  const fieldBits: i32 = (np - 1) * sW + p.kw, field: i32 = (1 << fieldBits) - 1, fm = i16x8.splat(<i16>field);
  const rowStep = <usize>(p.sH << 1), planeStep = <usize>(hp << 1), kRows = <usize>(kh << 1), q = cinG * kh;
  const planes = masks + <usize>(grp * cinG) * planeStep;
  for (let oy = 0; oy < oh; oy++) {
    // the 16-bit masks of the cinG·kh kernel rows output row oy reads: kh consecutive rows of each plane, up to 8 at
    // a time (each copy writes 16 bytes; the next one overwrites the excess, and rows past q are zeroed after)
    let src = planes + <usize>oy * rowStep, dst = rows16;
    for (let cl = 0; cl < cinG; cl++, src += planeStep, dst += kRows) {
      for (let k: usize = 0; k < kRows; k += 16) v128.store(dst + k, v128.load(src + k));
    }
    v128.store(rows16 + (<usize>q << 1), i32x4.splat(0));
    v128.store(rows16 + (<usize>q << 1), i32x4.splat(0), 16);
    for (let ox = 0; ox < ow; ox += np) {
      // byte j of word t: the shared window of kernel row 8t + j, from column ox·sW on
      const sx = ox * sW;
      for (let k = 0; k < blocks; k++) {
        const r = rows16 + (<usize>k << 5);
        const lo = v128.and(i16x8.shr_u(v128.load(r), sx), fm), hi = v128.and(i16x8.shr_u(v128.load(r, 16), sx), fm);
        v128.store(words + (<usize>k << 4), i8x16.narrow_i16x8_u(lo, hi));
      }
      const out = acc + f4((oy * ow + ox) * width), valid = min(np, ow - ox);
      for (let c = 0; c < width; c += 16) {
        sumWindow<L>(words, nw, w + <usize>(c >> 4) * chanBytes, blockBytes, out + f4(c), width, valid, scale + f4(c), carry, np, seg);
      }
    }
  }
}

// One function per pixel count, so that each keeps its own registers (np must be a constant where it is summed).
function windows4<L>(p: QuantWindowsPlan, grp: i32, w: usize, scale: usize, width: i32, acc: usize, carry: usize, scratch: usize, seg: i32): void {
  windowsPixels<L>(p, grp, w, scale, width, acc, carry, scratch + <usize>p.masks, scratch + <usize>p.rows16, scratch + <usize>p.words, 4, seg);
}
function windows3<L>(p: QuantWindowsPlan, grp: i32, w: usize, scale: usize, width: i32, acc: usize, carry: usize, scratch: usize, seg: i32): void {
  windowsPixels<L>(p, grp, w, scale, width, acc, carry, scratch + <usize>p.masks, scratch + <usize>p.rows16, scratch + <usize>p.words, 3, seg);
}
function windows2<L>(p: QuantWindowsPlan, grp: i32, w: usize, scale: usize, width: i32, acc: usize, carry: usize, scratch: usize, seg: i32): void {
  windowsPixels<L>(p, grp, w, scale, width, acc, carry, scratch + <usize>p.masks, scratch + <usize>p.rows16, scratch + <usize>p.words, 2, seg);
}
function windows1<L>(p: QuantWindowsPlan, grp: i32, w: usize, scale: usize, width: i32, acc: usize, carry: usize, scratch: usize, seg: i32): void {
  windowsPixels<L>(p, grp, w, scale, width, acc, carry, scratch + <usize>p.masks, scratch + <usize>p.rows16, scratch + <usize>p.words, 1, seg);
}

/**
 * Group grp's sums of one item into acc [oh·ow][width] (f32, width lanes of which the group's channels come
 * first), from the item's row masks (windowsMasks) and the group's codes at w (windows layout, L lanes) and
 * scales at scale. Scratch areas as planWindows lays them out.
 */
export function windowsGroup<L>(p: QuantWindowsPlan, grp: i32, w: usize, scale: usize, width: i32, acc: usize, carry: usize, scratch: usize,
  seg: i32): void {
  const np = p.pixels;
  if (np == 4) windows4<L>(p, grp, w, scale, width, acc, carry, scratch, seg);
  else if (np == 3) windows3<L>(p, grp, w, scale, width, acc, carry, scratch, seg);
  else if (np == 2) windows2<L>(p, grp, w, scale, width, acc, carry, scratch, seg);
  else windows1<L>(p, grp, w, scale, width, acc, carry, scratch, seg);
}

/**
 * windowsMasks from the spikes packed one bit each at sb (bit i & 7 of byte i >> 3 for s[i]): a row's w ≤ 16
 * bits are at most 23 bits from a byte boundary, so one u32 read holds them.
 */
function packedMasks(sb: usize, p: QuantWindowsPlan, b: i32, scratch: usize): void {
  const masks = scratch + <usize>p.masks, cin = p.cin, h = p.h, w = p.w, hp = h + 2 * p.pH, pW = p.pW, pH = p.pH;
  const keep: u32 = (1 << w) - 1;
  let bit = b * cin * h * w;
  for (let c = 0; c < cin; c++) {
    let dst = masks + (<usize>(c * hp) << 1);
    for (let iy = 0; iy < pH; iy++, dst += 2) store<u16>(dst, 0);
    for (let iy = 0; iy < h; iy++, dst += 2, bit += w) {
      store<u16>(dst, <u16>(((load<u32>(sb + <usize>(bit >>> 3)) >>> <u32>(bit & 7)) & keep) << <u32>pW));
    }
    for (let iy = 0; iy < pH; iy++, dst += 2) store<u16>(dst, 0);
  }
}

/**
 * The row masks of item b for the windows path, 16 bits each: bit ix + pW of masks[c·(h + 2·pH) + iy + pH] is set
 * when s[b, c, iy, ix] ≠ 0; padding rows are 0. A row's bits come from 16 floats read at once (w ≤ 16), except in
 * the rows at the item's end, where that read would pass its last plane.
 */
export function windowsMasks(s: usize, sb: usize, p: QuantWindowsPlan, b: i32, scratch: usize): void {
  if (sb != 0) { packedMasks(sb, p, b, scratch); return; }
  const masks = scratch + <usize>p.masks, cin = p.cin, h = p.h, w = p.w, hp = h + 2 * p.pH, pW = p.pW, rows = cin * h;
  const keep: i32 = (1 << w) - 1, step = f4(w);
  // rows whose 16-float read stays within the item (counted here: V8 recomputed a bound kept as an address)
  const wide = min(rows, (rows * w - 16) / w + 1);
  let src = s + f4(b * rows * w), r = 0;
  memory.fill(masks, 0, <usize>(cin * hp) << 1);
  for (let c = 0; c < cin; c++) {
    let dst = masks + (<usize>(c * hp + p.pH) << 1);
    for (let iy = 0; iy < h; iy++, r++, src += step, dst += 2) {
      let m: i32;
      if (r < wide) {
        m = nonZero16(src);
      } else {
        m = 0;
        for (let ix = 0; ix < w; ix++) if (load<f32>(src + f4(ix)) != 0) m |= 1 << ix;
      }
      store<u16>(dst, <u16>((m & keep) << pW));
    }
  }
}
