// Spike-fed bodies: inputs are exactly 0 or 1, so each active input adds a contiguous weight vector
// (f32x4, no multiplies) and silent inputs are skipped four at a time.
import { Conv, f4, transpose, transposeStrided } from './geom';
import {
  buildMasks, gatherItem, gatherNarrow, gatherWeights, narrowGathers, narrowPackWeights, narrowWeightBytes, packTaps, rowPairs,
  weightDyBytes,
} from './spike-masks';
import { buildLut, lutApplies, lutBytes, lutItem, lutOffsetBytes } from './spike-lut';
import {
  listGathers, listItem, listPackWeights, listScratchBytes, listWeightBytes, listWeightGathers, listWeights, listWeightScratchBytes,
} from './spike-lists';

/** Writes the indices of the non-zero entries of s[0..k) to list (i32) and returns their count. */
function activeList(s: usize, k: i32, list: usize): i32 {
  let cnt = 0, p = 0;
  const z = f32x4.splat(0);
  for (; p + 4 <= k; p += 4) {
    if (!v128.any_true(f32x4.ne(v128.load(s + f4(p)), z))) continue;
    for (let q = p; q < p + 4; q++) if (load<f32>(s + f4(q)) != 0) store<i32>(list + f4(cnt++), q);
  }
  for (; p < k; p++) if (load<f32>(s + f4(p)) != 0) store<i32>(list + f4(cnt++), p);
  return cnt;
}

/** out[0..n) = Σ over the cnt listed rows r of src[r·ld .. r·ld + n): 32 columns held in registers at a time. */
function sumRows(src: usize, ld: i32, list: usize, cnt: i32, out: usize, n: i32): void {
  let j = 0;
  for (; j + 32 <= n; j += 32) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    const col = src + f4(j);
    for (let t = 0; t < cnt; t++) {
      const r = col + f4(load<i32>(list + f4(t)) * ld);
      a0 = f32x4.add(a0, v128.load(r)); a1 = f32x4.add(a1, v128.load(r, 16));
      a2 = f32x4.add(a2, v128.load(r, 32)); a3 = f32x4.add(a3, v128.load(r, 48));
      a4 = f32x4.add(a4, v128.load(r, 64)); a5 = f32x4.add(a5, v128.load(r, 80));
      a6 = f32x4.add(a6, v128.load(r, 96)); a7 = f32x4.add(a7, v128.load(r, 112));
    }
    const o = out + f4(j);
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
  }
  for (; j + 4 <= n; j += 4) {
    let a = f32x4.splat(0);
    for (let t = 0; t < cnt; t++) a = f32x4.add(a, v128.load(src + f4(load<i32>(list + f4(t)) * ld + j)));
    v128.store(out + f4(j), a);
  }
  for (; j < n; j++) {
    let a: f32 = 0;
    for (let t = 0; t < cnt; t++) a += load<f32>(src + f4(load<i32>(list + f4(t)) * ld + j));
    store<f32>(out + f4(j), a);
  }
}

/** y[i,:] = Σ_{s[i,p] = 1} wT[p,:] for rows i0 ≤ i < i1; wT is w [n,k] transposed to [k,n]; scratch ≥ 4k bytes. */
export function spikeLinear(s: usize, wT: usize, y: usize, m: i32, n: i32, k: i32, i0: i32, i1: i32, scratch: usize): void {
  for (let i = i0; i < i1; i++) {
    const cnt = activeList(s + f4(i * k), k, scratch);
    sumRows(wT, n, scratch, cnt, y + f4(i * n), n);
  }
}

/**
 * y[i,:] for rows i0 ≤ i < i1 straight from w [n,k], without transposing it: each output sums the weights of
 * the row's active inputs (scalar loads). For a few rows (batch-1 inference), where transposing w costs more
 * than the sums; scratch ≥ 4k bytes.
 */
