// Channel lists: the spike convolution forward of one-group layers. Per item, every padded input position
// lists the weight-row offsets of its active channels, once; each output pixel then copies the lists of the
// kh·kw positions its window reads into one list and sums the listed weight rows (tap-major weights, so a
// row holds the cout weights of one tap and input channel), up to 24 output channels at a time, in
// registers. Decoding bits once per position, not once per pixel and channel block, and summing over a list
// whose length is known keep branch mispredictions out of the sums that the row-mask gather (spike-masks
// gatherItem) has. The weight gradient (listWeights) lists each input channel's active inputs the same way and
// sums output-gradient rows over them.
import { Conv, f4, transpose16, transposeCols, transposeStrided } from './geom';
import { align64, SpikeForwardPlan, SpikeWeightPlan } from './plan';
import { planeBits, streamBits } from './spike-masks';

/**
 * True when the forward gathers through channel lists: one group of 16 input channels or more. With fewer, the
 * per-pixel copies of kh·kw short lists cost more than the row-mask gather, which packs many kernel rows into
 * one word (grouped layers keep the row masks).
 */
export function listGathers(g: Conv): bool {
  return g.groups == 1 && g.cin >= 16;
}

/** u64 words of one position's channel mask: the channels of one group. */
@inline function maskWords(g: Conv): i32 {
  return (g.cin / g.groups + 63) >> 6;
}

/** Padded input positions of one item. */
@inline function positions(g: Conv): i32 {
  return (g.h + 2 * g.pH) * (g.w + 2 * g.pW);
}

/** Bytes of the list layout of the weights: [kh·kw][cin][cout]. */
export function listWeightBytes(g: Conv): i32 {
  return g.kh * g.kw * g.cin * g.cout * 4;
}

/** Packs w [cout, cin, kh, kw] tap-major: dst[((ky·kw + kx)·cin + ci)·cout + co]. */
export function listPackWeights(w: usize, dst: usize, g: Conv): void {
  const taps = g.kh * g.kw;
  for (let co = 0; co < g.cout; co++) {
    for (let ci = 0; ci < g.cin; ci++) {
      const src = w + f4((co * g.cin + ci) * taps);
      for (let k = 0; k < taps; k++) store<f32>(dst + f4((k * g.cin + ci) * g.cout + co), load<f32>(src + f4(k)));
    }
  }
}

/** Entries a pixel list's copy writes from each position list's start (three i32x4 stores), and so past its end. */
export const OVERCOPY: i32 = 12;

/**
 * Lays out listItem's scratch in p and returns its bytes: the row accumulator at 0, then the channel masks,
 * position records, offset lists, the pixel list (each list OVERCOPY entries longer) and channelMasks' bits.
 */
export function planLists(p: SpikeForwardPlan): i32 {
  const n = positions(p);
  p.listMasks = align64(p.ow * p.cout * 4);
  p.positions = p.listMasks + n * maskWords(p) * 8;
  p.listOffsets = align64(p.positions + n * 8);
  p.list = align64(p.listOffsets + (p.cin * p.h * p.w + 2 * OVERCOPY) * 4);
  p.listBits = align64(p.list + (spanListEntries(p) + 2 * OVERCOPY) * 4);
  return p.listBits + channelBitsBytes(p);
}

/** Bytes between the bit streams of neighbouring channels in channelMasks: a plane's bits as planeBits writes them, 16-aligned. */
export function bitStride(g: Conv): i32 {
  return ((((g.h * g.w + 15) >> 4) << 1) + 8 + 15) & ~15;
}

/**
 * Bit (cl & 63) of word cl >> 6 of cm[(iy + pH)·wp + ix + pW] is set when input channel cl of group grp is active
 * at (iy, ix) in item b; padding positions stay 0. Each channel's plane becomes a bit stream (bitStride apart
 * at bits, zero streams up to a multiple of 16 channels); 16×16 blocks of bytes are transposed so that a vector
 * holds one byte of 16 channels, and each of its 8 bits is moved to the top of its byte and read out with one
 * bitmask: a position's 16 channel bits at a time, with no branch on the spikes. With sb ≠ 0 and planes of a
 * whole number of bytes, the streams are copied from the spikes packed one bit each there instead of being
 * read from the floats at s. Scratch at bits: channelBitsBytes(g).
 */
