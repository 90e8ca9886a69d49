/**
 * Elementwise ops with NumPy broadcasting: add, sub, mul, div, pow, maximum, and the unary ops.
 * Each op computes its output and records its backward right below it.
 */
import { Tensor, scalar, type Shape } from '../tensor/tensor.js';
import { accumulateOwned, needsGrad, record } from '../tensor/tape.js';
import { floatsFor } from '../tensor/storage.js';
import { EdgespikeError } from '../util/errors.js';
import { broadcastIndex, broadcastShapes, sameShape, sumToShape } from './_broadcast.js';

/** A tensor or a plain number (treated as a scalar constant). */
export type Operand = Tensor | number;

const asTensor = (x: Operand): Tensor => (typeof x === 'number' ? scalar(x) : x);

/**
 * How an operand's elements map to the output's: the same layout (null), or a block pattern, operand
 * index floor(i / div) mod len for output position i — a scalar (len 1), an operand constant over the output's
 * trailing axes ([T, 1] against [T, M]: div M) or repeated over its leading ones ([C] against [N, C]: div 1) —
 * or, for any other broadcast, an index map built on first use.
 */
interface OperandMap { readonly shape: Shape; readonly div: number; readonly len: number; readonly block: boolean; index?: Int32Array }

interface Aligned { out: number[]; ia: OperandMap | null; ib: OperandMap | null }

/** The map of an operand of `shape` broadcast to `out` (not the same shape). */
function operandMap(shape: Shape, out: number[]): OperandMap {
  const rank = out.length, padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const len = padded.reduce((p, d) => p * d, 1);
  // the operand's axes that are not 1 must be one run of the output's axes
  let first = -1, last = -1;
  for (let d = 0; d < rank; d++) if (padded[d] !== 1) { if (first < 0) first = d; last = d; }
  const run = first < 0 || padded.slice(first, last + 1).every((v, i) => v === out[first + i]);
  const div = first < 0 ? 1 : out.slice(last + 1).reduce((p, d) => p * d, 1);
  return { shape, div, len, block: run };
}

/** Operand index of every output position (built once per map, for the general case and the gradients). */
function indexOf(m: OperandMap, out: number[]): Int32Array {
  return (m.index ??= broadcastIndex(m.shape, out));
}

/** Index maps for a broadcast binary op (null = identity / same layout). */
function align(op: string, a: Tensor, b: Tensor): Aligned {
  if (sameShape(a.shape, b.shape)) return { out: [...a.shape], ia: null, ib: null };
  const out = broadcastShapes(op, a.shape, b.shape);
  return {
    out,
    ia: sameShape(a.shape, out) ? null : operandMap(a.shape, out),
    ib: sameShape(b.shape, out) ? null : operandMap(b.shape, out),
  };
}

type F2 = (x: number, y: number) => number;

function map2(a: Tensor, b: Tensor, al: Aligned, f: F2): Float32Array {
  const n = al.out.reduce((p, d) => p * d, 1);
  const r = new Float32Array(n);
  const A = a.data, B = b.data, ma = al.ia, mb = al.ib;
  if (ma === null && mb === null) for (let i = 0; i < n; i++) r[i] = f(A[i]!, B[i]!);
  else if (ma === null && mb!.block) {
    // b's element k covers div consecutive outputs, the pattern repeating every div·len
    const { div, len } = mb!;
    for (let i = 0, k = 0; i < n; k = k + 1 === len ? 0 : k + 1) { const y = B[k]!; for (const e = i + div; i < e; i++) r[i] = f(A[i]!, y); }
  } else if (mb === null && ma!.block) {
    const { div, len } = ma!;
    for (let i = 0, k = 0; i < n; k = k + 1 === len ? 0 : k + 1) { const x = A[k]!; for (const e = i + div; i < e; i++) r[i] = f(x, B[i]!); }
  } else {
    const ia = ma ? indexOf(ma, al.out) : null, ib = mb ? indexOf(mb, al.out) : null;
    for (let i = 0; i < n; i++) r[i] = f(A[ia ? ia[i]! : i]!, B[ib ? ib[i]! : i]!);
  }
  return r;
}

/** Elementwise value of a local derivative at every output position, times g. */
function grad2(a: Tensor, b: Tensor, al: Aligned, g: Float32Array, d: F2): Float32Array {
  const r = new Float32Array(g.length);
  const A = a.data, B = b.data, ia = al.ia ? indexOf(al.ia, al.out) : null, ib = al.ib ? indexOf(al.ib, al.out) : null;
  for (let i = 0; i < g.length; i++) r[i] = g[i]! * d(A[ia ? ia[i]! : i]!, B[ib ? ib[i]! : i]!);
  return r;
}

/** Builds a differentiable broadcast binary op from f and its two partial derivatives. */
function binary(op: string, f: F2, da: F2 | 'one' | 'minus', db: F2 | 'one' | 'minus') {
  return (x: Operand, y: Operand): Tensor => {
    const a = asTensor(x), b = asTensor(y);
    const al = align(op, a, b);
    const out = new Tensor(map2(a, b, al, f), al.out);
    if (!needsGrad(a, b)) return out;
    return record(out, op, [a, b], (g) => {
      for (const [t, d] of [[a, da], [b, db]] as const) {
        if (!t.requiresGrad) continue;
        let gt: Float32Array;
        if (d === 'one') gt = new Float32Array(g);
        else if (d === 'minus') { gt = new Float32Array(g.length); for (let i = 0; i < g.length; i++) gt[i] = -g[i]!; }
        else gt = grad2(a, b, al, g, d);
        accumulateOwned(t, sumToShape(gt, al.out, t.shape));
      }
    });
  };
}

