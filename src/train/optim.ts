/**
 * Optimizers (PyTorch semantics): SGD with momentum, Nesterov and weight decay; Adam (L2 weight
 * decay added to the gradient); AdamW (decoupled weight decay). Their state is plain float arrays
 * so checkpoints can store and restore it exactly.
 */
import { parametersChanged } from '../tensor/generation.js';
import type { Tensor } from '../tensor/tensor.js';
import { EdgespikeError } from '../util/errors.js';

/** Optimizer settings. */
export interface OptimConfig {
  readonly kind: 'sgd' | 'adam' | 'adamw';
  readonly lr: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
}

/** An optimizer over a fixed list of parameters. */
export class Optimizer {
  lr: number;
  private step_ = 0;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(readonly params: readonly Tensor[], readonly cfg: OptimConfig) {
    if (!['sgd', 'adam', 'adamw'].includes(cfg.kind)) throw new EdgespikeError(`optimizer: unknown kind "${cfg.kind}" (known: sgd, adam, adamw)`);
    if (!(cfg.lr > 0)) throw new EdgespikeError(`optimizer: learning rate must be > 0, got ${cfg.lr}`);
    this.lr = cfg.lr;
    this.m = params.map((p) => new Float32Array(p.size));
    this.v = cfg.kind === 'sgd' ? [] : params.map((p) => new Float32Array(p.size));
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void { for (const p of this.params) p.grad = null; }

  /** Applies one update from the current gradients (parameters without a gradient are skipped). */
  step(): void {
    this.step_++;
    parametersChanged();
    const { kind } = this.cfg, wd = this.cfg.weightDecay ?? 0;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      if (kind === 'sgd') this.sgd(p, p.grad, this.m[i]!, wd);
      else this.adam(p, p.grad, this.m[i]!, this.v[i]!, wd, kind === 'adamw');
    });
  }

  private sgd(p: Tensor, g: Float32Array, buf: Float32Array, wd: number): void {
    const mu = this.cfg.momentum ?? 0, nest = this.cfg.nesterov ?? false, lr = this.lr, w = p.data;
    for (let j = 0; j < w.length; j++) {
      let d = g[j]! + wd * w[j]!;
      if (mu !== 0) {
        const b = this.step_ === 1 ? d : mu * buf[j]! + d;
        buf[j] = b;
        d = nest ? d + mu * b : b;
      }
      w[j]! -= lr * d;
    }
  }

  private adam(p: Tensor, g: Float32Array, m: Float32Array, v: Float32Array, wd: number, decoupled: boolean): void {
    const [b1, b2] = this.cfg.betas ?? [0.9, 0.999], eps = this.cfg.eps ?? 1e-8, lr = this.lr, w = p.data;
    const c1 = 1 - Math.pow(b1, this.step_), c2 = 1 - Math.pow(b2, this.step_);
    const stepSize = lr / c1, sq2 = Math.sqrt(c2);
    for (let j = 0; j < w.length; j++) {
      if (decoupled) w[j]! *= 1 - lr * wd;
      const d = decoupled ? g[j]! : g[j]! + wd * w[j]!;
      const mj = (m[j] = b1 * m[j]! + (1 - b1) * d);
      const vj = (v[j] = b2 * v[j]! + (1 - b2) * d * d);
      w[j]! -= (stepSize * mj) / (Math.sqrt(vj) / sq2 + eps);
    }
  }

  /** The state to checkpoint: step count and moment arrays by parameter index. */
  state(): { step: number; arrays: Record<string, Float32Array> } {
    const arrays: Record<string, Float32Array> = {};
    this.m.forEach((a, i) => { arrays[`m.${i}`] = a; });
    this.v.forEach((a, i) => { arrays[`v.${i}`] = a; });
    return { step: this.step_, arrays };
  }

  /** Restores a state produced by state() for the same parameter list. */
  load(step: number, arrays: Record<string, Float32Array>): void {
    this.step_ = step;
    for (const [list, key] of [[this.m, 'm'], [this.v, 'v']] as const) {
      list.forEach((a, i) => {
        const src = arrays[`${key}.${i}`];
        if (!src || src.length !== a.length) throw new EdgespikeError(`optimizer: checkpoint has no matching ${key}.${i} (${a.length} values expected)`);
        a.set(src);
      });
    }
  }
}

/** Scales all gradients so that their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  let s = 0;
  for (const p of params) if (p.grad) for (const g of p.grad) s += g * g;
  const norm = Math.sqrt(s);
  if (norm > maxNorm && norm > 0) {
    const k = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad) for (let j = 0; j < p.grad.length; j++) p.grad[j]! *= k;
  }
  return norm;
}

/** Learning-rate schedules, evaluated per epoch (0-based). */
export type Schedule =
  | { readonly kind: 'none' }
  /** Cosine annealing from lr to minLr over `epochs` (PyTorch CosineAnnealingLR, T_max = epochs). */
  | { readonly kind: 'cosine'; readonly epochs: number; readonly minLr?: number }
  /** lr·γ^floor(epoch/every) (StepLR). */
  | { readonly kind: 'step'; readonly every: number; readonly gamma: number };

/** Learning rate at (possibly fractional) `epoch` for base rate lr; the step schedule uses whole epochs. */
export function scheduledLr(s: Schedule, lr: number, epoch: number): number {
  if (s.kind === 'cosine') { const lo = s.minLr ?? 0; return lo + ((lr - lo) * (1 + Math.cos((Math.PI * epoch) / s.epochs))) / 2; }
  if (s.kind === 'step') return lr * Math.pow(s.gamma, Math.floor(epoch / s.every));
  return lr;
}