export function spikeLinearRows(s: usize, w: usize, y: usize, m: i32, n: i32, k: i32, i0: i32, i1: i32, scratch: usize): void {
  for (let i = i0; i < i1; i++) {
    const cnt = activeList(s + f4(i * k), k, scratch), yi = y + f4(i * n);
    for (let j = 0; j < n; j++) {
      const wj = w + f4(j * k);
      let a0: f32 = 0, a1: f32 = 0, t = 0;
      for (; t + 2 <= cnt; t += 2) {
        a0 += load<f32>(wj + f4(load<i32>(scratch + f4(t))));
        a1 += load<f32>(wj + f4(load<i32>(scratch + f4(t + 1))));
      }
      if (t < cnt) a0 += load<f32>(wj + f4(load<i32>(scratch + f4(t))));
      store<f32>(yi + f4(j), a0 + a1);
    }
  }
}

/** Scratch bytes per thread of spikeLinearBackwardWeight: column bitmasks of up to k inputs and one row list. */
export function spikeLinearWeightScratchBytes(m: i32, k: i32): i32 {
  return k * ((m + 63) >> 6) * 8 + 4 * m + 64;
}

/** Sets bit i of the column masks of the active inputs p0 ≤ p < p1 of row i (16 inputs per SIMD test). */
@inline function rowBits(row: usize, i: i32, p0: i32, p1: i32, words: i32, bits: usize): void {
  const z = f32x4.splat(0), wi = <usize>(i >> 6) << 3, bit: u64 = <u64>1 << <u64>(i & 63);
  let p = p0;
  for (; p + 16 <= p1; p += 16) {
    const q = row + f4(p);
    const lo = i16x8.narrow_i32x4_s(f32x4.ne(v128.load(q), z), f32x4.ne(v128.load(q, 16), z));
    const hi = i16x8.narrow_i32x4_s(f32x4.ne(v128.load(q, 32), z), f32x4.ne(v128.load(q, 48), z));
    let mask = i8x16.bitmask(i8x16.narrow_i16x8_s(lo, hi));
    while (mask != 0) {
      const a = bits + (<usize>((p - p0 + <i32>ctz(mask)) * words) << 3) + wi;
      mask &= mask - 1;
      store<u64>(a, load<u64>(a) | bit);
    }
  }
  for (; p < p1; p++) {
    if (load<f32>(row + f4(p)) == 0) continue;
    const a = bits + (<usize>((p - p0) * words) << 3) + wi;
    store<u64>(a, load<u64>(a) | bit);
  }
}

/** Inputs per block of spikeLinearBackwardWeight's range: two 16-input SIMD tests per row of s. */
const INPUT_BLOCK: i32 = 32;

/** Blocks of spikeLinearBackwardWeight's range for k inputs. */
export function spikeLinearWeightBlocks(k: i32): i32 {
  return (k + INPUT_BLOCK - 1) / INPUT_BLOCK;
}

/**
 * dwT[p,:] = Σ_{s[i,p] = 1} dy[i,:] for the inputs p of blocks q0 ≤ q < q1 (INPUT_BLOCK inputs each): the
 * transposed weight gradient dwT [k,n], from s [m,k] as it is. One pass over s sets, per input of the range,
 * a bitmask of the rows where it is active; each input then lists its rows from the mask and sums them like
 * spikeLinear. Scratch: spikeLinearWeightScratchBytes.
 */
export function spikeLinearBackwardWeight(s: usize, dy: usize, dwT: usize, m: i32, n: i32, k: i32, q0: i32, q1: i32, scratch: usize): void {
  const p0 = q0 * INPUT_BLOCK, p1 = min(k, q1 * INPUT_BLOCK);
  const words = (m + 63) >> 6, bits = scratch, list = scratch + (<usize>((p1 - p0) * words) << 3);
  memory.fill(bits, 0, <usize>((p1 - p0) * words) << 3);
  for (let i = 0; i < m; i++) rowBits(s + f4(i * k), i, p0, p1, words, bits);
  for (let p = p0; p < p1; p++) {
    const col = bits + (<usize>((p - p0) * words) << 3);
    let cnt = 0;
    for (let w = 0; w < words; w++) {
      let x = load<u64>(col + (<usize>w << 3));
      while (x != 0) {
        store<i32>(list + f4(cnt++), (w << 6) + <i32>ctz(x));
        x &= x - 1;
      }
    }
    sumRows(dy, n, list, cnt, dwT + f4(p * n), n);
  }
}

