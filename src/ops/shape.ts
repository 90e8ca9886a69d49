/**
 * Movement ops: reshape, flatten, transpose, slice, concat, stack, pad. Tensors are contiguous, so
 * reshape shares data; the others copy.
 */
import { Tensor, numel, type Shape } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';

/** Same data, new shape; one axis may be −1 (inferred). */
export function reshape(a: Tensor, shape: Shape): Tensor {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = s.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    if (rest === 0 || a.size % rest !== 0) throw new EdgespikeError(`reshape: cannot reshape ${fmtShape(a.shape)} to ${fmtShape(shape)}`);
    s[neg] = a.size / rest;
  }
  if (numel(s) !== a.size) throw new EdgespikeError(`reshape: cannot reshape ${fmtShape(a.shape)} (${a.size} values) to ${fmtShape(shape)}`);
  const out = new Tensor(a.data, s);
  out.binary = a.binary;
  if (a.density !== undefined) out.density = a.density;
  if (a.bits) out.bits = a.bits;
  // The tape drops the output's gradient right after this node runs, so the input may adopt it.
  return record(out, 'reshape', [a], (g) => accumulateOwned(a, g));
}

/** Flattens axes from `start` (default 1) to the end: [N, C, H, W] → [N, C·H·W]. */
export function flatten(a: Tensor, start = 1): Tensor {
  if (start < 0 || start > a.rank) throw new EdgespikeError(`flatten: start axis ${start} out of range for ${fmtShape(a.shape)}`);
  return reshape(a, [...a.shape.slice(0, start), numel(a.shape.slice(start))]);
}

function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { st[i] = s; s *= shape[i]!; }
  return st;
}

/** Copies `src` (shape `shape`) permuted by `perm` into a new array. */
function permuteData(src: Float32Array, shape: Shape, perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inSt = stridesOf(shape);
  const st = perm.map((p) => inSt[p]!);
  const r = new Float32Array(src.length);
  const pos = new Array<number>(rank).fill(0);
  let cur = 0;
  for (let i = 0; i < r.length; i++) {
    r[i] = src[cur]!;
    for (let d = rank - 1; d >= 0; d--) {
      pos[d]!++; cur += st[d]!;
      if (pos[d]! < outShape[d]!) break;
      cur -= st[d]! * outShape[d]!; pos[d] = 0;
    }
  }
  return r;
}

/** Permutes axes; without `perm`, reverses them (a 2-d transpose). */
export function transpose(a: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? a.shape.map((_, i) => a.rank - 1 - i);
  const sorted = [...p].sort((x, y) => x - y);
  if (p.length !== a.rank || sorted.some((v, i) => v !== i)) {
    throw new EdgespikeError(`transpose: permutation [${p.join(', ')}] does not fit shape ${fmtShape(a.shape)}`);
  }
  const out = new Tensor(permuteData(a.data, a.shape, p), p.map((i) => a.shape[i]!));
  out.binary = a.binary;
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => { inv[v] = i; });
  return record(out, 'transpose', [a], (g) => accumulateOwned(a, permuteData(g, out.shape, inv)));
}

/** outer · axis · inner decomposition of a shape around one axis. */
function around(shape: Shape, axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

function checkAxis(op: string, shape: Shape, axis: number, extra = 0): number {
  const a = axis < 0 ? axis + shape.length + extra : axis;
  if (!Number.isInteger(a) || a < 0 || a >= shape.length + extra) {
    throw new EdgespikeError(`${op}: axis ${axis} is out of range for shape ${fmtShape(shape)}`);
  }
  return a;
}

/** Elements start … end−1 along one axis. */
export function slice(a: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = checkAxis('slice', a.shape, axis);
  const len = a.shape[ax]!;
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= len)) {
    throw new EdgespikeError(`slice: range [${start}, ${end}) is not within axis ${ax} of size ${len} (shape ${fmtShape(a.shape)})`);
  }
  const [outer, , inner] = around(a.shape, ax);
  const w = (end - start) * inner;
  const r = new Float32Array(outer * w);
  for (let o = 0; o < outer; o++) r.set(a.data.subarray((o * len + start) * inner, (o * len + start) * inner + w), o * w);
  const shape = [...a.shape]; shape[ax] = end - start;
  const out = new Tensor(r, shape);
  out.binary = a.binary;
  return record(out, 'slice', [a], (g) => {
    const ga = new Float32Array(a.size);
    for (let o = 0; o < outer; o++) ga.set(g.subarray(o * w, o * w + w), (o * len + start) * inner);
    accumulateOwned(a, ga);
  });
}

