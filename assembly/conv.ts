// Convolution bodies: im2col packed straight into GEMM panels, then the blocked GEMM, per batch item and
// group (shapes that conv-implicit takes skip the packing). Each export handles batch items b0 ≤ b < b1
// with its own scratch, so threads can split the batch. The input gradient of items whose dy is mostly
// zeros comes from its non-zeros alone (conv-sparse-input); the other items run the dense body.
import { MR, NR, packA, packB, packedBytes, gemmPacked } from './gemm';
import { Conv, f4, validHi, validLo } from './geom';
import {
  winogradApplies, winogradBackwardWeight, winogradForward, winogradPackWeights, winogradScratchBytes, winogradWeightBytes,
  winogradWeightScratchBytes,
} from './conv-winograd';
import {
  implicitForward, implicitConvForward, implicitPackWeights, implicitScratchBytes, implicitWeightBytes,
  implicitConvBackwardWeight, implicitWeightScratchBytes,
} from './conv-implicit';
import {
  implicitInput, implicitConvBackwardInput, implicitInputPackWeights, implicitInputScratchBytes, implicitInputWeightBytes,
} from './conv-implicit-input';
import {
  sparseInputItem, sparseInputPackWeights, sparseInputScratchBytes, sparseInputWeightBytes, sparseWins,
} from './conv-sparse-input';

const TILE_BYTES: usize = 256;
const CHUNK_BYTES: i32 = 4 << 20;

@inline function kSize(g: Conv): i32 { return (g.cin / g.groups) * g.kh * g.kw; }

/** Bytes rounded up to a multiple of 64. */
@inline function align64(bytes: i32): i32 { return (bytes + 63) & ~63; }

/**
 * True when the forward pads each item into scratch and runs the implicit body on it: stride 1 with padding,
 * whole 8-pixel output panels, a padded item of at most 1 MiB. Measured against the packed GEMM on 3×3 pad 1
 * layers, batch 32, one thread: 1.9× faster at 16 channels 16×16, 1.5× at 32 channels, 1.02× at 64 (32×32).
 */
function paddedImplicit(g: Conv): bool {
  return g.sH == 1 && g.sW == 1 && (g.pH > 0 || g.pW > 0) && g.ow % NR == 0 && paddedBytes(g) <= (1 << 20);
}

/** Bytes of one item zero-padded: cin·(h + 2·padH)·(w + 2·padW) floats. */
@inline function paddedBytes(g: Conv): i32 { return g.cin * (g.h + 2 * g.pH) * (g.w + 2 * g.pW) * 4; }

/** Bytes of the padded item's geometry record (a Conv, 64 bytes reserved). */
const GEOM_BYTES: usize = 64;

/**
 * True when the dense input gradient is the Winograd forward on dy: for stride 1 it is a convolution of dy
 * with the kernels flipped and transposed, padded kh − 1 − padH (padding at most 2), so a Winograd-shaped
 * layer's backward has a Winograd shape too.
 */
function winogradInput(g: Conv): bool {
  return winogradApplies(g) && g.pH <= 2 && g.pW <= 2 && g.h > 0 && g.w > 0;
}

/** Writes to gt the forward geometry of g's input gradient (winogradInput shapes): dy → dx with flipped kernels. */
function inputAsForward(g: Conv, gt: Conv): Conv {
  gt.n = g.n; gt.cin = g.cout; gt.h = g.oh; gt.w = g.ow; gt.cout = g.cin; gt.kh = g.kh; gt.kw = g.kw;
  gt.sH = 1; gt.sW = 1; gt.pH = g.kh - 1 - g.pH; gt.pW = g.kw - 1 - g.pW; gt.groups = 1; gt.oh = g.h; gt.ow = g.w;
  return gt;
}

/** A geometry record for scratch-size queries, which only the calling thread makes (convScratchBytes). */
const sizeGeom = changetype<Conv>(memory.data(<i32>GEOM_BYTES));

