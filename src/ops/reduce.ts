/**
 * Reductions over axes: sum, mean, max. `axes` undefined reduces everything; negative axes count
 * from the end; `keepDims` keeps reduced axes with size 1.
 */
import { Tensor, numel, type Shape } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { broadcastIndex } from './_broadcast.js';

/** Normalised, sorted, unique axes; error names the op. */
export function normAxes(op: string, shape: Shape, axes?: number | readonly number[]): number[] {
  if (axes === undefined) return shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const r = list.map((ax) => {
    const a = ax < 0 ? ax + shape.length : ax;
    if (!Number.isInteger(a) || a < 0 || a >= shape.length) {
      throw new EdgespikeError(`${op}: axis ${ax} is out of range for shape ${fmtShape(shape)}`);
    }
    return a;
  });
  return [...new Set(r)].sort((x, y) => x - y);
}

interface Plan { kept: number[]; out: number[]; map: Int32Array; count: number }

function plan(op: string, a: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Plan {
  const ax = normAxes(op, a.shape, axes);
  const kept = a.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const out = keepDims ? kept : a.shape.filter((_, i) => !ax.includes(i));
  const count = ax.reduce((p, i) => p * a.shape[i]!, 1);
  return { kept, out, map: broadcastIndex(kept, a.shape), count };
}

/** Σ over axes. */
export function sum(a: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const p = plan('sum', a, axes, keepDims);
  const r = new Float32Array(numel(p.out));
  const A = a.data, m = p.map;
  for (let i = 0; i < A.length; i++) r[m[i]!]! += A[i]!;
  return record(new Tensor(r, p.out), 'sum', [a], (g) => {
    const ga = new Float32Array(A.length);
    for (let i = 0; i < ga.length; i++) ga[i] = g[m[i]!]!;
    accumulateOwned(a, ga);
  });
}

/** Mean over axes. */
export function mean(a: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const p = plan('mean', a, axes, keepDims);
  const inv = 1 / p.count;
  const r = new Float32Array(numel(p.out));
  const A = a.data, m = p.map;
  for (let i = 0; i < A.length; i++) r[m[i]!]! += A[i]!;
  for (let i = 0; i < r.length; i++) r[i]! *= inv;
  return record(new Tensor(r, p.out), 'mean', [a], (g) => {
    const ga = new Float32Array(A.length);
    for (let i = 0; i < ga.length; i++) ga[i] = g[m[i]!]! * inv;
    accumulateOwned(a, ga);
  });
}

/** Max over axes; the gradient goes to the first maximal element. */
export function max(a: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const p = plan('max', a, axes, keepDims);
  if (p.count === 0) throw new EdgespikeError(`max: cannot reduce an empty axis of shape ${fmtShape(a.shape)}`);
  const r = new Float32Array(numel(p.out)).fill(-Infinity);
  const arg = new Int32Array(r.length).fill(-1);
  const A = a.data, m = p.map;
  for (let i = 0; i < A.length; i++) {
    const o = m[i]!;
    if (A[i]! > r[o]! || arg[o] === -1) { r[o] = A[i]!; arg[o] = i; }
  }
  return record(new Tensor(r, p.out), 'max', [a], (g) => {
    const ga = new Float32Array(A.length);
    for (let o = 0; o < arg.length; o++) ga[arg[o]!]! += g[o]!;
    accumulateOwned(a, ga);
  });
}

/** Index of the maximum along the last axis, per row (no gradient). */
export function argmaxRows(a: Tensor): Int32Array {
  const n = a.shape[a.rank - 1] ?? 1;
  const rows = a.size / n;
  const r = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = -Infinity, bi = 0;
    for (let j = 0; j < n; j++) { const v = a.data[i * n + j]!; if (v > best) { best = v; bi = j; } }
    r[i] = bi;
  }
  return r;
}
