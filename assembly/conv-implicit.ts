// Implicit-GEMM convolutions for stride 1 without padding whose output width is a whole number of 8-pixel
// panels: nothing is im2col-packed per item. Forward: the 8 outputs of a panel read 8 contiguous inputs per
// tap, so the micro-kernel loads its B columns straight from x (one byte offset per tap from a table), with
// the weights in 4-row panels (16 output channels fill them exactly, where 5-row panels compute 20), or
// 5- or 6-row panels for 40 channels or more.
// Weight gradient: dwᵀ tiles of 4 taps x 8 channels sum x(tap, pixel) · dyᵀ(pixel) over a chunk's pixels.
import { NR } from './gemm';
import { Conv, f4, madd } from './geom';
import { ImplicitPlan, ImplicitWeightPlan, Plan, viewAs } from './plan';

/** Rows of a narrow layer's forward weight panel, and taps of a weight-gradient tile. */
const MI: i32 = 4;
const TMP_BYTES: usize = 256;

@inline function kSize(g: Conv): i32 { return (g.cin / g.groups) * g.kh * g.kw; }

/** True when the implicit forward and weight gradient apply: stride 1, no padding, whole 8-pixel panels. */
export function implicitForward(g: Conv): bool {
  return g.sH == 1 && g.sW == 1 && g.pH == 0 && g.pW == 0 && g.ow % NR == 0;
}

/** Rows of a wide layer's forward weight panel: 6 with fused multiply-adds, 5 with mul + add. */
const WIDE_ROWS: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;

/**
 * Rows of a forward weight panel: WIDE_ROWS for 40 channels or more (a wider tile loads its 8 inputs once
 * for more rows), else 4 (16 output channels fill 4-row panels exactly).
 */
@inline function fwdRows(g: Conv): i32 { return g.cout / g.groups >= 40 ? WIDE_ROWS : MI; }

/**
 * Fills the ImplicitPlan of p's geometry (all but the path): weights in fwdRows-row panels; scratch holds a
 * tail tile and the tap offset table.
 */
export function planImplicitForward(p: Plan): void {
  const f = viewAs<ImplicitPlan>(p), K = kSize(f);
  f.rows = fwdRows(f);
  f.panels = (f.cout / f.groups + f.rows - 1) / f.rows;
  f.weightBytes = f.groups * f.panels * f.rows * K * 4;
  f.tab = <i32>TMP_BYTES;
  f.scratchBytes = f.tab + K * 4;
}

/** Packs w [cout, K] of every group as panels of g.rows rows, k-major (rows past a group's cout are zero). */
export function implicitPackWeights(w: usize, pa: usize, g: ImplicitPlan): void {
  const coutG = g.cout / g.groups, K = kSize(g), ip = g.panels, mi = g.rows;
  let d = pa;
  for (let grp = 0; grp < g.groups; grp++) {
    for (let i = 0; i < ip; i++) {
      for (let p = 0; p < K; p++) {
        for (let r = 0; r < mi; r++) {
          const co = i * mi + r;
          store<f32>(d, co < coutG ? load<f32>(w + f4((grp * coutG + co) * K + p)) : 0);
          d += 4;
        }
      }
    }
  }
}

/** tab[p] = byte offset in a group's input of tap p = (ci, ky, kx), for the output pixel (0, 0). */
function fillTaps(tab: usize, g: Conv, cinG: i32): void {
  let t = tab;
  for (let ci = 0; ci < cinG; ci++) {
    for (let ky = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++) {
        store<i32>(t, <i32>f4((ci * g.h + ky) * g.w + kx));
        t += 4;
      }
    }
  }
}

@inline function row(c: usize, lo: v128, hi: v128): void {
  v128.store(c, lo);
  v128.store(c, hi, 16);
}

/**
 * C tile (rows x 8 at c, row stride ldc bytes) = weight panel pa · the 8 inputs at xs + tab[p], over k taps.
 * `rows` (4, 5 or 6) is a constant at every call, so the unused accumulators compile away. Six rows need
 * fused multiply-adds: with mul + add V8 spills 12 accumulators.
 */