/** Bytes of the Winograd input-gradient weights: geometry record, Winograd operands, the flipped kernels. */
function winogradInputBytes(g: Conv): i32 {
  return <i32>GEOM_BYTES + align64(winogradWeightBytes(g.cin, g.cout)) + g.cin * g.cout * 36;
}

/** Packs the input gradient's Winograd weights at pa: the record, then U of w'[ci][co][ky][kx] = w[co][ci][2 − ky][2 − kx]. */
function winogradInputPack(w: usize, pa: usize, g: Conv): void {
  const gt = inputAsForward(g, changetype<Conv>(pa)), wt = pa + GEOM_BYTES + <usize>align64(winogradWeightBytes(g.cin, g.cout));
  for (let co = 0; co < g.cout; co++) {
    for (let ci = 0; ci < g.cin; ci++) {
      const src = w + f4((co * g.cin + ci) * 9), dst = wt + f4((ci * g.cout + co) * 9);
      for (let k = 0; k < 9; k++) store<f32>(dst + f4(k), load<f32>(src + f4(8 - k)));
    }
  }
  winogradPackWeights(wt, pa + GEOM_BYTES, gt);
}

/**
 * y[b] for b0 ≤ b < b1 of a paddedImplicit shape: each item copied into a zero-bordered buffer, then the
 * implicit body on that buffer as a one-item convolution without padding.
 */
function paddedImplicitForward(x: usize, pa: usize, y: usize, g: Conv, b0: i32, b1: i32, scratch: usize): void {
  const hp = g.h + 2 * g.pH, wp = g.w + 2 * g.pW, gp = changetype<Conv>(scratch), xp = scratch + GEOM_BYTES;
  memory.copy(scratch, changetype<usize>(g), offsetof<Conv>());
  gp.n = 1; gp.h = hp; gp.w = wp; gp.pH = 0; gp.pW = 0;
  memory.fill(xp, 0, <usize>paddedBytes(g));  // borders stay zero: only the interior is written per item
  const rest = xp + <usize>align64(paddedBytes(g)), ohw = g.oh * g.ow, hw = g.h * g.w;
  for (let b = b0; b < b1; b++) {
    for (let c = 0; c < g.cin; c++) {
      const src = x + f4((b * g.cin + c) * hw), dst = xp + f4((c * hp + g.pH) * wp + g.pW);
      for (let iy = 0; iy < g.h; iy++) memory.copy(dst + f4(iy * wp), src + f4(iy * g.w), f4(g.w));
    }
    implicitConvForward(xp, pa, y + f4(b * g.cout * ohw), gp, 0, 1, rest);
  }
}

/**
 * Packs the weights of every group as GEMM A panels: forward uses W_g, backward-input W_gᵀ (`trans`).
 * Backward-input weights are followed (at denseInputWeightBytes) by the layout of the sparse path.
 */
export function convPackWeights(w: usize, pa: usize, geom: usize, trans: bool): void {
  const g = changetype<Conv>(geom), coutG = g.cout / g.groups, K = kSize(g);
  if (trans) sparseInputPackWeights(w, pa + <usize>denseInputWeightBytes(g), g);
  if (trans && winogradInput(g)) { winogradInputPack(w, pa, g); return; }
  if (trans && implicitInput(g)) { implicitInputPackWeights(w, pa, g); return; }
  if (!trans && winogradApplies(g)) { winogradPackWeights(w, pa, g); return; }
  if (!trans && (implicitForward(g) || paddedImplicit(g))) { implicitPackWeights(w, pa, g); return; }
  for (let grp = 0; grp < g.groups; grp++) {
    const src = w + f4(grp * coutG * K);
    if (trans) packA(src, 1, K, K, coutG, pa + <usize>(grp * packedBytes(K, coutG, MR)), coutG, 0);
    else packA(src, K, 1, coutG, K, pa + <usize>(grp * packedBytes(coutG, K, MR)), K, 0);
  }
}

/** Bytes of the dense body's backward-input weights (64-byte aligned: the sparse layout follows). */
function denseInputWeightBytes(g: Conv): i32 {
  if (winogradInput(g)) return align64(winogradInputBytes(g));
  return align64(implicitInput(g) ? implicitInputWeightBytes(g) : g.groups * packedBytes(kSize(g), g.cout / g.groups, MR));
}

