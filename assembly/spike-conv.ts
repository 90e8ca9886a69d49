// Spike convolutions: inputs are exactly 0 or 1, so each active input adds a contiguous weight vector (no
// multiplies). Each call plans its path once (planSpikeConvForward, planSpikeConvBackwardWeight write a plan
// record, see plan.ts): channel lists (spike-lists), row-mask gathers (spike-masks) or a scatter for sparse
// items, and table rows (spike-lut) for dense items of the forward. Each body handles batch items
// b0 ≤ b < b1 with its own scratch, so threads can split the batch.
import { Conv, f4, transpose, transposeStrided } from './geom';
import {
  ITEM_TABLE, SPIKE_LISTS, SPIKE_MASKS, SPIKE_NARROW, SPIKE_SCATTER, SPIKE_WEIGHT_LISTS, SPIKE_WEIGHT_MASKS, SPIKE_WEIGHT_SCATTER,
  SpikeForwardPlan, SpikeWeightPlan, align64, planAt,
} from './plan';
import {
  buildMasks, gatherItem, gatherNarrow, gatherWeights, narrowGathers, narrowPackWeights, narrowWeightBytes, packTaps, weightDyBytes,
} from './spike-masks';
import { buildLut, lutApplies, lutBytes, lutItem, lutOffsetBytes } from './spike-lut';
import {
  listGathers, listItem, listPackWeights, listWeightBytes, listWeightGathers, listWeights, planListWeights, planLists,
} from './spike-lists';

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
function spikeConvPackWeights(w: usize, wr: usize, g: Conv, reverse: bool): void {
  packTaps(w, wr, g, (g.cin / g.groups) * g.kh, g.kw, reverse);
}

/**
 * The inverse of spikeConvPackWeights(…, reverse = true), into w with beta 0 (overwrite) or 1 (accumulate);
 * `geom` is any record that starts with the geometry (a plan).
 */
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

/** True when the row-mask paths apply: 64-bit row masks hold a padded row (w ≤ 56, w + padW ≤ 64, kw < 64). */
function masksApply(g: Conv): bool {
  return g.w <= 56 && g.w + g.pW <= 64 && g.kw < 64;
}

/**
 * An item takes the table path when (active inputs / inputs) · kw ≥ TABLE_MIN, i.e. from 0.9/kw density (18 %
 * active on 5×5 kernels, 30 % on 3×3 ones): a table row costs about what gathering one active tap does.
 */
const TABLE_MIN: f32 = 0.9;

/** Fewest items for which building the table pays for itself (smaller batches gather every item). */
const TABLE_MIN_ITEMS: i32 = 16;

/** True when dense items may add table rows (spike-lut.ts): masks usable, every shift within 64 bits, enough items. */
function tableApplies(g: Conv): bool {
  return g.n >= TABLE_MIN_ITEMS && masksApply(g) && lutApplies(g) && (g.ow - 1) * g.sW < 64;
}

/**
 * True when sparse items gather with narrowed tap words (spike-masks gatherNarrow): small images, except 3-wide
 * kernels over 32 channels or more, which the channel lists sum faster (5×5 kernels, whose words cover pixel
 * pairs, keep the narrowed words).
 */
function narrowApplies(g: Conv): bool {
  return masksApply(g) && narrowGathers(g) && !(listGathers(g) && g.cin >= 32 && g.kw <= 3);
}

/** Bytes of each of the row and word areas of the row-mask scratch (both gathers fit). */
@inline function rowSpan(g: Conv): i32 {
  const q = (g.cin / g.groups) * g.kh;
  return max(q << 4, (((q + 15) & ~15) << 1) + 32);
}

/**
 * Plans spikeConv2dForward on the geometry at the head of `plan`: sparse items by channel lists
 * (listGathers shapes that are not narrowApplies), narrowed row-mask gathers, row-mask gathers, or a
 * scatter where row masks cannot hold a row; dense items by table rows where the table applies (ITEM_TABLE).
 */