export function channelMasks(s: usize, g: Conv, b: i32, grp: i32, cm: usize, bits: usize, sb: usize = 0): void {
  const cinG = g.cin / g.groups, hw = g.h * g.w, w = g.w, wp = w + 2 * g.pW, nwc = maskWords(g), rowBytes = <usize>(nwc << 3);
  const stride = <usize>bitStride(g), blocks = (cinG + 15) >> 4, T = bits + stride * <usize>(blocks << 4);
  const first = b * g.cin + grp * cinG, planes = s + f4(first * hw);
  memory.fill(cm, 0, <usize>(positions(g) * nwc) << 3);
  if (sb != 0 && (hw & 7) == 0) {
    // spikes already packed one bit each (bit i & 7 of byte i >> 3): each plane's stream starts on a byte
    for (let cl = 0; cl < cinG; cl++) memory.copy(bits + <usize>cl * stride, sb + (<usize>(first + cl) * <usize>hw >> 3), <usize>(hw >> 3));
  } else {
    for (let cl = 0; cl < cinG; cl++) planeBits(planes + f4(cl * hw), hw, bits + <usize>cl * stride);
  }
  memory.fill(bits + <usize>cinG * stride, 0, <usize>((blocks << 4) - cinG) * stride);
  // pixel p = iy·w + ix of the item is padded position at = (iy + pH)·wp + ix + pW
  let ix = 0, at = cm + <usize>((g.pH * wp + g.pW) * nwc << 3);
  for (let j0 = 0; j0 << 3 < hw; j0 += 16) {
    for (let cb = 0; cb < blocks; cb++) transpose16(bits + <usize>(cb << 4) * stride + <usize>j0, stride, T + <usize>(cb << 8), 16);
    for (let j = 0; j < 16 && (j0 + j) << 3 < hw; j++) {
      const n = min(8, hw - ((j0 + j) << 3));
      for (let k = 0; k < n; k++) {
        for (let cb = 0; cb < blocks; cb++) {
          store<u16>(at + <usize>(cb << 1), <u16>i8x16.bitmask(i16x8.shl(v128.load(T + <usize>((cb << 8) + (j << 4))), 7 - k)));
        }
        at += rowBytes;
        if (++ix == w) { ix = 0; at += rowBytes * <usize>(wp - w); }
      }
    }
  }
}

/** Scratch bytes of channelMasks: a bit stream per channel (rounded up to 16 channels) and 16 transposed bytes each. */
export function channelBitsBytes(g: Conv): i32 {
  return (((g.cin / g.groups) + 15) & ~15) * (bitStride(g) + 16);
}

/** Set bits of the cinG bit streams at bits (bitStride(g) apart, as channelMasks leaves them): the item's active inputs. */
export function streamsCount(g: Conv, bits: usize): i32 {
  const hw = g.h * g.w, stride = <usize>bitStride(g), full = hw >> 6;
  let n = 0;
  for (let c = 0; c < g.cin / g.groups; c++) {
    const at = bits + <usize>c * stride;
    for (let k = 0; k < full; k++) n += <i32>popcnt(load<u64>(at + (<usize>k << 3)));
    if (hw & 63) n += <i32>popcnt(load<u64>(at + (<usize>full << 3)) & ((<u64>1 << <u64>(hw & 63)) - 1));
  }
  return n;
}

/**
 * Entries of a pixel's list area: the kh·kw·cinG a window can list, plus what the last span's fixed-length copy
 * (spanList) may write past them.
 */
export function spanListEntries(g: Conv): i32 {
  return (g.kh + 1) * g.kw * (g.cin / g.groups) + 8;
}

