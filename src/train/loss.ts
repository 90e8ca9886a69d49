/**
 * Losses over a network's readout: cross-entropy of the aggregated logits; TET (Deng et al. 2022:
 * (1 − λ)·mean_t CE(o_t, y) + λ·MSE(o, φ)); MSE between output spike counts and target counts.
 */
import { Tensor } from '../tensor/tensor.js';
import * as op from '../ops/index.js';
import { EdgespikeError } from '../util/errors.js';
import type { NetOutput } from '../layers/net.js';

/** A loss and its settings. */
export type LossSpec =
  | { readonly kind: 'ce'; readonly labelSmoothing?: number }
  | { readonly kind: 'tet'; readonly lambda?: number; readonly phi?: number; readonly labelSmoothing?: number }
  /** Output counts pulled to correctRate·T for the label and incorrectRate·T elsewhere (snnTorch mse_count_loss). */
  | { readonly kind: 'mse-count'; readonly correctRate?: number; readonly incorrectRate?: number };

/** The loss names, for CLI validation. */
export const LOSSES = ['ce', 'tet', 'mse-count'] as const;

/**
 * The scalar loss of a batch, plus the losses nodes added (a gate predictor's BCE). `phi` overrides TET's
 * target (LT-SNN: the mean learnable threshold).
 */
export function lossOf(out: NetOutput, labels: ArrayLike<number>, spec: LossSpec, phi?: number): Tensor {
  const main = taskLoss(out, labels, spec, phi);
  return out.aux ? op.add(main, out.aux) : main;
}

function taskLoss(out: NetOutput, labels: ArrayLike<number>, spec: LossSpec, phi?: number): Tensor {
  if (spec.kind === 'ce') return op.crossEntropy(out.logits, labels, { labelSmoothing: spec.labelSmoothing });
  const [T, N, C] = out.steps.shape as [number, number, number];
  if (spec.kind === 'tet') {
    const lam = spec.lambda ?? 0.05;
    if (!(lam >= 0 && lam <= 1)) throw new EdgespikeError(`loss: TET lambda must be in [0, 1], got ${lam}`);
    let ce: Tensor | null = null;
    for (let t = 0; t < T; t++) {
      const ot = op.reshape(op.slice(out.steps, 0, t, t + 1), [N, C]);
      const l = op.crossEntropy(ot, labels, { labelSmoothing: spec.labelSmoothing });
      ce = ce ? op.add(ce, l) : l;
    }
    const perStep = op.mul(ce!, (1 - lam) / T);
    return lam === 0 ? perStep : op.add(perStep, op.mul(op.mse(out.steps, phi ?? spec.phi ?? 1), lam));
  }
  const hi = (spec.correctRate ?? 1) * T, lo = (spec.incorrectRate ?? 0) * T;
  const target = new Float32Array(N * C).fill(lo);
  for (let i = 0; i < N; i++) target[i * C + labels[i]!] = hi;
  const counts = op.reshape(op.sum(out.steps, 0), [N, C]);
  return op.mse(counts, new Tensor(target, [N, C]));
}
