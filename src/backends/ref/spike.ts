/**
 * Reference spike-fed kernels: inputs are exactly 0 or 1, so an active input adds its weights and a silent
 * one is skipped. No multiplies. Each must equal its dense counterpart (gemm / conv) on binary input.
 */
import type { ConvGeom } from '../../kernels/contract.js';
import { forEachTap } from './conv.js';

/** y[m,n] = Σ_k s[m,k]·w[n,k] for binary s: row i of y sums column k of w over the active inputs k. */
export function spikeLinear(s: Float32Array, w: Float32Array, y: Float32Array, m: number, n: number, k: number): void {
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      if (s[i * k + p] === 0) continue;
      for (let j = 0; j < n; j++) row[j] += w[j * k + p];
    }
    for (let j = 0; j < n; j++) y[i * n + j] = row[j];
  }
}

/** dw[n,k] (+)= Σ_m dy[m,n]·s[m,k] for binary s: each active input (i,p) adds row i of dy to column p of dw. */
export function spikeLinearBackwardWeight(s: Float32Array, dy: Float32Array, dw: Float32Array, m: number, n: number,
  k: number, beta: 0 | 1): void {
  const acc = new Float64Array(n * k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      if (s[i * k + p] === 0) continue;
      for (let j = 0; j < n; j++) acc[j * k + p] += dy[i * n + j];
    }
  }
  for (let i = 0; i < n * k; i++) dw[i] = beta === 1 ? dw[i] + acc[i] : acc[i];
}

/** conv2dForward for binary s: every tap whose input is active adds its weight to its output. */
export function spikeConv2dForward(s: Float32Array, w: Float32Array, y: Float32Array, g: ConvGeom): void {
  const acc = new Float64Array(y.length);
  forEachTap(g, (xi, wi, yi) => { if (s[xi] !== 0) acc[yi] += w[wi]; });
  y.set(acc);
}

/** conv2dBackwardWeight for binary s: every tap whose input is active adds its output gradient to its weight. */
export function spikeConv2dBackwardWeight(s: Float32Array, dy: Float32Array, dw: Float32Array, g: ConvGeom,
  beta: 0 | 1): void {
  const acc = new Float64Array(dw.length);
  forEachTap(g, (xi, wi, yi) => { if (s[xi] !== 0) acc[wi] += dy[yi]; });
  for (let i = 0; i < dw.length; i++) dw[i] = beta === 1 ? dw[i] + acc[i] : acc[i];
}
