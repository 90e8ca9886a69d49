// The quantized spike convolution (spikeConv2dQ in src/kernels/quant.ts): active inputs add rows of integer
// codes, 16 output channels per i8x16 add (ternary) or per two i16x8 adds (4- and 8-bit codes, widened as the
// lists path loads them, or when packed for the windows and the tables). Each call plans its path once
// (planSpikeConvQ, plan.ts): channel lists (below), as the float spike forward sums wide layers, or row-mask
// words shared by neighbouring pixels for small images (quant-windows.ts, quant-lut.ts). A gate switches
// (item, channel) pairs off: the item's open channels' codes are compacted so that the sums run over open
// channels only, and the planes of closed ones are zero-filled.
import { Conv, f4 } from './geom';
import { align64, planAt, QUANT_LISTS, QUANT_LUT, QUANT_WINDOWS, QuantListsPlan, QuantLutPlan, QuantWindowsPlan, SpikeConvQPlan } from './plan';
import { channelBitsBytes, channelMasks, longestSpan, OVERCOPY, pixelList, positionLists, spanList, spanListEntries, spansFit } from './spike-lists';
import { CARRY_BYTES, isWide, lanesOf, rawPixels, rawPlanes, segmentRows, sumLanes, sumLanesRaw, wideLanes } from './quant';
import { planWindows, windowLane, windowRows, windowsApply, windowsGroup, windowsMasks, windowsPack } from './quant-windows';
import { lutApplies, lutGroup, lutPack, lutRows, planLut } from './quant-lut';

/**
 * Bytes per lane of a plan's codes: 1 (ternary; and 4- and 8-bit codes on the lists path, widened as they are
 * loaded) or 2 (i16 lanes of the windows and the tables).
 */
@inline function laneBytes(p: SpikeConvQPlan): i32 {
  return wideLanes(p.bits) && p.path != QUANT_LISTS ? 2 : 1;
}

/**
 * True when the channel lists sum a shape the windows could hold: 3-wide kernels over 32 channels or more in one
 * group, where the windows' words hold few taps per kernel row and many rows (the float spike forward draws the
 * same line between its lists and narrowed row masks).
 */
function listsPreferred(g: Conv): bool {
  return g.groups == 1 && g.cin >= 32 && g.kw <= 3;
}

/** Padded input positions of one item. */
@inline function positions(g: Conv): i32 {
  return (g.h + 2 * g.pH) * (g.w + 2 * g.pW);
}

/** Lays out the lists path's scratch after `start` and returns its end (as the float lists, one group at a time). */
function planListsQ(p: QuantListsPlan, start: i32): i32 {
  const cinG = p.cin / p.groups, n = positions(p);
  p.listMasks = start;
  p.positions = align64(p.listMasks + n * ((cinG + 63) >> 6) * 8);
  p.listOffsets = align64(p.positions + n * 8);
  p.list = align64(p.listOffsets + (cinG * p.h * p.w + 2 * OVERCOPY) * 4);
  p.spans = spansFit(p, p.width) ? 1 : 0;
  return align64(p.list + (spanListEntries(p) + 2 * OVERCOPY) * 4);
}

/** Byte offset in scratch of the compacted weights of gated items: right after the open channels. */
@inline function compactAt(p: SpikeConvQPlan): i32 {
  return align64(p.open + 4 * (p.cout + 2 * p.groups));
}

/**
 * Plans spikeConv2dQ on the geometry, bits and gate flag at the head of `plan`: the windows path where
 * windowsApply holds (unless listsPreferred), else channel lists, which take any geometry.
 */
export function planSpikeConvQ(plan: usize): void {
  const p = planAt<SpikeConvQPlan>(plan), cinG = p.cin / p.groups, windows = windowsApply(p) && !listsPreferred(p);
  const lut = windows && lutApplies(p, p.bits);
  p.path = lut ? QUANT_LUT : windows ? QUANT_WINDOWS : QUANT_LISTS;
  p.itemPaths = 0;
  p.width = lanesOf(p.cout / p.groups);
  p.rows = lut ? lutRows(p) : windows ? windowRows(p) : p.kh * p.kw * cinG;
  p.groupBytes = align64(p.rows * p.width * laneBytes(p));
  p.scale = p.groups * p.groupBytes;
  p.weightBytes = p.scale + 4 * p.groups * p.width;
  // scratch: carries, the f32 sums (the whole item for the windows, one output row for the lists), open channels
  p.open = align64(CARRY_BYTES + (windows ? p.oh * p.ow : p.ow) * p.width * 4);
  p.planeBits = align64(compactAt(p) + (p.gated != 0 ? p.weightBytes : 0));
  const end = align64(p.planeBits + (windows ? p.h * p.w / 8 + 64 : channelBitsBytes(p)));
  p.scratchBytes = lut ? planLut(planAt<QuantLutPlan>(plan), end)
    : windows ? planWindows(planAt<QuantWindowsPlan>(plan), end) : planListsQ(planAt<QuantListsPlan>(plan), end);
}

