// Dense convolutions: each call plans its path once (planConvForward, planConvBackwardInput,
// planConvBackwardWeight write a plan record, see plan.ts), then packs the weights and runs the body that
// the plan names: Winograd (conv-winograd), implicit GEMM (conv-implicit, conv-implicit-input) or the im2col
// GEMM (conv-im2col). Each body handles batch items b0 ≤ b < b1 with its own scratch, so threads can split
// the batch. The input gradient of items whose dy is mostly zeros comes from its non-zeros alone
// (conv-sparse-input); the other items run the dense body.
import { NR } from './gemm';
import { Conv, f4 } from './geom';
import {
  FWD_DIRECT, FWD_IM2COL, FWD_IMPLICIT, FWD_PADDED, FWD_WINOGRAD, INPUT_IM2COL, INPUT_IMPLICIT, INPUT_WINOGRAD, ITEM_SPARSE,
  WEIGHT_IM2COL, WEIGHT_IMPLICIT, WEIGHT_WINOGRAD, ImplicitInputPlan, ImplicitPlan, ImplicitWeightPlan, InputPlan,
  PackedInputPlan, PackedPlan, PackedWeightPlan, PaddedPlan, Plan, WinogradInputPlan, WinogradPlan, WinogradWeightPlan,
  align64, innerOf, planAt, viewAs,
} from './plan';
import {
  planWinogradForward, planWinogradWeight, winogradApplies, winogradBackwardWeight, winogradForward, winogradPackWeights,
} from './conv-winograd';
import {
  implicitForward, implicitConvForward, implicitPackWeights, implicitConvBackwardWeight, planImplicitForward, planImplicitWeight,
} from './conv-implicit';
import { implicitInput, implicitConvBackwardInput, implicitInputPackWeights, planImplicitInput } from './conv-implicit-input';
import {
  planSparseInput, sparseInputApplies, sparseInputItem, sparseInputPackWeights, sparseInputWeightBytes, sparseWins,
} from './conv-sparse-input';
import {
  directPack, packedBackwardInput, packedBackwardWeight, packedForward, packedPackWeights, planPackedForward, planPackedInput,
  planPackedWeight,
} from './conv-im2col';

@inline function kSize(g: Conv): i32 { return (g.cin / g.groups) * g.kh * g.kw; }

/**
 * True when the forward pads each item into scratch and runs the implicit body on it: stride 1 with padding,
 * whole 8-pixel output panels, a padded item of at most 1 MiB (larger items keep the packed GEMM).
 */
function paddedImplicit(g: Conv): bool {
  return g.sH == 1 && g.sW == 1 && (g.pH > 0 || g.pW > 0) && g.ow % NR == 0 && paddedBytes(g) <= (1 << 20);
}

/** Bytes of one item zero-padded: cin·(h + 2·padH)·(w + 2·padW) floats. */
@inline function paddedBytes(g: Conv): i32 { return g.cin * (g.h + 2 * g.pH) * (g.w + 2 * g.pW) * 4; }

/**
 * Plans conv2dForward on the geometry at the head of the record `plan`: Winograd, the implicit GEMM, the
 * implicit GEMM on a padded copy of each item, or the packed GEMM (straight from x or through im2col).
 */
export function planConvForward(plan: usize): void {
  const p = planAt<Plan>(plan);
  p.itemPaths = 0;
  if (winogradApplies(p)) { p.path = FWD_WINOGRAD; planWinogradForward(p); return; }
  if (implicitForward(p)) { p.path = FWD_IMPLICIT; planImplicitForward(p); return; }
  if (paddedImplicit(p)) { p.path = FWD_PADDED; planPadded(planAt<PaddedPlan>(plan)); return; }
  p.path = directPack(p) ? FWD_DIRECT : FWD_IM2COL;
  planPackedForward(p);
}