/** Joins tensors along an existing axis; all other axes must match. */
export function concat(ts: readonly Tensor[], axis = 0): Tensor {
  if (ts.length === 0) throw new EdgespikeError('concat: needs at least one tensor');
  const first = ts[0]!;
  const ax = checkAxis('concat', first.shape, axis);
  for (const t of ts) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new EdgespikeError(`concat: shape ${fmtShape(t.shape)} does not match ${fmtShape(first.shape)} outside axis ${ax}`);
    }
  }
  const [outer, , inner] = around(first.shape, ax);
  const total = ts.reduce((p, t) => p + t.shape[ax]!, 0);
  const r = new Float32Array(outer * total * inner);
  let off = 0;
  const offs: number[] = [];
  for (const t of ts) {
    const w = t.shape[ax]! * inner;
    for (let o = 0; o < outer; o++) r.set(t.data.subarray(o * w, o * w + w), o * total * inner + off);
    offs.push(off); off += w;
  }
  const shape = [...first.shape]; shape[ax] = total;
  const out = new Tensor(r, shape);
  out.binary = ts.every((t) => t.binary);
  return record(out, 'concat', ts, (g) => {
    ts.forEach((t, k) => {
      if (!t.requiresGrad) return;
      const w = t.shape[ax]! * inner;
      const gt = new Float32Array(t.size);
      for (let o = 0; o < outer; o++) gt.set(g.subarray(o * total * inner + offs[k]!, o * total * inner + offs[k]! + w), o * w);
      accumulateOwned(t, gt);
    });
  });
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(ts: readonly Tensor[], axis = 0): Tensor {
  if (ts.length === 0) throw new EdgespikeError('stack: needs at least one tensor');
  const first = ts[0]!;
  const ax = checkAxis('stack', first.shape, axis, 1);
  for (const t of ts) {
    if (t.rank !== first.rank || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new EdgespikeError(`stack: shape ${fmtShape(t.shape)} differs from ${fmtShape(first.shape)}`);
    }
  }
  const shape = [...first.shape]; shape.splice(ax, 0, 1);
  return concat(ts.map((t) => reshape(t, shape)), ax);
}

/** Pads with a constant: `pads[i] = [before, after]` for each axis (missing trailing axes: none). */
export function pad(a: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  if (pads.length > a.rank) throw new EdgespikeError(`pad: ${pads.length} pad pairs for a tensor of rank ${a.rank}`);
  const pp = a.shape.map((_, i) => pads[i] ?? [0, 0]);
  if (pp.some(([b, e]) => !Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0)) {
    throw new EdgespikeError('pad: pad widths must be non-negative integers');
  }
  const shape = a.shape.map((d, i) => d + pp[i]![0] + pp[i]![1]);
  const r = new Float32Array(numel(shape)).fill(value);
  const st = stridesOf(shape);
  const base = pp.reduce((p, [b], i) => p + b * st[i]!, 0);
  const inner = a.shape[a.rank - 1] ?? 1;
  const rows = a.size / Math.max(inner, 1);
  // Map each input row (all axes but the last) to its output offset.
  const rowOff = (row: number): number => {
    let off = base, rem = row;
    for (let d = a.rank - 2; d >= 0; d--) { const k = rem % a.shape[d]!; rem = (rem - k) / a.shape[d]!; off += k * st[d]!; }
    return off;
  };
  if (a.rank === 0) r[0] = a.data[0]!;
  else for (let row = 0; row < rows; row++) r.set(a.data.subarray(row * inner, row * inner + inner), rowOff(row));
  const out = new Tensor(r, shape);
  return record(out, 'pad', [a], (g) => {
    const ga = new Float32Array(a.size);
    for (let row = 0; row < rows; row++) { const o = rowOff(row); ga.set(g.subarray(o, o + inner), row * inner); }
    accumulateOwned(a, ga);
  });
}