export function planSpikeConvForward(plan: usize): void {
  const p = planAt<SpikeForwardPlan>(plan), masks = masksApply(p), table = tableApplies(p);
  if (narrowApplies(p)) p.path = SPIKE_NARROW;
  else if (listGathers(p)) p.path = SPIKE_LISTS;
  else p.path = masks ? SPIKE_MASKS : SPIKE_SCATTER;
  p.itemPaths = table ? ITEM_TABLE : 0;
  p.minActive = <i32>(TABLE_MIN / <f32>p.kw * <f32>(p.cin * p.h * p.w));
  // weights: the [c][ky][kx][coutG] layout (scatter, row-mask gather, the table's build), table, narrow or list layout
  const taps = p.path == SPIKE_MASKS || p.path == SPIKE_SCATTER || table;
  p.table = taps ? align64(p.cout * (p.cin / p.groups) * p.kh * p.kw * 4) : 0;
  p.rowWeights = p.table + (table ? align64(lutBytes(p)) : 0);
  p.weightBytes = p.rowWeights + (p.path == SPIKE_NARROW ? narrowWeightBytes(p) : p.path == SPIKE_LISTS ? listWeightBytes(p) : 0);
  // scratch: the NHWC accumulator at 0, then the row-mask areas or the lists' (an item the lists decline takes the table)
  const acc = p.oh * p.ow * p.cout * 4, span = rowSpan(p);
  p.masks = align64(acc);
  p.rows = p.masks + p.cin * (p.h + 2 * p.pH) * 8;
  p.words = p.rows + span;
  p.bits = p.words + span + 64;
  p.offs = align64(p.bits + p.h * p.w / 8 + 64);
  const maskEnd = p.offs + (table ? lutOffsetBytes(p) : 0), listEnd = planLists(p);
  if (p.path == SPIKE_LISTS) p.scratchBytes = table ? max(maskEnd, listEnd) : listEnd;
  else p.scratchBytes = p.path == SPIKE_SCATTER ? acc : maskEnd;
}

/** Packs w for spikeConv2dForward as its plan lays the weights out. */
export function spikeConvForwardPack(w: usize, wr: usize, plan: usize): void {
  const p = planAt<SpikeForwardPlan>(plan), table = (p.itemPaths & ITEM_TABLE) != 0;
  if (p.path == SPIKE_MASKS || p.path == SPIKE_SCATTER || table) spikeConvPackWeights(w, wr, p, p.path == SPIKE_SCATTER);
  if (table) buildLut(wr, wr + <usize>p.table, p);
  if (p.path == SPIKE_NARROW) narrowPackWeights(w, wr + <usize>p.rowWeights, p);
  if (p.path == SPIKE_LISTS) listPackWeights(w, wr + <usize>p.rowWeights, p);
}

/** Set bits of the item's row masks. */
function maskCount(masks: usize, n: i32): i32 {
  let c: i64 = 0;
  for (let i = 0; i < n; i++) c += popcnt(load<u64>(masks + (<usize>i << 3)));
  return <i32>c;
}

/**
 * y[b] for b0 ≤ b < b1, weights from spikeConvForwardPack. Items dense enough (minActive, ITEM_TABLE) add
 * table rows; sparser ones sum the weight rows of their active inputs through channel lists (SPIKE_LISTS)
 * or gather their active taps from row bitmasks, with the sums in registers; shapes neither can hold
 * scatter each active input's weights into memory (SPIKE_SCATTER).
 */
export function spikeConv2dForward(s: usize, wr: usize, y: usize, plan: usize, b0: i32, b1: i32, scratch: usize): void {
  const g = planAt<SpikeForwardPlan>(plan), ohw = g.oh * g.ow, path = g.path, table = (g.itemPaths & ITEM_TABLE) != 0;
  const acc = scratch, masks = scratch + <usize>g.masks, rows = scratch + <usize>g.rows, words = scratch + <usize>g.words;
  const bits = scratch + <usize>g.bits, offs = scratch + <usize>g.offs, tab = wr + <usize>g.table, wn = wr + <usize>g.rowWeights;
  const limit = table ? g.minActive : i32.MAX_VALUE, cm = scratch + <usize>g.listMasks, pos = scratch + <usize>g.positions;
  const listOffs = scratch + <usize>g.listOffsets, list = scratch + <usize>g.list, listBits = scratch + <usize>g.listBits;
  for (let b = b0; b < b1; b++) {
    const yb = y + f4(b * g.cout * ohw);
    // an item dense enough for the table declines the lists (having counted its active inputs)
    if (path == SPIKE_LISTS && listItem(s, wn, g, b, yb, acc, cm, pos, listOffs, list, listBits, limit)) continue;
    if (path == SPIKE_SCATTER) {
      memory.fill(acc, 0, f4(ohw * g.cout));
      visitItem(s, g, b, acc, wr, false);
    } else {
      buildMasks(s, g, b, masks, bits);
      if (table && maskCount(masks, g.cin * (g.h + 2 * g.pH)) >= g.minActive) lutItem(masks, tab, g, acc, offs);
      else if (path == SPIKE_NARROW) gatherNarrow(masks, wn, g, acc, rows, words);
      else gatherItem(masks, wr, g, acc, rows, words);
    }
    transposeStrided(acc, g.cout, yb, ohw, ohw, g.cout);
  }
}

/** Bytes of one item's row masks (16-aligned). */
@inline function maskBytesOf(g: Conv): i32 {
  return (g.cin * (g.h + 2 * g.pH) * 8 + 15) & ~15;
}

