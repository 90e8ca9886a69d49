/**
 * The integer inference kernels of quantized spiking layers. A quantized weight tensor is stored as int8 codes
 * q with one float32 scale per output channel, w[o, …] = scale[o]·q[o, …]. Fed by binary spikes s (exactly 0
 * or 1), a layer's output needs no multiplies: y[o] = scale[o] · Σ_{active inputs i} q[o, i], where the sum
 * is an exact integer, followed by one float32 multiply. Both bodies compute the same integer and round the
 * product once, so they give the same bits (on any number of threads).
 *
 * The membrane of SpQuant / IM-SNN neurons (qlifForward) is stored between steps as an index into a grid of
 * `levels` values lb, lb + interval, …, lb + (levels − 1)·interval.
 */
import type { ConvGeom } from './contract.js';

/**
 * A promise about the codes of a weight tensor, which the SIMD body uses to size its integer lanes:
 * 2 means |q| ≤ 1 (ternary), 4 means |q| ≤ 8, 8 means any int8 code (|q| ≤ 128). Codes outside the promised
 * range give unspecified results (the lanes may wrap); the reference body ignores `bits`.
 */
export type QuantBits = 2 | 4 | 8;

/** Parameters of qlifForward; every value is used as float32 (Math.fround of it). */
export interface QlifParams {
  /** Leak τ: h = τ·v + x. */
  readonly tau: number;
  /** Threshold θ: a neuron fires when h − θ > 0 (strictly). */
  readonly thresh: number;
  /** The lowest membrane value lb (level 0). */
  readonly lb: number;
  /** Distance between neighbouring levels (> 0). */
  readonly interval: number;
  /** Number of levels, 2 … 128 (level indices 0 … levels − 1 fit int8). */
  readonly levels: number;
}

/** Quantized kernels. Arrays are dense and row-major; kernels write the outputs they are given and never allocate. */
export interface QuantKernels {
  /**
   * Linear layer fed by spikes with int8 weight codes: y[i, j] = fround(scale[j] · fround(Σ_p s[i, p]·q[j, p]))
   * for i < m, j < n, p < k. s: [m, k] float32, an input counts as active when it is not 0 (it must be exactly
   * 0 or 1); q: [n, k] int8, the [out, in] layout as stored; scale: [n]; y: [m, n], overwritten.
   *
   * The sum Σ q over the active inputs is an exact integer (it must fit int32: k·max|q| < 2³¹); fround of it is
   * float32's round-to-nearest-even conversion (exact while |sum| ≤ 2²⁴), then one float32 multiply by the
   * scale. The SIMD body re-lays q with each input's codes contiguous (i8 lanes for bits 2, i16 lanes for 4
   * and 8) and keeps that copy for later calls with the same q and scale arrays (by identity, as a frozen
   * layer passes them): q and scale must not be changed in place once passed — new codes come in new arrays.
   * packed (optional): s packed one bit per value as spikeConv2dQ takes it, which a body may read instead of s.
   */
  spikeLinearQ(s: Float32Array, q: Int8Array, scale: Float32Array, y: Float32Array, m: number, n: number, k: number,
    bits: QuantBits, packed?: Uint8Array): void;

  /**
   * Convolution of binary s [n, cin, h, w] with int8 codes q [cout, cin/groups, kh, kw] (zero padding, stride
   * and groups as g says): y[b, co, oy, ox] = fround(scale[co] · fround(Σ q[co, cl, ky, kx])) over the window
   * taps whose input s[b, c0 + cl, oy·strideH − padH + ky, ox·strideW − padW + kx] lies inside the image and
   * is active (not 0), c0 the first input channel of co's group. y [n, cout, oh, ow] is overwritten. Sums are
   * exact integers, and q and scale kept unchanged once passed, as in spikeLinearQ.
   *
   * packed (optional): s packed one bit per value (bit i & 7 of byte i >> 3 set when s[i] ≠ 0, packedBytes of
   * s.length long), which a body may read instead of s (qlifForward writes it).
   *
   * gate (optional, [n·cout]): the pair (item b, channel co) is computed when gate[b·cout + co] ≠ 0; a
   * gated-off pair's output plane is written 0 and its work is skipped (no sums are taken for it, so a gated-off
   * channel costs nothing but the zeros). Without a gate every pair is computed.
   */
  spikeConv2dQ(s: Float32Array, q: Int8Array, scale: Float32Array, y: Float32Array, g: ConvGeom, bits: QuantBits,
    gate?: Uint8Array, packed?: Uint8Array): void;

  /**
   * T steps of the quantized-membrane LIF neuron (SpQuant / IM-SNN), all float32 arithmetic, each operation
   * rounded. For every neuron i < m and step t < T, with lb, interval, θ, τ rounded to float32:
   *
   *   v = lb + level[i]·interval                          the stored membrane
   *   h = τ·v + x[t, i]                                   (x[i] at every step when staticInput)
   *   s[t, i] = h − θ > 0 ? 1 : 0                          strict
   *   r = s ? 0 : h                                       reset to zero
   *   c = min(max(r, lb), θ);  k = floor((c − lb)/interval) clamped to [0, levels − 2]
   *   lo = lb + k·interval;  hi = lo + interval
   *   level[i] = |c − hi| < |c − lo| ? k + 1 : k          nearest level, ties to the lower one
   *
   * (c − lb)/interval is rounded to float32 before the floor; a NaN there (a NaN input) gives k = 0. x: [T, m],
   * or [m] when staticInput; level: [m] int8, the levels in, the levels after step T − 1 out (a fresh layer
   * starts at the index of 0, (0 − lb)/interval, which the caller sets); s: [T, m], overwritten. Returns the
   * number of spikes. packed (optional, zeroed by the caller, packedBytes(T·m) long): s is also written there
   * one bit per value, bit (t·m + i) & 7 of byte (t·m + i) >> 3.
   */
  qlifForward(x: Float32Array, level: Int8Array, s: Float32Array, T: number, m: number, staticInput: boolean,
    p: QlifParams, packed?: Uint8Array): number;
}

/** Bytes of n spikes packed one bit each, with the 8 bytes past them that the bodies' word reads may touch. */
export function packedBytes(n: number): number {
  return Math.ceil(n / 8) + 8;
}

/** The names of the quantized kernels, for tests that enumerate them. */
export type QuantKernelName = keyof QuantKernels;