/** a + b (broadcast). */
export const add = binary('add', (x, y) => x + y, 'one', 'one');
/** a − b (broadcast). */
export const sub = binary('sub', (x, y) => x - y, 'one', 'minus');
/** a · b (broadcast). */
export const mul = binary('mul', (x, y) => x * y, (_x, y) => y, (x) => x);
/** a / b (broadcast). */
export const div = binary('div', (x, y) => x / y, (_x, y) => 1 / y, (x, y) => -x / (y * y));
/** a ** b (broadcast); the gradient w.r.t. b uses ln a (defined for a > 0). */
export const pow = binary('pow', (x, y) => Math.pow(x, y), (x, y) => y * Math.pow(x, y - 1),
  (x, y) => (x > 0 ? Math.pow(x, y) * Math.log(x) : 0));
/** max(a, b) elementwise; ties send the gradient to a. */
export const maximum = binary('maximum', (x, y) => (x >= y ? x : y), (x, y) => (x >= y ? 1 : 0), (x, y) => (x >= y ? 0 : 1));
/** min(a, b) elementwise; ties send the gradient to a. */
export const minimum = binary('minimum', (x, y) => (x <= y ? x : y), (x, y) => (x <= y ? 1 : 0), (x, y) => (x <= y ? 0 : 1));

/**
 * Builds a differentiable unary op. `d(x, y)` is the local derivative given input x and output y.
 */
export function unary(op: string, f: (x: number) => number, d: (x: number, y: number) => number) {
  return (a: Tensor): Tensor => {
    const A = a.data, n = A.length;
    const r = new Float32Array(n);
    for (let i = 0; i < n; i++) r[i] = f(A[i]!);
    const out = new Tensor(r, a.shape);
    return record(out, op, [a], (g) => {
      const ga = new Float32Array(n);
      for (let i = 0; i < n; i++) ga[i] = g[i]! * d(A[i]!, r[i]!);
      accumulateOwned(a, ga);
    });
  };
}

/** −a. */
export const neg = unary('neg', (x) => -x, () => -1);
/** eᵃ. */
export const exp = unary('exp', Math.exp, (_x, y) => y);
/** ln a. */
export const log = unary('log', Math.log, (x) => 1 / x);
/** √a. */
export const sqrt = unary('sqrt', Math.sqrt, (_x, y) => 0.5 / y);
/** |a|; the gradient at 0 is 0. */
export const abs = unary('abs', Math.abs, (x) => (x > 0 ? 1 : x < 0 ? -1 : 0));
/** max(a, 0); the gradient at 0 is 0. */
export function relu(a: Tensor): Tensor {
  const A = a.data, n = A.length, r = floatsFor(n);
  for (let i = 0; i < n; i++) { const x = A[i]!; r[i] = x > 0 ? x : 0; }
  return rangeGrad('relu', a, r, 0, Infinity, true);
}
/** Logistic sigmoid 1 / (1 + e⁻ᵃ). */
export const sigmoid = unary('sigmoid', (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  (_x, y) => y * (1 - y));
/** Hyperbolic tangent. */
export const tanh = unary('tanh', Math.tanh, (_x, y) => 1 - y * y);

/** Clamps a to [lo, hi] (either bound may be omitted); the gradient passes inside the range only. */
export function clamp(a: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  if (lo > hi) throw new EdgespikeError(`clamp: lower bound ${lo} is above upper bound ${hi}`);
  const A = a.data, n = A.length, r = floatsFor(n);
  for (let i = 0; i < n; i++) { const x = A[i]!; r[i] = x < lo ? lo : x > hi ? hi : x; }
  return rangeGrad('clamp', a, r, lo, hi, false);
}

/**
 * Records the backward of an elementwise op whose gradient is 1 inside [lo, hi] and 0 outside (`openLo`:
 * x > lo instead of x ≥ lo). relu, clamp and the activation quantizer run on every activation of a layer,
 * so each has its own forward loop rather than a function called per element.
 */
function rangeGrad(name: string, a: Tensor, r: Float32Array, lo: number, hi: number, openLo: boolean): Tensor {
  const A = a.data, n = A.length;
  return record(new Tensor(r, a.shape), name, [a], (g) => {
    const ga = floatsFor(n);
    if (openLo) { for (let i = 0; i < n; i++) { const x = A[i]!; ga[i] = x > lo && x <= hi ? g[i]! : 0; } }
    else for (let i = 0; i < n; i++) { const x = A[i]!; ga[i] = x >= lo && x <= hi ? g[i]! : 0; }
    accumulateOwned(a, ga);
  });
}

/**
 * The median activation quantizer: round(clip(a, −B, B)·2^k + 1e−5) / 2^k in float32, levels 1/2^k apart
 * (the +1e−5 sends halves up). Straight-through gradient: 1 inside [−B, B], 0 outside.
 */
export function quantizeActivation(a: Tensor, k: number, B: number): Tensor {
  if (!(Number.isInteger(k) && k >= 0 && k <= 16) || !(B > 0 && Number.isFinite(B))) {
    throw new EdgespikeError(`quantizeActivation: expected an integer k in [0, 16] and a finite B > 0, got k ${k}, B ${B}`);
  }
  const f = Math.fround, s = f(2 ** k), inv = 1 / s, lo = -B, hi = B, eps = f(1e-5);
  const A = a.data, n = A.length, r = floatsFor(n);
  // y·s is exact (s a power of two); dividing the rounded integer by s is too
  for (let i = 0; i < n; i++) { const x = A[i]!, c = x < lo ? lo : x > hi ? hi : x; r[i] = Math.round(f(f(c * s) + eps)) * inv; }
  return rangeGrad('quantizeActivation', a, r, lo, hi, false);
}