/**
 * True when a pixel's list can be copied as kh spans (spanList): kw > 1, and each padded row's position lists
 * can carry their column's block of rows (x·tapBytes, tapBytes = cinG·rowBytes) below 2^31 bytes.
 */
export function spansFit(g: Conv, rowBytes: i32): bool {
  return g.kw > 1 && <i64>(g.w + 2 * g.pW) * <i64>(g.cin / g.groups) * <i64>rowBytes < <i64>0x7fffffff;
}

/**
 * A pixel's list: the lists of its window's kh × kw positions (records from `first`, rows rowStep bytes apart),
 * each offset by its tap's block of rows; returns its end.
 */
export function pixelList(first: usize, rowStep: usize, offs: usize, list: usize, kh: i32, kw: i32, tapBytes: i32): usize {
  let d = list, tap = 0;
  for (let ky = 0; ky < kh; ky++) {
    const row = first + <usize>ky * rowStep;
    for (let kx = 0; kx < kw; kx++, tap += tapBytes) {
      const rec = row + (<usize>kx << 3), cnt = load<i32>(rec, 4), src = offs + f4(load<i32>(rec));
      const base = i32x4.splat(tap);
      v128.store(d, i32x4.add(v128.load(src), base));
      v128.store(d, i32x4.add(v128.load(src, 16), base), 16);
      v128.store(d, i32x4.add(v128.load(src, 32), base), 32);
      for (let k = OVERCOPY; k < cnt; k += 4) v128.store(d + f4(k), i32x4.add(v128.load(src + f4(k)), base));
      d += f4(cnt);
    }
  }
  return d;
}

/**
 * A pixel's list as kh spans: kernel row ky reads the consecutive position lists of padded row (first's row + ky)
 * from first's column on, kw of them (records from first, rows rowStep bytes apart), whose offsets carry their
 * column x as x·tapBytes; each entry is shifted by (ky·kw − x0)·tapBytes, x0 the window's first column (passed
 * as shift = x0·tapBytes), to the row of its tap. Each span copies `copy` entries (longestSpan's bound, the same
 * for every pixel of an item, so that the copies' loop ends where the branch predictor expects); the entries
 * past a span's count are overwritten by the next. Returns the list's end.
 */
export function spanList(first: usize, rowStep: usize, offs: usize, list: usize, kh: i32, kw: i32, tapBytes: i32, shift: i32, copy: i32): usize {
  const lastRec = <usize>((kw - 1) << 3), tapRow = kw * tapBytes;
  let d = list, tap = -shift;
  for (let ky = 0; ky < kh; ky++, tap += tapRow) {
    const row = first + <usize>ky * rowStep, start = load<i32>(row), cnt = load<i32>(row + lastRec) + load<i32>(row + lastRec, 4) - start;
    const src = offs + f4(start), base = i32x4.splat(tap);
    for (let k = 0; k < copy; k += 8) {
      v128.store(d + f4(k), i32x4.add(v128.load(src + f4(k)), base));
      v128.store(d + f4(k), i32x4.add(v128.load(src + f4(k), 16), base), 16);
    }
    d += f4(cnt);
  }
  return d;
}

/**
 * The entries each span of an item's pixels copies (spanList): its longest span of kw consecutive position lists
 * from an output column's first tap, rounded up to 8 (records at pos, padded rows wp·8 bytes apart).
 */
export function longestSpan(g: Conv, pos: usize): i32 {
  const hp = g.h + 2 * g.pH, wp = g.w + 2 * g.pW, lastRec = <usize>((g.kw - 1) << 3), posX = <usize>(g.sW << 3);
  let most = 0;
  for (let r = 0; r < hp; r++) {
    let rec = pos + (<usize>(r * wp) << 3);
    for (let ox = 0; ox < g.ow; ox++, rec += posX) most = max(most, load<i32>(rec + lastRec) + load<i32>(rec + lastRec, 4) - load<i32>(rec));
  }
  return (most + 7) & ~7;
}