/** dst[0..len) += src[0..len). */
@inline function addRun(dst: usize, src: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) v128.store(dst + f4(i), f32x4.add(v128.load(dst + f4(i)), v128.load(src + f4(i))));
  for (; i < len; i++) store<f32>(dst + f4(i), load<f32>(dst + f4(i)) + load<f32>(src + f4(i)));
}

/**
 * Repacks w [cout, cinG, kh, kw] as wr [cin][kh][kw][coutG]: the coutG weights one input cell feeds are
 * contiguous. With `reverse` kx runs backwards, so the cells of one kernel row run in output order.
 */
export function spikeConvPackWeights(w: usize, wr: usize, geom: usize, reverse: bool): void {
  const g = changetype<Conv>(geom);
  packTaps(w, wr, g, (g.cin / g.groups) * g.kh, g.kw, reverse);
}

/** The inverse of spikeConvPackWeights(…, reverse = true), into w with beta 0 (overwrite) or 1 (accumulate). */
export function spikeConvUnpackWeights(wr: usize, w: usize, geom: usize, beta: i32): void {
  const g = changetype<Conv>(geom), cinG = g.cin / g.groups, coutG = g.cout / g.groups;
  for (let co = 0; co < g.cout; co++) {
    const grp = co / coutG, cl = co % coutG;
    for (let ci = 0; ci < cinG; ci++) {
      for (let ky = 0; ky < g.kh; ky++) {
        for (let kx = 0; kx < g.kw; kx++) {
          const dst = w + f4(((co * cinG + ci) * g.kh + ky) * g.kw + kx);
          const v = load<f32>(wr + f4(((((grp * cinG + ci) * g.kh + ky) * g.kw + (g.kw - 1 - kx)) * coutG) + cl));
          store<f32>(dst, beta != 0 ? load<f32>(dst) + v : v);
        }
      }
    }
  }
}

/**
 * Visits the taps of active input (c, iy, ix): for each kernel row whose output row oy exists, either one
 * contiguous run (groups 1, stride 1: `run(accOff, wrOff, len)` in floats) or one call per kx.
 * Offsets: acc is [oh·ow, cout] (NHWC), wr as spikeConvPackWeights.
 */
@inline function forEachActiveTap(g: Conv, c: i32, iy: i32, ix: i32, acc: usize, wr: usize, gather: bool): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, grp = c / cinG;
  for (let ky = 0; ky < g.kh; ky++) {
    const ty = iy + g.pH - ky;
    if (ty < 0 || ty % g.sH != 0 || ty / g.sH >= g.oh) continue;
    const oy = ty / g.sH, wrow = wr + f4((c * g.kh + ky) * g.kw * coutG), arow = acc + f4(oy * g.ow * g.cout);
    if (g.groups == 1 && g.sW == 1) {
      // kr = kw−1−kx; ox = ix + pW − kw + 1 + kr must lie in [0, ow)
      const base = ix + g.pW - g.kw + 1, lo = max(0, -base), hi = min(g.kw, g.ow - base);
      if (hi <= lo) continue;
      const a = arow + f4((base + lo) * g.cout), w = wrow + f4(lo * coutG);
      if (gather) addRun(w, a, (hi - lo) * coutG); else addRun(a, w, (hi - lo) * coutG);
      continue;
    }
    for (let kx = 0; kx < g.kw; kx++) {
      const tx = ix + g.pW - kx;
      if (tx < 0 || tx % g.sW != 0 || tx / g.sW >= g.ow) continue;
      const a = arow + f4((tx / g.sW) * g.cout + grp * coutG), w = wrow + f4((g.kw - 1 - kx) * coutG);
      if (gather) addRun(w, a, coutG); else addRun(a, w, coutG);
    }
  }
}

