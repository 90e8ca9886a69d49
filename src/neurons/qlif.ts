/**
 * Neurons whose membrane is stored quantized between steps (SpQuant-SNN / IM-SNN's QLIF). Each step:
 *   h = β·v + x                       leak and integrate (full-precision input)
 *   s = H(h − θ)                      fire (> or ≥, as the neuron says)
 *   r = reset(h, s)                   hard (to v_reset) or soft (subtract θ)
 *   v = Q(r)                          the potential carried to the next step, on a grid of levels
 * Q clamps r to [lb, θ] and rounds to the nearest level lb + k·interval (k < levels; ties to the lower
 * level). Its backward is the stacked surrogate Σ_{levels l ≠ 0} σ'₂(r − b_l), b_l the decision boundary
 * between l and its neighbour towards 0 (l ∓ interval/2), σ'₂(u) = 2σ(2u)(1 − σ(2u)); the clamp passes
 * the gradient. Ternary ("1.58-bit") is lb −1, interval 1, 3 levels: {−1, 0, 1}.
 * Arithmetic is float32 at every operation, as the integer inference kernel computes it.
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import { accumulateOwned, needsGrad, record } from '../tensor/tape.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { surrogate } from './surrogate.js';
import type { NeuronParams } from './neuron.js';

const f = Math.fround;

/** The membrane's grid: levels lb, lb + interval, …, lb + (levels − 1)·interval. */
export interface MembraneQuant {
  readonly lb: number;
  readonly interval: number;
  readonly levels: number;
}

/** The grid of `bits` stored bits (1.58: ternary) whose top level is the threshold θ and which holds 0. */
export function membraneGrid(bits: number, vth: number): MembraneQuant {
  if (bits === 1.58) return { lb: -1, interval: 1, levels: 3 };
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new EdgespikeError(`membrane bits must be 1.58 (ternary) or an integer from 2 to 8, got ${bits}`);
  const levels = 2 ** bits, interval = bits === 2 ? vth : f(vth / 2 ** (bits - 2));
  return { lb: f(vth - (levels - 1) * interval), interval, levels };
}

/** The level index of the value 0 (a fresh membrane); the grid must hold 0. */
export function zeroLevel(mq: MembraneQuant): number {
  const k = -mq.lb / mq.interval;
  if (!Number.isInteger(k) || k < 0 || k >= mq.levels) throw new EdgespikeError(`membrane grid lb ${mq.lb}, interval ${mq.interval}, ${mq.levels} levels does not hold 0`);
  return k;
}

/** Checks a grid and that it suits the neuron (levels ≥ 2, 0 on the grid, θ not below it). */
export function checkMembraneQuant(mq: MembraneQuant, p: Pick<NeuronParams, 'vth'>): void {
  const ok = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  if (!ok(mq.lb) || !ok(mq.interval) || !(mq.interval > 0) || !Number.isInteger(mq.levels) || mq.levels < 2 || mq.levels > 256) {
    throw new EdgespikeError(`neuron: membrane grid needs finite lb, interval > 0 and 2 … 256 levels, got ${JSON.stringify(mq)}`);
  }
  zeroLevel(mq);
  if (p.vth < mq.lb) throw new EdgespikeError(`neuron: threshold ${p.vth} lies below the membrane grid's lowest level ${mq.lb}`);
}

/** Q(r) as a level index (float32 at every operation). */
export function quantizeLevel(r: number, mq: MembraneQuant, vth: number): number {
  const c = Math.min(Math.max(r, mq.lb), f(vth));
  const k = Math.min(mq.levels - 2, Math.max(0, Math.floor(f(f(c - mq.lb) / mq.interval))));
  const lo = f(mq.lb + f(k * mq.interval)), hi = f(lo + mq.interval);
  return Math.abs(f(c - hi)) < Math.abs(f(c - lo)) ? k + 1 : k;
}

/** The value of level k. */
export function levelValue(k: number, mq: MembraneQuant): number {
  return f(mq.lb + f(k * mq.interval));
}

const logistic = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The stacked surrogate of Q at r. */
export function quantizerGrad(r: number, mq: MembraneQuant): number {
  let g = 0;
  for (let k = 0; k < mq.levels; k++) {
    const l = mq.lb + k * mq.interval;
    if (l === 0) continue;
    const b = l < 0 ? l + mq.interval / 2 : l - mq.interval / 2;
    const s = logistic(2 * (r - b));
    g += 2 * s * (1 - s);
  }
  return g;
}

