/**
 * NIR's continuous-time neurons as discrete steps of length dt (seconds). With g = dt/τ:
 *
 *   euler   v ← v + g·(v_leak − v + r·u)            = a·v + b·u + c,  a = 1 − g,       b = r·g,       c = v_leak·g
 *   exp     v ← v_∞ + (v − v_∞)·e^(−g), v_∞ = v_leak + r·u   a = e^(−g),      b = r·(1 − e^(−g)), c = v_leak·(1 − e^(−g))
 *   IF, I   v ← v + dt·r·u                                   a = 1,           b = r·dt,          c = 0   (both methods)
 *
 * u is the input x held for the step, or for CubaLIF/CubaLI the synaptic current after its own update
 * I ← a_s·I + b_s·x (a_s = 1 − dt/τ_syn, b_s = w_in·dt/τ_syn; exp: e^(−dt/τ_syn) and w_in·(1 − e^(−dt/τ_syn))).
 * LIF, IF and CubaLIF then spike where v > v_threshold (or ≥ with fire '>='), at most once per step, and
 * reset to v_reset; LI, I and CubaLI output v. Coefficients are computed in double precision from the
 * stored parameters and rounded to float32 once; each step is then (a·v + b·u) + c in float32, every
 * operation rounded, as the fused neuron kernels compute h = a·v + b·x + c.
 */
import { Tensor } from '../tensor/tensor.js';
import * as op from '../ops/index.js';
import { EdgespikeError } from '../util/errors.js';
import { NIR_NEURON_PARAMS, spikes, type NirNeuronAttrs, type NirNeuronModel } from '../graph/nir-ops.js';
import { kernelParams, neuronParams, NEURON_DEFAULTS, type NeuronParams } from './neuron.js';
import { spikeFn } from './step.js';

/** Per-neuron coefficients of one step (each of the neuron layer's shape, flattened). */
export interface NirCoefficients {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly c: Float32Array;
  /** CubaLIF, CubaLI: the synapse's I ← a_s·I + b_s·x. */
  readonly syn?: { readonly a: Float32Array; readonly b: Float32Array };
  /** LIF, IF, CubaLIF. */
  readonly vth?: Float32Array;
  readonly vReset?: Float32Array;
}

/** The parameters of a NIR neuron by name (v_reset and w_in always present here), each of the layer's size. */
export type NirParams = Readonly<Record<string, Float32Array>>;

/** One decay step for time constants τ: [a, gain] with a·v + gain·(drive) the update of dv/dt = (drive − v)/τ. */
function decay(dt: number, tau: number, method: NirNeuronAttrs['method']): [number, number] {
  const g = dt / tau;
  return method === 'exp' ? [Math.exp(-g), -Math.expm1(-g)] : [1 - g, g];
}

/** The coefficients of a NIR neuron at step dt. */
export function nirCoefficients(model: NirNeuronModel, p: NirParams, dt: number, method: NirNeuronAttrs['method']): NirCoefficients {
  const m = p.r!.length;
  const a = new Float32Array(m), b = new Float32Array(m), c = new Float32Array(m);
  const leaky = model === 'LIF' || model === 'LI', cuba = model === 'CubaLIF' || model === 'CubaLI';
  for (let i = 0; i < m; i++) {
    if (leaky || cuba) {
      const [ai, gi] = decay(dt, (leaky ? p.tau : p.tau_mem)![i]!, method);
      a[i] = ai; b[i] = p.r![i]! * gi; c[i] = p.v_leak![i]! * gi;
    } else {
      a[i] = 1; b[i] = p.r![i]! * dt;
    }
  }
  let syn: NirCoefficients['syn'];
  if (cuba) {
    const as = new Float32Array(m), bs = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      const [ai, gi] = decay(dt, p.tau_syn![i]!, method);
      as[i] = ai; bs[i] = p.w_in![i]! * gi;
    }
    syn = { a: as, b: bs };
  }
  return { a, b, c, ...(syn ? { syn } : {}), ...(spikes(model) ? { vth: p.v_threshold, vReset: p.v_reset } : {}) };
}

/** The coefficients as tensors of the layer's shape, ready to broadcast over [N, …shape]. */
export interface NirCoefficientTensors {
  readonly a: Tensor; readonly b: Tensor; readonly c: Tensor;
  readonly syn?: { readonly a: Tensor; readonly b: Tensor };
  readonly vth?: Tensor; readonly vReset?: Tensor;
}

/** Wraps coefficients as tensors of `shape`. */
export function coefficientTensors(co: NirCoefficients, shape: readonly number[]): NirCoefficientTensors {
  const t = (d: Float32Array): Tensor => new Tensor(d, [...shape]);
  return {
    a: t(co.a), b: t(co.b), c: t(co.c),
    ...(co.syn ? { syn: { a: t(co.syn.a), b: t(co.syn.b) } } : {}),
    ...(co.vth ? { vth: t(co.vth), vReset: t(co.vReset!) } : {}),
  };
}

/** A NIR neuron layer's state: the membrane, and the synaptic current of Cuba models. */
export interface NirState { readonly v: Tensor; readonly i?: Tensor }

/** The surrogate settings of a NIR neuron's spike (atan, the neurons' default). */
export function nirSpikeParams(fire: NirNeuronAttrs['fire']): NeuronParams {
  return { ...NEURON_DEFAULTS, fire };
}

