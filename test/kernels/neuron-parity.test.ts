/**
 * Holds the WebAssembly neuron kernels to the reference body: spikes, membranes and final states
 * exactly, gradients to float32 rounding, for every surrogate, reset and input mode, with one threshold
 * for the layer or a pattern of per-neuron thresholds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refNeuronKernels } from '../../src/backends/ref/neuron.js';
import { wasmBackendSync } from '../../src/backends/wasm/index.js';
import { wasmNeuronKernels, type NeuronExports } from '../../src/backends/wasm/neuron.js';
import type { NeuronKernelParams, NeuronKernels } from '../../src/kernels/neuron.js';
import { Rng } from '../../src/data/rng.js';

const wb = wasmBackendSync(1);

test('wasm neuron kernels equal the reference body', { skip: wb === undefined ? 'build/edgespike.wasm not built' : false }, () => {
  const exp = wb!.wasm.exports as unknown as NeuronExports;
  const wasm = wasmNeuronKernels(exp, wb!.arena);
  // the same body split over two threads in ranges of four neurons (m = 37: a scalar tail in the last range)
  const wasm2 = wasmNeuronKernels(exp, wb!.arena, { pool: wb!.pool, settings: { threads: 2, minParallelWork: 0, chunksPerThread: 4 } });
  assert.equal(wb!.pool.usable(2), 2, 'the worker thread did not start');
  const rng = new Rng(31);
  const base: NeuronKernelParams = { a: 0.9, b: 1, c: 0, vth: 1, vReset: 0, reset: 0, resetScale: 1, detachReset: true, strict: false, surrogate: 0, alpha: 2, sigmaPath: false, decayGrads: true };
  const variants: Partial<NeuronKernelParams>[] = [];
  for (const surrogate of [0, 1, 2, 3, 4, 5]) variants.push({ surrogate, alpha: [2, 4, 25, 1, 1, 1][surrogate]! });
  variants.push({ reset: 1, detachReset: false, vReset: -0.2 }, { reset: 2 }, { strict: true }, { resetScale: 1 / 0.9 },
    { a: 0.25, b: 0.75, c: 0 }, { decayGrads: false }, { sigmaPath: true, reset: 1, surrogate: 3, alpha: 1, vth: 0.8 }, { detachReset: false });
  for (const v of variants) {
    for (const stat of [false, true]) {
      const p = { ...base, ...v }, T = 5, m = 37;
      const x = new Float32Array(stat ? m : T * m).map(() => rng.float() * 2.2 - 0.5);
      // A few inputs exactly at the threshold exercise ≥ versus >.
      x[0] = 1; x[5] = p.vth;
      const v0 = new Float32Array(m).map(() => rng.float() * 0.5);
      /** Runs both kernels with every array from `alloc` (plain, or lent wasm memory the kernels use in place). */
      const out = (k: typeof wasm, alloc = (n: number): Float32Array => new Float32Array(n)) => {
        const copy = (a: Float32Array): Float32Array => { const c = alloc(a.length); c.set(a); return c; };
        const X = copy(x), V0 = copy(v0), v1 = copy(v0), s = alloc(T * m), h = alloc(T * m);
        const count = k.neuronForward(X, v1, s, h, T, m, stat, p);
        assert.equal(count, s.reduce((a, b) => a + b, 0), 'spike count returned by neuronForward');
        const gs = copy(new Float32Array(T * m).map((_, i) => Math.sin(i)));
        const gx = alloc(x.length), gp = new Float64Array(4);
        k.neuronBackward(gs, h, s, X, V0, gx, T, m, stat, p, gp);
        assert.deepEqual(X, x, 'the input was modified');
        return { v1, s, h, gx, gp };
      };
      const r = out(refNeuronKernels), w = out(wasm), w2 = out(wasm2);
      const mark = wb!.heap.begin();
      try {
        const l = out(wasm, (n) => wb!.heap.take(n, false)!);
        assert.ok(wb!.arena.offsetOf(l.s) >= 0);
        for (const key of ['v1', 's', 'h', 'gx', 'gp'] as const) assert.deepEqual(Array.from(l[key]), Array.from(w[key]), `${key} in wasm memory`);
      } finally { wb!.heap.end(mark); }
      // Without membranes (inference): same spikes and state, nothing written to h.
      for (const k of [refNeuronKernels, wasm]) {
        const v2 = new Float32Array(v0), s2 = new Float32Array(T * m);
        k.neuronForward(x, v2, s2, new Float32Array(0), T, m, stat, p);
        assert.deepEqual(Array.from(s2), Array.from(r.s));
        assert.deepEqual(Array.from(v2), Array.from(r.v1));
      }
      const name = `${JSON.stringify(v)} static=${stat}`;
      assert.deepEqual(Array.from(w.s), Array.from(r.s), `spikes: ${name}`);
      assert.deepEqual(Array.from(w.h), Array.from(r.h), `membranes: ${name}`);
      assert.deepEqual(Array.from(w.v1), Array.from(r.v1), `final state: ${name}`);
      for (let i = 0; i < r.gx.length; i++) assert.ok(Math.abs(w.gx[i]! - r.gx[i]!) <= 1e-5 * (1 + Math.abs(r.gx[i]!)), `gx[${i}] ${w.gx[i]} vs ${r.gx[i]}: ${name}`);
      for (let j = 0; j < 4; j++) assert.ok(Math.abs(w.gp[j]! - r.gp[j]!) <= 1e-4 * (1 + Math.abs(r.gp[j]!)), `gp[${j}] ${w.gp[j]} vs ${r.gp[j]}: ${name}`);
      // two threads: spikes, membranes, state and input gradients identical; parameter gradients summed in parts
      for (const key of ['v1', 's', 'h', 'gx'] as const) assert.deepEqual(Array.from(w2[key]), Array.from(w[key]), `${key} on 2 threads: ${name}`);
      for (let j = 0; j < 4; j++) assert.ok(Math.abs(w2.gp[j]! - w.gp[j]!) <= 1e-9 * (1 + Math.abs(w.gp[j]!)), `gp[${j}] on 2 threads ${w2.gp[j]} vs ${w.gp[j]}: ${name}`);
    }
  }
});

