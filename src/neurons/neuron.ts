/**
 * Spiking neurons as one update over (state, parameters), in the conventions users meet:
 *   multiplicative (snnTorch Leaky):   h = β·v + x           (IF: β = 1)
 *   decay-input (SpikingJelly LIF):    h = v + (x − (v − v_reset))/τ
 *   decay-noinput (SpikingJelly, decay_input=False): h = v − (v − v_reset)/τ + x
 * then s = H(h − θ) and a soft (subtract θ), hard (to v_reset) or no reset. PLIF learns τ through
 * 1/τ = sigmoid(w) (Fang et al. 2021); LT-SNN learns one threshold per layer (init 1.0).
 * `neuronStep` is the specification; the fused kernels (neurons/run.ts) are tested equal to it.
 */
import { EdgespikeError } from '../util/errors.js';
import { surrogate, type SurrogateSpec } from './surrogate.js';
import type { NeuronKernelParams } from '../kernels/neuron.js';
import { checkMembraneQuant, type MembraneQuant } from './qlif.js';

/** How input and state combine. */
export type Charge = 'multiplicative' | 'decay-input' | 'decay-noinput';

/** Full description of a neuron layer. */
export interface NeuronParams {
  readonly charge: Charge;
  /** Leak factor of the multiplicative charge (1 = IF). */
  readonly beta: number;
  /** Time constant of the decay charges (PLIF: initial value). */
  readonly tau: number;
  /** Firing threshold (LT-SNN: initial value). */
  readonly vth: number;
  /** Hard-reset value and resting potential of the decay charges. */
  readonly vReset: number;
  readonly reset: 'soft' | 'hard' | 'none';
  /** No gradient through the reset. */
  readonly detachReset: boolean;
  /** Fire on h ≥ θ, or on h > θ. */
  readonly fire: '>=' | '>';
  /** snnTorch: the soft-reset subtraction is not shrunk by the leak (U = βU + I − S·θ). */
  readonly undecayedReset: boolean;
  readonly surrogate: SurrogateSpec;
  /** Surrogate sharpness (defaults to the surrogate's own). */
  readonly alpha?: number;
  /** Learn the leak: PLIF (decay charges: 1/τ = sigmoid(w)) or β (multiplicative, clamped to [0, 1]). */
  readonly learnDecay: boolean;
  /** LT-SNN: one learnable threshold for the layer. */
  readonly learnThreshold: boolean;
  /** LT-SNN: the extra σ-weighted threshold-gradient path. */
  readonly thresholdSigmaPath: boolean;
  /**
   * A membrane stored quantized between steps (SpQuant-SNN's QLIF, see neurons/qlif.ts): after the reset,
   * the potential is rounded to the grid lb + k·interval, k < levels. Absent: full precision.
   */
  readonly membrane?: MembraneQuant;
}

/** The defaults: LIF with β = 0.9 and soft reset, the reference network's neuron. */
export const NEURON_DEFAULTS: NeuronParams = Object.freeze({
  charge: 'multiplicative', beta: 0.9, tau: 2, vth: 1, vReset: 0, reset: 'soft', detachReset: true, fire: '>=',
  undecayedReset: false, surrogate: 'atan', learnDecay: false, learnThreshold: false, thresholdSigmaPath: false,
});

/** Named neuron presets reproducing each library's or paper's convention. */
export const NEURON_PRESETS = {
  /** IF: no leak. */
  if: { charge: 'multiplicative', beta: 1 },
  /** LIF, multiplicative leak β. */
  lif: {},
  /** snnTorch Leaky: U = βU + I − S·θ, fire on >, detached reset. */
  'snntorch-leaky': { charge: 'multiplicative', beta: 0.9, fire: '>', undecayedReset: true, detachReset: true, surrogate: 'atan' },
  /** SpikingJelly LIFNode defaults: τ = 2, decay input, hard reset to 0, reset not detached. */
  'spikingjelly-lif': { charge: 'decay-input', tau: 2, reset: 'hard', detachReset: false, surrogate: 'sigmoid' },
  /** PLIF (SpikingJelly ParametricLIFNode): learnable τ, init 2. */
  plif: { charge: 'decay-input', tau: 2, reset: 'hard', detachReset: false, learnDecay: true, surrogate: 'atan' },
  /** EC-SNN: SpikingJelly LIF τ = 4/3, soft reset, detached, ATan α = 2. */
  'ec-snn': { charge: 'decay-input', tau: 4 / 3, reset: 'soft', detachReset: true, surrogate: 'atan', alpha: 2 },
  /** LT-SNN: m = 0.5·m + x, fire ≥ θ (learnable per layer), hard reset, triangle γ = 1, σ path. */
  'lt-snn': { charge: 'multiplicative', beta: 0.5, reset: 'hard', detachReset: false, surrogate: 'triangle', alpha: 1, learnThreshold: true, thresholdSigmaPath: true },
  /** IM-/SpQuant-SNN LIF: m = 0.5·m + x, fire >, hard reset, triangle γ = 1. */
  'im-snn': { charge: 'multiplicative', beta: 0.5, reset: 'hard', fire: '>', detachReset: false, surrogate: 'triangle', alpha: 1 },
} satisfies Record<string, Partial<NeuronParams>>;

/** Name of a neuron preset. */
export type NeuronPreset = keyof typeof NEURON_PRESETS;

