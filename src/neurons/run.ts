/**
 * The fused multi-step neuron op: T steps of a layer in one kernel call and one tape node, equal
 * to T calls of neuronStep in values and gradients (tested).
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import { accumulateOwned, needsGrad, record } from '../tensor/tape.js';
import { floatsFor } from '../tensor/storage.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { neuronKernels } from '../backends/neuron.js';
import { coefficientGrads, kernelParams, type NeuronParams } from './neuron.js';
import { surrogate } from './surrogate.js';
import { neuronBackwardWith, refNeuronKernels } from '../backends/ref/neuron.js';
import type { NeuronTensors } from './step.js';

/** Result of a multi-step run. */
export interface NeuronRun {
  /** Spikes [T, ...shape] (binary). */
  readonly spikes: Tensor;
  /** Membrane before reset at every step, [T, ...shape] (no gradient; for monitors); empty when not kept. */
  readonly h: Float32Array;
  /** State after the last step, [...shape]. */
  readonly v: Float32Array;
}

/** Options of neuronRun. */
export interface NeuronRunOptions {
  /** Number of steps. */
  readonly T: number;
  /** xs is one frame [...shape] presented at every step (direct encoding). */
  readonly staticInput?: boolean;
  /** Initial state [...shape] (default zeros). Not modified. */
  readonly v0?: Float32Array;
  /** Keep the membranes (needed for gradients and monitors; default true). */
  readonly keepMembrane?: boolean;
}

/**
 * Runs a neuron layer over T steps. xs: [T, ...shape], or [...shape] with staticInput.
 * Learnable decay and threshold (scalars) receive their gradients through the fused backward.
 */
export function neuronRun(xs: Tensor, p: NeuronParams, lp: NeuronTensors, o: NeuronRunOptions): NeuronRun {
  const T = o.T;
  if (!Number.isInteger(T) || T < 1) throw new EdgespikeError(`neuronRun: T must be a positive integer, got ${T}`);
  const shape: Shape = o.staticInput ? xs.shape : xs.shape.slice(1);
  if (!o.staticInput && xs.shape[0] !== T) throw new EdgespikeError(`neuronRun: input must be [T=${T}, ...], got ${fmtShape(xs.shape)}`);
  const m = shape.reduce((a, d) => a * d, 1);
  for (const [name, t] of [['decay', lp.decay], ['threshold', lp.vth]] as const) {
    if (t && t.size !== 1) throw new EdgespikeError(`neuronRun: learnable ${name} must be a scalar, got ${fmtShape(t.shape)}`);
  }
  if (o.v0 && o.v0.length !== m) throw new EdgespikeError(`neuronRun: initial state has ${o.v0.length} values, layer has ${m}`);
  const decay = lp.decay?.data[0], vth = lp.vth?.data[0];
  const kp = kernelParams(p, decay, vth);
  // A user-supplied surrogate has no kernel id: the reference body evaluates it.
  const sur = surrogate(p.surrogate);
  const K = sur.id === undefined ? refNeuronKernels : neuronKernels();
  const v = o.v0 ? new Float32Array(o.v0) : new Float32Array(m);
  const v0 = new Float32Array(v);
  const learn = needsGrad(xs, lp.decay, lp.vth);
  const s = floatsFor(T * m), h = floatsFor(learn || (o.keepMembrane ?? true) ? T * m : 0);
  const count = K.neuronForward(xs.data, v, s, h, T, m, !!o.staticInput, kp);
  const spikes = new Tensor(s, [T, ...shape]);
  spikes.binary = true;
  spikes.density = count / Math.max(1, T * m);
  const inputs = [xs, ...(lp.decay ? [lp.decay] : []), ...(lp.vth ? [lp.vth] : [])];
  record(spikes, 'neuronRun', inputs, (gs) => {
    const gx = floatsFor(xs.size), gp = new Float64Array(4);
    if (sur.id === undefined) neuronBackwardWith((u) => sur.grad(u, kp.alpha), gs, h, s, xs.data, v0, gx, T, m, !!o.staticInput, kp, gp);
    else K.neuronBackward(gs, h, s, xs.data, v0, gx, T, m, !!o.staticInput, kp, gp);
    if (xs.requiresGrad) accumulateOwned(xs, gx);
    if (lp.decay?.requiresGrad) {
      const [da, db, dc] = coefficientGrads(p, decay!);
      accumulateOwned(lp.decay, Float32Array.of(gp[0]! * da + gp[1]! * db + gp[2]! * dc));
    }
    if (lp.vth?.requiresGrad) accumulateOwned(lp.vth, Float32Array.of(gp[3]!));
  });
  return { spikes, h, v };
}

