/**
 * The fused multi-step neuron op: T steps of a layer in one kernel call and one tape node, equal
 * to T calls of neuronStep in values and gradients (tested).
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import { accumulateOwned, needsGrad, record } from '../tensor/tape.js';
import { fillBytes, floatsFor } from '../tensor/storage.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { neuronKernels } from '../backends/neuron.js';
import { coefficientGrads, kernelParams, type NeuronParams } from './neuron.js';
import { surrogate } from './surrogate.js';
import { neuronBackwardWith, refNeuronKernels } from '../backends/ref/neuron.js';
import type { NeuronTensors } from './step.js';
import { levelValue, qlifRun, type MembraneQuant } from './qlif.js';

/** The membrane values of level indices. */
function levelsToValues(level: Int16Array, mq: MembraneQuant): Float32Array {
  const v = new Float32Array(level.length);
  for (let i = 0; i < level.length; i++) v[i] = levelValue(level[i]!, mq);
  return v;
}

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
  /**
   * With a threshold of C values (lp.vth of size C > 1): every step is laid out [N, C, inner], and channel c's
   * threshold covers `inner` consecutive neurons (H·W for convolution maps, 1 for dense layers).
   */
  readonly channelInner?: number;
}

/** The kernel's threshold pattern for C per-channel values: each repeated `inner` times (period C·inner). */
function thresholdPattern(vth: Tensor, m: number, inner: number | undefined): Float32Array {
  const C = vth.size;
  if (inner === undefined || !Number.isInteger(inner) || inner < 1) {
    throw new EdgespikeError(`neuronRun: a threshold of ${C} values needs channelInner, a positive integer (steps laid out [N, C, inner]), got ${inner}`);
  }
  if (m % (C * inner) !== 0) throw new EdgespikeError(`neuronRun: a step of ${m} neurons is not [N, C=${C}, inner=${inner}]`);
  const thr = new Float32Array(C * inner);
  for (let c = 0; c < C; c++) thr.fill(vth.data[c]!, c * inner, (c + 1) * inner);
  return thr;
}

/** ∂L/∂θ per channel from the kernel's per-neuron gradients gth [N·C·inner], added item by item in a fixed order. */
function channelGrads(gth: Float32Array, C: number, inner: number): Float32Array {
  const g = new Float64Array(C), period = C * inner;
  for (let base = 0; base < gth.length; base += period) {
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let k = base + c * inner; k < base + (c + 1) * inner; k++) sum += gth[k]!;
      g[c]! += sum;
    }
  }
  return Float32Array.from(g);
}

/**
 * Runs a neuron layer over T steps. xs: [T, ...shape], or [...shape] with staticInput. The decay (one value)
 * and the threshold (one value, or one per channel with `channelInner`) receive their gradients through the
 * fused backward when they require them.
 *
 * @example per-channel thresholds of a convolution's output, steps [N, C, H, W] flattened:
 *   const vth = parameter(new Float32Array(C).fill(1), [C], 'vth');
 *   const r = neuronRun(op.reshape(conv, [T, N * C * H * W]), p, { vth }, { T, channelInner: H * W });
 */
export function neuronRun(xs: Tensor, p: NeuronParams, lp: NeuronTensors, o: NeuronRunOptions): NeuronRun {
  const T = o.T;
  if (!Number.isInteger(T) || T < 1) throw new EdgespikeError(`neuronRun: T must be a positive integer, got ${T}`);
  const shape: Shape = o.staticInput ? xs.shape : xs.shape.slice(1);
  if (!o.staticInput && xs.shape[0] !== T) throw new EdgespikeError(`neuronRun: input must be [T=${T}, ...], got ${fmtShape(xs.shape)}`);
  const m = shape.reduce((a, d) => a * d, 1);
  if (p.membrane) {
    if (lp.vth && lp.vth.size > 1) throw new EdgespikeError('neuronRun: a quantized membrane takes one threshold for the layer');
    if (o.v0) throw new EdgespikeError('neuronRun: a quantized membrane starts at 0');
    const r = qlifRun(xs, p as NeuronParams & { membrane: MembraneQuant }, { T, staticInput: o.staticInput, keepMembrane: o.keepMembrane });
    return { spikes: r.spikes, h: r.h, v: levelsToValues(r.level, p.membrane) };
  }
  if (lp.decay && lp.decay.size !== 1) throw new EdgespikeError(`neuronRun: learnable decay must be a scalar, got ${fmtShape(lp.decay.shape)}`);
  if (o.v0 && o.v0.length !== m) throw new EdgespikeError(`neuronRun: initial state has ${o.v0.length} values, layer has ${m}`);
  const perChannel = lp.vth !== undefined && lp.vth.size > 1;
  const thr = perChannel ? thresholdPattern(lp.vth!, m, o.channelInner) : undefined;
  const decay = lp.decay?.data[0], vth = perChannel ? undefined : lp.vth?.data[0];
  const kp = { ...kernelParams(p, decay, vth), thr };
  // A user-supplied surrogate has no kernel id: the reference body evaluates it.
  const sur = surrogate(p.surrogate);
  const K = sur.id === undefined ? refNeuronKernels : neuronKernels();
  // the state in workspace memory when one is lent: a fresh array of a large layer costs page faults per call
  const v = floatsFor(m);
  if (o.v0) v.set(o.v0); else fillBytes(v, 0);
  const learn = needsGrad(xs, lp.decay, lp.vth);
  // the initial state, which only the backward reads (lent too: the backward runs within the same workspace)
  const v0 = learn ? floatsFor(m) : v;
  if (learn) { if (o.v0) v0.set(o.v0); else fillBytes(v0, 0); }
  const s = floatsFor(T * m), h = floatsFor(learn || (o.keepMembrane ?? true) ? T * m : 0);
  const count = K.neuronForward(xs.data, v, s, h, T, m, !!o.staticInput, kp);
  const spikes = new Tensor(s, [T, ...shape]);
  spikes.binary = true;
  spikes.density = count / Math.max(1, T * m);
  const inputs = [xs, ...(lp.decay ? [lp.decay] : []), ...(lp.vth ? [lp.vth] : [])];
  record(spikes, 'neuronRun', inputs, (gs) => {
    const gx = floatsFor(xs.size), gp = new Float64Array(4);
    const gth = perChannel && lp.vth!.requiresGrad ? floatsFor(m) : undefined;
    if (sur.id === undefined) neuronBackwardWith((u) => sur.grad(u, kp.alpha), gs, h, s, xs.data, v0, gx, T, m, !!o.staticInput, kp, gp, gth);
    else K.neuronBackward(gs, h, s, xs.data, v0, gx, T, m, !!o.staticInput, kp, gp, gth);
    if (xs.requiresGrad) accumulateOwned(xs, gx);
    if (lp.decay?.requiresGrad) {
      const [da, db, dc] = coefficientGrads(p, decay!);
      accumulateOwned(lp.decay, Float32Array.of(gp[0]! * da + gp[1]! * db + gp[2]! * dc));
    }
    if (gth) accumulateOwned(lp.vth!, channelGrads(gth, lp.vth!.size, o.channelInner!));
    else if (lp.vth?.requiresGrad) accumulateOwned(lp.vth, Float32Array.of(gp[3]!));
  });
  return { spikes, h, v };
}

