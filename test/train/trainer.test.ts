import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, parameter } from '../../src/tensor/tensor.js';
import { SpikingNet } from '../../src/layers/net.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { parseSpec } from '../../src/notation/parse.js';
import { mnist } from '../../src/data/mnist.js';
import { limit } from '../../src/data/dataset.js';
import { train, evaluate, type TrainConfig } from '../../src/train/trainer.js';
import { Optimizer, scheduledLr } from '../../src/train/optim.js';
import { saveNet, loadNet } from '../../src/train/model-file.js';
import { lossOf } from '../../src/train/loss.js';

const tiny = () => new SpikingNet(parseSpec('4C5-P2-8C3-P2-32-10', { bias: true }), {
  input: [1, 28, 28], neuron: neuronParams('lif'), T: 3, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 3,
});

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'es-train-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('resume after an interruption gives exactly the weights of an uninterrupted run', () => {
  withDir((dir) => {
    const data = limit(mnist('train'), 96);
    const cfg = (ckpt: string): TrainConfig => ({
      epochs: 3, batchSize: 32, optim: { kind: 'adam', lr: 2e-3 }, schedule: { kind: 'cosine', epochs: 3 }, loss: { kind: 'ce' },
      seed: 5, checkpointPath: ckpt, resume: true, augment: { pad: 2, flip: 0.5 },
    });
    const a = tiny();
    const ha = train(a, data, null, cfg(join(dir, 'a.ckpt')));
    const b = tiny();
    train(b, data, null, { ...cfg(join(dir, 'b.ckpt')), stopAfter: 1 });
    const b2 = tiny(); // a fresh process would rebuild the net: weights come from the checkpoint
    const hb = train(b2, data, null, cfg(join(dir, 'b.ckpt')));
    assert.equal(hb.length, 3);
    assert.deepEqual(hb.map((h) => h.loss), ha.map((h) => h.loss));
    const pa = a.namedParameters(), pb = b2.namedParameters();
    for (let i = 0; i < pa.length; i++) assert.deepEqual(Array.from(pb[i]![1].data), Array.from(pa[i]![1].data), pa[i]![0]);
    // And the run really learned something (the loss fell).
    assert.ok(ha[2]!.loss < ha[0]!.loss, `loss ${ha.map((h) => h.loss)}`);
  });
});

test('the trainer learns: a small net beats chance clearly on held-out MNIST after one short epoch', () => {
  const net = tiny();
  train(net, limit(mnist('train'), 2048), null, { epochs: 1, batchSize: 32, optim: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'none' }, loss: { kind: 'ce' }, seed: 1 });
  const r = evaluate(net, limit(mnist('test'), 500));
  assert.ok(r.accuracy > 0.5, `accuracy ${r.accuracy}`);
});

test('log file gets one JSON line per epoch and the checkpoint is complete', () => {
  withDir((dir) => {
    const log = join(dir, 'log.jsonl'), ckpt = join(dir, 'c.ckpt');
    train(tiny(), limit(mnist('train'), 64), limit(mnist('test'), 32), { epochs: 2, batchSize: 32, optim: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }, schedule: { kind: 'step', every: 1, gamma: 0.5 }, loss: { kind: 'tet', lambda: 0.1 }, seed: 2, logPath: log, checkpointPath: ckpt });
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.epoch), [1, 2]);
    assert.deepEqual(lines.map((l) => l.lr), [0.05, 0.025]);
    assert.ok(lines.every((l) => typeof l.test_accuracy === 'number' && l.train_samples_per_s > 0));
    assert.ok(existsSync(ckpt));
  });
});

test('model file round trip: same logits after save and load; corrupt and truncated files give one-line errors', () => {
  withDir((dir) => {
    const net = tiny();
    const x = new Tensor(new Float32Array(2 * 784).map((_, i) => (i % 7) / 7), [2, 1, 28, 28]);
    const before = net.forward(x, { training: false }).logits.toArray();
    const path = join(dir, 'm.es');
    saveNet(path, net, { dataset: 'mnist' });
    const { net: back, meta } = loadNet(path);
    assert.equal(meta.dataset, 'mnist');
    assert.deepEqual(back.forward(x, { training: false }).logits.toArray(), before);
    const bytes = readFileSync(path);
    writeFileSync(join(dir, 'cut.es'), bytes.subarray(0, bytes.length - 10));
    assert.throws(() => loadNet(join(dir, 'cut.es')), (e: Error) => e.name === 'EdgespikeError' && /cut\.es/.test(e.message) && !e.message.includes('\n'));
    const flipped = Buffer.from(bytes); flipped[12] = 0x7b; flipped[13] = 0x7b;
    writeFileSync(join(dir, 'bad.es'), flipped);
    assert.throws(() => loadNet(join(dir, 'bad.es')), (e: Error) => e.name === 'EdgespikeError' && /bad\.es/.test(e.message));
  });
});

test('optimizers match hand-computed steps', () => {
  // Adam step 1: m = 0.1g, v = 0.001g², m̂ = g, v̂ = g² → w −= lr·g/(|g| + ε) = lr·sign(g).
  const w = parameter(Float32Array.of(1, -2), [2]);
  w.grad = Float32Array.of(0.5, -4);
  new Optimizer([w], { kind: 'adam', lr: 0.1 }).step();
  assert.ok(Math.abs(w.data[0]! - 0.9) < 1e-6 && Math.abs(w.data[1]! - -1.9) < 1e-6, `${w.data}`);
  // SGD with momentum 0.9, two steps of gradient 1: buf = 1 then 1.9 → w = 1 − 0.1 − 0.19.
  const u = parameter(Float32Array.of(1), [1]);
  const sgd = new Optimizer([u], { kind: 'sgd', lr: 0.1, momentum: 0.9 });
  for (let i = 0; i < 2; i++) { u.grad = Float32Array.of(1); sgd.step(); }
  assert.ok(Math.abs(u.data[0]! - 0.71) < 1e-6);
  // AdamW decays the weight by lr·wd before the Adam step.
  const z = parameter(Float32Array.of(2), [1]); z.grad = Float32Array.of(1);
  new Optimizer([z], { kind: 'adamw', lr: 0.1, weightDecay: 0.5 }).step();
  assert.ok(Math.abs(z.data[0]! - (2 * 0.95 - 0.1)) < 1e-6);
  assert.ok(Math.abs(scheduledLr({ kind: 'cosine', epochs: 4 }, 1, 2) - 0.5) < 1e-12);
});

test('TET loss by hand: λ = 0 is the mean per-step cross-entropy; λ = 1 is MSE to φ', () => {
  const steps = new Tensor(Float32Array.of(0, Math.log(3), Math.log(3), 0), [2, 1, 2]);
  const out = { steps, logits: steps };
  const ce = (lossOf(out, [1], { kind: 'tet', lambda: 0 }).item());
  assert.ok(Math.abs(ce - (-Math.log(0.75) - Math.log(0.25)) / 2) < 1e-6);
  const mse = lossOf(out, [1], { kind: 'tet', lambda: 1, phi: 1 }).item();
  assert.ok(Math.abs(mse - (1 + (Math.log(3) - 1) ** 2 * 2 + 1) / 4) < 1e-6);
});
