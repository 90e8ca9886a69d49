/**
 * Softmax, log-softmax over the last axis, cross-entropy (integer labels, optional label
 * smoothing, mean over rows) and mean squared error; plus dropout masks that can be reused
 * across time steps.
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { sameShape } from './_broadcast.js';
import { mul } from './elementwise.js';
import type { Rng } from '../data/rng.js';

function rowsOf(op: string, x: Tensor): [number, number] {
  if (x.rank < 1) throw new EdgespikeError(`${op}: input must have at least one axis, got a scalar`);
  const n = x.shape[x.rank - 1]!;
  return [x.size / n, n];
}

function logSoftmaxData(X: Float32Array, rows: number, n: number): Float32Array {
  const r = new Float32Array(X.length);
  for (let i = 0; i < rows; i++) {
    const o = i * n; let mx = -Infinity;
    for (let j = 0; j < n; j++) mx = Math.max(mx, X[o + j]!);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(X[o + j]! - mx);
    const lse = mx + Math.log(s);
    for (let j = 0; j < n; j++) r[o + j] = X[o + j]! - lse;
  }
  return r;
}

/** log softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  const [rows, n] = rowsOf('logSoftmax', x);
  const r = logSoftmaxData(x.data, rows, n);
  return record(new Tensor(r, x.shape), 'logSoftmax', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let i = 0; i < rows; i++) {
      const o = i * n; let s = 0;
      for (let j = 0; j < n; j++) s += g[o + j]!;
      for (let j = 0; j < n; j++) gx[o + j] = g[o + j]! - Math.exp(r[o + j]!) * s;
    }
    accumulateOwned(x, gx);
  });
}

/** softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const [rows, n] = rowsOf('softmax', x);
  const p = logSoftmaxData(x.data, rows, n).map(Math.exp);
  return record(new Tensor(p, x.shape), 'softmax', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let i = 0; i < rows; i++) {
      const o = i * n; let s = 0;
      for (let j = 0; j < n; j++) s += g[o + j]! * p[o + j]!;
      for (let j = 0; j < n; j++) gx[o + j] = p[o + j]! * (g[o + j]! - s);
    }
    accumulateOwned(x, gx);
  });
}

/** Options of crossEntropy. */
export interface CrossEntropyOptions {
  /** ε: the target puts 1 − ε on the label and ε/C spread over all classes (default 0). */
  readonly labelSmoothing?: number;
}

/** Mean over rows of −Σ_c q_c · log softmax(x)_c, x [N, C], labels [N] in 0 … C−1. */
export function crossEntropy(x: Tensor, labels: ArrayLike<number>, opts: CrossEntropyOptions = {}): Tensor {
  if (x.rank !== 2) throw new EdgespikeError(`crossEntropy: logits must be [N, C], got ${fmtShape(x.shape)}`);
  const [rows, n] = x.shape as [number, number];
  if (labels.length !== rows) throw new EdgespikeError(`crossEntropy: ${labels.length} labels for ${rows} rows of logits`);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new EdgespikeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const ls = logSoftmaxData(x.data, rows, n);
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= n) throw new EdgespikeError(`crossEntropy: label ${y} at row ${i} is not a class in 0 … ${n - 1}`);
    let s = 0;
    for (let j = 0; j < n; j++) s += ls[i * n + j]!;
    loss -= (1 - eps) * ls[i * n + y]! + (eps / n) * s;
  }
  const out = new Tensor(Float32Array.of(loss / rows), []);
  return record(out, 'crossEntropy', [x], (g) => {
    const gx = new Float32Array(x.size), k = g[0]! / rows;
    for (let i = 0; i < rows; i++) {
      const y = labels[i]!;
      for (let j = 0; j < n; j++) gx[i * n + j] = k * (Math.exp(ls[i * n + j]!) - eps / n - (j === y ? 1 - eps : 0));
    }
    accumulateOwned(x, gx);
  });
}

/** Mean over all elements of (a − b)², b a tensor of the same shape or a constant. */
export function mse(a: Tensor, b: Tensor | number): Tensor {
  const B = typeof b === 'number' ? null : b;
  if (B && !sameShape(a.shape, B.shape)) throw new EdgespikeError(`mse: shapes ${fmtShape(a.shape)} and ${fmtShape(B.shape)} differ`);
  const c = typeof b === 'number' ? b : 0;
  const A = a.data, n = A.length;
  let s = 0;
  for (let i = 0; i < n; i++) { const d = A[i]! - (B ? B.data[i]! : c); s += d * d; }
  const out = new Tensor(Float32Array.of(s / n), []);
  return record(out, 'mse', B ? [a, B] : [a], (g) => {
    const k = (2 * g[0]!) / n;
    const ga = new Float32Array(n);
    for (let i = 0; i < n; i++) ga[i] = k * (A[i]! - (B ? B.data[i]! : c));
    if (a.requiresGrad) accumulateOwned(a, ga);
    if (B?.requiresGrad) accumulateOwned(B, ga.map((v) => -v));
  });
}

/** An inverted-dropout mask: 0 with probability p, else 1/(1 − p). Reuse it to fix dropout across time steps. */
export function dropoutMask(shape: Shape, p: number, rng: Rng): Tensor {
  if (!(p >= 0 && p < 1)) throw new EdgespikeError(`dropout: probability must be in [0, 1), got ${p}`);
  const n = shape.reduce((a, d) => a * d, 1);
  const m = new Float32Array(n), keep = 1 / (1 - p);
  for (let i = 0; i < n; i++) m[i] = rng.float() < p ? 0 : keep;
  return new Tensor(m, shape);
}

/** Applies dropout: x · mask (the mask from dropoutMask, broadcast over leading axes). */
export function dropout(x: Tensor, mask: Tensor): Tensor {
  return mul(x, mask);
}
