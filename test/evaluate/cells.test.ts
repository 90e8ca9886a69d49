/**
 * runCell's components: the held-out split, the first frames of event samples, the T schedule, the exit
 * steps, the cost of an early exit (against runReport at each T), and the rows of a small ablation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/notation/parse.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { SpikingNet } from '../../src/layers/net.js';
import { mnist } from '../../src/data/mnist.js';
import { limit, type Dataset } from '../../src/data/dataset.js';
import { runReport } from '../../src/metrics/run.js';
import { exitAt, type StepTrace } from '../../src/evaluate/dynamic.js';
import { ABLATION, SETTINGS, exitCost, exitSteps, firstFrames, holdOut, runCell, tSchedule, type EvalCell } from '../../src/evaluate/cells.js';

/** A data set whose sample i is the numbers i·100 + k, k = 0 … size − 1, labelled i mod 3. */
const counting = (n: number, shape: number[], temporal = false): Dataset => ({
  name: 'counting', length: n, shape, temporal, numClasses: 3, label: (i) => i % 3,
  read: (i, out, off) => { for (let k = 0, m = shape.reduce((a, b) => a * b, 1); k < m; k++) out[off + k] = i * 100 + k; },
});
const firstValue = (d: Dataset, i: number): number => { const b = new Float32Array(d.shape.reduce((a, x) => a * x, 1)); d.read(i, b, 0); return b[0]!; };

