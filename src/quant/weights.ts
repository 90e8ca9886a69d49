/**
 * Weight quantizers of SpQuant-SNN / IM-SNN, with straight-through gradients for quantization-aware
 * training. Each gives integer codes q and one scale s per tensor, w ≈ s·q:
 *   sawb (asymmetric SAWB, 4 or 8 bits): α = 2·mean|w|, n = 2^(b−1) − 1 levels a side, q = round(w·n/α).
 *     Training clamps w to the previous call's α first (1 at the start) and takes α from the clamped
 *     weights; evaluation clamps to α of the weights themselves and, when more than 2^b integers appear,
 *     clamps them to [−2^(b−1), 2^(b−1) − 1].
 *   sawb-symm: the same with α = std/z0 − (z1/z0)·mean|w|, z = (0.077, 1.013) for 4 bits, (0.027, 1.114) for 8.
 *   ternary (scaled, the 2-bit quantizer): θ = 0.05·max|w|, s = mean |w| over |w| ≥ θ, q = sign(w) where
 *     w ≥ θ or w < −θ, else 0.
 *   twn (unscaled ternary weights, Scatter-and-Gather): Δ = 0.7·mean|w|, q = sign(w) where |w| > Δ, s = 1.
 * Rounding is half to even, as PyTorch rounds.
 */
import { Tensor } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import { EdgespikeError } from '../util/errors.js';

/** A weight quantizer and its bit width (ternary kinds are 2 bits). */
export type WeightQuantKind = 'sawb' | 'sawb-symm' | 'ternary' | 'twn';

/** Every kind, for the command line. */
export const WEIGHT_QUANT_KINDS: readonly WeightQuantKind[] = ['sawb', 'sawb-symm', 'ternary', 'twn'];

/** A node's weight quantization: kind and bits (4 or 8 for the SAWB kinds, 2 for the ternary ones). */
export interface WeightQuant {
  readonly kind: WeightQuantKind;
  readonly bits: 2 | 4 | 8;
}

/** Checks a weight quantization (one line naming what is wrong). */
export function checkWeightQuant(q: WeightQuant, where: string): void {
  if (!WEIGHT_QUANT_KINDS.includes(q?.kind)) throw new EdgespikeError(`${where}: weight quantizer must be one of ${WEIGHT_QUANT_KINDS.join(', ')}, got ${JSON.stringify(q?.kind)}`);
  const ternary = q.kind === 'ternary' || q.kind === 'twn';
  if (ternary ? q.bits !== 2 : q.bits !== 4 && q.bits !== 8) {
    throw new EdgespikeError(`${where}: ${q.kind} weights take ${ternary ? '2 bits' : '4 or 8 bits'}, got ${JSON.stringify(q.bits)}`);
  }
}

/** Round half to even (PyTorch's round). */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const SAWB_Z: Record<number, [number, number]> = { 4: [0.077, 1.013], 8: [0.027, 1.114] };

/** Integer codes and the scale that gives the quantized weights, w_q = scale·q. */
export interface Quantized {
  readonly q: Int8Array;
  readonly scale: number;
  /** SAWB: α of this call (the next training call clamps to it). */
  readonly alpha?: number;
}

function meanAbs(w: Float32Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += Math.abs(w[i]!);
  return s / Math.max(1, w.length);
}

function std(w: Float32Array): number {
  let m = 0;
  for (let i = 0; i < w.length; i++) m += w[i]!;
  m /= w.length;
  let v = 0;
  for (let i = 0; i < w.length; i++) v += (w[i]! - m) ** 2;
  return Math.sqrt(v / Math.max(1, w.length - 1));
}

/**
 * The codes of `w` under `quant`. `training` selects SAWB's training path (clamp to `alphaPrev`, α from
 * the clamped weights, no integer clamp); the ternary kinds are the same in both.
 */
export function quantizeWeights(w: Float32Array, quant: WeightQuant, training: boolean, alphaPrev = 1): Quantized {
  const n = w.length, q = new Int8Array(n);
  if (quant.kind === 'ternary') {
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(w[i]!));
    const th = Math.fround(0.05 * max);
    let sum = 0, count = 0;
    for (let i = 0; i < n; i++) {
      const v = w[i]!;
      if (v >= th || v <= -th) { sum += Math.abs(v); count++; }
      q[i] = v >= th ? 1 : v < -th ? -1 : 0;
    }
    return { q, scale: Math.fround(count ? sum / count : 0) };
  }
  if (quant.kind === 'twn') {
    const delta = 0.7 * meanAbs(w);
    for (let i = 0; i < n; i++) q[i] = w[i]! > delta ? 1 : w[i]! < -delta ? -1 : 0;
    return { q, scale: 1 };
  }
  const levels = 2 ** (quant.bits - 1) - 1;
  let src = w;
  if (training) {
    src = new Float32Array(n);
    for (let i = 0; i < n; i++) src[i] = Math.min(alphaPrev, Math.max(-alphaPrev, w[i]!));
  }
  const [z0, z1] = SAWB_Z[quant.bits]!;
  const m = meanAbs(src);
  const alpha = Math.fround(quant.kind === 'sawb' ? 2 * m : std(src) / z0 - (z1 / z0) * m);
  if (!(alpha > 0)) throw new EdgespikeError(`quantizeWeights: ${quant.kind} gives α = ${alpha} for these weights (all zero, or too narrow for SAWB's symmetric rule)`);
  const scale = Math.fround(levels / alpha);
  const lo = -(2 ** (quant.bits - 1)), hi = 2 ** (quant.bits - 1) - 1;
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const c = Math.min(alpha, Math.max(-alpha, src[i]!));
    q[i] = roundEven(Math.fround(c * scale));
    seen.add(q[i]!);
  }
  if (!training && seen.size > 2 ** quant.bits) for (let i = 0; i < n; i++) q[i] = Math.min(hi, Math.max(lo, q[i]!));
  // codes stand for q / (n/α); the scale kept is its reciprocal in float32, so that w_q = scale·q as stored
  return { q, scale: Math.fround(1 / scale), alpha };
}

/** The quantized values of codes: fround(scale·q), as a stored tensor dequantizes. */
export function dequantizeWeights(x: Quantized): Float32Array {
  const out = new Float32Array(x.q.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(x.scale * x.q[i]!);
  return out;
}

/**
 * The quantized weights as a differentiable op: forward scale·q, backward straight through (identity),
 * except SAWB training, whose clamp to the previous α passes no gradient outside [−α, α]. Returns the new
 * α (SAWB) for the caller to keep.
 */
export function fakeQuantWeights(w: Tensor, quant: WeightQuant, training: boolean, alphaPrev = 1): { wq: Tensor; alpha?: number } {
  const x = quantizeWeights(w.data, quant, training, alphaPrev);
  const out = new Tensor(dequantizeWeights(x), w.shape);
  const clampAt = training && (quant.kind === 'sawb' || quant.kind === 'sawb-symm') ? alphaPrev : Infinity;
  const W = w.data;
  return {
    wq: record(out, `quant(${quant.kind})`, [w], (g) => {
      const gw = new Float32Array(g.length);
      for (let i = 0; i < g.length; i++) gw[i] = W[i]! >= -clampAt && W[i]! <= clampAt ? g[i]! : 0;
      accumulateOwned(w, gw);
    }),
    ...(x.alpha !== undefined ? { alpha: x.alpha } : {}),
  };
}