/** Packs q [cout, cinG, kh, kw] (i8) into the lists layout (row (ky·kw + kx)·cinG + cl, tap-major) at wr, zeroed by the caller. */
function listsPack(q: usize, wr: usize, p: SpikeConvQPlan): void {
  const cinG = p.cin / p.groups, coutG = p.cout / p.groups, cout = p.cout, kh = p.kh, kw = p.kw;
  const lb = laneBytes(p), rowBytes = p.width * lb, groupBytes = p.groupBytes;
  let src = q;
  for (let co = 0; co < cout; co++) {
    const base = wr + <usize>((co / coutG) * groupBytes + (co % coutG) * lb);
    for (let ci = 0; ci < cinG; ci++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++, src++) {
          const at = base + <usize>(((ky * kw + kx) * cinG + ci) * rowBytes);
          if (lb == 2) store<i16>(at, <i16>load<i8>(src));
          else store<i8>(at, load<i8>(src));
        }
      }
    }
  }
}

/**
 * Packs q [cout, cinG, kh, kw] (i8) and scale [cout] as the plan lays them out (the path's layout of codes, then
 * each group's scales padded to width); pad lanes and unused rows are 0.
 */
export function spikeConvQPack(q: usize, scale: usize, wr: usize, plan: usize): void {
  const p = planAt<SpikeConvQPlan>(plan), coutG = p.cout / p.groups, scales = wr + <usize>p.scale, width = p.width;
  memory.fill(wr, 0, <usize>p.weightBytes);
  if (p.path == QUANT_LUT) lutPack(q, wr, planAt<QuantLutPlan>(plan));
  else if (p.path == QUANT_WINDOWS) windowsPack(q, wr, planAt<QuantWindowsPlan>(plan));
  else listsPack(q, wr, p);
  for (let co = 0; co < p.cout; co++) store<f32>(scales + f4((co / coutG) * width + co % coutG), load<f32>(scale + f4(co)));
}

// The open channels of an item, at scratch + plan.open: i32 counts [groups], lane widths [groups], then each
// group's open channels (indices within the group) from i32 index 2·groups + grp·coutG.
@inline function openCount(info: usize, grp: i32): i32 { return load<i32>(info + f4(grp)); }
@inline function openWidth(p: Conv, info: usize, grp: i32): i32 { return load<i32>(info + f4(p.groups + grp)); }

/**
 * Records item b's open channels per group in info (every channel when there is no gate) and returns how many
 * there are; a group's width is the plan's, or its open channels rounded up to 16 when some are closed.
 */
function openChannels(p: SpikeConvQPlan, gate: usize, b: i32, info: usize): i32 {
  const coutG = p.cout / p.groups, gated = p.gated != 0;
  let total = 0;
  for (let grp = 0; grp < p.groups; grp++) {
    let c = 0;
    for (let cl = 0; cl < coutG; cl++) {
      if (gated && load<u8>(gate + <usize>(b * p.cout + grp * coutG + cl)) == 0) continue;
      store<i32>(info + f4(2 * p.groups + grp * coutG + c), cl);
      c++;
    }
    store<i32>(info + f4(grp), c);
    store<i32>(info + f4(p.groups + grp), c == coutG ? p.width : lanesOf(c));
    total += c;
  }
  return total;
}

/** Byte offset within a group's codes of row r's lane for channel ch, rows `width` lanes wide: the lists or the windows layout. */
@inline function laneAt(windows: bool, rows: i32, width: i32, r: i32, ch: i32, lb: i32): i32 {
  return windows ? windowLane(rows, r, ch, lb) : (r * width + ch) * lb;
}

