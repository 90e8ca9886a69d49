// Row bitmasks of spike planes and the gathers built on them: for each output (forward) or each weight tap
// (weight gradient) the active inputs are found as set bits and their terms are summed in registers.
import { Conv, f4, nonZero16 } from './geom';

/** Bit i of the stream at `bits` is set when plane[i] ≠ 0, i < n; 16 floats per bitmask. */
export function planeBits(plane: usize, n: i32, bits: usize): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) store<u16>(bits + (<usize>i >> 3), <u16>nonZero16(plane + f4(i)));
  let tail: u32 = 0;
  for (let j = i; j < n; j++) if (load<f32>(plane + f4(j)) != 0) tail |= <u32>1 << <u32>(j - i);
  store<u32>(bits + (<usize>i >> 3), tail);
  store<u32>(bits + (<usize>i >> 3), 0, 4);
}

/** Bits off … off + len − 1 of the stream at `bits` (len ≤ 57: one 64-bit read from the byte holding bit off). */
@inline export function streamBits(bits: usize, off: i32, len: i32): u64 {
  return (load<u64>(bits + (<usize>off >> 3)) >> <u64>(off & 7)) & ((<u64>1 << <u64>len) - 1);
}

/**
 * Bitmask rows of item b with the padding built in: bit ix + padW of masks[c·(h + 2·padH) + iy + padH]
 * is set when s[b, c, iy, ix] ≠ 0; padding rows are 0. `bits` holds one plane's bit stream.
 */
export function buildMasks(s: usize, g: Conv, b: i32, masks: usize, bits: usize): void {
  const hp = g.h + 2 * g.pH, w = g.w, pw = <u64>g.pW;
  memory.fill(masks, 0, <usize>(g.cin * hp) << 3);
  for (let c = 0; c < g.cin; c++) {
    planeBits(s + f4((b * g.cin + c) * g.h * w), g.h * w, bits);
    const dst = masks + (<usize>(c * hp + g.pH) << 3);
    for (let iy = 0, off = 0; iy < g.h; iy++, off += w) {
      const m = streamBits(bits, off, w);
      store<u64>(dst + (<usize>iy << 3), m << pw);
    }
  }
}

/**
 * Sums, for channels co … co + width − 1 (width 16, 4 or 1, a constant), the weights (layout [q][kx][coutG],
 * q = (ci, ky)) at the set bits of the pixel's tap words (u64 every wordBytes): bit j·kw + kx of word t is
 * tap (q = t·per + j, kx).
 * The sums stay in registers; the result goes to `out`.
 */
@inline function gatherSum(words: usize, nw: i32, per: i32, kw: i32, w: usize, coutG: i32, out: usize, width: i32, wordBytes: usize = 16): void {
  // two sets of sums, alternating taps, halve the add-latency chains
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0, s0: f32 = 0;
  for (let t = 0; t < nw; t++) {
    let word = load<u64>(words + <usize>t * wordBytes);
    const base = w + f4(t * per * kw * coutG);
    while (word != 0) {
      const p = base + f4(<i32>ctz(word) * coutG);
      word &= word - 1;
      if (width == 1) { s0 += load<f32>(p); continue; }
      a0 = f32x4.add(a0, v128.load(p));
      if (width == 16) {
        a1 = f32x4.add(a1, v128.load(p, 16)); a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
      }
      if (word == 0) break;
      const r = base + f4(<i32>ctz(word) * coutG);
      word &= word - 1;
      b0 = f32x4.add(b0, v128.load(r));
      if (width == 16) {
        b1 = f32x4.add(b1, v128.load(r, 16)); b2 = f32x4.add(b2, v128.load(r, 32)); b3 = f32x4.add(b3, v128.load(r, 48));
      }
    }
  }
  if (width == 1) {
    store<f32>(out, s0);
    return;
  }
  v128.store(out, f32x4.add(a0, b0));
  if (width == 16) {
    v128.store(out, f32x4.add(a1, b1), 16); v128.store(out, f32x4.add(a2, b2), 32); v128.store(out, f32x4.add(a3, b3), 48);
  }
}

