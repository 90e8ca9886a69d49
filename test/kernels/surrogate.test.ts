/**
 * The surrogate ids mean the same derivative in SURROGATES and in both bodies of the fused neuron kernels:
 * a one-step backward with no reset and unit gradients gives ∂L/∂x = σ'(x − θ), evaluated at chosen u.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SURROGATES, surrogateById } from '../../src/kernels/surrogate.js';
import type { NeuronKernelParams, NeuronKernels } from '../../src/kernels/neuron.js';
import { refNeuronKernels } from '../../src/backends/ref/neuron.js';
import { wasmBackendSync } from '../../src/backends/wasm/index.js';
import { wasmNeuronKernels, type NeuronExports } from '../../src/backends/wasm/neuron.js';

const wb = wasmBackendSync(1);
// Seven values: one group of four lanes and a scalar tail of three, away from the kinks of triangle and rectangular.
const U = Float32Array.of(-1.3, -0.4, -0.05, 0, 0.07, 0.3, 0.9);

/** σ'(u) for every u of U through a kernel body's backward (T = 1, θ = 0, h = x, no reset). */
function gradThrough(k: NeuronKernels, surrogate: number, alpha: number): Float32Array {
  const m = U.length;
  const p: NeuronKernelParams = { a: 0, b: 1, c: 0, vth: 0, vReset: 0, reset: 2, resetScale: 1, detachReset: true, strict: false, surrogate, alpha, sigmaPath: false, decayGrads: false };
  const s = new Float32Array(m), h = new Float32Array(m), gx = new Float32Array(m);
  k.neuronForward(U, new Float32Array(m), s, h, 1, m, false, p);
  assert.deepEqual(Array.from(h), Array.from(U), 'h = x');
  k.neuronBackward(new Float32Array(m).fill(1), h, s, U, new Float32Array(m), gx, 1, m, false, p, new Float64Array(4));
  return gx;
}

test('ids are 0, 1, 2, … and surrogateById finds each', () => {
  const ids = Object.values(SURROGATES).map((s) => s.id).sort((a, b) => a - b);
  assert.deepEqual(ids, ids.map((_, i) => i));
  for (const s of Object.values(SURROGATES)) assert.equal(surrogateById(s.id), s);
  assert.throws(() => surrogateById(ids.length), /surrogate: unknown kernel id 6 \(known: 0–5\)/);
  assert.throws(() => surrogateById(-1), /unknown kernel id -1/);
});

test('the reference body evaluates SURROGATES[name].grad by id', () => {
  for (const [name, s] of Object.entries(SURROGATES)) {
    for (const alpha of [s.alpha, 1.5 * s.alpha]) {
      const g = gradThrough(refNeuronKernels, s.id, alpha);
      U.forEach((u, i) => assert.equal(g[i], Math.fround(s.grad(u, alpha)), `${name} α=${alpha} at u=${u}`));
    }
  }
  assert.throws(() => gradThrough(refNeuronKernels, -1, 1), /unknown kernel id -1/);
});

test('the WebAssembly body gives SURROGATES[name].grad under the same id', { skip: wb === undefined ? 'build/edgespike.wasm not built' : false }, () => {
  const wasm = wasmNeuronKernels(wb!.wasm.exports as unknown as NeuronExports, wb!.arena);
  for (const [name, s] of Object.entries(SURROGATES)) {
    for (const alpha of [s.alpha, 1.5 * s.alpha]) {
      const g = gradThrough(wasm, s.id, alpha);
      U.forEach((u, i) => {
        const want = s.grad(u, alpha);
        // float32 arithmetic: a few roundings of a value at most α
        assert.ok(Math.abs(g[i]! - want) <= 1e-6 * (1 + Math.abs(want)), `${name} α=${alpha} at u=${u}: ${g[i]} vs ${want}`);
      });
    }
  }
  assert.throws(() => gradThrough(wasm, 6, 1), /unknown kernel id 6/);
});
