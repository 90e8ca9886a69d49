/**
 * Finite-difference gradient checks. The loss is L = Σ r_i·f(x)_i with a fixed random r, summed in
 * float64; central differences with step eps are compared to the tape's gradients.
 */
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { backward } from '../../src/tensor/tape.js';
import { Rng } from '../../src/data/rng.js';

/** Uniform random tensor in [lo, hi), optionally requiring a gradient. */
export function rand(rng: Rng, shape: number[], lo = -1, hi = 1, requiresGrad = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * rng.float();
  return new Tensor(d, shape, requiresGrad);
}

/** Random values whose magnitude is at least `gap` (keeps points away from kinks at 0). */
export function randAway(rng: Rng, shape: number[], gap = 0.1, requiresGrad = true): Tensor {
  const t = rand(rng, shape, -1, 1, requiresGrad);
  for (let i = 0; i < t.size; i++) { const v = t.data[i]!; t.data[i] = v >= 0 ? v + gap : v - gap; }
  return t;
}

export interface GradCheckOptions { eps?: number; atol?: number; rtol?: number; maxPerInput?: number; seed?: number }

/** Asserts that the tape's gradients of f w.r.t. every input match central differences. */
export function gradcheck(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], o: GradCheckOptions = {}): void {
  const eps = o.eps ?? 1e-3, atol = o.atol ?? 2e-3, rtol = o.rtol ?? 1e-2, maxPer = o.maxPerInput ?? 48;
  const rng = new Rng(o.seed ?? 7);
  const out0 = f(...inputs);
  const r = new Float32Array(out0.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.float() * 2 - 1;
  const lossOf = (t: Tensor): number => { let s = 0; for (let i = 0; i < t.size; i++) s += r[i]! * t.data[i]!; return s; };
  for (const x of inputs) x.grad = null;
  backward(out0, r);
  let checked = 0;
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    const g = x.grad;
    assert.ok(g, `${name}: input ${xi} received no gradient`);
    const idx = x.size <= maxPer ? [...Array(x.size).keys()] : Array.from({ length: maxPer }, () => rng.int(x.size));
    for (const i of idx) {
      const v = x.data[i]!;
      x.data[i] = v + eps; const lp = lossOf(f(...inputs));
      x.data[i] = v - eps; const lm = lossOf(f(...inputs));
      x.data[i] = v;
      const num = (lp - lm) / (2 * eps), ana = g[i]!;
      const tol = atol + rtol * Math.max(Math.abs(num), Math.abs(ana));
      assert.ok(Math.abs(num - ana) <= tol, `${name}: d/d input${xi}[${i}]: analytic ${ana}, numeric ${num}`);
      checked++;
    }
  });
  assert.ok(checked > 0, `${name}: nothing was checked`);
}
