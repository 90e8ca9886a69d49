/**
 * SNN_Eval's components: the adaptive-T exit against a readout written by hand, the exit threshold's
 * calibration, threshold correction repairing a deliberately mis-scaled layer, the spike regularizer and
 * the T schedule while training, and the Pareto front.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/notation/parse.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { replaceNeuron } from '../../src/layers/edit.js';
import { mnist } from '../../src/data/mnist.js';
import { limit, type Dataset } from '../../src/data/dataset.js';
import { evaluate, train } from '../../src/train/trainer.js';
import { calibrateExit, correctThresholds, exitAt, paretoFront, traceSteps } from '../../src/evaluate/dynamic.js';

const cfg = (input: number[], over: Partial<NetConfig> = {}): NetConfig => ({
  input, neuron: neuronParams('lif'), T: 4, encoder: { kind: 'direct' }, readout: 'mean', readoutBeta: 0.9, seed: 1, ...over,
});

test('adaptive T: each sample exits at the first step whose running-mean margin reaches θ, against a readout written by hand', () => {
  // a readout that copies its input: logits after t steps = the mean of the first t frames
  const net = new SpikingNet(parseSpec('3'), cfg([3, 1, 1]));
  const w = net.tensorValues()['0.dense.weight']!;
  w.fill(0); w[0] = 1; w[4] = 1; w[8] = 1;
  const frames = [
    // sample 0: class 0 clear from step 0 (margin 2 at t = 0)
    [[2, 0, 0], [2, 0, 0], [2, 0, 0], [2, 0, 0]],
    // sample 1: class 1 only builds up: margins 0.5, 1, 1.5, 2 (running means)
    [[0, 0.5, 0], [0, 1.5, 0], [0, 2.5, 0], [0, 3.5, 0]],
    // sample 2: starts as class 2, ends as class 0 (label 0)
    [[0, 0, 1], [4, 0, 0], [4, 0, 0], [4, 0, 0]],
  ];
  const data: Dataset = {
    name: 'hand', length: 3, shape: [4, 3, 1, 1], temporal: true, numClasses: 3,
    label: (i) => [0, 1, 0][i]!, read: (i, out, off) => { out.set(frames[i]!.flat(), off); },
  };
  const trace = traceSteps(net, data);
  assert.deepEqual(Array.from(trace.margin[0]!), [2, 0.5, 1]);
  assert.deepEqual(Array.from(trace.margin[1]!), [2, 1, 1.5]); // sample 2 after two steps: means (2, 0, 0.5)
  assert.deepEqual(Array.from(trace.cls[0]!), [0, 1, 2]);
  // θ = 1: sample 0 exits at step 1 (right), sample 1 at step 2 (right), sample 2 at step 1 (class 2: wrong)
  const r = exitAt(trace, 1);
  assert.deepEqual([r.accuracy, r.meanT], [2 / 3, (1 + 2 + 1) / 3]);
  // θ = ∞: no early exit, all right at T = 4
  assert.deepEqual([exitAt(trace, Infinity).accuracy, exitAt(trace, Infinity).meanT], [1, 4]);
  // the calibrated θ keeps full accuracy with the earliest exits: above sample 2's step-0 margin (1)
  const theta = calibrateExit(trace, 0);
  assert.equal(exitAt(trace, theta).accuracy, 1);
  assert.ok(theta > 1 && exitAt(trace, theta).meanT < 4, `θ ${theta}, mean T ${exitAt(trace, theta).meanT}`);
});

test('correction: a deliberately mis-scaled threshold is repaired by matching firing rates on a few hundred samples', { timeout: 120_000 }, () => {
  const trainSet = limit(mnist('train'), 2000), calib = limit(mnist('train'), 300), testSet = limit(mnist('test'), 400);
  const good = new SpikingNet(parseSpec('8C5-P2-16C5-P2-64-10', { bias: true }), cfg([1, 28, 28], { readout: 'leaky' }));
  train(good, trainSet, null, { epochs: 1, batchSize: 50, optim: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'none' }, loss: { kind: 'ce' }, seed: 1 });
  const base = evaluate(good, testSet).accuracy;
  const bad = replaceNeuron(good, '2.lif', { vth: 3.5 });
  const broken = evaluate(bad, testSet).accuracy;
  const fixed = correctThresholds(bad, calib, 4, { reference: good });
  const repaired = evaluate(fixed, testSet).accuracy;
  assert.ok(broken < base - 0.1, `the mis-scaled layer should hurt: ${base} → ${broken}`);
  assert.ok(repaired > broken + 0.1 && repaired > base - 0.05, `correction: ${broken} → ${repaired} (good ${base})`);
  // and a lower T: correction at T = 1 is no worse than the plain network at T = 1
  const low = evaluate(good.withConfig({ T: 1 }), testSet).accuracy, lowFixed = evaluate(correctThresholds(good, calib, 1), testSet).accuracy;
  assert.ok(lowFixed >= low - 0.01, `T = 1: ${low} → ${lowFixed}`);
});

test('co-optimization: the spike regularizer lowers the spikes, a T schedule trains at each epoch\'s T', { timeout: 120_000 }, () => {
  const trainSet = limit(mnist('train'), 1500), testSet = limit(mnist('test'), 300);
  const spikes = (cost: number): number => {
    const net = new SpikingNet(parseSpec('8C5-P2-16C5-P2-64-10', { bias: true }), cfg([1, 28, 28], { readout: 'leaky' }));
    train(net, trainSet, null, { epochs: 1, batchSize: 50, optim: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'none' }, loss: { kind: 'ce' }, seed: 1, spikeCost: cost });
    return exitAt(traceSteps(net, testSet), Infinity).spikesPerSample;
  };
  const plain = spikes(0), sparse = spikes(2);
  assert.ok(sparse < 0.8 * plain, `spikes per sample ${plain} → ${sparse}`);
  const net = new SpikingNet(parseSpec('8C5-P2-64-10', { bias: true }), cfg([1, 28, 28]));
  const hist = train(net, trainSet, testSet, { epochs: 2, batchSize: 50, optim: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'none' }, loss: { kind: 'ce' }, seed: 1, timesteps: [4, 2] });
  assert.equal(hist.length, 2);
  assert.equal(net.config.T, 4);
});

test('the Pareto front keeps the points no other beats on accuracy, T and spikes', () => {
  const p = (T: number, accuracy: number, spikesPerSample: number) => ({ T, lambda: 0, accuracy, spikesPerSample });
  const front = paretoFront([p(4, 0.99, 300), p(4, 0.98, 350), p(2, 0.985, 200), p(1, 0.95, 90), p(2, 0.97, 250), p(8, 0.99, 600)]);
  assert.deepEqual(front.map((x) => [x.T, x.accuracy]), [[1, 0.95], [2, 0.985], [4, 0.99]]);
});