/** Packs the tap words of pixels (ox, ox + 1) as i64x2 lanes: row pairs (m, m >> sW) in `rows`. */
@inline function pixelWords(rows: usize, q: i32, per: i32, nw: i32, kw: i32, sx: i32, words: usize): void {
  const kmask = i64x2.splat((<i64>1 << <i64>kw) - 1);
  for (let t = 0; t < nw; t++) {
    let word = i64x2.splat(0), shift = 0;
    for (let j = t * per; j < min(q, (t + 1) * per); j++) {
      word = v128.or(word, i64x2.shl(v128.and(i64x2.shr_u(v128.load(rows + (<usize>j << 4)), sx), kmask), shift));
      shift += kw;
    }
    v128.store(words + (<usize>t << 4), word);
  }
}

/**
 * Every output of one item by gathering into the NHWC accumulator acc: per output row the Q = cinG·kh row
 * masks its windows read are collected in `rows`, per pair of pixels their window bits are packed 64/kw
 * rows to a word (i64x2, one lane per pixel), and the set bits are summed (one loop exit per word).
 */
export function gatherItem(masks: usize, wq: usize, g: Conv, acc: usize, rows: usize, words: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, kh = g.kh, kw = g.kw, hp = g.h + 2 * g.pH;
  const q = cinG * kh, per = 64 / kw, nw = (q + per - 1) / per;
  for (let grp = 0; grp < g.groups; grp++) {
    const wg = wq + f4(grp * q * kw * coutG);
    for (let oy = 0; oy < g.oh; oy++) {
      for (let cl = 0, j = 0; cl < cinG; cl++) {
        const src = masks + (<usize>((grp * cinG + cl) * hp + oy * g.sH) << 3);
        for (let ky = 0; ky < kh; ky++, j++) {
          const m = load<u64>(src + (<usize>ky << 3));
          v128.store(rows + (<usize>j << 4), i64x2.replace_lane(i64x2.splat(m), 1, m >> <u64>g.sW));
        }
      }
      for (let ox = 0; ox < g.ow; ox++) {
        if ((ox & 1) == 0) pixelWords(rows, q, per, nw, kw, ox * g.sW, words);
        const out = acc + f4((oy * g.ow + ox) * g.cout + grp * coutG), wl = words + (<usize>(ox & 1) << 3);
        let co = 0;
        for (; co + 16 <= coutG; co += 16) gatherSum(wl, nw, per, kw, wg + f4(co), coutG, out + f4(co), 16);
        for (; co + 4 <= coutG; co += 4) gatherSum(wl, nw, per, kw, wg + f4(co), coutG, out + f4(co), 4);
        for (; co < coutG; co++) gatherSum(wl, nw, per, kw, wg + f4(co), coutG, out + f4(co), 1);
      }
    }
  }
}

/**
 * Σ over the items and output rows of the dyT rows (channels off … off + width − 1, width 16, 4 or 1, a
 * constant) at the outputs whose tap (c, ky, kx) reads an active input; added once into `out`.
 * Stride 1 along x: output ox reads mask bit ox + kx.
 */