/** Calls forEachActiveTap for every non-zero input of item b (scatter: acc += wr; gather: wr += acc). */
function visitItem(s: usize, g: Conv, b: i32, acc: usize, wr: usize, gather: bool): void {
  const hw = g.h * g.w, z = f32x4.splat(0);
  for (let c = 0; c < g.cin; c++) {
    const plane = s + f4((b * g.cin + c) * hw);
    for (let q0 = 0; q0 < hw; q0 += 4) {
      if (q0 + 4 <= hw && !v128.any_true(f32x4.ne(v128.load(plane + f4(q0)), z))) continue;
      for (let q = q0; q < min(hw, q0 + 4); q++) {
        if (load<f32>(plane + f4(q)) != 0) forEachActiveTap(g, c, q / g.w, q % g.w, acc, wr, gather);
      }
    }
  }
}

/** True when spikeConv2dForward gathers through 64-bit row masks (w ≤ 56, w + padW ≤ 64, kw < 64). */
export function spikeConvGathers(geom: usize): bool {
  const g = changetype<Conv>(geom);
  return g.w <= 56 && g.w + g.pW <= 64 && g.kw < 64;
}

/** Scratch bytes per thread for spikeConv2dForward: NHWC accumulator, row masks, row lists and words (or the channel lists' areas). */
export function spikeConvScratchBytes(geom: usize): i32 {
  const g = changetype<Conv>(geom);
  const rowMasks = 4 * g.cout * g.oh * g.ow + 8 * g.cin * (g.h + 2 * g.pH) + 2 * <i32>rowSpan(g) + g.h * g.w / 8 + 512 + (tableForward(g, geom) ? lutOffsetBytes(g) + 64 : 0);
  return listForward(g, geom) ? max(rowMasks, listScratchBytes(g)) : rowMasks;
}

/** Bytes of each of the row and word areas of spikeConv2dForward's scratch (both gathers fit). */
@inline function rowSpan(g: Conv): usize {
  const q = (g.cin / g.groups) * g.kh;
  return <usize>max(q << 4, (((q + 15) & ~15) << 1) + 32);
}

/**
 * An item takes the table path when (active inputs / inputs) · kw ≥ TABLE_MIN, i.e. from 18 % active on 5×5
 * kernels and 30 % on 3×3 ones: a table row costs about what gathering one active tap does. Measured (one thread, ms): LeNet [128,16,12,12]→16 5×5, table
 * 1.3–2.4 at every density, gather 1.9 / 2.2 / 2.6 / 3.1 at 5 / 10 / 20 / 30 %; [32,64,32,32]→64 3×3 pad 1,
 * table 48–59, gather 18 / 26 / 40 / 52.
 */
const TABLE_MIN: f32 = 0.9;

/** Fewest items for which building the table pays (its build costs about what gathering 12 items saves). */
const TABLE_MIN_ITEMS: i32 = 16;

/** True when the forward may use the table (spike-lut.ts): masks usable, every shift within 64 bits, enough items. */
function tableForward(g: Conv, geom: usize): bool {
  return g.n >= TABLE_MIN_ITEMS && spikeConvGathers(geom) && lutApplies(g) && (g.ow - 1) * g.sW < 64;
}

/** Byte offset of the table after the packed weights in spikeConvForwardPack's buffer. */
@inline function tableOffset(g: Conv): usize {
  return (<usize>(g.cout * (g.cin / g.groups) * g.kh * g.kw * 4) + 63) & ~<usize>63;
}

/**
 * True when sparse items gather with narrowed tap words (spike-masks gatherNarrow): small images, except 3-wide
 * kernels over 32 channels or more, where the channel lists measured 1.03–1.5× faster (for 5×5 kernels, whose
 * words cover pixel pairs, they were 0.7–1.0×).
 */
function narrowForward(g: Conv, geom: usize): bool {
  return spikeConvGathers(geom) && narrowGathers(g) && !(listGathers(g) && g.cin >= 32 && g.kw <= 3);
}

/** True when sparse items gather through channel lists (spike-lists.ts): listGathers shapes that are not narrowForward. */
function listForward(g: Conv, geom: usize): bool {
  return listGathers(g) && !narrowForward(g, geom);
}

