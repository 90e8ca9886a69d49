/**
 * EC-SNN's split: the seeds' check numbers #6 (resampling sizes, on CIFAR-10 files of the real sizes),
 * #7 (APoZ thresholds per layer with the min_f floor), #8 (fusion MLP weights), the device assignment
 * lowering ζ until a sub-model fits, and a whole small split written to a folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifar10, writeCifar10Batch } from '../../src/data/cifar.js';
import { mnist } from '../../src/data/mnist.js';
import { limit } from '../../src/data/dataset.js';
import { parseSpec } from '../../src/notation/parse.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { graphFromSpec } from '../../src/graph/build.js';
import { graphArchReport } from '../../src/metrics/arch.js';
import { SpikingNet } from '../../src/layers/net.js';
import { train } from '../../src/train/trainer.js';
import { otherPerClass, resample, selectFilters } from '../../src/split/prune.js';
import { fusionSpec, fusionWeights } from '../../src/split/fusion.js';
import { partitionClasses, runSplit } from '../../src/split/split.js';
import { readSplit } from '../../src/split/manifest.js';
import { EdgespikeError } from '../../src/util/errors.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'es-split-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('check number #6: resampling CIFAR-10 (50,000 / 10,000) for |C| = 2 gives 13,984 / 5,984 samples; |C| = 10 has no "other"', () => {
  withDir((dir) => {
    const write = (file: string, n: number): void => {
      const labels = Array.from({ length: n }, (_, i) => i % 10);
      writeCifar10Batch(join(dir, file), new Uint8Array(n * 3072), labels);
    };
    for (let b = 1; b <= 5; b++) write(`data_batch_${b}.bin`, 10_000);
    write('test_batch.bin', 10_000);
    writeFileSync(join(dir, 'batches.meta.txt'), Array.from({ length: 10 }, (_, i) => `c${i}`).join('\n'));
    const trainSet = cifar10(dir, 'train'), testSet = cifar10(dir, 'test');
    assert.equal(otherPerClass(trainSet.length, 10, 2), 498);
    const tr = resample(trainSet, [3, 7], 498, 1), te = resample(testSet, [3, 7], 498, 2);
    assert.equal(tr.length, 13_984);
    assert.equal(te.length, 5_984);
    let ones = 0, twos = 0, others = 0;
    for (let i = 0; i < tr.length; i++) { const l = tr.label(i); if (l === 1) ones++; else if (l === 2) twos++; else others++; }
    assert.deepEqual([ones, twos, others], [5_000, 5_000, 8 * 498]);
    assert.deepEqual(tr.classNames, ['other', 'c3', 'c7']);
    assert.equal(otherPerClass(trainSet.length, 10, 10), 490);
    const all = resample(trainSet, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 490, 1);
    assert.equal(all.length, 50_000);
    assert.equal(all.numClasses, 11);
  });
});

test('check number #7: layer l prunes above (ζ − l)/100 in channel order, keeping at least min_f', () => {
  const apoz = new Map([
    ['a', Float64Array.of(0.96, 0.951, 0.949, 0.99)],        // layer 0, θ 0.95
    ['b', Float64Array.of(0.945, 0.939, 0.941, 0.2, 0.99)],  // layer 1, θ 0.94
    ['c', Float64Array.of(1, 1, 1, 1, 1)],                   // layer 2, θ 0.93: the floor keeps 3
  ]);
  const keep = selectFilters(apoz, ['a', 'b', 'c'], 95, 3);
  assert.deepEqual(keep.get('a'), [1, 2, 3]); // 0.96 goes; then only 3 remain to drop from, so 0.951 and 0.99 stay
  assert.deepEqual(keep.get('b'), [1, 3, 4]); // 0.945 and 0.941 go (above 0.94), 0.939 stays, 0.99 is held by the floor
  assert.deepEqual(keep.get('c'), [2, 3, 4]); // the lower-index filters are the ones dropped
  assert.deepEqual(selectFilters(apoz, ['a', 'b', 'c'], 95, 16).get('a'), [0, 1, 2, 3]);
});

test('check number #8: the fusion MLP for P = 5, D = 5·4096 has 41,213,300 weights', () => {
  assert.equal(fusionWeights(5, 5 * 4096, 10), 41_213_300);
  const g = graphFromSpec(fusionSpec(5, 10), { input: [5 * 4096], neuron: neuronParams() }).graph;
  assert.equal(graphArchReport(g).total.weights, 41_213_300);
  assert.ok(g.nodes.every((n) => n.op !== 'neuron' && n.op !== 'relu' && (n.op !== 'dense' || !n.attrs.bias)), 'no activations, no biases');
});

test('classes cut into subsets whose sizes differ by at most one', () => {
  assert.deepEqual(partitionClasses(10, 3), [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  assert.deepEqual(partitionClasses(10, 5).map((s) => s.length), [2, 2, 2, 2, 2]);
  assert.throws(() => partitionClasses(3, 4), EdgespikeError);
});

test('a whole split: sub-models assigned by budget (ζ lowered until one fits), a fusion, the folder and its report', { timeout: 300_000 }, () => {
  withDir((dir) => {
    const trainSet = limit(mnist('train'), 1200), testSet = limit(mnist('test'), 300);
    const net = new SpikingNet(parseSpec('16C5-P2-32C5-P2-64-10', { bias: true }), {
      input: [1, 28, 28], neuron: neuronParams('lif'), T: 2, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 1,
    });
    train(net, trainSet, testSet, { epochs: 1, batchSize: 50, optim: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'none' }, loss: { kind: 'ce' }, seed: 1 });
    // one roomy device and one that only a strongly pruned sub-model fits
    const devices = [{ name: 'big', memory_bytes: 10_000_000 }, { name: 'small', memory_bytes: 520_000 }];
    const lines: string[] = [];
    const { manifest, report } = runSplit(net, trainSet, testSet, {
      devices, apoz: 95, minFilters: 4, deltaZeta: 5, retrain: { epochs: 1, lr: 2e-3, batchSize: 50 },
      fusion: { epochs: 1, lr: 2e-3, batchSize: 50, dropDevices: 0.2 }, seed: 3, outDir: dir, dataset: 'mnist', log: (l) => lines.push(l),
    });
    assert.deepEqual(manifest.submodels.map((s) => s.classes), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
    const small = report.submodels.find((s) => s.device === 'small')!;
    assert.ok(small.weight_bytes <= 520_000 && small.zeta < 95, `the small device's sub-model: ${small.weight_bytes} bytes at ζ ${small.zeta}`);
    assert.match(small.why, /fit no free device.*fits small/);
    assert.ok(Object.values(small.kept_filters).every((k) => k >= 4));
    for (const f of ['split.json', 'sub-0.es', 'sub-1.es', 'fusion.es']) assert.ok(existsSync(join(dir, f)), f);
    const back = readSplit(dir);
    assert.equal(back.hash, manifest.hash);
    assert.ok(report.fused_accuracy > 0.5, `fused ${report.fused_accuracy}`);
    assert.equal(report.fused_accuracy_one_device_missing.length, 2);
    assert.ok(report.step_latency_ms > 0 && report.unsplit.atsan > 0 && report.submodels.every((s) => s.sops > 0 && s.energy_uj > 0));
    // a changed model file is refused
    const f = join(dir, 'sub-0.es'), bytes = readFileSync(f);
    writeFileSync(f, Buffer.concat([bytes, Buffer.from([0])]));
    assert.throws(() => readSplit(dir), /the model files' SHA-256 is/);
  });
});