/** The packed codes and scales of the open channels only, group by group, in the packed layout at dst (narrower rows). */
function compactWeights(p: SpikeConvQPlan, wr: usize, dst: usize, info: usize): void {
  const lb = laneBytes(p), rows = p.rows, width = p.width, groupBytes = p.groupBytes, scales = <usize>p.scale, groups = p.groups;
  const chans = info + f4(2 * groups), coutG = p.cout / groups, windows = p.path != QUANT_LISTS;
  for (let grp = 0; grp < groups; grp++) {
    const c = load<i32>(info + f4(grp)), wc = load<i32>(info + f4(groups + grp)), ch = chans + f4(grp * coutG);
    if (c == 0) continue;
    const src = wr + <usize>(grp * groupBytes), d = dst + <usize>(grp * groupBytes);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < wc; j++) {
        const at = d + <usize>laneAt(windows, rows, wc, r, j, lb);
        const from = j < c ? src + <usize>laneAt(windows, rows, width, r, load<i32>(ch + f4(j)), lb) : 0;
        if (lb == 2) store<i16>(at, j < c ? load<i16>(from) : 0);
        else store<i8>(at, j < c ? load<i8>(from) : 0);
      }
    }
    const ss = wr + scales + f4(grp * width), ds = dst + scales + f4(grp * width);
    for (let j = 0; j < c; j++) store<f32>(ds + f4(j), load<f32>(ss + f4(load<i32>(ch + f4(j)))));
    memory.fill(ds + f4(c), 0, f4(wc - c));
  }
}

/**
 * Plane c (planeBytes apart from dst on) gets acc[i·width + c] for pixels i < pixels and channels c < channels:
 * 4×4 blocks transposed in registers, pointers stepped rather than recomputed.
 */