@inline function weightTapSum(masks: usize, dyT: usize, items: i32, maskBytes: usize, dyBytes: usize, g: Conv,
  row0: i32, kx: i32, off: i32, out: usize, width: i32, narrow: bool): void {
  const oh = g.oh, ow = g.ow, cout = g.cout, rowStep = <usize>g.sH << 3, owMask: u64 = (<u64>1 << <u64>ow) - 1;
  const per = 64 / ow;  // output rows per 64-bit word: one loop exit per word, not per row
  const lowByte = i16x8.splat(0xff);
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0, s0: f32 = 0;
  for (let t = 0; t < items; t++) {
    const mrow = masks + <usize>t * maskBytes + (<usize>row0 << 3), drow = dyT + <usize>t * dyBytes + f4(off);
    for (let oy0 = 0; oy0 < oh; oy0 += per) {
      let bits: u64 = 0, m = mrow + <usize>oy0 * rowStep;
      if (narrow) {
        // 8 rows of 8 outputs (weightNarrow): low halves of the 8 row masks as 16-bit lanes, shifted by kx,
        // cut to 8 bits and narrowed to bytes: byte j is output row oy0 + j
        const r0 = v128.shuffle<i32>(v128.load(m), v128.load(m, 16), 0, 2, 4, 6);
        const r1 = v128.shuffle<i32>(v128.load(m, 32), v128.load(m, 48), 0, 2, 4, 6);
        const r = v128.and(i16x8.shr_u(i16x8.narrow_i32x4_u(r0, r1), kx), lowByte);
        bits = i64x2.extract_lane(i8x16.narrow_i16x8_u(r, r), 0);
      } else {
        for (let j = 0, sh = 0; j < min(per, oh - oy0); j++, sh += ow, m += rowStep) {
          bits |= ((load<u64>(m) >> <u64>kx) & owMask) << <u64>sh;
        }
      }
      const base = drow + f4(oy0 * ow * cout);
      while (bits != 0) {
        const p = base + f4(<i32>ctz(bits) * cout);
        bits &= bits - 1;
        if (width == 1) { s0 += load<f32>(p); continue; }
        a0 = f32x4.add(a0, v128.load(p));
        if (width == 16) {
          a1 = f32x4.add(a1, v128.load(p, 16)); a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
        }
        if (bits == 0) break;
        const r = base + f4(<i32>ctz(bits) * cout);
        bits &= bits - 1;
        b0 = f32x4.add(b0, v128.load(r));
        if (width == 16) {
          b1 = f32x4.add(b1, v128.load(r, 16)); b2 = f32x4.add(b2, v128.load(r, 32)); b3 = f32x4.add(b3, v128.load(r, 48));
        }
      }
    }
  }
  if (width == 1) {
    store<f32>(out, load<f32>(out) + s0);
    return;
  }
  v128.store(out, f32x4.add(v128.load(out), f32x4.add(a0, b0)));
  if (width == 16) {
    v128.store(out, f32x4.add(v128.load(out, 16), f32x4.add(a1, b1)), 16);
    v128.store(out, f32x4.add(v128.load(out, 32), f32x4.add(a2, b2)), 32);
    v128.store(out, f32x4.add(v128.load(out, 48), f32x4.add(a3, b3)), 48);
  }
}

/**
 * True when weightTapSum builds its words by narrowing: outputs 8 wide in whole blocks of 8 rows, row stride 1,
 * padded input rows of at most 16 bits (so a row mask's low 16 bits hold it).
 */
function weightNarrow(g: Conv): bool {
  return g.ow == 8 && g.oh % 8 == 0 && g.sH == 1 && g.w + 2 * g.pW <= 16;
}

/**
 * True when gatherWeights takes kernel rows ky and ky + 1 together (weightRowPairSum): weightNarrow shapes in
 * whole 16-channel blocks. Their dyᵀ then starts with a zero output row (weightDyBytes).
 */
function rowPairs(g: Conv): bool {
  return weightNarrow(g) && (g.cout / g.groups) % 16 == 0;
}

/** Bytes of one item's dyᵀ as gatherWeights reads it: [oh·ow, cout], after a zero row when rowPairs. */
export function weightDyBytes(g: Conv): i32 {
  return (g.oh * g.ow + (rowPairs(g) ? g.ow : 0)) * g.cout * 4;
}

/**
 * Taps (ky, kx) and (ky + 1, kx) of 16 channels at once (rowPairs shapes): input row r feeds output row r − ky
 * of the first and r − ky − 1 of the second, so each set bit of a word (8 input rows from row oy0 + ky, 8 bits
 * each) adds dyᵀ pixel (oy0 + j, ox) to the first and the pixel one row up to the second (the zero row stands
 * in above row 0). Input row oh + ky, which feeds only the second tap's last output row, comes last.
 * dyT points at the zero row of item 0.
 */
