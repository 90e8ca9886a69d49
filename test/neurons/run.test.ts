/**
 * neuronRun with one threshold per channel: equal to T calls of neuronStep with the same thresholds (values
 * exactly, gradients to rounding) on both kernel bodies, and its threshold gradient against finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, parameter, tensor } from '../../src/tensor/tensor.js';
import { backward } from '../../src/tensor/tape.js';
import * as op from '../../src/ops/index.js';
import { Rng } from '../../src/data/rng.js';
import { neuronParams, decayInit, type NeuronParams } from '../../src/neurons/neuron.js';
import { neuronStep, type NeuronTensors } from '../../src/neurons/step.js';
import { neuronRun } from '../../src/neurons/run.js';
import { SURROGATES, customSurrogate } from '../../src/neurons/surrogate.js';
import { forEachBackend } from '../helpers/backends.js';
import { rand } from '../helpers/gradcheck.js';

/** T calls of neuronStep on steps shaped `step` ([N, C, …]); spikes stacked [T, ...step]. */
function stepRun(xs: Tensor, p: NeuronParams, lp: NeuronTensors, T: number, staticInput: boolean, step: number[]): { spikes: Tensor; v: Tensor } {
  let v = new Tensor(new Float32Array(step.reduce((a, d) => a * d, 1)), step);
  const out: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const x = op.reshape(staticInput ? xs : op.slice(xs, 0, t, t + 1), step);
    const r = neuronStep(x, v, p, lp);
    out.push(r.s); v = r.v;
  }
  return { spikes: op.stack(out, 0), v };
}

/** Thresholds 0.7, 0.85, 1, … per channel (float32 values). */
const thresholds = (C: number): Float32Array => Float32Array.from({ length: C }, (_, c) => 0.7 + 0.15 * c);

forEachBackend('neuronRun = T × neuronStep with per-channel thresholds', () => {
  const rng = new Rng(23);
  // [name, step shape [N, C, …]]: a convolution map (inner = 6) and a dense layer of an odd channel count (inner = 1)
  const layouts: [string, number[]][] = [['conv [2, 3, 2, 3]', [2, 3, 2, 3]], ['dense [3, 5]', [3, 5]]];
  const cases: [string, NeuronParams, boolean][] = [
    ['lif, learnable θ', neuronParams('lif', { learnThreshold: true }), false],
    ['lif, learnable β and θ, static input', neuronParams('lif', { learnDecay: true, learnThreshold: true }), true],
    ['plif, learnable τ and θ', neuronParams('plif', { learnThreshold: true }), false],
    ['lt-snn, σ path', neuronParams('lt-snn'), false],
    ['lt-snn, σ path, static input', neuronParams('lt-snn'), true],
    ['snntorch-leaky (undecayed reset, fires on >), learnable θ', neuronParams('snntorch-leaky', { learnThreshold: true }), false],
    ['spikingjelly-lif (hard reset, not detached), learnable θ', neuronParams('spikingjelly-lif', { learnThreshold: true }), false],
    ['no reset, rectangular, learnable θ', neuronParams('lif', { reset: 'none', surrogate: 'rectangular', learnThreshold: true }), false],
    ['lif, fixed per-channel θ', neuronParams('lif'), false],
    ['custom surrogate, learnable θ', neuronParams('lif', { surrogate: customSurrogate((u) => Math.exp(-u * u)), learnThreshold: true }), false],
  ];
  for (const [layout, step] of layouts) {
    for (const [name, p, staticInput] of cases) {
      test(`${layout}: ${name}`, () => {
        const T = 5, C = step[1]!, m = step.reduce((a, d) => a * d, 1), inner = m / step[0]! / C;
        const xs = rand(rng, staticInput ? [m] : [T, m], -0.5, 1.6);
        // the first item's first neuron of every channel starts exactly at its threshold: ≥ versus >
        for (let c = 0; c < C; c++) xs.data[c * inner] = thresholds(C)[c]!;
        const learn = p.learnThreshold || p.thresholdSigmaPath;
        const mk = (): NeuronTensors => ({
          decay: p.learnDecay ? parameter(Float32Array.of(decayInit(p)), [1], 'decay') : undefined,
          vth: learn ? parameter(thresholds(C), [C], 'vth') : tensor(thresholds(C), [C]),
        });
        const r = new Float32Array(T * m).map(() => rng.float() * 2 - 1);
        const l1 = mk(), l2 = mk();
        const run = neuronRun(xs, p, l1, { T, staticInput, channelInner: inner }), fused = run.spikes;
        backward(fused, r);
        const gx1 = xs.grad!; xs.grad = null;
        const steps = stepRun(xs, p, l2, T, staticInput, step), stepped = steps.spikes;
        assert.deepEqual(fused.toArray(), stepped.toArray(), 'spikes differ');
        assert.deepEqual(Array.from(run.v), steps.v.toArray(), 'the final membranes differ');
        assert.ok(fused.toArray().some((s) => s === 1) && fused.toArray().some((s) => s === 0), 'both outcomes occur');
        backward(stepped, r);
        const gx2 = xs.grad!; xs.grad = null;
        for (let i = 0; i < gx1.length; i++) assert.ok(Math.abs(gx1[i]! - gx2[i]!) <= 1e-5 * (1 + Math.abs(gx2[i]!)), `∂x[${i}]: ${gx1[i]} vs ${gx2[i]}`);
        for (const k of ['decay', 'vth'] as const) {
          const a = l1[k], b = l2[k];
          if (!a?.requiresGrad || !b) continue;
          assert.equal(a.grad!.length, a.size);
          for (let c = 0; c < a.size; c++) {
            assert.ok(Math.abs(a.grad![c]! - b.grad![c]!) <= 1e-4 * (1 + Math.abs(b.grad![c]!)), `∂${k}[${c}]: ${a.grad![c]} vs ${b.grad![c]}`);
            assert.notEqual(b.grad![c], 0, `∂${k}[${c}] is 0`);
          }
        }
        if (!learn) assert.equal(l1.vth!.grad, null);
      });
    }
  }
  test('per-channel thresholds need a layout that fits the step', () => {
    const p = neuronParams('lif'), vth = tensor(thresholds(3), [3]), xs = rand(rng, [2, 24], 0, 1, false);
    assert.throws(() => neuronRun(xs, p, { vth }, { T: 2 }), /neuronRun: a threshold of 3 values needs channelInner, a positive integer \(steps laid out \[N, C, inner\]\), got undefined/);
    assert.throws(() => neuronRun(xs, p, { vth }, { T: 2, channelInner: 5 }), /neuronRun: a step of 24 neurons is not \[N, C=3, inner=5\]/);
    assert.throws(() => neuronStep(rand(rng, [2, 4, 3], 0, 1, false), tensor(new Float32Array(24), [2, 4, 3]), p, { vth }),
      /neuronStep: a threshold of 3 values needs input \[N, C=3, …\], got \[2, 4, 3\]/);
  });
});