/** Result of a quantized-membrane run. */
export interface QlifRun {
  /** Spikes [T, ...shape]. */
  readonly spikes: Tensor;
  /** Membrane before reset at every step [T, ...shape] (for monitors); empty when neither kept nor needed for a gradient. */
  readonly h: Float32Array;
  /** Level index of every neuron after the last step (0 … levels − 1; 256 levels need 16 bits). */
  readonly level: Int16Array;
}

/**
 * T steps of quantized-membrane neurons, with the backward through time (surrogate spikes, stacked
 * surrogate of Q). xs: [T, ...shape], or [...shape] presented at every step with `staticInput`.
 */
export function qlifRun(xs: Tensor, p: NeuronParams & { membrane: MembraneQuant }, o: { T: number; staticInput?: boolean; keepMembrane?: boolean }): QlifRun {
  const { T } = o, mq = p.membrane;
  if (p.charge !== 'multiplicative') throw new EdgespikeError('neuron: a quantized membrane takes the multiplicative charge (h = β·v + x)');
  if (p.learnDecay || p.learnThreshold) throw new EdgespikeError('neuron: a quantized membrane learns neither its leak nor its threshold');
  if (p.reset === 'none') throw new EdgespikeError('neuron: a quantized membrane needs a reset (hard or soft)');
  checkMembraneQuant(mq, p);
  const shape: Shape = o.staticInput ? xs.shape : xs.shape.slice(1);
  if (!o.staticInput && xs.shape[0] !== T) throw new EdgespikeError(`qlifRun: input must be [T=${T}, ...], got ${fmtShape(xs.shape)}`);
  const m = shape.reduce((a, d) => a * d, 1), X = xs.data;
  const beta = f(p.beta), th = f(p.vth), vr = f(p.vReset), strict = p.fire === '>', hard = p.reset === 'hard';
  // the membranes before and after reset, for the backward (and h for monitors): not kept at inference
  const keep = needsGrad(xs) || (o.keepMembrane ?? true), n = keep ? T * m : 0;
  const s = new Float32Array(T * m), h = new Float32Array(n), r = new Float32Array(n), level = new Int16Array(m);
  const k0 = zeroLevel(mq);
  // β·(value of level k), rounded as the step rounds it, once per level
  const leak = new Float32Array(mq.levels);
  for (let k = 0; k < mq.levels; k++) leak[k] = beta * levelValue(k, mq);
  let count = 0;
  for (let i = 0; i < m; i++) {
    let k = k0;
    for (let t = 0; t < T; t++) {
      const o2 = t * m + i;
      const hi = f(leak[k]! + X[o.staticInput ? i : o2]!);
      const u = f(hi - th);
      const si = (strict ? u > 0 : u >= 0) ? 1 : 0;
      const ri = si ? (hard ? vr : f(hi - th)) : hi;
      s[o2] = si; count += si;
      if (keep) { h[o2] = hi; r[o2] = ri; }
      k = quantizeLevel(ri, mq, th);
    }
    level[i] = k;
  }
  const spikes = new Tensor(s, [T, ...shape]);
  spikes.binary = true;
  spikes.density = count / Math.max(1, T * m);
  if (!needsGrad(xs)) return { spikes, h, level };
  const sur = surrogate(p.surrogate), alpha = p.alpha ?? sur.alpha;
  record(spikes, 'qlifRun', [xs], (gs) => {
    const gx = new Float32Array(xs.size);
    for (let i = 0; i < m; i++) {
      let gv = 0;
      for (let t = T - 1; t >= 0; t--) {
        const o2 = t * m + i, si = s[o2]!, hi = h[o2]!;
        const gr = gv * quantizerGrad(r[o2]!, mq);
        // ∂r/∂h and ∂r/∂s of the reset
        const drdh = hard ? 1 - si : 1, drds = p.detachReset ? 0 : hard ? vr - hi : -th;
        const gh = gr * drdh + (gs[o2]! + gr * drds) * sur.grad(hi - th, alpha);
        if (o.staticInput) gx[i]! += gh; else gx[o2] = gh;
        gv = gh * beta;
      }
    }
    accumulateOwned(xs, gx);
  });
  return { spikes, h, level };
}
