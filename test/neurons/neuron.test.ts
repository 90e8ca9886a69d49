import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, parameter } from '../../src/tensor/tensor.js';
import { backward } from '../../src/tensor/tape.js';
import * as op from '../../src/ops/index.js';
import { Rng } from '../../src/data/rng.js';
import { neuronParams, decayInit, NEURON_PRESETS, type NeuronParams, type NeuronPreset } from '../../src/neurons/neuron.js';
import { neuronStep, type NeuronTensors } from '../../src/neurons/step.js';
import { neuronRun } from '../../src/neurons/run.js';
import { SURROGATES, surrogate, customSurrogate } from '../../src/neurons/surrogate.js';
import { gradcheck, rand } from '../helpers/gradcheck.js';

/** Runs neuronStep T times on a constant input; returns h and s per step. */
function trajectory(p: NeuronParams, xs: number[]): { h: number[]; s: number[] } {
  let v = tensor([0]);
  const h: number[] = [], s: number[] = [];
  for (const x of xs) {
    const r = neuronStep(tensor([x]), v, p);
    h.push(r.h.item()); s.push(r.s.item()); v = r.v;
  }
  return { h, s };
}

function fusedTrajectory(p: NeuronParams, xs: number[]): { h: number[]; s: number[] } {
  const r = neuronRun(tensor(xs, [xs.length, 1]), p, {}, { T: xs.length });
  return { h: Array.from(r.h), s: r.spikes.toArray() };
}

const close = (a: number[], b: number[], tol = 1e-6) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol);

describe('golden trajectories', () => {
  test('EC-SNN / SpikingJelly LIF τ = 4/3, soft reset (seeds §6.2 #9)', () => {
    const p = neuronParams('ec-snn');
    // Constant 1.0: H = 0.75, 0.25·0.75 + 0.75 = 0.9375, 0.984375, 0.99609375: approaches 1 from below, never fires.
    for (const run of [trajectory, fusedTrajectory]) {
      const a = run(p, [1, 1, 1, 1]);
      assert.deepEqual(a.h, [0.75, 0.9375, 0.984375, 0.99609375]);
      assert.deepEqual(a.s, [0, 0, 0, 0]);
      // Constant 2.0: H1 = 1.5 → spike, V = 0.5; H2 = 0.125 + 1.5 = 1.625 → spike, V = 0.625.
      const b = run(p, [2, 2]);
      assert.deepEqual(b.h, [1.5, 1.625]);
      assert.deepEqual(b.s, [1, 1]);
    }
  });
  test('LIF β = 0.9, θ = 1, soft reset, x = 0.5: v = 0.5, 0.95, 1.355 → spike → 0.355, 0.8195, 1.23755 → spike', () => {
    for (const run of [trajectory, fusedTrajectory]) {
      const a = run(neuronParams('lif'), [0.5, 0.5, 0.5, 0.5, 0.5]);
      assert.ok(close(a.h, [0.5, 0.95, 1.355, 0.8195, 1.23755]), `h = ${a.h}`);
      assert.deepEqual(a.s, [0, 0, 1, 0, 1]);
    }
  });
  test('snnTorch Leaky: U = βU + I − S·θ (the leak does not shrink the reset)', () => {
    // U: 0.5, 0.95, 1.355 (> 1: spike), 0.9·1.355 + 0.5 − 1 = 0.7195, 0.9·0.7195 + 0.5 = 1.14755 (spike)
    for (const run of [trajectory, fusedTrajectory]) {
      const a = run(neuronParams('snntorch-leaky'), [0.5, 0.5, 0.5, 0.5, 0.5]);
      assert.ok(close(a.h, [0.5, 0.95, 1.355, 0.7195, 1.14755]), `h = ${a.h}`);
      assert.deepEqual(a.s, [0, 0, 1, 0, 1]);
    }
  });
  test('SpikingJelly LIFNode defaults (τ = 2, hard reset to 0), x = 1.5: H = 0.75, 1.125 → spike → 0, 0.75', () => {
    for (const run of [trajectory, fusedTrajectory]) {
      const a = run(neuronParams('spikingjelly-lif'), [1.5, 1.5, 1.5]);
      assert.deepEqual(a.h, [0.75, 1.125, 0.75]);
      assert.deepEqual(a.s, [0, 1, 0]);
    }
  });
  test('firing on ≥ versus >: h = θ exactly fires for LT-SNN (≥), not for IM-SNN (>)', () => {
    assert.deepEqual(trajectory(neuronParams('lt-snn'), [1]).s, [1]);
    assert.deepEqual(trajectory(neuronParams('im-snn'), [1]).s, [0]);
    assert.deepEqual(fusedTrajectory(neuronParams('im-snn'), [1, 0.5]).h, [1, 1]); // 0.5·1 + 0.5 = 1, still no spike
  });
  test('IF integrates without leak; no reset keeps the membrane', () => {
    assert.deepEqual(trajectory(neuronParams('if'), [0.4, 0.4, 0.4]).h, [0.4000000059604645, 0.800000011920929, 1.2000000476837158]);
    assert.deepEqual(fusedTrajectory(neuronParams('if', { reset: 'none' }), [1, 1]).h, [1, 2]);
  });
  test('unknown preset and bad parameters give one-line errors', () => {
    assert.throws(() => neuronParams('nope' as NeuronPreset), /neuron: unknown preset "nope" \(known: if, lif, /);
    assert.throws(() => neuronParams('lif', { beta: 1.5 }), /neuron: beta must be in \[0, 1\], got 1.5/);
    assert.throws(() => neuronParams('lif', { surrogate: 'x' as 'atan' }), /surrogate: unknown name "x"/);
  });
});

describe('surrogates', () => {
  test('each derivative matches finite differences of its primitive', () => {
    for (const [name, s] of Object.entries(SURROGATES)) {
      for (const u of [-1.3, -0.4, -0.05, 0.07, 0.3, 0.9]) {
        const e = 1e-5, a = s.alpha;
        const num = (s.primitive(u + e, a) - s.primitive(u - e, a)) / (2 * e);
        assert.ok(Math.abs(num - s.grad(u, a)) < 1e-4, `${name} at ${u}: ${num} vs ${s.grad(u, a)}`);
      }
    }
  });
  test('triangle and rectangular are exactly zero outside their support', () => {
    assert.equal(surrogate('triangle').grad(1.0, 1), 0);
    assert.equal(surrogate('rectangular').grad(0.5, 1), 0);
    assert.equal(surrogate('triangle').support(2), 2);
  });
});

/** Step-by-step run over T of a layer of m neurons, returning spikes stacked [T, m]. */
function stepRun(xs: Tensor, p: NeuronParams, lp: NeuronTensors, T: number, staticInput: boolean): Tensor {
  const m = staticInput ? xs.size : xs.size / T;
  let v = new Tensor(new Float32Array(m), [m]);
  const out: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const x = staticInput ? xs : op.reshape(op.slice(xs, 0, t, t + 1), [m]);
    const r = neuronStep(x, v, p, lp);
    out.push(r.s); v = r.v;
  }
  return op.stack(out, 0);
}