/** Writes base + (index of the next set bit)·rowBytes for the lowest 8 set bits of m (past them: garbage); returns m without them. */
@inline export function put8(d: usize, m: u64, base: i32, rowBytes: i32): u64 {
  store<i32>(d, base + <i32>ctz(m) * rowBytes, 0); m &= m - 1;
  store<i32>(d, base + <i32>ctz(m) * rowBytes, 4); m &= m - 1;
  store<i32>(d, base + <i32>ctz(m) * rowBytes, 8); m &= m - 1;
  store<i32>(d, base + <i32>ctz(m) * rowBytes, 12); m &= m - 1;
  store<i32>(d, base + <i32>ctz(m) * rowBytes, 16); m &= m - 1;
  store<i32>(d, base + <i32>ctz(m) * rowBytes, 20); m &= m - 1;
  store<i32>(d, base + <i32>ctz(m) * rowBytes, 24); m &= m - 1;
  store<i32>(d, base + <i32>ctz(m) * rowBytes, 28); m &= m - 1;
  return m;
}

/**
 * out[0 … width) = (or +=, with `add`) Σ over the listed byte offsets o in [list, end) of the row at w + o
 * (width 24, 16, 8, 4 or 1, a constant): the sums stay in registers.
 */
@inline function sumList(list: usize, end: usize, w: usize, out: usize, width: i32, add: bool = false): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, s0: f32 = 0;
  for (let e = list; e < end; e += 4) {
    const p = w + <usize>load<i32>(e);
    if (width == 1) { s0 += load<f32>(p); continue; }
    a0 = f32x4.add(a0, v128.load(p));
    if (width >= 8) a1 = f32x4.add(a1, v128.load(p, 16));
    if (width >= 16) { a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48)); }
    if (width == 24) { a4 = f32x4.add(a4, v128.load(p, 64)); a5 = f32x4.add(a5, v128.load(p, 80)); }
  }
  if (width == 1) {
    store<f32>(out, add ? load<f32>(out) + s0 : s0);
    return;
  }
  if (add) {
    a0 = f32x4.add(a0, v128.load(out));
    if (width >= 8) a1 = f32x4.add(a1, v128.load(out, 16));
    if (width >= 16) { a2 = f32x4.add(a2, v128.load(out, 32)); a3 = f32x4.add(a3, v128.load(out, 48)); }
    if (width == 24) { a4 = f32x4.add(a4, v128.load(out, 64)); a5 = f32x4.add(a5, v128.load(out, 80)); }
  }
  v128.store(out, a0);
  if (width >= 8) v128.store(out, a1, 16);
  if (width >= 16) { v128.store(out, a2, 32); v128.store(out, a3, 48); }
  if (width == 24) { v128.store(out, a4, 64); v128.store(out, a5, 80); }
}

/** Every width-block of n channels: sumList(list, end, w + 4·co, out + 4·co, width, add) for co = 0, 24, … */
@inline function sumBlocks(list: usize, end: usize, w: usize, out: usize, n: i32, add: bool): void {
  let co = 0;
  for (; co + 24 <= n; co += 24) sumList(list, end, w + f4(co), out + f4(co), 24, add);
  if (co + 16 <= n) { sumList(list, end, w + f4(co), out + f4(co), 16, add); co += 16; }
  if (co + 8 <= n) { sumList(list, end, w + f4(co), out + f4(co), 8, add); co += 8; }
  if (co + 4 <= n) { sumList(list, end, w + f4(co), out + f4(co), 4, add); co += 4; }
  for (; co < n; co++) sumList(list, end, w + f4(co), out + f4(co), 1, add);
}

/**
 * y[b] (NCHW, at y) by channel lists, weights from listPackWeights at wk, unless the item has `limit` active
 * inputs or more: then nothing is written and false is returned. The scratch areas (acc, cm, pos, offs, list,
 * bits) are those planLists lays out; they come as arguments, not from the plan, so that V8 keeps the sums'
 * loop bound in a register (docs/kernels.md).
 */
