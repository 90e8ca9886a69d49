/**
 * Reference bodies of the quantized kernels (src/kernels/quant.ts): integer sums of the codes of active
 * inputs (exact in JavaScript numbers), then one float32 multiply by the channel's scale; the quantized-membrane
 * neuron with Math.fround at every float32 operation, as the SIMD body rounds.
 */
import type { ConvGeom } from '../../kernels/contract.js';
import type { QlifParams, QuantBits, QuantKernels } from '../../kernels/quant.js';
import { forEachTap } from './conv.js';

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

/**
 * Every (item, channel) plane: zeros when gated off, else fround(scale[co] · the integer sum of the codes of its
 * window's active taps) per output (the taps as the float reference visits them, forEachTap).
 */
export function spikeConv2dQ(s: Float32Array, q: Int8Array, scale: Float32Array, y: Float32Array, g: ConvGeom, _bits: QuantBits,
  gate?: Uint8Array): void {
  const ohw = g.oh * g.ow, sum = new Float64Array(g.n * g.cout * ohw);
  forEachTap(g, (xi, wi, yi) => { if (s[xi] !== 0) sum[yi] += q[wi]!; });
  for (let b = 0; b < g.n; b++) {
    for (let co = 0; co < g.cout; co++) {
      const plane = (b * g.cout + co) * ohw, open = gate === undefined || gate[b * g.cout + co] !== 0;
      for (let i = plane; i < plane + ohw; i++) y[i] = open ? f(scale[co]! * f(sum[i]!)) : 0;
    }
  }
}

/** T steps of the quantized-membrane neuron; see QuantKernels.qlifForward. */
export function qlifForward(x: Float32Array, level: Int8Array, s: Float32Array, T: number, m: number, staticInput: boolean,
  p: QlifParams, packed?: Uint8Array): number {
  const tau = f(p.tau), th = f(p.thresh), lb = f(p.lb), iv = f(p.interval), top = p.levels - 2;
  let count = 0;
  for (let i = 0; i < m; i++) {
    let lv = level[i]!;
    for (let t = 0; t < T; t++) {
      const v = f(lb + f(lv * iv));
      const h = f(f(tau * v) + (staticInput ? x[i]! : x[t * m + i]!));
      const spike = f(h - th) > 0 ? 1 : 0;
      s[t * m + i] = spike;
      if (spike && packed) packed[(t * m + i) >> 3] |= 1 << ((t * m + i) & 7);
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