/** Byte offset of the gatherNarrow or list weights, after the table (or the packed weights). */
@inline function narrowOffset(g: Conv, geom: usize): usize {
  const table: i32 = tableForward(g, geom) ? lutBytes(g) : 0;
  return tableOffset(g) + ((<usize>table + 63) & ~<usize>63);
}

/**
 * Bytes spikeConvForwardPack writes: the packed weights, the table when tableForward, then the narrow layout
 * (narrowForward) or the list layout (listForward).
 */
export function spikeConvForwardBytes(geom: usize): i32 {
  const g = changetype<Conv>(geom);
  const tail = narrowForward(g, geom) ? narrowWeightBytes(g) : listForward(g, geom) ? listWeightBytes(g) : 0;
  return <i32>narrowOffset(g, geom) + tail;
}

/** Packs w for spikeConv2dForward: gather (or scatter) layout, plus the table and the narrow or list layout where they apply. */
export function spikeConvForwardPack(w: usize, wr: usize, geom: usize): void {
  const g = changetype<Conv>(geom), gather = spikeConvGathers(geom), table = tableForward(g, geom);
  const narrow = narrowForward(g, geom), lists = listForward(g, geom);
  // the [c][ky][kx][coutG] layout serves the scatter, the row-mask gather and the table's build
  if ((!narrow && !lists) || table) spikeConvPackWeights(w, wr, geom, !gather);
  if (table) buildLut(wr, wr + tableOffset(g), g);
  if (narrow) narrowPackWeights(w, wr + narrowOffset(g, geom), g);
  if (lists) listPackWeights(w, wr + narrowOffset(g, geom), g);
}

/** Set bits of the item's row masks. */
function maskCount(masks: usize, n: i32): i32 {
  let c: i64 = 0;
  for (let i = 0; i < n; i++) c += popcnt(load<u64>(masks + (<usize>i << 3)));
  return <i32>c;
}

/**
 * y[b] for b0 ≤ b < b1, weights from spikeConvForwardPack. Items dense enough (TABLE_MIN) add table rows
 * (tableForward); sparser ones sum the weight rows of their active inputs through channel lists (listForward)
 * or gather their active taps from row bitmasks, with the sums in registers; shapes neither can hold scatter
 * each active input's weights into memory.
 */
export function spikeConv2dForward(s: usize, wr: usize, y: usize, geom: usize, b0: i32, b1: i32, scratch: usize): void {
  const g = changetype<Conv>(geom), ohw = g.oh * g.ow, span = rowSpan(g);
  const acc = scratch, masks = (acc + f4(ohw * g.cout) + 63) & ~<usize>63;
  const rows = masks + (<usize>(g.cin * (g.h + 2 * g.pH)) << 3), words = rows + span;
  const bits = words + span + 64, offs = (bits + <usize>(g.h * g.w / 8) + 64 + 63) & ~<usize>63;
  const gather = spikeConvGathers(geom), table = tableForward(g, geom), tab = wr + tableOffset(g);
  const narrow = narrowForward(g, geom), wn = wr + narrowOffset(g, geom), lists = listForward(g, geom);
  const minActive = <i32>(TABLE_MIN / <f32>g.kw * <f32>(g.cin * g.h * g.w));
  for (let b = b0; b < b1; b++) {
    // an item dense enough for the table declines the lists (having counted its active inputs)
    if (lists && listItem(s, wn, g, b, y + f4(b * g.cout * ohw), scratch, table ? minActive : i32.MAX_VALUE)) continue;
    if (gather) {
      buildMasks(s, g, b, masks, bits);
      if (table && maskCount(masks, g.cin * (g.h + 2 * g.pH)) >= minActive) lutItem(masks, tab, g, acc, offs);
      else if (narrow) gatherNarrow(masks, wn, g, acc, rows, words);
      else gatherItem(masks, wr, g, acc, rows, words);
    } else {
      memory.fill(acc, 0, f4(ohw * g.cout));
      visitItem(s, g, b, acc, wr, false);
    }
    transposeStrided(acc, g.cout, y + f4(b * g.cout * ohw), ohw, ohw, g.cout);
  }
}