/** Forward and backward of one kernel body with every array from `alloc`; gth only when `learn`. */
function runBody(k: NeuronKernels, p: NeuronKernelParams, x: Float32Array, v0: Float32Array, gs0: Float32Array, T: number, m: number,
  stat: boolean, learn = true, alloc = (n: number): Float32Array => new Float32Array(n)) {
  const copy = (a: Float32Array): Float32Array => { const c = alloc(a.length); c.set(a); return c; };
  const X = copy(x), V0 = copy(v0), v1 = copy(v0), s = alloc(T * m), h = alloc(T * m);
  const count = k.neuronForward(X, v1, s, h, T, m, stat, p);
  assert.equal(count, s.reduce((a, b) => a + b, 0), 'spike count returned by neuronForward');
  const gx = alloc(x.length), gp = new Float64Array(4), gth = learn ? alloc(m).fill(NaN) : undefined;
  k.neuronBackward(copy(gs0), h, s, X, V0, gx, T, m, stat, p, gp, gth);
  assert.deepEqual(X, x, 'the input was modified');
  return { v1, s, h, gx, gp, gth: gth ?? new Float32Array(0) };
}

test('per-neuron thresholds (thr[i % period]): wasm equals the reference body, on one thread and two', { skip: wb === undefined ? 'build/edgespike.wasm not built' : false }, () => {
  const exp = wb!.wasm.exports as unknown as NeuronExports;
  const wasm = wasmNeuronKernels(exp, wb!.arena);
  const wasm2 = wasmNeuronKernels(exp, wb!.arena, { pool: wb!.pool, settings: { threads: 2, minParallelWork: 0, chunksPerThread: 4 } });
  const rng = new Rng(32);
  const base: NeuronKernelParams = { a: 0.9, b: 1, c: 0, vth: 1, vReset: 0, reset: 0, resetScale: 1, detachReset: true, strict: false, surrogate: 0, alpha: 2, sigmaPath: false, decayGrads: true };
  const variants: Partial<NeuronKernelParams>[] = [{}, { reset: 1, detachReset: false, vReset: -0.2, surrogate: 1, alpha: 4 }, { reset: 2, surrogate: 2, alpha: 25 },
    { strict: true, surrogate: 4, alpha: 1 }, { resetScale: 1 / 0.9, detachReset: false, surrogate: 5, alpha: 1 }, { decayGrads: false },
    { sigmaPath: true, reset: 1, surrogate: 3, alpha: 1 }, { sigmaPath: true, detachReset: false, surrogate: 1, alpha: 4 }];
  // [m, period]: odd periods, period = m, tails of 1–3 neurons, periods below four, one that does not divide m;
  // over 64 neurons a backward group spans several blocks of four (the pattern index carries across blocks)
  const shapes: [number, number][] = [[45, 3], [45, 5], [45, 15], [45, 45], [42, 7], [42, 6], [42, 42], [40, 8], [40, 20], [40, 1], [40, 2],
    [37, 37], [37, 6], [7, 7], [3, 3], [150, 15], [150, 6], [99, 9], [99, 99], [136, 136]];
  for (const [m, period] of shapes) for (const v of variants) {
    for (const stat of [false, true]) {
      const T = 5, thr = new Float32Array(period).map(() => 0.6 + 0.8 * rng.float());
      const p = { ...base, ...v, thr };
      const x = new Float32Array(stat ? m : T * m).map(() => rng.float() * 2.2 - 0.5);
      const v0 = new Float32Array(m).map(() => rng.float() * 0.5);
      // Neurons 0, 5 and the last start exactly at their threshold: ≥ versus >.
      for (const i of [0, 5 % m, m - 1]) { v0[i] = 0; x[i] = thr[i % period]!; }
      const gs = new Float32Array(T * m).map((_, i) => Math.sin(i));
      const name = `m=${m} period=${period} ${JSON.stringify(v)} static=${stat}`;
      const r = runBody(refNeuronKernels, p, x, v0, gs, T, m, stat), w = runBody(wasm, p, x, v0, gs, T, m, stat);
      const w2 = runBody(wasm2, p, x, v0, gs, T, m, stat);
      assert.deepEqual(Array.from(w.s), Array.from(r.s), `spikes: ${name}`);
      assert.deepEqual(Array.from(w.h), Array.from(r.h), `membranes: ${name}`);
      assert.deepEqual(Array.from(w.v1), Array.from(r.v1), `final state: ${name}`);
      if (m > 3) assert.ok(r.s.some((z) => z === 1) && r.s.some((z) => z === 0), `both outcomes occur: ${name}`);
      for (let i = 0; i < r.gx.length; i++) assert.ok(Math.abs(w.gx[i]! - r.gx[i]!) <= 1e-5 * (1 + Math.abs(r.gx[i]!)), `gx[${i}] ${w.gx[i]} vs ${r.gx[i]}: ${name}`);
      for (let i = 0; i < m; i++) assert.ok(Math.abs(w.gth[i]! - r.gth[i]!) <= 1e-5 * (1 + Math.abs(r.gth[i]!)), `gth[${i}] ${w.gth[i]} vs ${r.gth[i]}: ${name}`);
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(w.gp[j]! - r.gp[j]!) <= 1e-4 * (1 + Math.abs(r.gp[j]!)), `gp[${j}] ${w.gp[j]} vs ${r.gp[j]}: ${name}`);
      assert.equal(r.gp[3], 0); assert.equal(w.gp[3], 0);
      // two threads: the same bits everywhere, per-neuron threshold gradients included
      for (const key of ['v1', 's', 'h', 'gx', 'gth', 'gp'] as const) assert.deepEqual(Array.from(w2[key]), Array.from(w[key]), `${key} on 2 threads: ${name}`);
      // arrays lent from wasm memory are used in place
      const mark = wb!.heap.begin();
      try {
        const l = runBody(wasm, p, x, v0, gs, T, m, stat, true, (n) => wb!.heap.take(n, false)!);
        for (const key of ['v1', 's', 'h', 'gx', 'gth', 'gp'] as const) assert.deepEqual(Array.from(l[key]), Array.from(w[key]), `${key} in wasm memory: ${name}`);
      } finally { wb!.heap.end(mark); }
      // a fixed (not learned) threshold pattern: no gth, the same input gradients
      for (const [k, full] of [[refNeuronKernels, r], [wasm, w]] as const) {
        const f = runBody(k, p, x, v0, gs, T, m, stat, false);
        assert.deepEqual(Array.from(f.gx), Array.from(full.gx), `gx without gth: ${name}`);
      }
    }
  }
});

