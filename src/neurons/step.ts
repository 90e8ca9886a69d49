/**
 * One neuron step written with the differentiable ops: the readable specification that the fused
 * kernels are tested against (values exactly, gradients to rounding).
 */
import { Tensor } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import * as op from '../ops/index.js';
import { surrogate } from './surrogate.js';
import { logistic } from '../kernels/surrogate.js';
import type { NeuronParams } from './neuron.js';

/**
 * Heaviside spike of u = h − θ with a surrogate backward. With `sigmaTheta`, the LT-SNN extra term
 * −Σ_{u ≥ 0} ∂L/∂u·logistic(u) is added to that threshold's gradient.
 */
export function spikeFn(u: Tensor, p: NeuronParams, sigmaTheta?: Tensor): Tensor {
  const sur = surrogate(p.surrogate), alpha = p.alpha ?? sur.alpha;
  const U = u.data;
  const s = new Float32Array(U.length);
  for (let i = 0; i < U.length; i++) s[i] = (p.fire === '>' ? U[i]! > 0 : U[i]! >= 0) ? 1 : 0;
  const out = new Tensor(s, u.shape);
  out.binary = true;
  return record(out, 'spike', sigmaTheta ? [u, sigmaTheta] : [u], (g) => {
    const gu = new Float32Array(U.length);
    let extra = 0;
    for (let i = 0; i < U.length; i++) {
      gu[i] = g[i]! * sur.grad(U[i]!, alpha);
      if (sigmaTheta && U[i]! >= 0) extra -= gu[i]! * logistic(U[i]!);
    }
    accumulateOwned(u, gu);
    if (sigmaTheta) accumulateOwned(sigmaTheta, Float32Array.of(extra));
  });
}

/** Learnable per-layer parameters (scalars) when the neuron learns them. */
export interface NeuronTensors {
  /** Raw decay: β (multiplicative) or w with sigmoid(w) = 1/τ (decay charges). */
  readonly decay?: Tensor;
  /** Threshold θ. */
  readonly vth?: Tensor;
}

/** One step: returns spikes s, the next state v and the membrane before reset h. Never mutates its inputs. */
export function neuronStep(x: Tensor, v: Tensor, p: NeuronParams, lp: NeuronTensors = {}): { s: Tensor; v: Tensor; h: Tensor } {
  let a: Tensor | number, b: Tensor | number, c: Tensor | number;
  if (p.charge === 'multiplicative') {
    a = lp.decay ? op.clamp(lp.decay, 0, 1) : p.beta; b = 1; c = 0;
  } else {
    const inv = lp.decay ? op.sigmoid(lp.decay) : 1 / p.tau;
    a = op.sub(1, inv); b = p.charge === 'decay-input' ? inv : 1; c = op.mul(inv, p.vReset);
  }
  const h = op.add(op.add(op.mul(a, v), op.mul(b, x)), c);
  const th: Tensor | number = lp.vth ?? p.vth;
  const s = spikeFn(op.sub(h, th), p, p.thresholdSigmaPath && lp.vth ? lp.vth : undefined);
  const sr = p.detachReset ? s.detach() : s;
  let vNext: Tensor;
  if (p.reset === 'soft') vNext = op.sub(h, op.mul(sr, p.undecayedReset ? op.div(th, a) : th));
  else if (p.reset === 'hard') vNext = op.add(op.mul(h, op.sub(1, sr)), op.mul(sr, p.vReset));
  else vNext = h;
  return { s, v: vNext, h };
}
