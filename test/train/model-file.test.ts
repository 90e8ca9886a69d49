/**
 * Networks in model files: the graph round trip (edited graphs and per-node neurons included), every
 * storage dtype, version-1 files written before graphs, damaged files through the command line, and
 * the ANN build training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/tensor/tape.js';
import { parseSpec } from '../../src/notation/parse.js';
import { formatSpec } from '../../src/notation/format.js';
import { zoo } from '../../src/models/zoo.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { keepChannels, replaceNeuron } from '../../src/layers/edit.js';
import { loadNet, saveNet } from '../../src/train/model-file.js';
import { quantizeTensor, STORE_DTYPES } from '../../src/io/model-file.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { mnist } from '../../src/data/mnist.js';
import { limit } from '../../src/data/dataset.js';
import { evaluate, train } from '../../src/train/trainer.js';
import { sameGraph } from '../../src/graph/graph.js';

const bin = new URL('../../../bin/edgespike.js', import.meta.url).pathname;
const cfg = (input: number[], over: Partial<NetConfig> = {}): NetConfig => ({
  input, neuron: neuronParams('lif'), T: 3, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 4, ...over,
});
const digits = (n: number): Tensor => new Tensor(Float32Array.from({ length: n * 784 }, (_, i) => ((i * 7919) % 13) / 13), [n, 1, 28, 28]);
const logits = (net: SpikingNet, x: Tensor): number[] => noGrad(() => net.forward(x, { training: false }).logits.toArray());

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'es-modelfile-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('an edited graph with per-node neurons round-trips: same graph, same tensors, same outputs', () => {
  withDir((dir) => {
    let net = new SpikingNet(zoo('lenet').spec, cfg([1, 28, 28]));
    net = replaceNeuron(net, '2.lif', { beta: 0.7, vth: 0.6, surrogate: 'triangle', learnThreshold: true });
    net = keepChannels(net, '0.conv', [0, 2, 3, 5, 8, 13]);
    const path = join(dir, 'm.es');
    saveNet(path, net, { dataset: 'mnist' });
    const { net: back, meta, version } = loadNet(path);
    assert.equal(version, '2');
    assert.ok(sameGraph(back.graph, net.graph));
    assert.equal(back.spec, undefined); // an edited graph has no notation any more
    assert.equal(meta.dataset, 'mnist');
    assert.deepEqual(Object.keys(back.tensorValues()), Object.keys(net.tensorValues()));
    assert.deepEqual(logits(back, digits(2)), logits(net, digits(2)));
    // a spec-built net keeps its notation
    const plain = new SpikingNet(zoo('lenet').spec, cfg([1, 28, 28]));
    saveNet(path, plain);
    assert.equal(formatSpec(loadNet(path).net.spec!), '16C5b-P2-16C5b-P2-256b-10b');
  });
});

test('every storage dtype: a loaded net computes with exactly the stored values', () => {
  withDir((dir) => {
    const net = new SpikingNet(parseSpec('6C5-P2-16-10', { bias: true }), cfg([1, 28, 28]));
    const x = digits(3);
    for (const dtype of STORE_DTYPES) {
      const path = join(dir, `${dtype}.es`);
      saveNet(path, net, {}, { dtype: (name) => (name.endsWith('.weight') ? dtype : undefined), perChannel: true });
      const { net: back, stored } = loadNet(path);
      assert.equal(stored['0.conv.weight']!.dtype ?? 'F32', dtype);
      // the same quantization applied by hand gives the values the loaded net holds
      const want = new SpikingNet(net.graph, net.config, Object.fromEntries(Object.entries(net.tensorValues()).map(([n, v]) => {
        const shape = [...net.namedParameters().find(([k]) => k === n)![1].shape];
        return [n, n.endsWith('.weight') ? quantizeTensor({ shape, data: v }, dtype, true).data : v.slice()];
      })));
      assert.deepEqual(logits(back, x), logits(want, x), dtype);
      const bytes = readFileSync(path).length;
      if (dtype === 'Q2') assert.ok(bytes < readFileSync(join(dir, 'F32.es')).length / 8, `2-bit file ${bytes} bytes`);
    }
  });
});

test('a model file written before graphs (version 1) loads and predicts the same', () => {
  withDir((dir) => {
    for (const [name, input] of [['lenet', [1, 28, 28]], ['resnet19', [3, 32, 32]]] as const) {
      const spec = zoo(name).spec;
      const net = new SpikingNet(spec, cfg([...input], { T: 2 }));
      // the version-1 layout: tensors under their old names, the spec and the whole config as meta
      const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [n, t] of net.namedParameters()) tensors[net.legacyNames.get(n) ?? n] = { shape: [...t.shape], data: t.data };
      for (const [n, b] of net.namedBuffers()) tensors[net.legacyNames.get(n) ?? n] = { shape: [b.length], data: b };
      if (name === 'lenet') assert.ok(tensors['0.conv.bias'] && !tensors['0.bias.bias']);
      else assert.ok(tensors['1.res.body.0.weight'] && tensors['1.res.body.1.running_var'] && tensors['1.res.shortcut.0.weight']);
      const meta = { spec, config: { ...net.config, input: [...input] }, dataset: 'mnist' };
      const path = join(dir, 'old.es');
      writeSafetensors(path, tensors, { format: 'edgespike', version: '1', meta: JSON.stringify(meta) });
      const { net: back, version } = loadNet(path);
      assert.equal(version, '1');
      const x = new Tensor(Float32Array.from({ length: 2 * (input as readonly number[]).reduce((a, b) => a * b, 1) }, (_, i) => (i % 17) / 17), [2, ...input]);
      assert.deepEqual(logits(back, x), logits(net, x));
      // and saving it again writes version 2 under the graph's names
      saveNet(join(dir, 'new.es'), back);
      assert.deepEqual(logits(loadNet(join(dir, 'new.es')).net, x), logits(net, x));
      // a tensor renamed in a version-1 file is an error, not a silently dropped weight
      const renamed = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k.endsWith('.running_var') || k === '0.conv.bias' ? `${k}x` : k, v]));
      writeSafetensors(path, renamed, { format: 'edgespike', version: '1', meta: JSON.stringify(meta) });
      assert.throws(() => loadNet(path), /is missing/);
    }
  });
});

test('a damaged file is a one-line error with exit code 2 from every command that reads models', () => {
  withDir((dir) => {
    const net = new SpikingNet(zoo('lenet').spec, cfg([1, 28, 28]));
    const path = join(dir, 'm.es');
    saveNet(path, net, { dataset: 'mnist' });
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[good.length - 100] ^= 1;
    writeFileSync(path, bad);
    for (const args of [['info', path], ['eval', path, '--limit', '10'], ['profile', path, '--limit', '10']]) {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^edgespike: ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: edgespike model tensor data is damaged \\(its CRC-32 does not match data_crc32 [0-9a-f]{8}\\)\\n$`));
    }
    // a tensor whose shape no longer fits its node
    writeFileSync(path, good);
    const { net: ok } = loadNet(path);
    assert.equal(ok.graph.nodes.length, net.graph.nodes.length);
  });
});

test('`info` prints the graph, and --json holds every node', () => {
  withDir((dir) => {
    const path = join(dir, 'm.es');
    saveNet(path, new SpikingNet(zoo('lenet').spec, cfg([1, 28, 28])), { dataset: 'mnist' });
    const text = spawnSync(process.execPath, [bin, 'info', path], { encoding: 'utf8' });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^0\.bias +bias +16×12×12 +16 +bias of 0\.conv, after its max pool$/m);
    assert.match(text.stdout, /^spec +16C5b-P2-16C5b-P2-256b-10b$/m);
    const j = JSON.parse(spawnSync(process.execPath, [bin, 'info', path, '--json'], { encoding: 'utf8' }).stdout);
    assert.equal(j.format_version, '2');
    assert.deepEqual(j.graph.nodes.map((n: { id: string }) => n.id).slice(0, 4), ['0.conv', '1.pool', '0.bias', '0.lif']);
    assert.deepEqual(j.graph.nodes[0].tensors, { '0.conv.weight': [16, 1, 5, 5] });
    assert.equal(j.graph.nodes[3].neuron.beta, 0.9);
  });
});

test('the ANN build of a spec trains (ReLU, max pooling, biases; T = 1)', () => {
  const net = new SpikingNet(parseSpec('8C5-AP2-16C5-AP2-64-10'), cfg([1, 28, 28], { act: 'ann', T: 1, readout: 'mean' }));
  assert.equal(net.spikingLayers, 0);
  const trainSet = limit(mnist('train'), 3000), testSet = limit(mnist('test'), 500);
  const before = evaluate(net, testSet).accuracy;
  train(net, trainSet, null, { epochs: 1, batchSize: 32, optim: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'none' }, loss: { kind: 'ce' }, seed: 1 });
  const after = evaluate(net, testSet).accuracy;
  assert.ok(before < 0.3 && after > 0.8, `accuracy ${before} → ${after}`);
});