/** FWD_PADDED: the inner plan is the implicit forward of one padded item; the padded item leads the scratch. */
function planPadded(p: PaddedPlan): void {
  const inner = innerOf<ImplicitPlan>(p);
  memory.copy(changetype<usize>(inner), changetype<usize>(p), offsetof<Conv>());
  inner.n = 1; inner.h = p.h + 2 * p.pH; inner.w = p.w + 2 * p.pW; inner.pH = 0; inner.pW = 0;
  inner.path = FWD_IMPLICIT;
  inner.itemPaths = 0;
  planImplicitForward(inner);
  p.weightBytes = inner.weightBytes;
  p.inner = align64(paddedBytes(p));
  p.scratchBytes = p.inner + inner.scratchBytes;
}

/**
 * True when the dense input gradient is the Winograd forward on dy: for stride 1 it is a convolution of dy
 * with the kernels flipped and transposed, padded kh − 1 − padH (padding at most 2), so a Winograd-shaped
 * layer's backward has a Winograd shape too.
 */
function winogradInput(g: Conv): bool {
  return winogradApplies(g) && g.pH <= 2 && g.pW <= 2 && g.h > 0 && g.w > 0;
}

/**
 * Plans conv2dBackwardInput on the geometry at the head of `plan`: the dense body (Winograd, the implicit
 * GEMM or the im2col GEMM) and, when kernel rows are long enough, the sparse path for items whose dy is mostly
 * zeros. The packed weights hold the dense body's layout, then the sparse one at sparseWeights; the scratch
 * the sparse path's areas, then the dense body's at `dense`.
 */
export function planConvBackwardInput(plan: usize): void {
  const p = planAt<InputPlan>(plan);
  // the dense body's plan leaves its own weight and scratch bytes in the header
  if (winogradInput(p)) { p.path = INPUT_WINOGRAD; planWinogradInput(planAt<WinogradInputPlan>(plan)); }
  else if (implicitInput(p)) { p.path = INPUT_IMPLICIT; planImplicitInput(p); }
  else { p.path = INPUT_IM2COL; planPackedInput(p); }
  const sparse = sparseInputApplies(p), sparseScratch = planSparseInput(p);
  p.itemPaths = sparse ? ITEM_SPARSE : 0;
  p.sparseWeights = align64(p.weightBytes);
  p.weightBytes = p.sparseWeights + (sparse ? sparseInputWeightBytes(p) : 0);
  p.dense = sparse ? align64(sparseScratch) : 0;
  p.scratchBytes = p.dense + align64(p.scratchBytes);
}

/**
 * INPUT_WINOGRAD: the inner plan is the Winograd forward of dy → dx (dy's geometry, the kernels flipped and
 * transposed, padding kh − 1 − padH); the packed weights are its operands, then the flipped kernels.
 */
function planWinogradInput(p: WinogradInputPlan): void {
  const gt = innerOf<WinogradPlan>(p);
  gt.n = p.n; gt.cin = p.cout; gt.h = p.oh; gt.w = p.ow; gt.cout = p.cin; gt.kh = p.kh; gt.kw = p.kw;
  gt.sH = 1; gt.sW = 1; gt.pH = p.kh - 1 - p.pH; gt.pW = p.kw - 1 - p.pW; gt.groups = 1; gt.oh = p.h; gt.ow = p.w;
  gt.path = FWD_WINOGRAD;
  gt.itemPaths = 0;
  planWinogradForward(gt);
  p.flipped = align64(gt.weightBytes);
  p.weightBytes = p.flipped + p.cin * p.cout * 36;
  p.scratchBytes = gt.scratchBytes;
}

/** Packs the Winograd input gradient's weights at pa: U of w'[ci][co][ky][kx] = w[co][ci][2 − ky][2 − kx], built from w' at flipped. */
function winogradInputPack(w: usize, pa: usize, p: WinogradInputPlan): void {
  const wt = pa + <usize>p.flipped;
  for (let co = 0; co < p.cout; co++) {
    for (let ci = 0; ci < p.cin; ci++) {
      const src = w + f4((co * p.cin + ci) * 9), dst = wt + f4((ci * p.cout + co) * 9);
      for (let k = 0; k < 9; k++) store<f32>(dst + f4(k), load<f32>(src + f4(8 - k)));
    }
  }
  winogradPackWeights(wt, pa, innerOf<WinogradPlan>(p));
}