/** Resolves a preset name and overrides into full, validated parameters. */
export function neuronParams(preset: NeuronPreset | 'default' = 'default', over: Partial<NeuronParams> = {}): NeuronParams {
  const base = preset === 'default' ? {} : (NEURON_PRESETS as Record<string, Partial<NeuronParams>>)[preset];
  if (!base) throw new EdgespikeError(`neuron: unknown preset "${preset}" (known: ${Object.keys(NEURON_PRESETS).join(', ')})`);
  const p: NeuronParams = { ...NEURON_DEFAULTS, ...base, ...over };
  checkNeuron(p);
  return p;
}

/** Checks every field of full neuron parameters (types, enums, finite numbers in range); one line naming the field. */
export function checkNeuron(p: NeuronParams): void {
  const bad = (why: string): never => { throw new EdgespikeError(`neuron: ${why}`); };
  const oneOf = (name: keyof NeuronParams, values: readonly string[]): void => {
    if (!values.includes(p[name] as string)) bad(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(p[name])}`);
  };
  const finite = (name: keyof NeuronParams): void => {
    if (typeof p[name] !== 'number' || !Number.isFinite(p[name])) bad(`${name} must be a finite number, got ${JSON.stringify(p[name])}`);
  };
  oneOf('charge', ['multiplicative', 'decay-input', 'decay-noinput']);
  oneOf('reset', ['soft', 'hard', 'none']);
  oneOf('fire', ['>=', '>']);
  for (const name of ['beta', 'tau', 'vth', 'vReset'] as const) finite(name);
  for (const name of ['detachReset', 'undecayedReset', 'learnDecay', 'learnThreshold', 'thresholdSigmaPath'] as const) {
    if (typeof p[name] !== 'boolean') bad(`${name} must be true or false, got ${JSON.stringify(p[name])}`);
  }
  if (typeof p.surrogate === 'string') surrogate(p.surrogate);
  else if (typeof p.surrogate !== 'object' || p.surrogate === null || typeof p.surrogate.grad !== 'function') bad(`surrogate must be a surrogate's name or a surrogate, got ${JSON.stringify(p.surrogate)}`);
  if (p.alpha !== undefined && !(typeof p.alpha === 'number' && Number.isFinite(p.alpha) && p.alpha > 0)) bad(`alpha must be a finite number > 0, got ${JSON.stringify(p.alpha)}`);
  if (p.charge === 'multiplicative' && !(p.beta >= 0 && p.beta <= 1)) bad(`beta must be in [0, 1], got ${p.beta}`);
  if (p.charge !== 'multiplicative' && !(p.tau >= 1)) bad(`tau must be ≥ 1, got ${p.tau}`);
  if (p.undecayedReset && p.charge !== 'multiplicative') bad('undecayedReset applies to the multiplicative charge only');
  if (p.membrane !== undefined) {
    if (p.membrane === null || typeof p.membrane !== 'object') bad(`membrane must be {lb, interval, levels}, got ${JSON.stringify(p.membrane)}`);
    checkMembraneQuant(p.membrane, p);
    if (p.charge !== 'multiplicative' || p.learnDecay || p.learnThreshold || p.reset === 'none') bad('a quantized membrane needs the multiplicative charge, a reset, and no learned leak or threshold');
  }
}

/** The decay parameter's raw value: w with sigmoid(w) = 1/τ (decay charges) or β (multiplicative). */
export function decayInit(p: NeuronParams): number {
  if (p.charge === 'multiplicative') return p.beta;
  return -Math.log(p.tau - 1 === 0 ? Number.EPSILON : p.tau - 1); // sigmoid(w) = 1/τ
}

const sig = (w: number): number => 1 / (1 + Math.exp(-w));

/** Kernel coefficients (a, b, c, k) for a given raw decay value (β or PLIF w, or τ when not learned). */
export function coefficients(p: NeuronParams, decay?: number): { a: number; b: number; c: number; k: number } {
  if (p.charge === 'multiplicative') {
    const beta = decay === undefined ? p.beta : Math.min(1, Math.max(0, decay));
    return { a: beta, b: 1, c: 0, k: p.undecayedReset && beta > 0 ? 1 / beta : 1 };
  }
  // Rounded as the ops round it, so the fused kernels and neuronStep agree bit for bit.
  const inv = Math.fround(decay === undefined ? 1 / p.tau : sig(decay));
  if (p.charge === 'decay-input') return { a: 1 - inv, b: inv, c: p.vReset * inv, k: 1 };
  return { a: 1 - inv, b: 1, c: p.vReset * inv, k: 1 };
}

/**
 * ∂(a, b, c)/∂(raw decay) for chaining the kernel's coefficient gradients into the learned decay.
 * Multiplicative: a = β (clamped, gradient 0 outside [0, 1]); decay charges: a = 1 − σ(w), b = σ(w) or 1, c = v_r·σ(w).
 */
export function coefficientGrads(p: NeuronParams, decay: number): [number, number, number] {
  if (p.charge === 'multiplicative') return [decay >= 0 && decay <= 1 ? 1 : 0, 0, 0];
  const s = sig(decay), ds = s * (1 - s);
  return [-ds, p.charge === 'decay-input' ? ds : 0, p.vReset * ds];
}

/** Kernel parameters for given decay and threshold values. */
export function kernelParams(p: NeuronParams, decay?: number, vth?: number): NeuronKernelParams {
  const co = coefficients(p, decay);
  const sur = surrogate(p.surrogate);
  return {
    a: co.a, b: co.b, c: co.c, vth: vth ?? p.vth, vReset: p.vReset,
    reset: p.reset === 'soft' ? 0 : p.reset === 'hard' ? 1 : 2, resetScale: co.k,
    detachReset: p.detachReset, strict: p.fire === '>',
    surrogate: sur.id ?? -1, alpha: p.alpha ?? sur.alpha, sigmaPath: p.thresholdSigmaPath, decayGrads: p.learnDecay,
  };
}