@inline function weightRowPairSum(masks: usize, dyT: usize, items: i32, maskBytes: usize, dyBytes: usize, g: Conv,
  row0: i32, kx: i32, off: i32, outA: usize, outB: usize): void {
  const oh = g.oh, px = <usize>g.cout << 2, rowB = px << 3, lowByte = i16x8.splat(0xff);
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (let t = 0; t < items; t++) {
    const mrow = masks + <usize>t * maskBytes + (<usize>row0 << 3), drow = dyT + <usize>t * dyBytes + rowB + f4(off);
    for (let oy0 = 0; oy0 < oh; oy0 += 8) {
      const m = mrow + (<usize>oy0 << 3);
      const r0 = v128.shuffle<i32>(v128.load(m), v128.load(m, 16), 0, 2, 4, 6);
      const r1 = v128.shuffle<i32>(v128.load(m, 32), v128.load(m, 48), 0, 2, 4, 6);
      const r = v128.and(i16x8.shr_u(i16x8.narrow_i32x4_u(r0, r1), kx), lowByte);
      let bits = i64x2.extract_lane(i8x16.narrow_i16x8_u(r, r), 0);
      const base = drow + <usize>oy0 * rowB;
      while (bits != 0) {
        const p = base + <usize>ctz(bits) * px, q = p - rowB;
        bits &= bits - 1;
        a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
        a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
        b0 = f32x4.add(b0, v128.load(q)); b1 = f32x4.add(b1, v128.load(q, 16));
        b2 = f32x4.add(b2, v128.load(q, 32)); b3 = f32x4.add(b3, v128.load(q, 48));
      }
    }
    let tail = (load<u64>(mrow + (<usize>oh << 3)) >> <u64>kx) & 0xff;
    const last = drow + <usize>(oh - 1) * rowB;
    while (tail != 0) {
      const p = last + <usize>ctz(tail) * px;
      tail &= tail - 1;
      b0 = f32x4.add(b0, v128.load(p)); b1 = f32x4.add(b1, v128.load(p, 16));
      b2 = f32x4.add(b2, v128.load(p, 32)); b3 = f32x4.add(b3, v128.load(p, 48));
    }
  }
  v128.store(outA, f32x4.add(v128.load(outA), a0)); v128.store(outA, f32x4.add(v128.load(outA, 16), a1), 16);
  v128.store(outA, f32x4.add(v128.load(outA, 32), a2), 32); v128.store(outA, f32x4.add(v128.load(outA, 48), a3), 48);
  v128.store(outB, f32x4.add(v128.load(outB), b0)); v128.store(outB, f32x4.add(v128.load(outB, 16), b1), 16);
  v128.store(outB, f32x4.add(v128.load(outB, 32), b2), 32); v128.store(outB, f32x4.add(v128.load(outB, 48), b3), 48);
}

/**
 * dwr += the weight gradient of `items` items whose row masks (maskBytes apart) and transposed output
 * gradients dyT (dyBytes apart: `lead` bytes of a zero output row, non-zero exactly for rowPairs shapes, then
 * [oh·ow, cout]) are given; dwr in the spikeConvPackWeights(…, true) layout. Every weight tap, or pair of
 * kernel rows (rowPairs), sums its terms in registers: no read-modify-write per active input.
 */
export function gatherWeights(masks: usize, dyT: usize, items: i32, maskBytes: usize, dyBytes: usize, lead: usize, g: Conv, dwr: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, hp = g.h + 2 * g.pH, kh = g.kh, kw = g.kw, narrow = weightNarrow(g);
  const pairs = lead != 0, dyRows = dyT + lead;
  for (let c = 0; c < g.cin; c++) {
    const grp = c / cinG;
    let ky = 0;
    for (; pairs && ky + 1 < kh; ky += 2) {
      for (let kx = 0; kx < kw; kx++) {
        const outA = dwr + f4(((c * kh + ky) * kw + kw - 1 - kx) * coutG), outB = outA + f4(kw * coutG);
        for (let co = 0; co < coutG; co += 16) {
          weightRowPairSum(masks, dyT, items, maskBytes, dyBytes, g, c * hp + ky, kx, grp * coutG + co, outA + f4(co), outB + f4(co));
        }
      }
    }
    for (; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const out = dwr + f4(((c * kh + ky) * kw + kw - 1 - kx) * coutG), row0 = c * hp + ky;
        let co = 0;
        for (; co + 16 <= coutG; co += 16) weightTapSum(masks, dyRows, items, maskBytes, dyBytes, g, row0, kx, grp * coutG + co, out + f4(co), 16, narrow);
        for (; co + 4 <= coutG; co += 4) weightTapSum(masks, dyRows, items, maskBytes, dyBytes, g, row0, kx, grp * coutG + co, out + f4(co), 4, narrow);
        for (; co < coutG; co++) weightTapSum(masks, dyRows, items, maskBytes, dyBytes, g, row0, kx, grp * coutG + co, out + f4(co), 1, narrow);
      }
    }
  }
}