/** Plans conv2dBackwardWeight on the geometry at the head of `plan`: Winograd, the implicit GEMM or the im2col GEMM. */
export function planConvBackwardWeight(plan: usize): void {
  const p = planAt<Plan>(plan);
  p.itemPaths = 0;
  if (winogradApplies(p)) { p.path = WEIGHT_WINOGRAD; planWinogradWeight(p); return; }
  if (implicitForward(p)) { p.path = WEIGHT_IMPLICIT; planImplicitWeight(p); return; }
  p.path = WEIGHT_IM2COL;
  planPackedWeight(p);
}

/** Packs w at pa (plan.weightBytes) as the forward or input-gradient plan's path reads it. */
export function convPackWeights(w: usize, pa: usize, plan: usize): void {
  const p = planAt<Plan>(plan);
  switch (p.path) {
    case FWD_WINOGRAD: winogradPackWeights(w, pa, planAt<WinogradPlan>(plan)); break;
    case FWD_IMPLICIT: implicitPackWeights(w, pa, planAt<ImplicitPlan>(plan)); break;
    case FWD_PADDED: implicitPackWeights(w, pa, innerOf<ImplicitPlan>(p)); break;
    case FWD_DIRECT: case FWD_IM2COL: packedPackWeights(w, pa, p, planAt<PackedPlan>(plan).groupBytes, false); break;
    default: inputPackWeights(w, pa, planAt<InputPlan>(plan));
  }
}

/** The input gradient's weights: the dense body's layout, then the sparse path's (ITEM_SPARSE) at sparseWeights. */
function inputPackWeights(w: usize, pa: usize, p: InputPlan): void {
  if (p.itemPaths & ITEM_SPARSE) sparseInputPackWeights(w, pa + <usize>p.sparseWeights, p);
  if (p.path == INPUT_WINOGRAD) winogradInputPack(w, pa, viewAs<WinogradInputPlan>(p));
  else if (p.path == INPUT_IMPLICIT) implicitInputPackWeights(w, pa, p);
  else packedPackWeights(w, pa, p, viewAs<PackedInputPlan>(p).groupBytes, true);
}

/**
 * y[b] for b0 ≤ b < b1 of padded items (FWD_PADDED): each item copied into a zero-bordered buffer, then the
 * implicit body on that buffer as the inner plan's one-item convolution without padding.
 */
function paddedImplicitForward(x: usize, pa: usize, y: usize, g: PaddedPlan, b0: i32, b1: i32, scratch: usize): void {
  const hp = g.h + 2 * g.pH, wp = g.w + 2 * g.pW, xp = scratch, rest = scratch + <usize>g.inner;
  const inner = innerOf<ImplicitPlan>(g), ohw = g.oh * g.ow, hw = g.h * g.w;
  memory.fill(xp, 0, <usize>paddedBytes(g));  // borders stay zero: only the interior is written per item
  for (let b = b0; b < b1; b++) {
    for (let c = 0; c < g.cin; c++) {
      const src = x + f4((b * g.cin + c) * hw), dst = xp + f4((c * hp + g.pH) * wp + g.pW);
      for (let iy = 0; iy < g.h; iy++) memory.copy(dst + f4(iy * wp), src + f4(iy * g.w), f4(g.w));
    }
    implicitConvForward(xp, pa, y + f4(b * g.cout * ohw), inner, 0, 1, rest);
  }
}

/** y[b] = conv(x[b], w) for b0 ≤ b < b1 by the plan's path, weights from convPackWeights. */
export function conv2dForward(x: usize, pa: usize, y: usize, plan: usize, b0: i32, b1: i32, scratch: usize): void {
  const path = planAt<Plan>(plan).path;
  if (path == FWD_WINOGRAD) winogradForward(x, pa, y, planAt<WinogradPlan>(plan), b0, b1, scratch);
  else if (path == FWD_IMPLICIT) implicitConvForward(x, pa, y, planAt<ImplicitPlan>(plan), b0, b1, scratch);
  else if (path == FWD_PADDED) paddedImplicitForward(x, pa, y, planAt<PaddedPlan>(plan), b0, b1, scratch);
  else packedForward(x, pa, y, planAt<PackedPlan>(plan), b0, b1, scratch);
}

