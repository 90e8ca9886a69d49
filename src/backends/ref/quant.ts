/**
 * Reference bodies of the quantized kernels (src/kernels/quant.ts): integer sums of the codes of active
 * inputs (exact in JavaScript numbers), then one float32 multiply by the channel's scale; the quantized-membrane
 * neuron with Math.fround at every float32 operation, as the SIMD body rounds.
 */
import type { ConvGeom } from '../../kernels/contract.js';
import type { QlifParams, QuantBits, QuantKernels } from '../../kernels/quant.js';

const f = Math.fround;

/** y[i, j] = fround(scale[j] · Σ of q[j, p] over the active inputs p of row i). `bits` is not needed here. */
export function spikeLinearQ(s: Float32Array, q: Int8Array, scale: Float32Array, y: Float32Array, m: number, n: number, k: number,
  _bits: QuantBits): void {
  const active: number[] = [];
  for (let i = 0; i < m; i++) {
    active.length = 0;
    for (let p = 0; p < k; p++) if (s[i * k + p] !== 0) active.push(p);
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (const p of active) sum += q[j * k + p]!;
      y[i * n + j] = f(scale[j]! * f(sum));
    }
  }
}

/** The convolution's integer sum at one output: the codes of co's taps whose input is inside the image and active. */
function windowSum(s: Float32Array, q: Int8Array, g: ConvGeom, b: number, co: number, oy: number, ox: number): number {
  const cinG = g.cin / g.groups, c0 = Math.floor(co / (g.cout / g.groups)) * cinG;
  let sum = 0;
  for (let cl = 0; cl < cinG; cl++) {
    for (let ky = 0; ky < g.kh; ky++) {
      const iy = oy * g.strideH - g.padH + ky;
      if (iy < 0 || iy >= g.h) continue;
      for (let kx = 0; kx < g.kw; kx++) {
        const ix = ox * g.strideW - g.padW + kx;
        if (ix < 0 || ix >= g.w || s[((b * g.cin + c0 + cl) * g.h + iy) * g.w + ix] === 0) continue;
        sum += q[((co * cinG + cl) * g.kh + ky) * g.kw + kx]!;
      }
    }
  }
  return sum;
}

/** Every (item, channel) plane: zeros when gated off, else fround(scale[co] · window sum) per output. */
export function spikeConv2dQ(s: Float32Array, q: Int8Array, scale: Float32Array, y: Float32Array, g: ConvGeom, _bits: QuantBits,
  gate?: Uint8Array): void {
  const ohw = g.oh * g.ow;
  for (let b = 0; b < g.n; b++) {
    for (let co = 0; co < g.cout; co++) {
      const plane = (b * g.cout + co) * ohw;
      if (gate !== undefined && gate[b * g.cout + co] === 0) { y.fill(0, plane, plane + ohw); continue; }
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) y[plane + oy * g.ow + ox] = f(scale[co]! * f(windowSum(s, q, g, b, co, oy, ox)));
      }
    }
  }
}

/** T steps of the quantized-membrane neuron; see QuantKernels.qlifForward. */
export function qlifForward(x: Float32Array, level: Int8Array, s: Float32Array, T: number, m: number, staticInput: boolean,
  p: QlifParams): number {
  const tau = f(p.tau), th = f(p.thresh), lb = f(p.lb), iv = f(p.interval), top = p.levels - 2;
  let count = 0;
  for (let i = 0; i < m; i++) {
    let lv = level[i]!;
    for (let t = 0; t < T; t++) {
      const v = f(lb + f(lv * iv));
      const h = f(f(tau * v) + (staticInput ? x[i]! : x[t * m + i]!));
      const spike = f(h - th) > 0 ? 1 : 0;
      s[t * m + i] = spike;
      count += spike;
      const c = Math.min(Math.max(spike ? 0 : h, lb), th);
      const u = Math.floor(f(f(c - lb) / iv));
      const k = Number.isNaN(u) ? 0 : Math.min(Math.max(u, 0), top);
      const lo = f(lb + f(k * iv)), hi = f(lo + iv);
      lv = Math.abs(f(c - hi)) < Math.abs(f(c - lo)) ? k + 1 : k;
    }
    level[i] = lv;
  }
  return count;
}

/** The reference quantized kernels. */
export const refQuantKernels: QuantKernels = { spikeLinearQ, spikeConv2dQ, qlifForward };