/**
 * True when gatherNarrow applies: kernel rows of at most 8 taps and padded input rows of at most 16 bits, so
 * one SIMD shift, mask and narrow gives the tap bytes of 16 kernel rows at once.
 */
export function narrowGathers(g: Conv): bool {
  return g.kw <= 8 && g.w + 2 * g.pW <= 16 && (g.ow - 1) * g.sW + g.kw <= 16;
}

/** Kernel rows (ci, ky) of one group, rounded up to whole 16-row blocks. */
@inline function narrowRows(g: Conv): i32 { return ((g.cin / g.groups) * g.kh + 15) & ~15; }

/**
 * Bytes of the gatherNarrow weight layout: one zero row, then [group][narrowRows][8 slots][coutG] (slots ≥ kw
 * and pad rows zero). The leading row lets the pixel-pair gather read slot kx − 1 of the first row.
 */
export function narrowWeightBytes(g: Conv): i32 {
  return (g.groups * narrowRows(g) + 1) * 8 * (g.cout / g.groups) * 4;
}

/** Byte offset of the first kernel row in the gatherNarrow layout (after the zero row). */
@inline function narrowLead(g: Conv): usize { return <usize>(8 * (g.cout / g.groups)) << 2; }

/**
 * Packs w [cout, cinG, kh, kw] by kernel row: dst[((grp·rowsPerGroup + ci·kh + ky)·slots + kx')·coutG + cl],
 * kx' = kw − 1 − kx when `reverse`, else kx. Slots past kw and rows past cinG·kh are left as they are.
 */
export function packTaps(w: usize, dst: usize, g: Conv, rowsPerGroup: i32, slots: i32, reverse: bool): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups;
  for (let co = 0; co < g.cout; co++) {
    const grp = co / coutG, cl = co % coutG;
    for (let ci = 0; ci < cinG; ci++) {
      for (let ky = 0; ky < g.kh; ky++) {
        const row = grp * rowsPerGroup + ci * g.kh + ky, src = w + f4(((co * cinG + ci) * g.kh + ky) * g.kw);
        for (let kx = 0; kx < g.kw; kx++) {
          const slot = reverse ? g.kw - 1 - kx : kx;
          store<f32>(dst + f4((row * slots + slot) * coutG + cl), load<f32>(src + f4(kx)));
        }
      }
    }
  }
}

/** Packs w [cout, cinG, kh, kw] into the gatherNarrow layout (zero row, then 8 slots per kernel row). */
export function narrowPackWeights(w: usize, wn: usize, g: Conv): void {
  memory.fill(wn, 0, <usize>narrowWeightBytes(g));
  packTaps(w, wn + narrowLead(g), g, narrowRows(g), 8, false);
}

/** True when gatherNarrow takes output pixels in pairs: stride 1, kw ≤ 7, even output width, whole 16-channel blocks. */
function pairGathers(g: Conv): bool {
  return g.sW == 1 && g.kw <= 7 && (g.ow & 1) == 0 && (g.cout / g.groups) % 16 == 0;
}

/**
 * The sums of two neighbouring pixels over the set bits of their shared tap words (8-bit fields, 8 slots of
 * coutG floats per kernel row): bit j adds slot j to the first pixel and slot j − 1 to the second; 16
 * channels each, written to outA and outB.
 */