/**
 * dx[b] for b0 ≤ b < b1 (overwritten), weights from convPackWeights: with ITEM_SPARSE, items with sparse dy
 * (sparseWins) take the sparse path one by one and runs of the other items go to the dense body; without,
 * the dense body takes them all.
 */
export function conv2dBackwardInput(dy: usize, pa: usize, dx: usize, plan: usize, b0: i32, b1: i32, scratch: usize): void {
  const p = planAt<InputPlan>(plan), dense = scratch + <usize>p.dense, ws = pa + <usize>p.sparseWeights;
  if (!(p.itemPaths & ITEM_SPARSE)) { denseBackwardInput(dy, pa, dx, p, b0, b1, dense); return; }
  let b = b0;
  while (b < b1) {
    let e = b;
    while (e < b1 && !sparseWins(dy, ws, p, e)) e++;
    if (e > b) denseBackwardInput(dy, pa, dx, p, b, e, dense);
    if (e < b1) sparseInputItem(dy, ws, dx, p, e++, scratch);
    b = e;
  }
}

/** True when conv2dBackwardInput takes the sparse path for item b (pa from convPackWeights with this plan). */
export function convInputSparse(dy: usize, pa: usize, plan: usize, b: i32): bool {
  const p = planAt<InputPlan>(plan);
  return (p.itemPaths & ITEM_SPARSE) != 0 && sparseWins(dy, pa + <usize>p.sparseWeights, p, b);
}

/** The dense body: dx[b] for b0 ≤ b < b1 (overwritten) by the plan's path, scratch at the dense area. */
function denseBackwardInput(dy: usize, pa: usize, dx: usize, p: InputPlan, b0: i32, b1: i32, scratch: usize): void {
  if (p.path == INPUT_WINOGRAD) winogradForward(dy, pa, dx, innerOf<WinogradPlan>(p), b0, b1, scratch);
  else if (p.path == INPUT_IMPLICIT) implicitConvBackwardInput(dy, pa, dx, viewAs<ImplicitInputPlan>(p), b0, b1, scratch);
  else packedBackwardInput(dy, pa, dx, viewAs<PackedInputPlan>(p), b0, b1, scratch);
}

/** dw = Σ_{b0 ≤ b < b1} dy[b]·im2col(x[b])ᵀ per group (overwritten) by the plan's path. */
function weightGradient(x: usize, dy: usize, dw: usize, plan: usize, b0: i32, b1: i32, scratch: usize): void {
  const path = planAt<Plan>(plan).path;
  if (path == WEIGHT_WINOGRAD) winogradBackwardWeight(x, dy, dw, planAt<WinogradWeightPlan>(plan), b0, b1, scratch);
  else if (path == WEIGHT_IMPLICIT) implicitConvBackwardWeight(x, dy, dw, planAt<ImplicitWeightPlan>(plan), b0, b1, scratch);
  else packedBackwardWeight(x, dy, dw, planAt<PackedWeightPlan>(plan), b0, b1, scratch);
}

/**
 * Groups k0 ≤ k < k1 of `per` items each: group k's weight gradient is written to accs + k·(weight bytes), so
 * each group's sum is the same whichever thread takes it (as spikeConvWeightGroups).
 */
export function conv2dWeightGroups(x: usize, dy: usize, accs: usize, plan: usize, per: i32, k0: i32, k1: i32, scratch: usize): void {
  const g = changetype<Conv>(plan), wBytes = <usize>(g.cout * kSize(g)) << 2;
  for (let k = k0; k < k1; k++) weightGradient(x, dy, accs + <usize>k * wBytes, plan, k * per, min(g.n, (k + 1) * per), scratch);
}
