/**
 * Surrogate gradients of the Heaviside spike function, in one typed table. The forward is always
 * the step H(u) (u = membrane − threshold); the backward uses dσ/du of a smooth stand-in.
 * Names and conventions follow the libraries users come from:
 *   atan (SpikingJelly/snnTorch ATan, α = 2):       α/2 / (1 + (π/2·α·u)²)
 *   sigmoid (SpikingJelly Sigmoid, α = 4):          α·σ(αu)·(1 − σ(αu))
 *   fast-sigmoid (snnTorch, slope k = 25):          1 / (1 + k|u|)²
 *   triangle (IM-SNN/LT-SNN ZIF, width γ = 1):      max(0, γ − |u|) / γ²       (zero outside |u| < γ)
 *   rectangular (width a = 1):                      1/a where |u| < a/2, else 0 (zero outside)
 *   straight-through:                               1
 * The ids are part of the fused neuron kernels' contract: the reference body looks σ' up here by id,
 * and assembly/neuron.ts (surrogateGrad) writes the same formulas under the same ids.
 */
import { EdgespikeError } from '../util/errors.js';

/** A surrogate: its derivative, its smooth primitive (for finite-difference tests), and its support. */
export interface Surrogate {
  /** dσ/du at u with sharpness α. */
  readonly grad: (u: number, alpha: number) => number;
  /** The smooth function whose derivative `grad` is (σ(−∞) = 0, σ(∞) = 1 where defined). */
  readonly primitive: (u: number, alpha: number) => number;
  /** Half-width outside which grad is exactly 0 (Infinity when it never is). */
  readonly support: (alpha: number) => number;
  /** Default α. */
  readonly alpha: number;
  /** Integer id used by the fused kernels (custom surrogates have none). */
  readonly id?: number;
}

/** The logistic function 1 / (1 + e⁻ˣ), written so that neither branch overflows. */
export const logistic = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The built-in surrogates, by name; ids 0, 1, 2, … in order. */
export const SURROGATES = {
  atan: {
    id: 0, alpha: 2,
    grad: (u, a) => { const z = (Math.PI / 2) * a * u; return a / 2 / (1 + z * z); },
    primitive: (u, a) => Math.atan(Math.PI / 2 * a * u) / Math.PI + 0.5,
    support: () => Infinity,
  },
  sigmoid: {
    id: 1, alpha: 4,
    grad: (u, a) => { const s = logistic(a * u); return a * s * (1 - s); },
    primitive: (u, a) => logistic(a * u),
    support: () => Infinity,
  },
  'fast-sigmoid': {
    id: 2, alpha: 25,
    grad: (u, a) => { const d = 1 + a * Math.abs(u); return 1 / (d * d); },
    primitive: (u, a) => 0.5 + u / (1 + a * Math.abs(u)),
    support: () => Infinity,
  },
  triangle: {
    id: 3, alpha: 1,
    grad: (u, a) => Math.max(0, a - Math.abs(u)) / (a * a),
    primitive: (u, a) => (u <= -a ? 0 : u >= a ? 1 : u < 0 ? (a + u) ** 2 / (2 * a * a) : 1 - (a - u) ** 2 / (2 * a * a)),
    support: (a) => a,
  },
  rectangular: {
    id: 4, alpha: 1,
    grad: (u, a) => (Math.abs(u) < a / 2 ? 1 / a : 0),
    primitive: (u, a) => Math.min(1, Math.max(0, u / a + 0.5)),
    support: (a) => a / 2,
  },
  'straight-through': {
    id: 5, alpha: 1,
    grad: () => 1,
    primitive: (u) => u,
    support: () => Infinity,
  },
} satisfies Record<string, Surrogate>;

/** Name of a built-in surrogate. */
export type SurrogateName = keyof typeof SURROGATES;

/** The built-in surrogates at their ids. */
const BY_ID: readonly Surrogate[] = Object.values(SURROGATES).sort((p, q) => p.id - q.id);

/** The built-in surrogate with kernel id `id`; an unknown id is an error naming the known range. */
export function surrogateById(id: number): Surrogate {
  const s = BY_ID[id];
  if (s === undefined || s.id !== id) throw new EdgespikeError(`surrogate: unknown kernel id ${id} (known: 0–${BY_ID.length - 1})`);
  return s;
}