export function listItem(s: usize, wk: usize, g: Conv, b: i32, y: usize, acc: usize, cm: usize, pos: usize, offs: usize, list: usize,
  bits: usize, limit: i32): bool {
  const wp = g.w + 2 * g.pW, cout = g.cout, rowBytes = cout * 4, posRow = <usize>(wp << 3), posY = posRow * <usize>g.sH;
  const tapBytes = g.cin * rowBytes, ohw = g.oh * g.ow, spans = spansFit(g, rowBytes), posX = <usize>(g.sW << 3), xStep = g.sW * tapBytes;
  channelMasks(s, g, b, 0, cm, bits);
  if (limit < i32.MAX_VALUE && streamsCount(g, bits) >= limit) return false;
  positionLists(g, cm, pos, offs, rowBytes, spans ? tapBytes : 0);
  const copy = spans ? longestSpan(g, pos) : 0;
  // the item's planes written once in bulk first: the rows' scattered stores then find their lines in cache
  memory.fill(y, 0, f4(cout * ohw));
  for (let oy = 0; oy < g.oh; oy++) {
    const first = pos + <usize>oy * posY;
    for (let ox = 0; ox < g.ow; ox++) {
      // the pixel's list: kh spans of its window's rows, or the lists of its window's positions
      const at = first + <usize>ox * posX;
      const d = spans ? spanList(at, posRow, offs, list, g.kh, g.kw, tapBytes, ox * xStep, copy) : pixelList(at, posRow, offs, list, g.kh, g.kw, tapBytes);
      sumBlocks(list, d, wk, acc + f4(ox * cout), cout, false);
    }
    transposeCols(acc, cout, y + f4(oy * g.ow), ohw, g.ow, cout);
  }
  return true;
}

/**
 * True when the spike weight gradient sums through lists (listWeights): listGathers shapes of stride 1 whose
 * padded rows are wider than 16, or whose kernels are at most 3 wide over 32 channels or more. Narrower rows
 * with wider kernels (5×5 over 12×12 inputs) keep the row masks, which take kernel rows in pairs.
 */
export function listWeightGathers(g: Conv): bool {
  return listGathers(g) && g.sH == 1 && g.sW == 1 && (g.w + 2 * g.pW > 16 || (g.cin >= 32 && g.kw <= 3));
}

/** Output rows and columns of listWeights' zero-bordered dyᵀ: kh − 1 and kw − 1 zero pixels on each side. */
@inline function borderRows(g: Conv): i32 { return g.oh + 2 * (g.kh - 1); }
@inline function borderCols(g: Conv): i32 { return g.ow + 2 * (g.kw - 1); }
@inline function borderBytes(g: Conv): i32 { return borderRows(g) * borderCols(g) * g.cout * 4; }

/** Items whose bordered dyᵀ listWeights holds at once (about 1 MiB). */
@inline function weightItems(g: Conv): i32 {
  return max(1, min(g.n, (256 << 10) / borderBytes(g)));
}

/**
 * Fills p's SpikeWeightPlan for listWeights: chunks of weightItems items; scratch holds their bordered dyᵀ at
 * 0, one channel's list over them and one plane's bits.
 */
export function planListWeights(p: SpikeWeightPlan): void {
  p.chunk = weightItems(p);
  p.itemBytes = borderBytes(p);
  p.lead = 0;
  p.maskBytes = 0;
  p.dyT = 0;
  p.list = p.itemBytes * p.chunk;
  p.bits = align64(p.list + p.chunk * p.h * p.w * 4);
  p.scratchBytes = p.bits + p.h * p.w / 8 + 64;
}

/**
 * dwr += the weight gradient of items b0 ≤ b < b1 (dwr in the spikeConvPackWeights(…, true) layout: [ci][ky]
 * [kw − 1 − kx][cout]), for listWeightGathers shapes. Per chunk of items, each item's dy becomes dyᵀ [pixels,
 * cout] inside a zero border, so that input (iy, ix) reaches the output pixel of tap (ky, kx) at a fixed offset
 * from its own: −(ky·cols + kx) pixels (outputs outside the image read the zero border). Per input channel
 * the active inputs of the chunk are listed once; each tap then sums the dyᵀ rows at the list shifted by its
 * offset, up to 24 channels at a time in registers. Scratch as planListWeights lays it out.
 */
