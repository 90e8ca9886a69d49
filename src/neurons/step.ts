/**
 * One neuron step written with the differentiable ops: the readable specification that the fused
 * kernels are tested against (values exactly, gradients to rounding).
 */
import { Tensor } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import * as op from '../ops/index.js';
import { broadcastIndex } from '../ops/_broadcast.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { surrogate } from './surrogate.js';
import { logistic } from '../kernels/surrogate.js';
import type { NeuronParams } from './neuron.js';

/**
 * Heaviside spike of u = h − θ with a surrogate backward. With `sigmaTheta` (θ as it broadcasts over u: one
 * value, or one per channel), the LT-SNN extra term −Σ_{u ≥ 0} ∂L/∂u·logistic(u) is added to that threshold's
 * gradient, each u's share to its own θ.
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
    const extra = new Float64Array(sigmaTheta?.size ?? 0);
    const slot = sigmaTheta && sigmaTheta.size > 1 ? broadcastIndex(sigmaTheta.shape, u.shape) : null; // else all in [0]
    for (let i = 0; i < U.length; i++) {
      gu[i] = g[i]! * sur.grad(U[i]!, alpha);
      if (sigmaTheta && U[i]! >= 0) extra[slot ? slot[i]! : 0]! -= gu[i]! * logistic(U[i]!);
    }
    accumulateOwned(u, gu);
    if (sigmaTheta) accumulateOwned(sigmaTheta, Float32Array.from(extra));
  });
}

/** Per-layer parameters held as tensors: learned when they require gradients, else fixed. */
export interface NeuronTensors {
  /** Raw decay: β (multiplicative) or w with sigmoid(w) = 1/τ (decay charges); one value. */
  readonly decay?: Tensor;
  /**
   * Threshold θ: one value, or one per channel, [C]. neuronStep broadcasts C values over its input
   * [N, C, H, W] or [N, C]; neuronRun needs the layout of its flat steps (NeuronRunOptions.channelInner).
   */
  readonly vth?: Tensor;
}

/** θ as it broadcasts over x: a one-value tensor as it is, C values as [C, 1, …] against x: [N, C, …]. */
function channelThreshold(vth: Tensor, x: Tensor): Tensor {
  if (vth.size === 1) return vth;
  const C = vth.size;
  if (x.shape.length < 2 || x.shape[1] !== C) {
    throw new EdgespikeError(`neuronStep: a threshold of ${C} values needs input [N, C=${C}, …], got ${fmtShape(x.shape)}`);
  }
  return op.reshape(vth, [C, ...x.shape.slice(2).map(() => 1)]);
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
  const th: Tensor | number = lp.vth ? channelThreshold(lp.vth, x) : p.vth;
  const s = spikeFn(op.sub(h, th), p, p.thresholdSigmaPath && typeof th !== 'number' ? th : undefined);
  const sr = p.detachReset ? s.detach() : s;
  let vNext: Tensor;
  if (p.reset === 'soft') vNext = op.sub(h, op.mul(sr, p.undecayedReset ? op.div(th, a) : th));
  else if (p.reset === 'hard') vNext = op.add(op.mul(h, op.sub(1, sr)), op.mul(sr, p.vReset));
  else vNext = h;
  return { s, v: vNext, h };
}