/** Bytes of packed weights (`trans` as in convPackWeights). */
export function convWeightBytes(geom: usize, trans: bool): i32 {
  const g = changetype<Conv>(geom), coutG = g.cout / g.groups, K = kSize(g);
  if (trans) return denseInputWeightBytes(g) + sparseInputWeightBytes(g);
  if (winogradApplies(g)) return winogradWeightBytes(g.cout, g.cin);
  if (implicitForward(g) || paddedImplicit(g)) return implicitWeightBytes(g);
  return g.groups * packedBytes(coutG, K, MR);
}

/** Items per chunk of the weight-gradient GEMM (its k axis runs over chunk·oh·ow pixels). */
function weightChunk(g: Conv): i32 {
  const per = g.oh * g.ow * (kSize(g) + NR + g.cout / g.groups + MR) * 4;
  return max(1, min(g.n, CHUNK_BYTES / max(1, per)));
}

/** Scratch bytes one thread needs: kind 0 forward, 1 backward-input, 2 backward-weight. */
export function convScratchBytes(geom: usize, kind: i32): i32 {
  const g = changetype<Conv>(geom), coutG = g.cout / g.groups, K = kSize(g), ohw = g.oh * g.ow;
  if (kind == 0 && winogradApplies(g)) return winogradScratchBytes(g);
  if (kind == 0 && implicitForward(g)) return implicitScratchBytes(g);
  if (kind == 0 && paddedImplicit(g)) return <i32>GEOM_BYTES + align64(paddedBytes(g)) + implicitScratchBytes(g);
  if (kind == 1) return align64(sparseInputScratchBytes(g)) + denseInputScratchBytes(g);
  if (winogradApplies(g)) return winogradWeightScratchBytes(g);
  if (kind == 0) return <i32>TILE_BYTES + packedBytes(min(ohw, forwardChunk(g) * NR), K, NR) + (directPack(g) ? 0 : K * ohw * 4);
  if (implicitForward(g)) return implicitWeightScratchBytes(g);
  const kk = weightChunk(g) * ohw;
  return <i32>TILE_BYTES + packedBytes(coutG, kk, MR) + packedBytes(K, kk, NR) + K * ohw * 4;
}

/** One input value of a group's im2col matrix, or 0 in the padding. */
@inline function tap(xg: usize, g: Conv, ci: i32, iy: i32, ix: i32): f32 {
  return iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? load<f32>(xg + f4((ci * g.h + iy) * g.w + ix)) : 0;
}

/** Panel jp when its 8 pixels lie in one output row and stride is 1: mostly two v128 copies per tap. */
function packConvPanelRow(xg: usize, g: Conv, cinG: i32, dst: usize, oy: i32, ox0: i32): void {
  const h = g.h, w = g.w, kh = g.kh, kw = g.kw, pW = g.pW;
  let d = dst;
  for (let ci = 0; ci < cinG; ci++) {
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * g.sH - g.pH + ky, rowIn = iy >= 0 && iy < h, src0 = xg + f4((ci * h + iy) * w + ox0 - pW);
      for (let kx = 0; kx < kw; kx++) {
        const ix0 = ox0 - pW + kx;
        if (rowIn && ix0 >= 0 && ix0 + 8 <= w) {
          const src = src0 + f4(kx);
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
        } else {
          for (let r = 0; r < 8; r++) store<f32>(d + f4(r), tap(xg, g, ci, iy, ix0 + r));
        }
        d += 32;
      }
    }
  }
}

/**
 * Writes panels jp0 ≤ jp < jp1 (8 pixels each) of one group's im2col matrix ([K, oh·ow], K = cinG·kh·kw)
 * as GEMM B panels; panel jp goes to pb + (jp − jp0)·K·32. Needs directPack (each panel in one row).
 */
