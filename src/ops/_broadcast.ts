/**
 * Broadcasting helpers (NumPy rules): the output shape of two operands, an index map from output
 * positions to operand positions, and the reduction of a gradient back to an operand's shape.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { numel, type Shape } from '../tensor/tensor.js';

/** The broadcast shape of a and b, or an error naming the op. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new EdgespikeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (axis ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` aligned to an output of rank `rank`, with 0 on broadcast axes. */
function alignedStrides(shape: Shape, out: Shape): number[] {
  const rank = out.length;
  const st = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const oi = rank - shape.length + i;
    st[oi] = shape[i] === 1 && out[oi] !== 1 ? 0 : s;
    s *= shape[i]!;
  }
  return st;
}

/** For every output position, the flat index into an operand of shape `shape`. */
export function broadcastIndex(shape: Shape, out: Shape): Int32Array {
  const n = numel(out);
  const idx = new Int32Array(n);
  const st = alignedStrides(shape, out);
  const rank = out.length;
  const pos = new Array<number>(rank).fill(0);
  let cur = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = cur;
    for (let d = rank - 1; d >= 0; d--) {
      pos[d]!++;
      cur += st[d]!;
      if (pos[d]! < out[d]!) break;
      cur -= st[d]! * out[d]!;
      pos[d] = 0;
    }
  }
  return idx;
}

/** Sums a gradient of shape `out` down to `shape` (the inverse of broadcasting). */
export function sumToShape(g: Float32Array, out: Shape, shape: Shape): Float32Array {
  if (numel(shape) === g.length) return g;
  const r = new Float32Array(numel(shape));
  if (r.length === 1) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i]!;
    r[0] = s;
    return r;
  }
  const idx = broadcastIndex(shape, out);
  for (let i = 0; i < g.length; i++) r[idx[i]!]! += g[i]!;
  return r;
}

/** True when two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
