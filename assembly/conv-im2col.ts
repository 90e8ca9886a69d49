// The im2col GEMM paths of the dense convolutions: the input of each output pixel packed (straight from x, or
// through an im2col matrix) into GEMM B panels, then the blocked GEMM, per batch item and group; the input
// gradient by a GEMM into an im2col-shaped dcol and col2im; the weight gradient by one GEMM per chunk of
// items. These are the paths that any geometry can take (conv.ts plans the others first).
import { MR, NR, packA, packB, packedBytes, gemmPacked } from './gemm';
import { Conv, f4, validHi, validLo } from './geom';
import { FWD_IM2COL, PackedInputPlan, PackedPlan, PackedWeightPlan, Plan, viewAs } from './plan';

const TILE_BYTES: i32 = 256;
/** Bytes of a weight-gradient chunk's packed operands and im2col matrices. */
const CHUNK_BYTES: i32 = 4 << 20;

@inline function kSize(g: Conv): i32 { return (g.cin / g.groups) * g.kh * g.kw; }

/** True when the forward packs straight from x (stride-1 rows of whole 8-pixel panels), else via im2col. */
export function directPack(g: Conv): bool {
  return g.sW == 1 && g.ow % NR == 0;
}

/**
 * Fills the PackedPlan of p (its path FWD_DIRECT or FWD_IM2COL set): W_g as GEMM A panels per group; scratch
 * holds a GEMM tile, the B panels of `chunk` pixel panels (about 512 KiB, so they are still in L2 for the
 * GEMM) and, for FWD_IM2COL, the im2col matrix [K, oh·ow].
 */
export function planPackedForward(p: Plan): void {
  const f = viewAs<PackedPlan>(p), K = kSize(f), ohw = f.oh * f.ow;
  f.groupBytes = packedBytes(f.cout / f.groups, K, MR);
  f.weightBytes = f.groups * f.groupBytes;
  f.chunk = max(1, (512 << 10) / (K * NR * 4));
  f.pb = TILE_BYTES;
  f.col = f.pb + packedBytes(min(ohw, f.chunk * NR), K, NR);
  f.scratchBytes = f.col + (f.path == FWD_IM2COL ? K * ohw * 4 : 0);
}

/**
 * Fills the dense body's part of p's PackedInputPlan: W_gᵀ as GEMM A panels per group; weightBytes and
 * scratchBytes are those of the dense body alone (planConvBackwardInput adds the sparse path's); its scratch
 * holds a GEMM tile, the B panels of one group's dy and dcol [K, oh·ow].
 */
export function planPackedInput(p: Plan): void {
  const f = viewAs<PackedInputPlan>(p), ohw = f.oh * f.ow, coutG = f.cout / f.groups;
  f.groupBytes = packedBytes(kSize(f), coutG, MR);
  f.weightBytes = f.groups * f.groupBytes;
  f.pb = TILE_BYTES;
  f.dcol = f.pb + packedBytes(ohw, coutG, NR);
  f.scratchBytes = f.dcol + kSize(f) * ohw * 4;
}

/**
 * Fills the PackedWeightPlan of p (no packed weights): `chunk` items per GEMM (its k axis runs over
 * chunk·oh·ow pixels, CHUNK_BYTES of operands); scratch holds a GEMM tile, the packed dy and im2col operands
 * of one chunk, and one item's im2col matrix.
 */
export function planPackedWeight(p: Plan): void {
  const f = viewAs<PackedWeightPlan>(p), K = kSize(f), ohw = f.oh * f.ow, coutG = f.cout / f.groups;
  const per = ohw * (K + NR + coutG + MR) * 4;
  f.chunk = max(1, min(f.n, CHUNK_BYTES / max(1, per)));
  f.weightBytes = 0;
  f.pa = TILE_BYTES;
  f.pb = f.pa + packedBytes(coutG, f.chunk * ohw, MR);
  f.col = f.pb + packedBytes(K, f.chunk * ohw, NR);
  f.scratchBytes = f.col + K * ohw * 4;
}

/** Packs the weights of every group as GEMM A panels of `groupBytes` each: W_g, or W_gᵀ with `trans`. */
export function packedPackWeights(w: usize, pa: usize, g: Conv, groupBytes: i32, trans: bool): void {
  const coutG = g.cout / g.groups, K = kSize(g);
  for (let grp = 0; grp < g.groups; grp++) {
    const src = w + f4(grp * coutG * K), dst = pa + <usize>(grp * groupBytes);
    if (trans) packA(src, 1, K, K, coutG, dst, coutG, 0);
    else packA(src, K, 1, coutG, K, dst, K, 0);
  }
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

/** y[b] = conv(x[b], w) for b0 ≤ b < b1, from weights packed by packedPackWeights; scratch as planPackedForward lays it out. */
export function packedForward(x: usize, pa: usize, y: usize, g: PackedPlan, b0: i32, b1: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, K = kSize(g);
  const ohw = g.oh * g.ow, pb = scratch + <usize>g.pb, stride = <usize>g.groupBytes;
  const ip = (coutG + MR - 1) / MR, jp = (ohw + NR - 1) / NR, chunk = g.chunk, direct = g.path != FWD_IM2COL;
  const col = scratch + <usize>g.col;
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

/** dx[b] for b0 ≤ b < b1 (overwritten) by a GEMM into dcol and col2im; weights from packedPackWeights (trans), scratch as planPackedInput lays it out. */
export function packedBackwardInput(dy: usize, pa: usize, dx: usize, g: PackedInputPlan, b0: i32, b1: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, K = kSize(g);
  const ohw = g.oh * g.ow, pb = scratch + <usize>g.pb, dcol = scratch + <usize>g.dcol;
  const stride = <usize>g.groupBytes, ip = (K + MR - 1) / MR, jp = (ohw + NR - 1) / NR;
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

/** dw = Σ_{b0 ≤ b < b1} dy[b]·im2col(x[b])ᵀ per group (overwritten); scratch as planPackedWeight lays it out. */
export function packedBackwardWeight(x: usize, dy: usize, dw: usize, g: PackedWeightPlan, b0: i32, b1: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, K = kSize(g), ohw = g.oh * g.ow, chunk = g.chunk;
  const pa = scratch + <usize>g.pa, pb = scratch + <usize>g.pb, col = scratch + <usize>g.col;
  const ip = (coutG + MR - 1) / MR, jp = (K + NR - 1) / NR;
  for (let grp = 0; grp < g.groups; grp++) {
    const dwg = dw + f4(grp * coutG * K);
    if (b1 <= b0) gemmPacked(pa, pb, dwg, coutG, K, 0, K, 0, 0, ip, 0, jp, scratch);
    for (let c0 = b0; c0 < b1; c0 += chunk) {
      const c1 = min(b1, c0 + chunk), kk = (c1 - c0) * ohw;
      for (let b = c0; b < c1; b++) {
        packA(dy + f4((b * g.cout + grp * coutG) * ohw), ohw, 1, coutG, ohw, pa, kk, (b - c0) * ohw);
        im2col(x + f4((b * g.cin + grp * cinG) * g.h * g.w), g, cinG, col);
        packB(col, 1, ohw, ohw, K, pb, kk, (b - c0) * ohw, 0, jp);
      }
      gemmPacked(pa, pb, dwg, coutG, K, kk, K, c0 > b0 ? 1 : 0, 0, ip, 0, jp, scratch);
    }
  }
}