forEachBackend('per-channel threshold gradient against finite differences', () => {
  test('without a reset, ∂L/∂θ_c is the derivative of Σ r·σ(h − θ_c), the spikes made smooth', () => {
    // Without a reset the membranes h do not depend on θ, so replacing each spike H(h − θ_c) by the surrogate's
    // own curve σ gives a smooth loss of θ alone whose true gradient the surrogate backward must equal.
    const rng = new Rng(24);
    const p = neuronParams('lif', { reset: 'none', surrogate: 'atan', learnThreshold: true });
    const N = 2, C = 3, inner = 4, T = 3, m = N * C * inner, alpha = SURROGATES.atan.alpha;
    const xs = rand(rng, [T, m], -0.3, 0.8, false);
    const theta = Float32Array.of(0.5, 0.9, 1.3);
    const r = Float64Array.from({ length: T * m }, () => rng.float() * 2 - 1);
    const vth = parameter(new Float32Array(theta), [C], 'vth');
    const run = neuronRun(xs, p, { vth }, { T, channelInner: inner });
    backward(run.spikes, Float32Array.from(r));
    const H = Float64Array.from(run.h);
    const shifted = neuronRun(xs, p, { vth: tensor(theta.map((t) => t + 0.25), [C]) }, { T, channelInner: inner });
    assert.deepEqual(Array.from(shifted.h), Array.from(run.h), 'h depends on θ');
    const smooth = (th: number[]): number => {
      let sum = 0;
      for (let i = 0; i < T * m; i++) sum += r[i]! * SURROGATES.atan.primitive(H[i]! - th[Math.floor((i % m) / inner) % C]!, alpha);
      return sum;
    };
    const eps = 1e-4;
    for (let c = 0; c < C; c++) {
      const plus = Array.from(theta), minus = Array.from(theta);
      plus[c]! += eps; minus[c]! -= eps;
      const numeric = (smooth(plus) - smooth(minus)) / (2 * eps), analytic = vth.grad![c]!;
      assert.ok(Math.abs(numeric - analytic) <= 1e-4 + 1e-4 * Math.abs(numeric), `∂L/∂θ[${c}]: analytic ${analytic}, numeric ${numeric}`);
      assert.ok(Math.abs(numeric) > 0.05, `∂L/∂θ[${c}] = ${numeric} is too small to tell anything`);
    }
  });
});