function packConvB(xg: usize, g: Conv, cinG: i32, pb: usize, jp0: i32, jp1: i32): void {
  const ohw = g.oh * g.ow, K = cinG * g.kh * g.kw;
  for (let jp = jp0; jp < jp1; jp++) {
    const j0 = jp * NR, dst = pb + f4((jp - jp0) * K * NR), ox0 = j0 % g.ow;
    packConvPanelRow(xg, g, cinG, dst, j0 / g.ow, ox0);
  }
}

/** dst[0..n) = src[0..n) for short runs, 4 lanes at a time. */
@inline function copyRun(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + f4(i), v128.load(src + f4(i)));
  for (; i < n; i++) store<f32>(dst + f4(i), load<f32>(src + f4(i)));
}

/** dst[0..n) = 0 for short runs (memory.fill is a call into the engine: too slow per im2col row). */
@inline function zeroRun(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + f4(i), z);
  for (; i < n; i++) store<f32>(dst + f4(i), 0);
}

/** The im2col matrix of one group, col [K, oh·ow] row-major: row (ci,ky,kx) holds the input each output reads. */
function im2col(xg: usize, g: Conv, cinG: i32, col: usize): void {
  // geometry in locals: every g.field is a memory load, and this loop runs K·oh times per item
  const h = g.h, w = g.w, oh = g.oh, ow = g.ow, sH = g.sH, sW = g.sW, pH = g.pH, pW = g.pW, kh = g.kh, kw = g.kw;
  let row = col;
  for (let ci = 0; ci < cinG; ci++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const lo = validLo(pW, kx, sW), hi = max(lo, validHi(w, pW, kx, sW, ow));
        const xrow = xg + f4(ci * h * w - pW + kx);
        for (let oy = 0, iy = ky - pH; oy < oh; oy++, iy += sH) {
          const dst = row + f4(oy * ow);
          if (iy < 0 || iy >= h) { zeroRun(dst, ow); continue; }
          const src = xrow + f4(iy * w);
          if (lo > 0) zeroRun(dst, lo);
          if (hi < ow) zeroRun(dst + f4(hi), ow - hi);
          if (sW == 1) copyRun(dst + f4(lo), src + f4(lo), hi - lo);
          else for (let ox = lo; ox < hi; ox++) store<f32>(dst + f4(ox), load<f32>(src + f4(ox * sW)));
        }
        row += f4(oh * ow);
      }
    }
  }
}

/** True when conv2dForward packs straight from x (stride-1 rows of whole 8-pixel panels), else via im2col. */
@inline function directPack(g: Conv): bool {
  return g.sW == 1 && g.ow % NR == 0;
}

/** Pixel panels packed at a time by conv2dForward: about 512 KiB, so they are still in L2 for the GEMM. */
function forwardChunk(g: Conv): i32 {
  return max(1, (512 << 10) / (kSize(g) * NR * 4));
}

/** y[b] = conv(x[b], w) for b0 ≤ b < b1, from weights packed by convPackWeights(…, false). */
export function conv2dForward(x: usize, pa: usize, y: usize, geom: usize, b0: i32, b1: i32, scratch: usize): void {
  const g = changetype<Conv>(geom), cinG = g.cin / g.groups, coutG = g.cout / g.groups, K = kSize(g);
  if (winogradApplies(g)) { winogradForward(x, pa, y, g, b0, b1, scratch); return; }
  if (implicitForward(g)) { implicitConvForward(x, pa, y, g, b0, b1, scratch); return; }
  if (paddedImplicit(g)) { paddedImplicitForward(x, pa, y, g, b0, b1, scratch); return; }
  const ohw = g.oh * g.ow, pb = scratch + TILE_BYTES, stride = <usize>packedBytes(coutG, K, MR);
  const ip = (coutG + MR - 1) / MR, jp = (ohw + NR - 1) / NR, chunk = forwardChunk(g), direct = directPack(g);
  const col = pb + <usize>packedBytes(min(ohw, chunk * NR), K, NR);
  for (let b = b0; b < b1; b++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xg = x + f4((b * g.cin + grp * cinG) * g.h * g.w), yg = y + f4((b * g.cout + grp * coutG) * ohw);
      if (!direct) im2col(xg, g, cinG, col);
      for (let j0 = 0; j0 < jp; j0 += chunk) {
        const j1 = min(jp, j0 + chunk);
        // gemmPacked (and packB) find panel jp at pb' + jp·K·32, so pb' is pb moved back by j0 panels
        if (direct) packConvB(xg, g, cinG, pb, j0, j1);
        else packB(col, ohw, 1, K, ohw, pb - f4(j0 * K * NR), K, 0, j0, j1);
        gemmPacked(pa + <usize>grp * stride, pb - f4(j0 * K * NR), yg, coutG, ohw, K, ohw, 0, 0, ip, j0, j1, scratch);
      }
    }
  }
}

