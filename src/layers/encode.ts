/**
 * Input encoders for static data: direct (the same analog frame at every step, so the first layer
 * runs once), Poisson rate, latency (time to first spike) and delta (spikes on change). Random
 * encoders draw from the seeded generator they are given.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../data/rng.js';
import { EdgespikeError } from '../util/errors.js';

/** An encoder and its settings. */
export type EncoderSpec =
  | { readonly kind: 'direct' }
  /** Spike with probability clamp(gain·x, 0, 1) at every step. */
  | { readonly kind: 'rate'; readonly gain?: number }
  /** One spike at step round((1 − x)·(T − 1)) for x > threshold (linear in intensity). */
  | { readonly kind: 'latency'; readonly threshold?: number }
  /** Spike where the frame increased by ≥ threshold since the previous step (from 0 before step 0); with `off`, a second channel block for decreases. */
  | { readonly kind: 'delta'; readonly threshold?: number; readonly off?: boolean };

/** Name of an encoder. */
export type EncoderName = EncoderSpec['kind'];

/** The encoder names, for CLI validation. */
export const ENCODERS: readonly EncoderName[] = ['direct', 'rate', 'latency', 'delta'];

/** Encodes x [N, …] for T steps: direct stays static [N, …]; the others give spikes [T·N, …]. */
export function encode(x: Tensor, enc: EncoderSpec, T: number, rng: Rng): { x: Tensor; static: boolean } {
  if (enc.kind === 'direct') return { x, static: true };
  const n = x.size, X = x.data;
  const out = new Float32Array(T * n);
  if (enc.kind === 'rate') {
    const g = enc.gain ?? 1;
    for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) out[t * n + i] = rng.float() < Math.min(1, Math.max(0, g * X[i]!)) ? 1 : 0;
  } else if (enc.kind === 'latency') {
    const th = enc.threshold ?? 0;
    for (let i = 0; i < n; i++) {
      const v = Math.min(1, X[i]!);
      if (v > th) out[Math.round((1 - v) * (T - 1)) * n + i] = 1;
    }
  } else if (enc.kind === 'delta') {
    // A static frame changes once, at step 0 (from 0 to x).
    const th = enc.threshold ?? 0.1;
    if (enc.off) throw new EdgespikeError('encode: delta with off spikes needs a temporal input; static frames only rise');
    for (let i = 0; i < n; i++) if (X[i]! >= th) out[i] = 1;
  } else {
    throw new EdgespikeError(`encode: unknown encoder ${(enc as { kind: string }).kind}`);
  }
  const r = new Tensor(out, [T * x.shape[0]!, ...x.shape.slice(1)]);
  r.binary = true;
  return { x: r, static: false };
}