/**
 * Plans spikeConv2dBackwardWeight on the geometry at the head of `plan`: lists (listWeightGathers shapes),
 * per-tap gathers through row masks (row masks usable, stride 1 along x, 0 < ow < 64; chunks of items whose
 * masks and transposed dy take about 2 MiB), or a scatter.
 */
export function planSpikeConvBackwardWeight(plan: usize): void {
  const p = planAt<SpikeWeightPlan>(plan), ohw = p.oh * p.ow;
  p.itemPaths = 0;
  p.weightBytes = 0;
  if (listWeightGathers(p)) { p.path = SPIKE_WEIGHT_LISTS; planListWeights(p); return; }
  if (masksApply(p) && p.sW == 1 && p.ow > 0 && p.ow < 64) {
    p.path = SPIKE_WEIGHT_MASKS;
    p.maskBytes = maskBytesOf(p);
    p.itemBytes = weightDyBytes(p);
    p.lead = p.itemBytes - ohw * p.cout * 4;
    p.chunk = max(1, min(p.n, (2 << 20) / (p.maskBytes + p.itemBytes)));
    p.dyT = p.maskBytes * p.chunk;
    p.list = 0;
    p.bits = p.dyT + p.itemBytes * p.chunk;
    p.scratchBytes = p.bits + p.h * p.w / 8 + 64;
    return;
  }
  p.path = SPIKE_WEIGHT_SCATTER;
  p.chunk = 1; p.maskBytes = 0; p.lead = 0; p.list = 0; p.bits = 0; p.dyT = 0;
  p.itemBytes = ohw * p.cout * 4;
  p.scratchBytes = p.itemBytes;
}

/**
 * dwr += weight gradient of items b0 ≤ b < b1 in the spikeConvPackWeights(…, true) layout (the caller zeroes
 * dwr and unpacks it), by the plan's path: lists (spike-lists listWeights); or each item's dy transposed to
 * [oh·ow, cout], then either every weight tap gathers its terms through row masks (SPIKE_WEIGHT_MASKS) or
 * every active input scatters into dwr.
 */
function spikeConv2dBackwardWeight(s: usize, dy: usize, dwr: usize, g: SpikeWeightPlan, b0: i32, b1: i32, scratch: usize): void {
  const ohw = g.oh * g.ow, dyBytes = <usize>(ohw * g.cout) << 2;
  if (g.path == SPIKE_WEIGHT_LISTS) { listWeights(s, dy, dwr, g, b0, b1, scratch); return; }
  if (g.path == SPIKE_WEIGHT_SCATTER) {
    for (let b = b0; b < b1; b++) {
      transpose(dy + f4(b * g.cout * ohw), scratch, g.cout, ohw);
      visitItem(s, g, b, scratch, dwr, true);
    }
    return;
  }
  // with a lead each item's dyᵀ starts with a zero output row (kernel rows in pairs)
  const chunk = g.chunk, maskBytes = <usize>g.maskBytes, tBytes = <usize>g.itemBytes, lead = <usize>g.lead;
  const masks = scratch, dyT = scratch + <usize>g.dyT, bits = scratch + <usize>g.bits;
  for (let c0 = b0; c0 < b1; c0 += chunk) {
    const c1 = min(b1, c0 + chunk);
    for (let b = c0; b < c1; b++) {
      buildMasks(s, g, b, masks + maskBytes * (b - c0), bits);
      const item = dyT + tBytes * (b - c0);
      memory.fill(item, 0, lead);
      transpose(dy + f4(b * g.cout * ohw), item + lead, g.cout, ohw);
    }
    gatherWeights(masks, dyT, c1 - c0, maskBytes, tBytes, lead, g, dwr);
  }
}

/**
 * Groups k0 ≤ k < k1 of `per` items each: group k's weight gradient (the spikeConvPackWeights(…, true) layout)
 * is written to accs + k·(weight bytes), zeroed first. Each group's sum is then the same whichever thread
 * takes it, so the groups can be claimed dynamically and still add up to the same bits (in group order).
 */
export function spikeConvWeightGroups(s: usize, dy: usize, accs: usize, plan: usize, per: i32, k0: i32, k1: i32, scratch: usize): void {
  const g = planAt<SpikeWeightPlan>(plan), wBytes = <usize>(g.cout * (g.cin / g.groups) * g.kh * g.kw) << 2;
  for (let k = k0; k < k1; k++) {
    const acc = accs + <usize>k * wBytes;
    memory.fill(acc, 0, wBytes);
    spikeConv2dBackwardWeight(s, dy, acc, g, k * per, min(g.n, (k + 1) * per), scratch);
  }
}