/** dx_g += col2im(dcol): every row (ci,ky,kx) of dcol [K, oh·ow] adds into the input cells it came from. */
function col2im(dcol: usize, dxg: usize, g: Conv, cinG: i32): void {
  const h = g.h, w = g.w, oh = g.oh, ow = g.ow, sH = g.sH, sW = g.sW, pH = g.pH, pW = g.pW, kh = g.kh, kw = g.kw;
  let row = dcol;
  for (let ci = 0; ci < cinG; ci++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const lo = validLo(pW, kx, sW), hi = validHi(w, pW, kx, sW, ow);
        for (let oy = 0, iy = ky - pH; oy < oh; oy++, iy += sH) {
          if (iy < 0 || iy >= h) continue;
          const src = row + f4(oy * ow), dst = dxg + f4((ci * h + iy) * w - pW + kx);
          let ox = lo;
          if (sW == 1) {
            for (; ox + 4 <= hi; ox += 4) {
              v128.store(dst + f4(ox), f32x4.add(v128.load(dst + f4(ox)), v128.load(src + f4(ox))));
            }
          }
          for (; ox < hi; ox++) {
            const o = dst + f4(ox * sW);
            store<f32>(o, load<f32>(o) + load<f32>(src + f4(ox)));
          }
        }
        row += f4(oh * ow);
      }
    }
  }
}

/** Scratch bytes of the dense backward-input body (after the sparse path's scratch; asked by the calling thread only). */
function denseInputScratchBytes(g: Conv): i32 {
  if (winogradInput(g)) return align64(winogradScratchBytes(inputAsForward(g, sizeGeom)));
  if (implicitInput(g)) return align64(implicitInputScratchBytes(g));
  return align64(<i32>TILE_BYTES + packedBytes(g.oh * g.ow, g.cout / g.groups, NR) + kSize(g) * g.oh * g.ow * 4);
}

/**
 * dx[b] for b0 ≤ b < b1 (overwritten), from weights packed by convPackWeights(…, true): items with sparse
 * dy (sparseWins) take the sparse path one by one, runs of the other items go to the dense body.
 */
export function conv2dBackwardInput(dy: usize, pa: usize, dx: usize, geom: usize, b0: i32, b1: i32, scratch: usize): void {
  const g = changetype<Conv>(geom), ws = pa + <usize>denseInputWeightBytes(g);
  const acc = scratch, dense = scratch + <usize>align64(sparseInputScratchBytes(g));
  let b = b0;
  while (b < b1) {
    let e = b;
    while (e < b1 && !sparseWins(dy, ws, g, e)) e++;
    if (e > b) denseBackwardInput(dy, pa, dx, g, b, e, dense);
    if (e < b1) sparseInputItem(dy, ws, dx, g, e++, acc);
    b = e;
  }
}

/** True when conv2dBackwardInput takes the sparse path for item b (pa from convPackWeights(…, true)). */
export function convInputSparse(dy: usize, pa: usize, geom: usize, b: i32): bool {
  const g = changetype<Conv>(geom);
  return sparseWins(dy, pa + <usize>denseInputWeightBytes(g), g, b);
}

