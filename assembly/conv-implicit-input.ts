// Implicit input gradient for the shapes conv-implicit takes (stride 1, no padding, whole 8-pixel output
// rows): dx[ci][iy][ox + kx] += Σ_(ky,co) w[co][ci][ky][kx] · dy[co][iy − ky][ox], so a tile of 4 rows
// (ci, kx) x 8 pixels reads dy rows in place (one byte offset per (ky, co) from a table) and adds straight
// into a row of dx: no im2col buffer, no col2im pass. Only the ky with 0 ≤ iy − ky < oh are summed.
import { NR } from './gemm';
import { Conv, f4, madd } from './geom';
import { implicitForward } from './conv-implicit';
import { ImplicitInputPlan, Plan, viewAs } from './plan';

/** Rows of a weight panel: 4, as 5-row tiles read through the table made V8 spill. */
const MR: i32 = 4;
const TMP_BYTES: usize = 256;

@inline function rowsOf(g: Conv): i32 { return (g.cin / g.groups) * g.kw; }
@inline function depthOf(g: Conv): i32 { return g.kh * (g.cout / g.groups); }
@inline function panelsOf(g: Conv): i32 { return (rowsOf(g) + MR - 1) / MR; }

/**
 * True when conv2dBackwardInput takes the implicit path: a forward-implicit shape whose (ci, kx) rows fill
 * whole panels, with at most 16 output channels per group or at most 64 output pixels (elsewhere the im2col
 * GEMM is as fast).
 */
export function implicitInput(g: Conv): bool {
  return implicitForward(g) && rowsOf(g) % MR == 0 && (g.cout / g.groups <= 16 || g.oh * g.ow <= 64);
}

/**
 * Fills the dense body's part of p's ImplicitInputPlan: weightBytes and scratchBytes are those of the dense
 * body alone (planConvBackwardInput adds the sparse path's); its scratch holds a tile, the depth table at
 * dtab and the row table at rtab.
 */
export function planImplicitInput(p: Plan): void {
  const f = viewAs<ImplicitInputPlan>(p);
  f.weightBytes = f.groups * panelsOf(f) * MR * depthOf(f) * 4;
  f.dtab = <i32>TMP_BYTES;
  f.rtab = f.dtab + depthOf(f) * 4;
  f.scratchBytes = f.rtab + panelsOf(f) * MR * 4;
}

/** Packs A[(ci, kx)][(ky, co)] = w[co][ci][ky][kx] of every group as MR-row panels, k-major (extra rows zero). */
export function implicitInputPackWeights(w: usize, pa: usize, g: Conv): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, rows = rowsOf(g), kk = g.kh * g.kw;
  let d = pa;
  for (let grp = 0; grp < g.groups; grp++) {
    for (let i = 0; i < panelsOf(g); i++) {
      for (let ky = 0; ky < g.kh; ky++) {
        for (let co = 0; co < coutG; co++) {
          for (let r = 0; r < MR; r++) {
            const m = i * MR + r, ci = m / g.kw, kx = m % g.kw;
            const src = w + f4(((grp * coutG + co) * cinG + ci) * kk + ky * g.kw + kx);
            store<f32>(d, m < rows ? load<f32>(src) : 0);
            d += 4;
          }
        }
      }
    }
  }
}

/** Depth table: byte offset of dy[co][−ky][0] for k = (ky, co); row table: of dx[ci][0][kx] for m = (ci, kx). */
function fillTables(dtab: usize, rtab: usize, g: Conv): void {
  const coutG = g.cout / g.groups, ohw = g.oh * g.ow;
  for (let ky = 0; ky < g.kh; ky++) {
    for (let co = 0; co < coutG; co++) store<i32>(dtab + f4(ky * coutG + co), <i32>f4(co * ohw - ky * g.ow));
  }
  for (let m = 0; m < panelsOf(g) * MR; m++) {
    store<i32>(rtab + f4(m), m < rowsOf(g) ? <i32>f4((m / g.kw) * g.h * g.w + m % g.kw) : 0);
  }
}

@inline function addRow(c: usize, lo: v128, hi: v128): void {
  v128.store(c, f32x4.add(v128.load(c), lo));
  v128.store(c, f32x4.add(v128.load(c, 16), hi), 16);
}

/** dx rows (at dxs + rtab[r], r < rows ≤ 5) += panel pa over depths [k0, k1) · the 8 dy values at ys + dtab[k]. */
function inputTile(pa: usize, dtab: usize, k0: i32, k1: i32, ys: usize, rtab: usize, dxs: usize, rows: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const end = dtab + f4(k1);
  for (let t = dtab + f4(k0); t < end; t += 4) {
    const src = ys + <usize>load<i32>(t);
    const b0 = v128.load(src), b1 = v128.load(src, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16;
  }
  addRow(dxs + <usize>load<i32>(rtab), c00, c01);
  if (rows > 1) addRow(dxs + <usize>load<i32>(rtab, 4), c10, c11);
  if (rows > 2) addRow(dxs + <usize>load<i32>(rtab, 8), c20, c21);
  if (rows > 3) addRow(dxs + <usize>load<i32>(rtab, 12), c30, c31);
}

/** Every tile of one item and group: 4-row weight panels, then dx rows iy and 8-pixel panels. */
function inputItem(pa: usize, dtab: usize, rtab: usize, yg: usize, dxg: usize, g: Conv): void {
  const coutG = g.cout / g.groups, depth = depthOf(g), rows = rowsOf(g), panels = panelsOf(g);
  for (let i = 0; i < panels; i++) {
    const ai = pa + <usize>(i * depth * MR * 4), ri = rtab + f4(i * MR), n = min(MR, rows - i * MR);
    for (let iy = 0; iy < g.h; iy++) {
      const k0 = max(0, iy - g.oh + 1) * coutG, k1 = (min(g.kh - 1, iy) + 1) * coutG, a = ai + <usize>(k0 * MR * 4);
      for (let ox = 0; ox < g.ow; ox += NR) inputTile(a, dtab, k0, k1, yg + f4(iy * g.ow + ox), ri, dxg + f4(iy * g.w + ox), n);
    }
  }
}

/** dx[b] for b0 ≤ b < b1 (overwritten), from weights packed by implicitInputPackWeights; scratch as planImplicitInput lays it out. */
export function implicitConvBackwardInput(dy: usize, pa: usize, dx: usize, g: ImplicitInputPlan, b0: i32, b1: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, ohw = g.oh * g.ow;
  const dtab = scratch + <usize>g.dtab, rtab = scratch + <usize>g.rtab, wBytes = <usize>(panelsOf(g) * MR * depthOf(g) * 4);
  fillTables(dtab, rtab, g);
  for (let b = b0; b < b1; b++) {
    memory.fill(dx + f4(b * g.cin * g.h * g.w), 0, f4(g.cin * g.h * g.w));
    for (let grp = 0; grp < g.groups; grp++) {
      const yg = dy + f4((b * g.cout + grp * coutG) * ohw), dxg = dx + f4((b * g.cin + grp * cinG) * g.h * g.w);
      inputItem(pa + <usize>grp * wBytes, dtab, rtab, yg, dxg, g);
    }
  }
}