/**
 * One step on x: [N, …shape] from `state` (zeros when null): the output (spikes, or the membrane of
 * LI/I/CubaLI), the next state, and the membrane before reset. Never mutates its inputs.
 */
export function nirNeuronStep(x: Tensor, state: NirState | null, co: NirCoefficientTensors, model: NirNeuronModel, spike: NeuronParams): { out: Tensor; state: NirState; h: Tensor } {
  const zeros = (): Tensor => new Tensor(new Float32Array(x.size), x.shape);
  let u = x, i: Tensor | undefined;
  if (co.syn) {
    i = op.add(op.mul(state?.i ?? zeros(), co.syn.a), op.mul(x, co.syn.b));
    u = i;
  }
  const h = op.add(op.add(op.mul(state?.v ?? zeros(), co.a), op.mul(u, co.b)), co.c);
  if (!spikes(model)) return { out: h, state: { v: h, ...(i ? { i } : {}) }, h };
  const s = spikeFn(op.sub(h, co.vth!), spike);
  const sr = s.detach();
  const v = op.add(op.mul(h, op.sub(1, sr)), op.mul(sr, co.vReset!));
  return { out: s, state: { v, ...(i ? { i } : {}) }, h };
}

/** One of our neurons that computes a NIR neuron bit for bit, with its threshold (one, or one per channel). */
export interface MatchedNeuron {
  readonly neuron: NeuronParams;
  readonly threshold: 'scalar' | 'channel';
  /** One threshold per channel, when `threshold` is 'channel'. */
  readonly vth?: Float32Array;
}

/** The one value of `d`, or undefined when its values differ. */
function uniform(d: Float32Array): number | undefined {
  const v = d[0]!;
  for (let i = 1; i < d.length; i++) if (!Object.is(d[i], v)) return undefined;
  return v;
}

/**
 * Our fused neuron that computes the same bits as NIR neuron `model` with these coefficients, if one does:
 * a LIF or IF whose a, b, c and v_reset are the same for every neuron and whose threshold is uniform or
 * constant over each channel (axis 0 of `shape`). A candidate (multiplicative β·v + x, decay-input
 * v + (x − (v − v_r))/τ, decay-noinput) is taken only when the kernel coefficients it yields equal a, b, c
 * exactly, so the update, the comparison and the hard reset are the same operations on the same numbers.
 */
export function matchNeuron(model: NirNeuronModel, co: NirCoefficients, fire: NirNeuronAttrs['fire'], shape: readonly number[]): MatchedNeuron | null {
  if (model !== 'LIF' && model !== 'IF') return null;
  const a = uniform(co.a), b = uniform(co.b), c = uniform(co.c), vr = uniform(co.vReset!);
  if (a === undefined || b === undefined || c === undefined || vr === undefined) return null;
  const th = channelValues(co.vth!, shape);
  if (!th) return null;
  const base = { reset: 'hard', vReset: vr, fire, detachReset: true, vth: th.length === 1 ? th[0]! : 1 } as const;
  const f = Math.fround;
  const candidates: Partial<NeuronParams>[] = [
    { ...base, charge: 'multiplicative', beta: a },
    { ...base, charge: 'decay-input', tau: 1 / b },
    { ...base, charge: 'decay-noinput', tau: 1 / (1 - a) },
  ];
  for (const cand of candidates) {
    let p: NeuronParams;
    try { p = neuronParams('default', cand); } catch { continue; }
    const k = kernelParams(p);
    if (Object.is(f(k.a), a) && Object.is(f(k.b), b) && Object.is(f(k.c), c) && Object.is(f(k.vReset), vr)) {
      return th.length === 1 ? { neuron: p, threshold: 'scalar' } : { neuron: p, threshold: 'channel', vth: th };
    }
  }
  return null;
}

/** One value for the layer, or one per channel (axis 0 of `shape`) when constant within each; null otherwise. */
function channelValues(d: Float32Array, shape: readonly number[]): Float32Array | null {
  const one = uniform(d);
  if (one !== undefined) return Float32Array.of(one);
  if (shape.length < 2) return null;
  const C = shape[0]!, inner = d.length / C, out = new Float32Array(C);
  for (let ch = 0; ch < C; ch++) {
    const v = uniform(d.subarray(ch * inner, (ch + 1) * inner));
    if (v === undefined) return null;
    out[ch] = v;
  }
  return out;
}

/** Checks a NIR neuron's parameters: every one present with the layer's size, finite, time constants > 0. */
export function checkNirParams(model: NirNeuronModel, p: NirParams, m: number, where: string): void {
  for (const name of NIR_NEURON_PARAMS[model]) {
    const d = p[name];
    if (!d) throw new EdgespikeError(`${where}: parameter "${name}" is missing`);
    if (d.length !== m) throw new EdgespikeError(`${where}: parameter "${name}" has ${d.length} values, the layer ${m}`);
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (!Number.isFinite(v)) throw new EdgespikeError(`${where}: parameter "${name}" holds ${v} at index ${i}; values must be finite`);
      if (name.startsWith('tau') && !(v > 0)) throw new EdgespikeError(`${where}: parameter "${name}" holds ${v} at index ${i}; a time constant must be > 0`);
    }
  }
}