/** The dense body: dx[b] for b0 ≤ b < b1 (overwritten) by Winograd, the implicit path or im2col GEMM and col2im. */
function denseBackwardInput(dy: usize, pa: usize, dx: usize, g: Conv, b0: i32, b1: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, K = kSize(g);
  if (winogradInput(g)) { winogradForward(dy, pa + GEOM_BYTES, dx, changetype<Conv>(pa), b0, b1, scratch); return; }
  if (implicitInput(g)) { implicitConvBackwardInput(dy, pa, dx, g, b0, b1, scratch); return; }
  const ohw = g.oh * g.ow, pb = scratch + TILE_BYTES, dcol = pb + <usize>packedBytes(ohw, coutG, NR);
  const stride = <usize>packedBytes(K, coutG, MR), ip = (K + MR - 1) / MR, jp = (ohw + NR - 1) / NR;
  for (let b = b0; b < b1; b++) {
    const dxb = dx + f4(b * g.cin * g.h * g.w);
    memory.fill(dxb, 0, f4(g.cin * g.h * g.w));
    for (let grp = 0; grp < g.groups; grp++) {
      packB(dy + f4((b * g.cout + grp * coutG) * ohw), ohw, 1, coutG, ohw, pb, coutG, 0, 0, jp);
      gemmPacked(pa + <usize>grp * stride, pb, dcol, K, ohw, coutG, ohw, 0, 0, ip, 0, jp, scratch);
      col2im(dcol, dxb + f4(grp * cinG * g.h * g.w), g, cinG);
    }
  }
}

/** dw (+)= Σ_{b0 ≤ b < b1} dy[b]·im2col(x[b])ᵀ per group; beta 0 overwrites dw, 1 accumulates. */
export function conv2dBackwardWeight(x: usize, dy: usize, dw: usize, geom: usize, beta: i32, b0: i32, b1: i32, scratch: usize): void {
  const g = changetype<Conv>(geom), cinG = g.cin / g.groups, coutG = g.cout / g.groups, K = kSize(g);
  if (winogradApplies(g) && beta == 0) { winogradBackwardWeight(x, dy, dw, g, b0, b1, scratch); return; }
  if (implicitForward(g)) { implicitConvBackwardWeight(x, dy, dw, g, beta, b0, b1, scratch); return; }
  const ohw = g.oh * g.ow, chunk = weightChunk(g);
  const pa = scratch + TILE_BYTES, pb = pa + <usize>packedBytes(coutG, chunk * ohw, MR);
  const col = pb + <usize>packedBytes(K, chunk * ohw, NR);
  const ip = (coutG + MR - 1) / MR, jp = (K + NR - 1) / NR;
  for (let grp = 0; grp < g.groups; grp++) {
    const dwg = dw + f4(grp * coutG * K);
    if (b1 <= b0) gemmPacked(pa, pb, dwg, coutG, K, 0, K, beta, 0, ip, 0, jp, scratch);
    for (let c0 = b0; c0 < b1; c0 += chunk) {
      const c1 = min(b1, c0 + chunk), kk = (c1 - c0) * ohw;
      for (let b = c0; b < c1; b++) {
        packA(dy + f4((b * g.cout + grp * coutG) * ohw), ohw, 1, coutG, ohw, pa, kk, (b - c0) * ohw);
        im2col(x + f4((b * g.cin + grp * cinG) * g.h * g.w), g, cinG, col);
        packB(col, 1, ohw, ohw, K, pb, kk, (b - c0) * ohw, 0, jp);
      }
      gemmPacked(pa, pb, dwg, coutG, K, kk, K, c0 > b0 ? 1 : beta, 0, ip, 0, jp, scratch);
    }
  }
}

/**
 * Groups k0 ≤ k < k1 of `per` items each: group k's weight gradient is written to accs + k·(weight bytes), so
 * each group's sum is the same whichever thread takes it (as spikeConvWeightGroups).
 */
export function conv2dWeightGroups(x: usize, dy: usize, accs: usize, geom: usize, per: i32, k0: i32, k1: i32, scratch: usize): void {
  const g = changetype<Conv>(geom), wBytes = <usize>(g.cout * kSize(g)) << 2;
  for (let k = k0; k < k1; k++) conv2dBackwardWeight(x, dy, accs + <usize>k * wBytes, geom, 0, k * per, min(g.n, (k + 1) * per), scratch);
}