test('a threshold pattern of equal values is the scalar threshold; its per-neuron gradients sum to the scalar one', { skip: wb === undefined ? 'build/edgespike.wasm not built' : false }, () => {
  const wasm = wasmNeuronKernels(wb!.wasm.exports as unknown as NeuronExports, wb!.arena);
  const rng = new Rng(33);
  const T = 4, m = 38, th = Math.fround(0.85);
  for (const v of [{}, { reset: 1 as const, detachReset: false, sigmaPath: true, surrogate: 3, alpha: 1 }, { resetScale: 1 / 0.9, detachReset: false }]) {
    const p: NeuronKernelParams = { a: 0.9, b: 1, c: 0, vth: th, vReset: 0, reset: 0, resetScale: 1, detachReset: true, strict: false, surrogate: 0, alpha: 2, sigmaPath: false, decayGrads: true, ...v };
    const x = new Float32Array(T * m).map(() => rng.float() * 2 - 0.4), v0 = new Float32Array(m);
    const gs = new Float32Array(T * m).map(() => rng.float() * 2 - 1);
    for (const k of [refNeuronKernels, wasm]) {
      const scalar = runBody(k, p, x, v0, gs, T, m, false);
      const perNeuron = runBody(k, { ...p, thr: new Float32Array(6).fill(th) }, x, v0, gs, T, m, false);
      for (const key of ['v1', 's', 'h', 'gx'] as const) assert.deepEqual(Array.from(perNeuron[key]), Array.from(scalar[key]), `${key}: ${JSON.stringify(v)}`);
      const sum = perNeuron.gth.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - scalar.gp[3]!) <= 1e-4 * (1 + Math.abs(scalar.gp[3]!)), `Σ gth ${sum} vs ∂L/∂θ ${scalar.gp[3]}: ${JSON.stringify(v)}`);
      assert.notEqual(scalar.gp[3], 0);
    }
  }
});
