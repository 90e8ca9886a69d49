/**
 * Weight quantizers and quantized membranes: the seeds' check numbers exactly (§6.2 #10, #12), the
 * straight-through backward, the stacked surrogate, and QLIF against a trajectory written out by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, parameter } from '../../src/tensor/tensor.js';
import { backward } from '../../src/tensor/tape.js';
import { dequantizeWeights, fakeQuantWeights, quantizeWeights, roundEven } from '../../src/quant/weights.js';
import { membraneGrid, quantizeLevel, levelValue, quantizerGrad, qlifRun, zeroLevel, type MembraneQuant } from '../../src/neurons/qlif.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { neuronRun } from '../../src/neurons/run.js';
import { EdgespikeError } from '../../src/util/errors.js';

const f = Math.fround;
const close = (a: number, b: number, tol = 1e-6): boolean => Math.abs(a - b) <= tol * (1 + Math.abs(b));

test('check number #12: SAWB asymmetric 4-bit (training path, first call), scaled ternary, unscaled TWN', () => {
  const w = Float32Array.of(0.1, -0.3, 0.2, -0.4);
  const s = quantizeWeights(w, { kind: 'sawb', bits: 4 }, true, 1);
  assert.equal(s.alpha, f(0.5));
  assert.deepEqual(Array.from(s.q), [1, -4, 3, -6]); // 1.4, −4.2, 2.8, −5.6 rounded
  assert.deepEqual(dequantizeWeights(s).map((v) => Math.round(v * 1e4) / 1e4), Float32Array.of(0.0714, -0.2857, 0.2143, -0.4286));
  const t = quantizeWeights(w, { kind: 'ternary', bits: 2 }, true);
  assert.deepEqual(Array.from(t.q), [1, -1, 1, -1]);
  assert.equal(t.scale, f(0.25));
  const n = quantizeWeights(w, { kind: 'twn', bits: 2 }, true);
  assert.deepEqual(Array.from(n.q), [0, -1, 1, -1]); // Δ = 0.175
  assert.equal(n.scale, 1);
});

test('SAWB: training clamps to the previous α; evaluation clamps integers past 2^b values; symmetric rule', () => {
  const w = Float32Array.from({ length: 200 }, (_, i) => Math.sin(i * 1.7) * (i % 17 === 0 ? 5 : 0.3));
  const first = quantizeWeights(w, { kind: 'sawb', bits: 4 }, true, 1);
  const second = quantizeWeights(w, { kind: 'sawb', bits: 4 }, true, first.alpha);
  assert.notEqual(first.alpha, second.alpha, 'α follows the clamped weights');
  const ev = quantizeWeights(w, { kind: 'sawb', bits: 4 }, false);
  assert.ok(Array.from(ev.q).every((q) => q >= -8 && q <= 7));
  assert.ok(Array.from(first.q).every((q) => Math.abs(q) <= 7));
  const eight = quantizeWeights(w, { kind: 'sawb', bits: 8 }, false);
  assert.ok(Array.from(eight.q).every((q) => q >= -128 && q <= 127));
  const sym = quantizeWeights(w, { kind: 'sawb-symm', bits: 4 }, false);
  let m = 0, mu = 0;
  for (const v of w) { m += Math.abs(v); mu += v; }
  m /= w.length; mu /= w.length;
  const sd = Math.sqrt(w.reduce((a, v) => a + (v - mu) ** 2, 0) / (w.length - 1));
  assert.ok(close(7 * sym.scale, sd / 0.077 - (1.013 / 0.077) * m, 1e-5), 'α = std/z0 − (z1/z0)·mean|w|');
  assert.deepEqual([roundEven(2.5), roundEven(-2.5), roundEven(3.5), roundEven(-0.5), roundEven(1.4)], [2, -2, 4, -0, 1]);
});

test('straight-through backward: identity, except outside SAWB training clamp', () => {
  const w = parameter(Float32Array.of(0.1, -0.3, 2.0, -0.4), [4]);
  const { wq } = fakeQuantWeights(w, { kind: 'sawb', bits: 4 }, true, 1);
  backward(wq, Float32Array.of(1, 2, 3, 4));
  assert.deepEqual(Array.from(w.grad!), [1, 2, 0, 4]); // 2.0 lies outside the previous α = 1
  const t = parameter(Float32Array.of(0.1, -0.3, 2.0, -0.4), [4]);
  backward(fakeQuantWeights(t, { kind: 'ternary', bits: 2 }, true).wq, Float32Array.of(1, 2, 3, 4));
  assert.deepEqual(Array.from(t.grad!), [1, 2, 3, 4]);
});

const seedGrid: MembraneQuant = { lb: -3, interval: 1, levels: 5 };

test('check number #10: QLIF τ 0.5, θ 1, levels {−3…1}, inputs 0.6, 0.6, −2.2 → stored 1, 0, −2 (ternary: −1); ties go down', () => {
  const p = { ...neuronParams('im-snn'), membrane: seedGrid };
  const x = new Tensor(Float32Array.of(0.6, 0.6, -2.2), [3, 1]);
  const r = qlifRun(x, p, { T: 3 });
  assert.deepEqual(Array.from(r.spikes.data), [0, 1, 0]);
  assert.deepEqual(Array.from(r.h), [f(0.6), f(f(0.5) + f(0.6)), f(-2.2)]);
  assert.equal(levelValue(r.level[0]!, seedGrid), -2);
  // the stored potential after each step, one run per prefix
  const stored = [1, 2, 3].map((T) => levelValue(qlifRun(new Tensor(x.data.slice(0, T), [T, 1]), p, { T }).level[0]!, seedGrid));
  assert.deepEqual(stored, [1, 0, -2]);
  const tern = { ...p, membrane: membraneGrid(1.58, 1) };
  assert.equal(levelValue(qlifRun(x, tern, { T: 3 }).level[0]!, tern.membrane), -1);
  assert.equal(levelValue(quantizeLevel(0.5, seedGrid, 1), seedGrid), 0);
  assert.equal(levelValue(quantizeLevel(-0.5, seedGrid, 1), seedGrid), -1);
  assert.equal(levelValue(quantizeLevel(9, seedGrid, 1), seedGrid), 1);
  assert.equal(levelValue(quantizeLevel(-9, seedGrid, 1), seedGrid), -3);
  // through neuronRun, which dispatches on the membrane
  assert.deepEqual(Array.from(neuronRun(x, p, {}, { T: 3 }).spikes.data), [0, 1, 0]);
});

test('membrane grids: ternary, 2, 4 and 8 bits with θ as the top level and 0 on the grid', () => {
  assert.deepEqual(membraneGrid(1.58, 1), { lb: -1, interval: 1, levels: 3 });
  assert.deepEqual(membraneGrid(2, 1), { lb: -2, interval: 1, levels: 4 });
  for (const bits of [2, 4, 8]) {
    const g = membraneGrid(bits, 1);
    assert.equal(g.levels, 2 ** bits);
    assert.equal(levelValue(g.levels - 1, g), 1);
    assert.equal(levelValue(zeroLevel(g), g), 0);
  }
  assert.throws(() => membraneGrid(3.3, 1), EdgespikeError);
});

test('stacked surrogate: a σ′₂ bump at each boundary towards 0 (±0.5 ternary; −2.5, −1.5, −0.5, 0.5 for {−3…1})', () => {
  const d = (u: number): number => { const s = 1 / (1 + Math.exp(-2 * u)); return 2 * s * (1 - s); };
  for (const r of [-3.1, -2.5, -1, -0.5, 0, 0.2, 0.5, 1, 2]) {
    assert.ok(close(quantizerGrad(r, membraneGrid(1.58, 1)), d(r + 0.5) + d(r - 0.5), 1e-12), `ternary at ${r}`);
    assert.ok(close(quantizerGrad(r, seedGrid), d(r + 2.5) + d(r + 1.5) + d(r + 0.5) + d(r - 0.5), 1e-12), `{−3…1} at ${r}`);
  }
});

test('QLIF backward equals the same steps written out with the surrogates by hand', () => {
  const p = { ...neuronParams('im-snn', { beta: 0.7, vth: 0.9 }), membrane: seedGrid };
  const T = 5, m = 7;
  const xs = parameter(Float32Array.from({ length: T * m }, (_, i) => Math.sin(i * 2.3) * 1.5), [T, m]);
  const r = qlifRun(xs, p, { T });
  const gs = Float32Array.from({ length: T * m }, (_, i) => Math.cos(i));
  backward(r.spikes, gs);
  const tri = (u: number): number => Math.max(0, 1 - Math.abs(u));
  for (let i = 0; i < m; i++) {
    let gv = 0;
    for (let t = T - 1; t >= 0; t--) {
      const o = t * m + i, h = r.h[o]!, s = r.spikes.data[o]!;
      const rr = s ? 0 : h;
      const gr = gv * quantizerGrad(rr, seedGrid);
      const gh = gr * (1 - s) + (gs[o]! + gr * (0 - h)) * tri(h - f(0.9));
      assert.ok(close(xs.grad![o]!, gh, 1e-5), `x[${t},${i}]: ${xs.grad![o]} vs ${gh}`);
      gv = gh * f(0.7);
    }
  }
});

test('256-level membranes: the final level and the state neuronRun returns reach the top of the grid', () => {
  const mq = membraneGrid(8, 1), p = { ...neuronParams('lif', { vth: 1, beta: 0.5, fire: '>', reset: 'hard', vReset: 0 }), membrane: mq };
  assert.equal(mq.levels, 256);
  // below θ, no spike: the carried potential is the input rounded to the grid, near its top
  const x = new Tensor(Float32Array.of(0.9, 0.95, -0.2), [1, 3]);
  const r = qlifRun(x, p, { T: 1 });
  const want = [0.9, 0.95, -0.2].map((v) => levelValue(quantizeLevel(Math.fround(v), mq, 1), mq));
  assert.ok(r.level[0]! > 127 && r.level[1]! > 127, `levels ${Array.from(r.level)}`);
  assert.deepEqual(Array.from(r.level, (k) => levelValue(k, mq)), want);
  assert.ok(Math.abs(want[0]! - 0.9) <= mq.interval / 2 + 1e-6);
  assert.deepEqual(Array.from(neuronRun(x, p, {}, { T: 1 }).v), want);
});