test('held out: every k-th training sample, at most 1000 and 10 %, disjoint from the samples trained on', () => {
  const d = counting(50, [1]);
  const { train, heldOut } = holdOut(d);
  assert.equal(heldOut.length, 5);
  assert.equal(train.length, 45);
  const held = Array.from({ length: 5 }, (_, i) => firstValue(heldOut, i) / 100);
  assert.deepEqual(held, [5, 15, 25, 35, 45], 'spread over the set, so class-ordered sets stay balanced');
  const trained = Array.from({ length: 45 }, (_, i) => firstValue(train, i) / 100);
  assert.deepEqual([...trained, ...held].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(train.label(5), 6 % 3);
  assert.equal(holdOut(counting(60_000, [1])).heldOut.length, SETTINGS.heldOut);
  assert.throws(() => holdOut(counting(9, [1])), /counting has 9 training samples; at least 10 are needed/);
});

test('first frames: a temporal sample cut to its first t frames; static samples unchanged', () => {
  const d = counting(3, [4, 2], true), f = firstFrames(d, 2);
  assert.deepEqual(f.shape, [2, 2]);
  const b = new Float32Array(4);
  f.read(2, b, 0);
  assert.deepEqual(Array.from(b), [200, 201, 202, 203]);
  const s = counting(3, [4]);
  assert.equal(firstFrames(s, 2), s);
});

test('T schedule: the first epoch at half the T, the others at T', () => {
  assert.deepEqual(tSchedule(4, 3), [2, 4, 4]);
  assert.deepEqual(tSchedule(5, 2), [3, 5]);
  assert.deepEqual(tSchedule(4, 1), [4]);
  assert.deepEqual(tSchedule(1, 3), [1, 1, 1]);
});

test('exit steps: the first step whose margin reaches θ, as exitAt counts them', () => {
  const trace: StepTrace = {
    T: 3, labels: Int32Array.from([0, 1, 2]),
    cls: [Int32Array.from([0, 1, 1]), Int32Array.from([0, 1, 2]), Int32Array.from([0, 1, 2])],
    margin: [Float32Array.from([3, 0.5, 0.2]), Float32Array.from([3, 2, 0.4]), Float32Array.from([3, 2, 0.6])],
    spikes: [Float64Array.from([1, 1, 1]), Float64Array.from([10, 10, 10]), Float64Array.from([100, 100, 100])],
  };
  assert.deepEqual(Array.from(exitSteps(trace, 1)), [1, 2, 3]);
  assert.deepEqual(Array.from(exitSteps(trace, Infinity)), [3, 3, 3]);
  const r = exitAt(trace, 1);
  assert.equal(r.meanT, 2);
  assert.equal(r.spikesPerSample, (1 + 11 + 111) / 3);
});

test('the cost of an early exit: a sample that exits at step t costs what the network run for t steps costs', () => {
  const net = new SpikingNet(parseSpec('8C5-P2-32-10', { bias: true }), {
    input: [1, 28, 28], neuron: neuronParams('lif', { vth: 0.3 }), T: 3, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 3,
  });
  const d = limit(mnist('test'), 40);
  const at = (t: number) => runReport(t === 3 ? net : net.withConfig({ T: t }), d);
  const all = (t: number) => exitCost(net, d, new Int32Array(40).fill(t));
  for (const t of [1, 3]) {
    assert.ok(Math.abs(all(t).sops - at(t).sopsEcSnn) <= 1e-9 * at(t).sopsEcSnn, `T = ${t}`);
    assert.ok(Math.abs(all(t).energyUj - at(t).energyUj) <= 1e-9 * at(t).energyUj);
  }
  assert.ok(at(1).sopsEcSnn < at(3).sopsEcSnn, 'an earlier exit should cost less');
  // half the samples exit after one step, half after three: each half costs its own run
  const steps = Int32Array.from({ length: 40 }, (_, i) => (i % 2 ? 3 : 1));
  const half = (t: number) => runReport(t === 3 ? net : net.withConfig({ T: t }), { ...d, length: 20, label: (i) => d.label(2 * i + (t === 3 ? 1 : 0)), read: (i, o, off) => d.read(2 * i + (t === 3 ? 1 : 0), o, off) });
  const mixed = exitCost(net, d, steps), want = (half(1).sopsEcSnn + half(3).sopsEcSnn) / 2;
  assert.ok(Math.abs(mixed.sops - want) <= 1e-9 * want, `${mixed.sops} vs ${want}`);
});

test('runCell: the ablation rows run their components and report them', { timeout: 240_000 }, async () => {
  const load = async (_name: string, split: 'train' | 'test', o: { limit?: number }) => limit(mnist(split), o.limit ?? 0);
  const cell = (label: string): EvalCell => ({
    id: `mnist-${label}`, dataset: 'mnist', label, components: ABLATION.find((r) => r.name === label)!.components, seed: 1,
    recipe: { model: 'lenet', epochs: 2, T: 4, batchSize: 32, lr: 0.003 }, limit: 1500, testLimit: 300,
  });
  const [coding, correction, coopt, complete] = await Promise.all(['coding', 'correction', 'co-optimization', 'complete'].map((l) => runCell(cell(l), load)));
  for (const r of [coding, correction, coopt, complete]) {
    assert.equal(r!.epochs, 2);
    assert.equal(r!.T_trained, 4);
    assert.equal(r!.test_samples, 300);
    assert.ok(r!.T >= 1 && r!.T <= r!.T_max!, `${r!.label}: T ${r!.T}, T_max ${r!.T_max}`);
    assert.ok(r!.spikes_per_sample <= r!.spikes_full_T! + 1e-9);
    // the Pareto front: no point beats another on accuracy, T and spikes
    for (const p of r!.pareto!) for (const q of r!.pareto!) {
      if (p !== q) assert.ok(!(q.accuracy >= p.accuracy && q.T <= p.T && q.spikes_per_sample <= p.spikes_per_sample), `${r!.label}: ${JSON.stringify(q)} beats ${JSON.stringify(p)}`);
    }
  }
  // coding: direct input and an adaptive exit; without it: rate spikes and every sample runs T_max steps
  assert.equal(coding!.coding, 'direct');
  assert.ok(Number.isFinite(coding!.exit_theta) && coding!.T < 4, `coding: mean T ${coding!.T}`);
  for (const r of [correction, coopt]) {
    assert.equal(r!.coding, 'rate');
    assert.equal(r!.exit_theta, undefined);
    assert.equal(r!.T, r!.T_max);
  }
  assert.equal(coopt!.T_max, 4);
  assert.equal(coopt!.correction, undefined);
  // correction: measured at T = 1 and 2, and never worse there than the plain network by more than a sample or two
  assert.deepEqual(correction!.correction!.map((g) => g.T), [1, 2]);
  for (const g of correction!.correction!) assert.ok(g.corrected >= g.plain - 2 / 300, JSON.stringify(g));
  assert.ok(complete!.accuracy > 0.8, `complete: accuracy ${complete!.accuracy}`);
});