describe('fused kernel = step function (values exactly, gradients to rounding)', () => {
  const rng = new Rng(21);
  const cases: [string, NeuronParams, boolean, boolean][] = [];
  for (const name of Object.keys(NEURON_PRESETS) as NeuronPreset[]) {
    const p = neuronParams(name);
    cases.push([name, p, false, false], [`${name} static`, p, true, false]);
  }
  cases.push(['lif learnable β and θ', neuronParams('lif', { learnDecay: true, learnThreshold: true }), false, true]);
  cases.push(['plif learnable τ and θ, static', neuronParams('plif', { learnThreshold: true }), true, true]);
  cases.push(['lt-snn σ path', neuronParams('lt-snn'), false, true]);
  cases.push(['snntorch learnable β', neuronParams('snntorch-leaky', { learnDecay: true }), false, true]);
  cases.push(['lif hard not detached, fast-sigmoid', neuronParams('lif', { reset: 'hard', detachReset: false, surrogate: 'fast-sigmoid' }), false, false]);
  cases.push(['custom surrogate', neuronParams('lif', { surrogate: customSurrogate((u) => Math.exp(-u * u)) }), false, false]);
  for (const [name, p, staticInput, learn] of cases) {
    test(name, () => {
      const T = 6, m = 23;
      const xs = rand(rng, staticInput ? [m] : [T, m], -0.5, 1.6);
      const mk = (): NeuronTensors => ({
        decay: learn && p.learnDecay ? parameter(Float32Array.of(decayInit(p)), [1], 'decay') : undefined,
        vth: learn && (p.learnThreshold || p.thresholdSigmaPath) ? parameter(Float32Array.of(p.vth * 0.9), [1], 'vth') : undefined,
      });
      const r = new Float32Array(T * m).map(() => rng.float() * 2 - 1);
      const l1 = mk(), l2 = mk();
      const fused = neuronRun(xs, p, l1, { T, staticInput }).spikes;
      backward(fused, r);
      const gx1 = xs.grad!; xs.grad = null;
      const stepped = stepRun(xs, p, l2, T, staticInput);
      assert.deepEqual(fused.toArray(), stepped.toArray(), 'spikes differ');
      backward(stepped, r);
      const gx2 = xs.grad!; xs.grad = null;
      for (let i = 0; i < gx1.length; i++) assert.ok(Math.abs(gx1[i]! - gx2[i]!) <= 1e-5 * (1 + Math.abs(gx2[i]!)), `∂x[${i}]: ${gx1[i]} vs ${gx2[i]}`);
      for (const k of ['decay', 'vth'] as const) {
        const a = l1[k], b = l2[k];
        if (!a || !b) continue;
        assert.ok(Math.abs(a.grad![0]! - b.grad![0]!) <= 1e-4 * (1 + Math.abs(b.grad![0]!)), `∂${k}: ${a.grad![0]} vs ${b.grad![0]}`);
        assert.notEqual(b.grad![0], 0);
      }
    });
  }
});

test('a small SNN trained by BPTT: gradients against finite differences (sigmoid spikes made smooth)', () => {
  // With the spike replaced by the surrogate's own smooth curve, the surrogate gradient is the true
  // gradient; this checks BPTT through state, leak and reset over T steps across two layers.
  const rng = new Rng(22);
  const T = 4, alpha = 4;
  const smoothStep = (x: Tensor, v: Tensor) => {
    const h = op.add(op.mul(v, 0.9), x);
    const s = op.sigmoid(op.mul(op.sub(h, 1), alpha));
    return { s, v: op.sub(h, s) };
  };
  const net = (x: Tensor, w1: Tensor, w2: Tensor): Tensor => {
    let v1 = tensor(new Float32Array(5), [1, 5]), v2 = tensor(new Float32Array(3), [1, 3]);
    let acc: Tensor | null = null;
    for (let t = 0; t < T; t++) {
      const a = smoothStep(op.linear(x, w1), v1); v1 = a.v;
      const b = smoothStep(op.linear(a.s, w2), v2); v2 = b.v;
      acc = acc ? op.add(acc, b.s) : b.s;
    }
    return acc!;
  };
  gradcheck('snn', net, [rand(rng, [1, 4], 0, 1.5, false), rand(rng, [5, 4]), rand(rng, [3, 5])], { eps: 1e-3, atol: 3e-3 });
});
