/**
 * How each library maps its discrete neurons to NIR's continuous ones and back (its own export and import
 * code), so a file can be run as that library runs it and written as that library would write it.
 *
 * Import (a NIR neuron → the step we run):
 *   nir           the file as written: dt from --dt (default 1e-4), euler or exp, fire on v > θ, reset to v_reset
 *   snntorch      dt 1e-4, euler, fire >; LIF/CubaLIF reset to 0 whatever v_reset says; IF becomes a leaky
 *                 neuron with β = 0.9 and threshold θ·r (what snnTorch's importer builds)
 *   spikingjelly  dt 1e-4, euler, fire on v ≥ θ (SpikingJelly's Heaviside), reset to v_reset
 *   norse         dt 1e-3, euler, fire >; r read as 1 (Norse ignores it) for LIF and LI; IF integrates v += x
 *                 (no dt, no r); every reset goes to 0
 * Types a library cannot import (snnTorch: LI, I, CubaLI; SpikingJelly: LI, I, CubaLI, CubaLIF; Norse: I,
 * CubaLI) run with the file's own definition, and a warning says so.
 *
 * Export (one of our neurons → a NIR LIF or IF): our update h = a·v + b·x + c is written as the LIF whose
 * Euler step at dt has exactly these coefficients: τ = dt/(1 − a), r = b/(1 − a), v_leak = c/(1 − a)
 * (a = 1: IF with r = b/dt). For a leak β this is snnTorch's mapping (τ = dt/(1 − β), r = τ/dt, v_leak = 0),
 * for SpikingJelly's τ-neurons SpikingJelly's (τ·dt, r = 1 or τ, v_leak = v_reset). snntorch and spikingjelly
 * write at dt 1e-4; norse writes at dt 1e-3 with r = 1, as Norse does, scaling θ, v_reset and v_leak by
 * the input gain instead (exact: the membrane is linear in them), and its IF as v += x.
 */
import { EdgespikeError } from '../util/errors.js';
import type { NirNeuronModel } from '../graph/nir-ops.js';
import { coefficients, type NeuronParams } from '../neurons/neuron.js';

/** Import presets. */
export const IMPORT_PRESETS = ['nir', 'snntorch', 'spikingjelly', 'norse'] as const;
export type ImportPreset = (typeof IMPORT_PRESETS)[number];

/** Export presets. */
export const EXPORT_PRESETS = ['snntorch', 'spikingjelly', 'norse'] as const;
export type ExportPreset = (typeof EXPORT_PRESETS)[number];

/** The step each preset runs at (nir: the --dt default). */
export const PRESET_DT: Readonly<Record<ImportPreset, number>> = { nir: 1e-4, snntorch: 1e-4, spikingjelly: 1e-4, norse: 1e-3 };

/** A neuron as it will run: model, parameters (each the layer's size), step, method, spike condition. */
export interface RunNeuron {
  readonly model: NirNeuronModel;
  readonly params: Record<string, Float32Array>;
  readonly dt: number;
  readonly method: 'euler' | 'exp';
  readonly fire: '>' | '>=';
}

const SUPPORTS: Readonly<Record<Exclude<ImportPreset, 'nir'>, readonly NirNeuronModel[]>> = {
  snntorch: ['LIF', 'IF', 'CubaLIF'],
  spikingjelly: ['LIF', 'IF'],
  norse: ['LIF', 'IF', 'LI', 'CubaLIF'],
};

/**
 * The neuron a preset runs for a file's neuron. `params` holds every parameter of `model` at the layer's
 * size (v_reset and w_in filled in); the returned ones are new arrays. Notes go to `warn`.
 */