function toPlanes(acc: usize, width: i32, dst: usize, planeBytes: usize, pixels: i32, channels: i32): void {
  const rowBytes = <usize>width << 2, p4 = pixels & ~3, c4 = channels & ~3, step = rowBytes << 2;
  for (let c = 0; c < c4; c += 4) {
    let s = acc + f4(c), d = dst + planeBytes * <usize>c;
    const d1 = planeBytes, d2 = planeBytes << 1, d3 = d1 + d2;
    for (let i = 0; i < p4; i += 4, s += step, d += 16) {
      const r0 = v128.load(s), r1 = v128.load(s + rowBytes), r2 = v128.load(s + (rowBytes << 1)), r3 = v128.load(s + rowBytes * 3);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(d + d1, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(d + d2, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(d + d3, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
    for (let k = 0; k < 4; k++) {
      for (let i = p4; i < pixels; i++) store<f32>(dst + planeBytes * <usize>(c + k) + f4(i), load<f32>(acc + f4(i * width + c + k)));
    }
  }
  for (let c = c4; c < channels; c++) {
    for (let i = 0; i < pixels; i++) store<f32>(dst + planeBytes * <usize>c + f4(i), load<f32>(acc + f4(i * width + c)));
  }
}

/**
 * Group grp's f32 sums acc [pixels][width] written to item yb's planes from pixel pix0 on: its channels in order,
 * or (mapped) each open channel to its own plane.
 */
function emitGroup(acc: usize, width: i32, yb: usize, p: SpikeConvQPlan, grp: i32, pix0: i32, pixels: i32, info: usize, mapped: bool): void {
  const ohw = p.oh * p.ow, coutG = p.cout / p.groups;
  if (!mapped) {
    toPlanes(acc, width, yb + f4(grp * coutG * ohw + pix0), f4(ohw), pixels, coutG);
    return;
  }
  const chans = info + f4(2 * p.groups + grp * coutG);
  for (let j = 0, c = openCount(info, grp); j < c; j++) {
    const plane = yb + f4((grp * coutG + load<i32>(chans + f4(j))) * ohw + pix0);
    for (let i = 0; i < pixels; i++) store<f32>(plane + f4(i), load<f32>(acc + f4(i * width + j)));
  }
}

/** Zero-fills the planes of item b's closed channels. */
function zeroClosed(p: SpikeConvQPlan, gate: usize, b: i32, yb: usize): void {
  const ohw = p.oh * p.ow;
  for (let co = 0; co < p.cout; co++) if (load<u8>(gate + <usize>(b * p.cout + co)) == 0) memory.fill(yb + f4(co * ohw), 0, f4(ohw));
}

/** Entries of the window whose position records start at `first` (rows rowStep bytes apart): kh spans, or kh·kw lists. */
@inline function windowCount(first: usize, rowStep: usize, kh: i32, kw: i32, spans: bool): i32 {
  let n = 0;
  for (let ky = 0; ky < kh; ky++) {
    const row = first + <usize>ky * rowStep, last = row + (<usize>(kw - 1) << 3);
    if (spans) { n += load<i32>(last) + load<i32>(last, 4) - load<i32>(row); continue; }
    for (let r = row; r <= last; r += 8) n += load<i32>(r, 4);
  }
  return n;
}

/** One pixel's raw sums (sumLanesRaw), a function of its own as sumPixel. */
function sumRaw<L>(list: usize, end: usize, w: usize, out: usize, lanes: i32): void {
  sumLanesRaw<L>(list, end, w, out, lanes);
}

/** One pixel's sums (sumLanes), a function of its own: inlined into the pixel loop, V8 spilled its registers. */
function sumPixel<L>(list: usize, end: usize, w: usize, out: usize, scale: usize, carry: usize, lanes: i32, seg: i32): void {
  sumLanes<L>(list, end, w, out, scale, carry, lanes, seg);
}

/**
 * Item b by channel lists, group by group: the group's active channels listed per position once, then every
 * output pixel sums the code rows its window's lists name (codes at w, the packed or compacted layout) into
 * one output row of sums, which goes to the planes after each row: as raw lanes transposed before they are
 * widened (rawPlanes) when the row allows it, else as floats (emitGroup).
 */
function listsItem<L>(s: usize, sb: usize, w: usize, p: QuantListsPlan, b: i32, yb: usize, scratch: usize, info: usize, mapped: bool): void {
  const cinG = p.cin / p.groups, seg = segmentRows(p.bits);
  const cm = scratch + <usize>p.listMasks, pos = scratch + <usize>p.positions, offs = scratch + <usize>p.listOffsets;
  const list = scratch + <usize>p.list, bits = scratch + <usize>p.planeBits, acc = scratch + <usize>CARRY_BYTES, carry = scratch;
  const spans = p.spans != 0, coutG = p.cout / p.groups, ohw = p.oh * p.ow;
  // the geometry in locals: the sums store to memory, after which a field of the record would be loaded again
  const kh = p.kh, kw = p.kw, oh = p.oh, ow = p.ow, posRow = <usize>((p.w + 2 * p.pW) << 3), posY = posRow * <usize>p.sH;
  const sW = p.sW, posX = <usize>(sW << 3), groups = p.groups, groupBytes = p.groupBytes, scales = w + <usize>p.scale, width0 = p.width;
  for (let grp = 0; grp < groups; grp++) {
    if (openCount(info, grp) == 0) continue;
    const width = openWidth(p, info, grp), rowBytes = width, tapBytes = cinG * rowBytes;
    const wg = w + <usize>(grp * groupBytes), scale = scales + f4(grp * width0);
    channelMasks(s, p, b, grp, cm, bits, sb);
    positionLists(p, cm, pos, offs, rowBytes, spans ? tapBytes : 0);
    const copy = spans ? longestSpan(p, pos) : 0;
    for (let oy = 0; oy < oh; oy++) {
      const first = pos + <usize>oy * posY;
      // raw lanes when every list of the row fits one segment, the group's channels are all open and the row holds
      // a block of rawPlanes: the row's sums are transposed in L lanes and widened once, straight into the planes
      let raw = !mapped && ow >= rawPixels<L>();
      for (let ox = 0; raw && ox < ow; ox++) raw = windowCount(first + <usize>ox * posX, posRow, kh, kw, spans) <= seg;
      for (let ox = 0; ox < ow; ox++) {
        const at = first + <usize>ox * posX;
        const end = spans ? spanList(at, posRow, offs, list, kh, kw, tapBytes, ox * sW * tapBytes, copy) : pixelList(at, posRow, offs, list, kh, kw, tapBytes);
        if (raw) sumRaw<L>(list, end, wg, acc + <usize>(ox * width * sizeof<L>()), width);
        else sumPixel<L>(list, end, wg, acc + f4(ox * width), scale, carry, width, seg);
      }
      if (raw) rawPlanes<L>(acc, width, yb + f4(grp * coutG * ohw + oy * ow), f4(ohw), ow, coutG, scale, carry);
      else emitGroup(acc, width, yb, p, grp, oy * ow, ow, info, mapped);
    }
  }
}

/** Item b by the windows path: row masks once, then each group's sums for the whole item, then its planes. */
function windowsItem<L>(s: usize, sb: usize, w: usize, p: QuantWindowsPlan, b: i32, yb: usize, scratch: usize, info: usize, mapped: bool): void {
  const acc = scratch + <usize>CARRY_BYTES, seg = segmentRows(p.bits);
  windowsMasks(s, sb, p, b, scratch);
  for (let grp = 0; grp < p.groups; grp++) {
    if (openCount(info, grp) == 0) continue;
    const width = openWidth(p, info, grp);
    windowsGroup<L>(p, grp, w + <usize>(grp * p.groupBytes), w + <usize>p.scale + f4(grp * p.width), width, acc, scratch, scratch, seg);
    emitGroup(acc, width, yb, p, grp, 0, p.oh * p.ow, info, mapped);
  }
}

/** Item b by tables: row masks once, then each group's sums for the whole item, then its planes. */
function lutItem<L>(s: usize, sb: usize, w: usize, p: QuantLutPlan, b: i32, yb: usize, scratch: usize, info: usize, mapped: bool): void {
  const acc = scratch + <usize>CARRY_BYTES;
  windowsMasks(s, sb, p, b, scratch);
  for (let grp = 0; grp < p.groups; grp++) {
    if (openCount(info, grp) == 0) continue;
    const width = openWidth(p, info, grp);
    // ternary sums, which fit i16, leave as raw lanes transposed before they are widened (rawPlanes)
    const scale = w + <usize>p.scale + f4(grp * p.width), ohw = p.oh * p.ow, raw = !isWide<L>() && !mapped && ohw >= rawPixels<i16>();
    lutGroup<L>(p, grp, w + <usize>(grp * p.groupBytes), scale, width, acc, scratch, scratch, raw);
    if (raw) rawPlanes<i16>(acc, width, yb + f4(grp * (p.cout / p.groups) * ohw), f4(ohw), ohw, p.cout / p.groups, scale, scratch);
    else emitGroup(acc, width, yb, p, grp, 0, ohw, info, mapped);
  }
}

/**
 * y[b] for items b0 ≤ b < b1, codes and scales from spikeConvQPack at wr; with sb ≠ 0 the windows, the tables
 * and (planes of a whole number of bytes) the lists read the spikes packed one bit each there instead of the
 * floats at s; gate (a pointer to n·cout bytes) is read when the plan says gated. An item with closed channels
 * compacts its open channels' codes first and zero-fills the closed planes; an item with none open costs only
 * the zeros.
 */
export function spikeConv2dQ(s: usize, sb: usize, wr: usize, y: usize, gate: usize, plan: usize, b0: i32, b1: i32, scratch: usize): void {
  const p = planAt<SpikeConvQPlan>(plan), ohw = p.oh * p.ow, info = scratch + <usize>p.open;
  for (let b = b0; b < b1; b++) {
    const yb = y + f4(b * p.cout * ohw), open = openChannels(p, gate, b, info), mapped = open < p.cout;
    let w = wr;
    if (mapped) {
      zeroClosed(p, gate, b, yb);
      if (open == 0) continue;
      w = scratch + <usize>compactAt(p);
      compactWeights(p, wr, w, info);
    }
    const wide = wideLanes(p.bits), windows = p.path == QUANT_WINDOWS;
    if (p.path == QUANT_LUT && wide) lutItem<i16>(s, sb, w, planAt<QuantLutPlan>(plan), b, yb, scratch, info, mapped);
    else if (p.path == QUANT_LUT) lutItem<i8>(s, sb, w, planAt<QuantLutPlan>(plan), b, yb, scratch, info, mapped);
    else if (windows && wide) windowsItem<i16>(s, sb, w, planAt<QuantWindowsPlan>(plan), b, yb, scratch, info, mapped);
    else if (windows) windowsItem<i8>(s, sb, w, planAt<QuantWindowsPlan>(plan), b, yb, scratch, info, mapped);
    else if (wide) listsItem<i16>(s, sb, w, planAt<QuantListsPlan>(plan), b, yb, scratch, info, mapped);
    else listsItem<i8>(s, sb, w, planAt<QuantListsPlan>(plan), b, yb, scratch, info, mapped);
  }
}