@inline function pairSum(words: usize, nw: i32, w: usize, coutG: i32, outA: usize, outB: usize): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const slot = <usize>coutG << 2;
  for (let t = 0; t < nw; t++) {
    let word = load<u64>(words + (<usize>t << 3));
    const base = w + (<usize>(t << 6)) * slot;
    while (word != 0) {
      const p = base + <usize>ctz(word) * slot, q = p - slot;
      word &= word - 1;
      a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
      b0 = f32x4.add(b0, v128.load(q)); b1 = f32x4.add(b1, v128.load(q, 16));
      b2 = f32x4.add(b2, v128.load(q, 32)); b3 = f32x4.add(b3, v128.load(q, 48));
    }
  }
  v128.store(outA, a0); v128.store(outA, a1, 16); v128.store(outA, a2, 32); v128.store(outA, a3, 48);
  v128.store(outB, b0); v128.store(outB, b1, 16); v128.store(outB, b2, 32); v128.store(outB, b3, 48);
}

/**
 * Every output of one item, as gatherItem, with the tap words built by narrowing: per output row the 16-bit
 * masks of its kernel rows are collected (rows16, one u16 per kernel row), and per pixel each block of 16
 * is shifted by ox·sW, masked to kw bits and narrowed to bytes: byte j of word t holds the taps of kernel row
 * 8t + j, bit kx each, so a word covers 8 kernel rows. Weights from narrowPackWeights.
 */
export function gatherNarrow(masks: usize, wn: usize, g: Conv, acc: usize, rows16: usize, words: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, kh = g.kh, hp = g.h + 2 * g.pH;
  const q = cinG * kh, rows = narrowRows(g), nw = (q + 7) >> 3, blocks = rows >> 4;
  const kbits: i32 = (1 << g.kw) - 1, km = i16x8.splat(<i16>kbits);
  memory.fill(rows16, 0, <usize>rows << 1);
  const pairs = pairGathers(g), pm = i16x8.splat(<i16>((kbits << 1) | 1));
  for (let grp = 0; grp < g.groups; grp++) {
    const wg = wn + narrowLead(g) + f4(grp * rows * 8 * coutG);
    for (let oy = 0; oy < g.oh; oy++) {
      for (let cl = 0, j = 0; cl < cinG; cl++) {
        const src = masks + (<usize>((grp * cinG + cl) * hp + oy * g.sH) << 3);
        for (let ky = 0; ky < kh; ky++, j++) store<u16>(rows16 + (<usize>j << 1), <u16>load<u64>(src + (<usize>ky << 3)));
      }
      if (pairs) {
        // pixels ox and ox + 1 read one window of kw + 1 bits per kernel row: bit j is tap j of the first and
        // tap j − 1 of the second, so each set bit feeds both (slots kw … 7 and the lead row are zero)
        for (let ox = 0; ox < g.ow; ox += 2) {
          for (let k = 0; k < blocks; k++) {
            const r = rows16 + (<usize>k << 5);
            const lo = v128.and(i16x8.shr_u(v128.load(r), ox), pm), hi = v128.and(i16x8.shr_u(v128.load(r, 16), ox), pm);
            v128.store(words + (<usize>k << 4), i8x16.narrow_i16x8_u(lo, hi));
          }
          const out = acc + f4((oy * g.ow + ox) * g.cout + grp * coutG);
          for (let co = 0; co < coutG; co += 16) pairSum(words, nw, wg + f4(co), coutG, out + f4(co), out + f4(g.cout + co));
        }
        continue;
      }
      for (let ox = 0; ox < g.ow; ox++) {
        const sx = ox * g.sW;
        for (let k = 0; k < blocks; k++) {
          const r = rows16 + (<usize>k << 5);
          const lo = v128.and(i16x8.shr_u(v128.load(r), sx), km), hi = v128.and(i16x8.shr_u(v128.load(r, 16), sx), km);
          v128.store(words + (<usize>k << 4), i8x16.narrow_i16x8_u(lo, hi));
        }
        const out = acc + f4((oy * g.ow + ox) * g.cout + grp * coutG);
        let co = 0;
        for (; co + 16 <= coutG; co += 16) gatherSum(words, nw, 8, 8, wg + f4(co), coutG, out + f4(co), 16, 8);
        for (; co + 4 <= coutG; co += 4) gatherSum(words, nw, 8, 8, wg + f4(co), coutG, out + f4(co), 4, 8);
        for (; co < coutG; co++) gatherSum(words, nw, 8, 8, wg + f4(co), coutG, out + f4(co), 1, 8);
      }
    }
  }
}