export function presetNeuron(preset: ImportPreset, model: NirNeuronModel, params: Readonly<Record<string, Float32Array>>,
  o: { dt: number; method: 'euler' | 'exp' }, warn: (why: string) => void): RunNeuron {
  const p: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(params)) p[k] = new Float32Array(v);
  const standard: RunNeuron = { model, params: p, dt: o.dt, method: o.method, fire: '>' };
  if (preset === 'nir') return standard;
  if (o.method !== 'euler') throw new EdgespikeError(`--method exp: the ${preset} preset runs the library's Euler step; use --preset nir for exp`);
  if (!SUPPORTS[preset].includes(model)) {
    warn(`${model}: ${preset} does not import ${model} nodes; run with NIR's own definition (euler at dt ${o.dt})`);
    return { ...standard, fire: preset === 'spikingjelly' ? '>=' : '>' };
  }
  const zero = (name: string): void => { if (p[name]) p[name]!.fill(0); };
  switch (preset) {
    case 'snntorch':
      if (model === 'IF') {
        // snnTorch's importer builds Leaky(beta=0.9, threshold=v_threshold·r) with reset to zero
        const m = p.r!.length, tau = new Float32Array(m).fill(10 * o.dt);
        const vth = Float32Array.from(p.v_threshold!, (v, i) => v * p.r![i]!);
        warn('IF: snnTorch imports IF as a leaky neuron with β = 0.9 (and threshold θ·r); the snntorch preset does the same');
        return { model: 'LIF', params: { tau, r: new Float32Array(m).fill(10), v_leak: new Float32Array(m), v_threshold: vth, v_reset: new Float32Array(m) }, dt: o.dt, method: 'euler', fire: '>' };
      }
      zero('v_reset');
      return standard;
    case 'spikingjelly':
      return { ...standard, fire: '>=' };
    case 'norse':
      if (model === 'IF') p.r!.fill(1 / o.dt);
      if (model === 'LIF' || model === 'LI') p.r!.fill(1);
      if (model === 'CubaLIF' && p.v_leak!.some((v) => v !== 0)) warn('CubaLIF: Norse lets the synaptic current leak toward v_leak too; the norse preset leaks it toward 0');
      zero('v_reset');
      return standard;
  }
}

/** A NIR LIF or IF that one of our neurons is written as, and what the standard fields cannot say. */
export interface ExportedNeuron {
  readonly type: 'LIF' | 'IF';
  /** Per-neuron values of each field (length m). */
  readonly fields: Record<string, Float64Array>;
  /** What the standard fields lose ("soft reset", "fires on v ≥ θ", …). */
  readonly lost: string[];
}

/**
 * Our neuron `p` (its learned decay `decay`, per-neuron thresholds `vth`) as the NIR LIF or IF whose
 * Euler step at `dt` computes the same update, written the way `preset` writes it.
 */
export function exportNeuron(p: NeuronParams, decay: number | undefined, vth: Float32Array, preset: ExportPreset, dt: number): ExportedNeuron {
  const f = Math.fround, m = vth.length;
  const co = coefficients(p, decay);
  const a = f(co.a), b = f(co.b), c = f(co.c);
  const lost: string[] = [];
  if (p.reset === 'soft') lost.push('soft reset (written as a hard reset to v_reset)');
  if (p.reset === 'none') lost.push('no reset (written as a hard reset to v_reset)');
  if (p.fire === '>=') lost.push('fires on v ≥ θ (NIR fires on v > θ)');
  if (p.membrane) lost.push('a quantized membrane');
  const full = (v: number): Float64Array => new Float64Array(m).fill(v);
  let vr = p.vReset, leak: number, th = new Float64Array(vth);
  if (a === 1 && c === 0) {
    // no leak: an IF; Norse integrates v += x, so its gain moves into θ and v_reset
    let r = b / dt;
    if (preset === 'norse' && b !== 0) { th = th.map((v) => v / b); vr /= b; r = 1; }
    return { type: 'IF', fields: { r: full(r), v_threshold: th, v_reset: full(vr) }, lost };
  }
  const g = 1 - a;
  let r = b / g;
  leak = c / g;
  if (preset === 'norse' && b !== 0) {
    // Norse reads r as 1: scale the membrane by k = g/b (θ, v_reset, v_leak with it)
    const k = g / b;
    th = th.map((v) => v * k); vr *= k; leak *= k; r = 1;
  }
  return { type: 'LIF', fields: { tau: full(dt / g), r: full(r), v_leak: full(leak), v_threshold: th, v_reset: full(vr) }, lost };
}