/** True when the weight gradient gathers per tap (spikeConvGathers, stride 1 along x, 0 < ow < 64). */
function weightGathers(g: Conv, geom: usize): bool {
  return spikeConvGathers(geom) && g.sW == 1 && g.ow > 0 && g.ow < 64;
}

/** Bytes of one item's row masks (16-aligned). */
@inline function maskBytesOf(g: Conv): i32 {
  return (g.cin * (g.h + 2 * g.pH) * 8 + 15) & ~15;
}

/** Items whose masks and transposed dy spikeConv2dBackwardWeight holds at once (about 2 MiB). */
function weightChunk(g: Conv): i32 {
  return max(1, min(g.n, (2 << 20) / (maskBytesOf(g) + weightDyBytes(g))));
}

/** Scratch bytes per thread for spikeConv2dBackwardWeight. */
export function spikeConvWeightScratchBytes(geom: usize): i32 {
  const g = changetype<Conv>(geom);
  if (listWeightGathers(g)) return listWeightScratchBytes(g);
  return max(weightChunk(g) * (maskBytesOf(g) + weightDyBytes(g)), g.oh * g.ow * g.cout * 4) + g.h * g.w / 8 + 256;
}

/**
 * dwr += weight gradient of items b0 ≤ b < b1 in the spikeConvPackWeights(…, true) layout (the caller zeroes
 * dwr and unpacks it). listWeightGathers shapes sum through lists (spike-lists listWeights); for the others
 * each item's dy is transposed to [oh·ow, cout], then either every weight tap gathers its terms through row
 * masks (weightGathers) or every active input scatters into dwr.
 */
export function spikeConv2dBackwardWeight(s: usize, dy: usize, dwr: usize, geom: usize, b0: i32, b1: i32, scratch: usize): void {
  const g = changetype<Conv>(geom), ohw = g.oh * g.ow, dyBytes = <usize>(ohw * g.cout) << 2;
  if (listWeightGathers(g)) { listWeights(s, dy, dwr, g, b0, b1, scratch); return; }
  if (!weightGathers(g, geom)) {
    for (let b = b0; b < b1; b++) {
      transpose(dy + f4(b * g.cout * ohw), scratch, g.cout, ohw);
      visitItem(s, g, b, scratch, dwr, true);
    }
    return;
  }
  // with rowPairs each item's dyᵀ starts with a zero output row
  const chunk = weightChunk(g), maskBytes = <usize>maskBytesOf(g), tBytes = <usize>weightDyBytes(g), lead = tBytes - dyBytes;
  const masks = scratch, dyT = masks + maskBytes * chunk, bits = dyT + tBytes * chunk;
  for (let c0 = b0; c0 < b1; c0 += chunk) {
    const c1 = min(b1, c0 + chunk);
    for (let b = c0; b < c1; b++) {
      buildMasks(s, g, b, masks + maskBytes * (b - c0), bits);
      const item = dyT + tBytes * (b - c0);
      memory.fill(item, 0, lead);
      transpose(dy + f4(b * g.cout * ohw), item + lead, g.cout, ohw);
    }
    gatherWeights(masks, dyT, c1 - c0, maskBytes, tBytes, g, dwr);
  }
}

/**
 * Groups k0 ≤ k < k1 of `per` items each: group k's weight gradient (the spikeConvPackWeights(…, true) layout)
 * is written to accs + k·(weight bytes), zeroed first. Each group's sum is then the same whichever thread
 * takes it, so the groups can be claimed dynamically and still add up to the same bits (in group order).
 */
export function spikeConvWeightGroups(s: usize, dy: usize, accs: usize, geom: usize, per: i32, k0: i32, k1: i32, scratch: usize): void {
  const g = changetype<Conv>(geom), wBytes = <usize>(g.cout * (g.cin / g.groups) * g.kh * g.kw) << 2;
  for (let k = k0; k < k1; k++) {
    const acc = accs + <usize>k * wBytes;
    memory.fill(acc, 0, wBytes);
    spikeConv2dBackwardWeight(s, dy, acc, geom, k * per, min(g.n, (k + 1) * per), scratch);
  }
}