@inline function tile(rows: i32, pa: usize, tab: usize, xs: usize, k: i32, c: usize, ldc: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const end = tab + f4(k), step = <usize>rows << 2;
  for (; tab < end; tab += 4) {
    const src = xs + <usize>load<i32>(tab);
    const b0 = v128.load(src), b1 = v128.load(src, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    if (rows >= 5) {
      a = v128.load32_splat(pa, 16);
      c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    }
    if (rows >= 6) {
      a = v128.load32_splat(pa, 20);
      c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    }
    pa += step;
  }
  row(c, c00, c01); row(c + ldc, c10, c11); row(c + 2 * ldc, c20, c21); row(c + 3 * ldc, c30, c31);
  if (rows >= 5) row(c + 4 * ldc, c40, c41);
  if (rows >= 6) row(c + 5 * ldc, c50, c51);
}

function kernel4x8(pa: usize, tab: usize, xs: usize, k: i32, c: usize, ldc: usize): void { tile(4, pa, tab, xs, k, c, ldc); }
function kernel5x8(pa: usize, tab: usize, xs: usize, k: i32, c: usize, ldc: usize): void { tile(5, pa, tab, xs, k, c, ldc); }
function kernel6x8(pa: usize, tab: usize, xs: usize, k: i32, c: usize, ldc: usize): void { tile(6, pa, tab, xs, k, c, ldc); }

/** The C tile of a panel of `mi` rows (4 or WIDE_ROWS). */
@inline function kernelOf(mi: i32, pa: usize, tab: usize, xs: usize, k: i32, c: usize, ldc: usize): void {
  if (mi == MI) kernel4x8(pa, tab, xs, k, c, ldc);
  else if (ASC_FEATURE_RELAXED_SIMD) kernel6x8(pa, tab, xs, k, c, ldc);
  else kernel5x8(pa, tab, xs, k, c, ldc);
}

/** One weight panel of mi rows (rows ≤ mi channels of it used) over every output pixel of one item and group. */
function panelSweep(pa: usize, tab: usize, xg: usize, yc: usize, g: Conv, K: i32, mi: i32, rows: i32, tmp: usize): void {
  const ohw = g.oh * g.ow, ldc = f4(ohw), ow = g.ow, rowStep = f4(g.w);
  let xs = xg;
  for (let oy = 0; oy < g.oh; oy++, xs += rowStep) {
    for (let ox = 0; ox < ow; ox += NR) {
      const c = yc + f4(oy * ow + ox);
      if (rows == mi) { kernelOf(mi, pa, tab, xs + f4(ox), K, c, ldc); continue; }
      kernelOf(mi, pa, tab, xs + f4(ox), K, tmp, 32);
      for (let r = 0; r < rows; r++) row(c + <usize>r * ldc, v128.load(tmp + (<usize>r << 5)), v128.load(tmp + (<usize>r << 5), 16));
    }
  }
}

/** y[b] = conv(x[b], w) for b0 ≤ b < b1, from weights packed by implicitPackWeights. */
export function implicitConvForward(x: usize, pa: usize, y: usize, g: ImplicitPlan, b0: i32, b1: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, K = kSize(g), ohw = g.oh * g.ow, ip = g.panels, mi = g.rows;
  const tmp = scratch, tab = scratch + <usize>g.tab, panelBytes = <usize>(K * mi * 4);
  fillTaps(tab, g, cinG);
  for (let b = b0; b < b1; b++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xg = x + f4((b * g.cin + grp * cinG) * g.h * g.w), yg = y + f4((b * g.cout + grp * coutG) * ohw);
      for (let i = 0; i < ip; i++) {
        const a = pa + <usize>(grp * ip + i) * panelBytes;
        panelSweep(a, tab, xg, yg + f4(i * mi * ohw), g, K, mi, min(mi, coutG - i * mi), tmp);
      }
    }
  }
}

/** Bytes of packed dyᵀ per chunk of items (about 16 KiB, so a tile's sweep stays in L1 beside x). */
const WEIGHT_CHUNK_BYTES: i32 = 16 << 10;

@inline function coutPad(g: Conv): i32 { return (g.cout / g.groups + NR - 1) / NR * NR; }
@inline function kPad(g: Conv): i32 { return (kSize(g) + MI - 1) / MI * MI; }

/** Items per weight-gradient chunk. */
function weightItems(g: Conv): i32 {
  return max(1, min(g.n, WEIGHT_CHUNK_BYTES / (g.oh * g.ow * coutPad(g) * 4)));
}

/**
 * Fills the ImplicitWeightPlan of p's geometry (all but the path): no packed weights; scratch holds the tap
 * and pixel tables, dyᵀ of one chunk of items and dwᵀ of one group.
 */
export function planImplicitWeight(p: Plan): void {
  const f = viewAs<ImplicitWeightPlan>(p);
  f.items = weightItems(f);
  const pixels = f.items * f.oh * f.ow;
  f.weightBytes = 0;
  f.pix = kPad(f) * 4;
  f.dyT = f.pix + pixels * 4;
  f.dwT = f.dyT + pixels * coutPad(f) * 4;
  f.scratchBytes = f.dwT + kPad(f) * coutPad(f) * 4;
}

