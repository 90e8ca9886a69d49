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
import { ABLATION, SETTINGS, chooseCoding, chooseWeight, exitCost, exitSteps, firstFrames, holdOut, runCell, tSchedule, type EvalCell } from '../../src/evaluate/cells.js';

/** A data set whose sample i is the numbers i·100 + k, k = 0 … size − 1, labelled i mod 3. */
const counting = (n: number, shape: number[], temporal = false): Dataset => ({
  name: 'counting', length: n, shape, temporal, numClasses: 3, label: (i) => i % 3,
  read: (i, out, off) => { for (let k = 0, m = shape.reduce((a, b) => a * b, 1); k < m; k++) out[off + k] = i * 100 + k; },
});
const firstValue = (d: Dataset, i: number): number => { const b = new Float32Array(d.shape.reduce((a, x) => a * x, 1)); d.read(i, b, 0); return b[0]!; };

test('held out: one sample per stratum, at most 1000 and 10 %, disjoint from the samples trained on, balanced over cyclic classes', () => {
  const d = counting(50, [1]);
  const { train, heldOut } = holdOut(d);
  assert.equal(heldOut.length, 5);
  assert.equal(train.length, 45);
  const held = Array.from({ length: 5 }, (_, i) => firstValue(heldOut, i) / 100);
  held.forEach((x, i) => assert.ok(x >= 10 * i && x < 10 * (i + 1), `held ${held}: one per tenth of the set`));
  // a training set whose classes repeat in a cycle (the embedded Fashion-MNIST's order): every class held out
  const cyclic: Dataset = { ...counting(60_000, [1]), numClasses: 10, label: (i) => i % 10 };
  const count = new Array<number>(10).fill(0), h = holdOut(cyclic).heldOut;
  for (let i = 0; i < h.length; i++) count[h.label(i)]!++;
  assert.ok(count.every((c) => c >= 70 && c <= 130), `held-out classes ${count.join(' ')}`);
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

test('the regularizer search keeps the fewest spikes within the accuracy budget of the best weight', () => {
  const p = (accuracy: number, spikes_per_sample: number) => ({ accuracy, spikes_per_sample });
  const budget = SETTINGS.searchLoss;
  // the best is 0.99; 0.99 − budget is within, 0.99 − 2·budget is not
  assert.equal(chooseWeight([p(0.99, 500), p(0.99 - budget, 300), p(0.99 - 2 * budget, 100)]), 1);
  assert.equal(chooseWeight([p(0.98, 500), p(0.99, 300), p(0.95, 100)]), 1);
  // ties on spikes go to the earlier weight; a lone weight is chosen
  assert.equal(chooseWeight([p(0.99, 200), p(0.99, 200)]), 0);
  assert.equal(chooseWeight([p(0.5, 10)]), 0);
});

test('the coding choice keeps direct unless another coding beats it beyond the probe\'s noise', () => {
  const p = (accuracy: number, spikes_per_sample = 100) => ({ accuracy, spikes_per_sample });
  // on 1000 samples near 78 %, two standard errors of a difference are about 3.7 points
  assert.equal(chooseCoding([p(0.775), p(0.776), p(0.757), p(0.785)], 1000), 0);
  assert.equal(chooseCoding([p(0.775), p(0.776), p(0.757), p(0.82)], 1000), 3);
  // several beat it: the most accurate; equal accuracy: fewer spikes
  assert.equal(chooseCoding([p(0.70), p(0.80), p(0.79), p(0.75)], 1000), 1);
  assert.equal(chooseCoding([p(0.70), p(0.80, 500), p(0.80, 300), p(0.75)], 1000), 2);
  // the same gap on fewer samples is noise
  assert.equal(chooseCoding([p(0.775), p(0.80)], 100), 0);
  assert.equal(chooseCoding([p(0.9)], 1000), 0);
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
  // coding: the input coding measured (every coding tried once on the 150 held-out samples, chosen by
  // chooseCoding) and an adaptive exit; without it: rate spikes and every sample runs T_max steps
  for (const r of [coding, complete]) {
    const probes = r!.coding_probes!;
    assert.deepEqual(probes.map((p) => p.coding), ['direct', 'rate', 'latency', 'delta']);
    const chosen = probes.filter((p) => p.chosen);
    assert.equal(chosen.length, 1);
    assert.equal(r!.coding, chosen[0]!.coding);
    assert.equal(probes.indexOf(chosen[0]!), chooseCoding(probes, 150));
  }
  // the probes differ: rate and latency spikes are not the direct frames
  assert.ok(new Set(coding!.coding_probes!.map((p) => p.spikes_per_sample)).size > 1, JSON.stringify(coding!.coding_probes));
  assert.ok(Number.isFinite(coding!.exit_theta) && coding!.T < 4, `coding: mean T ${coding!.T}`);
  for (const r of [correction, coopt]) {
    assert.equal(r!.coding, 'rate');
    assert.equal(r!.coding_probes, undefined);
    assert.equal(r!.exit_theta, undefined);
    assert.equal(r!.T, r!.T_max);
  }
  // co-optimization: one network per regularizer weight, the chosen one by chooseWeight on the held-out
  // samples; a heavier weight gives fewer spikes; the Pareto front holds points of the searched networks
  for (const r of [coopt, complete]) {
    const s = r!.spike_costs!;
    assert.deepEqual(s.map((p) => p.spike_cost), [...SETTINGS.spikeCosts]);
    assert.equal(s.findIndex((p) => p.chosen), chooseWeight(s));
    assert.equal(r!.spike_cost, s[chooseWeight(s)]!.spike_cost);
    assert.ok(s[s.length - 1]!.spikes_per_sample < s[0]!.spikes_per_sample, JSON.stringify(s));
    for (const p of r!.pareto!) assert.ok(SETTINGS.spikeCosts.includes(p.spike_cost as never), JSON.stringify(p));
  }
  for (const r of [coding, correction]) assert.equal(r!.spike_costs, undefined);
  // every network trained is counted: 1350 training samples, so each probe epoch is a whole epoch
  assert.equal(correction!.trained_epochs, 2);
  assert.equal(coding!.trained_epochs, 2 + 4);
  assert.equal(coopt!.trained_epochs, 2 * SETTINGS.spikeCosts.length);
  assert.equal(complete!.trained_epochs, 2 * SETTINGS.spikeCosts.length + 4);
  assert.equal(coopt!.T_max, 4);
  assert.equal(coopt!.correction, undefined);
  // correction: measured at T = 1 and 2; at T = 1, where the plain network has had one step to charge and
  // answers near chance, matching the firing rates lifts it well above
  assert.deepEqual(correction!.correction!.map((g) => g.T), [1, 2]);
  const [t1] = correction!.correction!;
  assert.ok(t1!.corrected >= t1!.plain + 0.2, JSON.stringify(correction!.correction));
  assert.ok(complete!.accuracy > 0.8, `complete: accuracy ${complete!.accuracy}`);
});
