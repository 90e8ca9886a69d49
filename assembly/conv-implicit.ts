// Implicit-GEMM forward convolution for stride 1 without padding whose output width is a whole number
// of 8-pixel panels: the 8 outputs of a panel read 8 contiguous inputs per tap, so the micro-kernel loads
// its B columns straight from x (one byte offset per tap from a table) and nothing is packed per item.
// The weights are 4-row panels: 16 output channels fill them exactly, where 5-row panels compute 20.
import { NR } from './gemm';
import { Conv, f4 } from './geom';

/** Rows of a weight panel. */
const MI: i32 = 4;
const TMP_BYTES: usize = 256;

@inline function kSize(g: Conv): i32 { return (g.cin / g.groups) * g.kh * g.kw; }
@inline function panels(g: Conv): i32 { return (g.cout / g.groups + MI - 1) / MI; }

/** True when conv2dForward takes the implicit path: stride 1, no padding, whole 8-pixel panels. */
export function implicitForward(g: Conv): bool {
  return g.sH == 1 && g.sW == 1 && g.pH == 0 && g.pW == 0 && g.ow % NR == 0;
}

/** Bytes of the weights packed by implicitPackWeights. */
export function implicitWeightBytes(g: Conv): i32 {
  return g.groups * panels(g) * MI * kSize(g) * 4;
}

/** Scratch bytes of one thread: a tail tile and the tap offset table. */
export function implicitScratchBytes(g: Conv): i32 {
  return <i32>TMP_BYTES + kSize(g) * 4;
}

/** Packs w [cout, K] of every group as 4-row panels, k-major (rows past a group's cout are zero). */
export function implicitPackWeights(w: usize, pa: usize, g: Conv): void {
  const coutG = g.cout / g.groups, K = kSize(g), ip = panels(g);
  let d = pa;
  for (let grp = 0; grp < g.groups; grp++) {
    for (let i = 0; i < ip; i++) {
      for (let p = 0; p < K; p++) {
        for (let r = 0; r < MI; r++) {
          const co = i * MI + r;
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

/** C tile (4x8 at c, row stride ldc bytes) = weight panel pa · the 8 inputs at xs + tab[p], over k taps. */
function kernel4x8(pa: usize, tab: usize, xs: usize, k: i32, c: usize, ldc: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const end = tab + f4(k);
  for (; tab < end; tab += 4) {
    const src = xs + <usize>load<i32>(tab);
    const b0 = v128.load(src), b1 = v128.load(src, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0)); c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0)); c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0)); c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0)); c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
  }
  row(c, c00, c01); row(c + ldc, c10, c11); row(c + 2 * ldc, c20, c21); row(c + 3 * ldc, c30, c31);
}

/** One weight panel (rows ≤ 4 channels) over every output pixel of one item and group. */
function panelSweep(pa: usize, tab: usize, xg: usize, yc: usize, g: Conv, K: i32, rows: i32, tmp: usize): void {
  const ohw = g.oh * g.ow, ldc = f4(ohw), ow = g.ow, rowStep = f4(g.w);
  let xs = xg;
  for (let oy = 0; oy < g.oh; oy++, xs += rowStep) {
    for (let ox = 0; ox < ow; ox += NR) {
      const c = yc + f4(oy * ow + ox);
      if (rows == MI) { kernel4x8(pa, tab, xs + f4(ox), K, c, ldc); continue; }
      kernel4x8(pa, tab, xs + f4(ox), K, tmp, 32);
      for (let r = 0; r < rows; r++) row(c + <usize>r * ldc, v128.load(tmp + (<usize>r << 5)), v128.load(tmp + (<usize>r << 5), 16));
    }
  }
}

/** y[b] = conv(x[b], w) for b0 ≤ b < b1, from weights packed by implicitPackWeights. */
export function implicitConvForward(x: usize, pa: usize, y: usize, g: Conv, b0: i32, b1: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, K = kSize(g), ohw = g.oh * g.ow, ip = panels(g);
  const tmp = scratch, tab = scratch + TMP_BYTES, panelBytes = <usize>(K * MI * 4);
  fillTaps(tab, g, cinG);
  for (let b = b0; b < b1; b++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xg = x + f4((b * g.cin + grp * cinG) * g.h * g.w), yg = y + f4((b * g.cout + grp * coutG) * ohw);
      for (let i = 0; i < ip; i++) {
        const a = pa + <usize>(grp * ip + i) * panelBytes;
        panelSweep(a, tab, xg, yg + f4(i * MI * ohw), g, K, min(MI, coutG - i * MI), tmp);
      }
    }
  }
}