export function listWeights(s: usize, dy: usize, dwr: usize, g: SpikeWeightPlan, b0: i32, b1: i32, scratch: usize): void {
  const cout = g.cout, rowBytes = cout * 4, cols = borderCols(g), item = <usize>g.itemBytes, hw = g.h * g.w, ohw = g.oh * g.ow;
  const chunk = g.chunk, dyT = scratch + <usize>g.dyT, list = scratch + <usize>g.list, bits = scratch + <usize>g.bits;
  memory.fill(dyT, 0, item * <usize>chunk); // the borders stay zero: only interiors are written
  for (let c0 = b0; c0 < b1; c0 += chunk) {
    const c1 = min(b1, c0 + chunk);
    for (let b = c0; b < c1; b++) {
      const dst = dyT + item * <usize>(b - c0) + f4(((g.kh - 1) * cols + g.kw - 1) * cout);
      // four channel planes at a time, read front to back
      for (let i = 0; i < cout; i += 4) {
        for (let oy = 0; oy < g.oh; oy++) {
          transposeStrided(dy + f4((b * cout + i) * ohw + oy * g.ow), ohw, dst + f4(oy * cols * cout + i), cout, min(4, cout - i), g.ow);
        }
      }
    }
    for (let ci = 0; ci < g.cin; ci++) {
      // the chunk's active inputs of channel ci: byte offsets of their own pixel (tap (0, 0)'s output + border)
      let e = list;
      for (let b = c0; b < c1; b++) {
        planeBits(s + f4((b * g.cin + ci) * hw), hw, bits);
        const itemBase = <i32>(item * <usize>(b - c0));
        for (let iy = 0; iy < g.h; iy++) {
          const rowBase = itemBase + ((iy + g.pH + g.kh - 1) * cols + g.pW + g.kw - 1) * rowBytes;
          for (let x0 = 0; x0 < g.w; x0 += 56) {
            const off = iy * g.w + x0, len = min(56, g.w - x0);
            let m = streamBits(bits, off, len);
            while (m != 0) {
              store<i32>(e, rowBase + (x0 + <i32>ctz(m)) * rowBytes);
              m &= m - 1;
              e += 4;
            }
          }
        }
      }
      if (e == list) continue;
      for (let ky = 0; ky < g.kh; ky++) {
        for (let kx = 0; kx < g.kw; kx++) {
          const w = dyT - <usize>((ky * cols + kx) * rowBytes), out = dwr + f4(((ci * g.kh + ky) * g.kw + g.kw - 1 - kx) * cout);
          sumBlocks(list, e, w, out, cout, true);
        }
      }
    }
  }
}

/**
 * Each padded input position's list of its active channels' row offsets c·rowBytes (plus x·xBytes, x the
 * position's padded column), in channel order: the offsets go to offs, and pos gets one (start, count) record
 * per position. The lists of a padded row's positions follow each other in column order.
 */
export function positionLists(g: Conv, cm: usize, pos: usize, offs: usize, rowBytes: i32, xBytes: i32 = 0): void {
  const nwc = maskWords(g), npos = positions(g), wp = g.w + 2 * g.pW;
  for (let q = 0, n = 0, x = 0; q < npos; q++, x = x + 1 == wp ? 0 : x + 1) {
    const rec = pos + (<usize>q << 3), start = n;
    for (let k = 0; k < nwc; k++) {
      let m = load<u64>(cm + (<usize>(q * nwc + k) << 3));
      const cnt = <i32>popcnt(m), base = (k << 6) * rowBytes + x * xBytes;
      let d = offs + f4(n);
      m = put8(d, m, base, rowBytes);
      while (m != 0) {
        d += 32;
        m = put8(d, m, base, rowBytes);
      }
      n += cnt;
    }
    store<i32>(rec, start);
    store<i32>(rec, n - start, 4);
  }
}