/** tab[i] = byte offset in x of output pixel i of a chunk (item-major, then row, then column). */
function fillPixels(tab: usize, g: Conv, items: i32): void {
  let t = tab;
  for (let b = 0; b < items; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        store<i32>(t, <i32>f4(b * g.cin * g.h * g.w + oy * g.w + ox));
        t += 4;
      }
    }
  }
}

/** Packs one group's dy of items c0 ≤ b < c1 transposed, as [8-channel block][pixel][8 channels]. */
function packDyT(dy: usize, g: Conv, grp: i32, c0: i32, c1: i32, dst: usize): void {
  const coutG = g.cout / g.groups, ohw = g.oh * g.ow, np = (c1 - c0) * ohw, cp = coutPad(g);
  for (let co = 0; co < cp; co++) {
    const blk = dst + f4((co / NR) * np * NR + co % NR);
    for (let b = c0; b < c1; b++) {
      const src = dy + f4((b * g.cout + grp * coutG + co) * ohw);
      let d = blk + f4((b - c0) * ohw * NR);
      if (co < coutG) for (let p = 0; p < ohw; p++, d += NR * 4) store<f32>(d, load<f32>(src + f4(p)));
      else for (let p = 0; p < ohw; p++, d += NR * 4) store<f32>(d, 0);
    }
  }
}

@inline function addRow(c: usize, lo: v128, hi: v128): void {
  v128.store(c, f32x4.add(v128.load(c), lo));
  v128.store(c, f32x4.add(v128.load(c, 16), hi), 16);
}

/** dwᵀ tile (4 taps x 8 channels at c, row stride ldc bytes) += Σ over np pixels of x(tap) · dyᵀ(pixel). */
function weightTile(xs: usize, taps: usize, pix: usize, np: i32, d: usize, c: usize, ldc: usize): void {
  const o0 = <usize>load<i32>(taps), o1 = <usize>load<i32>(taps, 4), o2 = <usize>load<i32>(taps, 8), o3 = <usize>load<i32>(taps, 12);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const end = pix + f4(np);
  for (; pix < end; pix += 4, d += 32) {
    const xp = xs + <usize>load<i32>(pix);
    const b0 = v128.load(d), b1 = v128.load(d, 16);
    let a = v128.load32_splat(xp + o0);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(xp + o1);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(xp + o2);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(xp + o3);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
  }
  addRow(c, c00, c01); addRow(c + ldc, c10, c11); addRow(c + 2 * ldc, c20, c21); addRow(c + 3 * ldc, c30, c31);
}

/** dw_g = dwᵀ for the group's rows. */
function storeWeightT(dwT: usize, dw: usize, g: Conv, grp: i32): void {
  const coutG = g.cout / g.groups, K = kSize(g), cp = coutPad(g);
  for (let co = 0; co < coutG; co++) {
    const dst = dw + f4((grp * coutG + co) * K);
    for (let k = 0; k < K; k++) {
      store<f32>(dst + f4(k), load<f32>(dwT + f4(k * cp + co)));
    }
  }
}

/** dw = Σ_{b0 ≤ b < b1} dy[b]·im2col(x[b])ᵀ per group with no im2col (overwritten; scratch as planImplicitWeight lays it out). */
export function implicitConvBackwardWeight(x: usize, dy: usize, dw: usize, g: ImplicitWeightPlan, b0: i32, b1: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, K = kSize(g), kp = kPad(g), cp = coutPad(g), items = g.items, ohw = g.oh * g.ow;
  const taps = scratch, pix = scratch + <usize>g.pix, dyT = scratch + <usize>g.dyT, dwT = scratch + <usize>g.dwT;
  fillTaps(taps, g, cinG);
  for (let k = K; k < kp; k++) store<i32>(taps + f4(k), 0);
  fillPixels(pix, g, items);
  for (let grp = 0; grp < g.groups; grp++) {
    memory.fill(dwT, 0, f4(kp * cp));
    for (let c0 = b0; c0 < b1; c0 += items) {
      const c1 = min(b1, c0 + items), np = (c1 - c0) * ohw, xg = x + f4((c0 * g.cin + grp * cinG) * g.h * g.w);
      packDyT(dy, g, grp, c0, c1, dyT);
      for (let j = 0; j < cp / NR; j++) {
        const d = dyT + f4(j * np * NR);
        for (let k = 0; k < kp; k += MI) weightTile(xg, taps + f4(k), pix, np, d, dwT + f4(k * cp + j * NR), f4(cp));
      }
    }
    storeWeightT(dwT, dw, g, grp);
  }
}
