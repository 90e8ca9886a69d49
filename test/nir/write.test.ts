/**
 * The NIR writer: every zoo model exported and imported gives the same bits; models NIR can express
 * exactly (hard reset, fire on >) import from the standard fields alone with the same bits; a file edited
 * after writing is imported from its fields, not from our metadata; an imported NIR graph round-trips.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { zoo, zooNames } from '../../src/models/zoo.js';
import { neuronParams, type NeuronPreset } from '../../src/neurons/neuron.js';
import { parseSpec } from '../../src/notation/parse.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { netToNir, writeNir } from '../../src/nir/write.js';
import { readNir } from '../../src/nir/read.js';
import { nirToNet, type ImportOptions } from '../../src/nir/import.js';
import { runSequence } from '../../src/nir/run.js';
import { quantizeNet } from '../../src/layers/quantize.js';
import { f4, i8, tempDir, writeRaw } from './_h5.js';
import type { NirArray, NirFile, NirLeaf } from '../../src/nir/types.js';

const tmp = tempDir('es-nir-write-');
after(() => tmp.done());
let k = 0;

async function roundTrip(file: NirFile, o: ImportOptions & { compress?: boolean } = {}) {
  const path = tmp.path(`w${k++}.nir`);
  await writeNir(path, file, { compress: o.compress });
  return nirToNet((await readNir(path)).file, o);
}

const cfg = (input: readonly number[], neuron: NeuronPreset, T = 3): NetConfig => ({
  input, neuron: neuronParams(neuron), T, encoder: { kind: 'direct' }, readout: 'mean', readoutBeta: 0.5, seed: 7,
});
const data = (N: number, shape: readonly number[], seed = 1, gain = 1) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: N * n }, (_, i) => gain * ((((i + seed) * 7919) % 17) / 8 - 0.3)), [N, ...shape]);
};
/** Logits and every step of the readout, as plain numbers. */
const outputs = (net: SpikingNet, x: Tensor) => {
  const o = net.forward(x, { training: false });
  return { logits: Array.from(o.logits.data), steps: Array.from(o.steps.data) };
};

/** Smaller inputs than the zoo's own, where the architecture allows, to keep the test quick. */
const SMALL: Record<string, [number, number, number]> = { cifarnet: [3, 8, 8], vgg9: [3, 8, 8], 'vgg9-48': [3, 16, 16], 'lt-vgg9': [3, 16, 16], resnet19: [3, 8, 8] };

describe('every zoo model: exported, written, read and imported, gives the same bits', () => {
  for (const name of zooNames()) {
    test(name, async () => {
      const m = zoo(name, SMALL[name] ? { input: SMALL[name] } : {});
      const net = new SpikingNet(m.spec, cfg(m.input, 'lif'));
      // batch-norm statistics that amplify, so spikes reach the readout of the deep models within T steps
      for (const [t, v] of Object.entries(net.tensorValues())) if (t.endsWith('running_var')) v.fill(0.05);
      const ex = netToNir(net);
      // what NIR cannot say is reported: our default neuron resets by subtraction and fires on ≥
      assert.ok(ex.warnings.some((w) => w.includes('soft reset')));
      const back = await roundTrip(ex.file);
      assert.equal(back.restored, true);
      assert.deepEqual(back.warnings, []);
      const x = data(2, m.input, 1, 6);
      const a = outputs(net, x), b = outputs(back.net, x);
      assert.ok(a.logits.some((v) => v !== 0), 'the model computes something');
      assert.deepEqual(b, a);
      assert.deepEqual(back.net.tensorValues(), net.tensorValues());
      assert.deepEqual(back.net.graph, net.graph);
    });
  }
});

describe('the standard fields alone', () => {
  const spec = parseSpec('8C3p1-AP2-16C3-F-24-10', { bias: true, bn: true });
  test('a hard-reset, fire-on-> model (im-snn) imports from the standard fields with the same bits (BN folded, Flatten, Affine)', async () => {
    const net = new SpikingNet(spec, cfg([2, 10, 10], 'im-snn', 4));
    // train-like statistics so the folded batch norm is not the identity
    for (const [name, v] of Object.entries(net.tensorValues())) {
      if (name.endsWith('running_var')) v.forEach((_, i) => { v[i] = 0.5 + (i % 3) * 0.25; });
      if (name.endsWith('running_mean')) v.forEach((_, i) => { v[i] = 0.1 * (i % 4); });
    }
    const ex = netToNir(net);
    assert.deepEqual(ex.warnings, []);
    const fromFields = await roundTrip(ex.file, { metadata: false, T: 4 });
    assert.equal(fromFields.restored, false);
    assert.ok(fromFields.net.graph.nodes.every((n) => n.op !== 'bn'), 'batch norms were folded into the convs');
    const x = data(3, [2, 10, 10]);
    const a = net.forward(x, { training: false }).steps.data, b = fromFields.net.forward(x, { training: false }).steps.data;
    assert.ok(a.some((v) => v !== 0));
    // the folded batch norm is one rounding away from conv-then-bn; the spikes are the same
    const spikes = (net2: SpikingNet) => net2.run(x, { training: false, to: net2.graph.nodes.filter((n) => n.op === 'neuron').at(-1)!.id }).x.data;
    assert.deepEqual(Array.from(spikes(fromFields.net)), Array.from(spikes(net)));
    assert.equal(b.length, a.length);
  });

  test('without batch norm the readout is bit for bit too; the LIF fields follow snnTorch (τ = dt/(1 − β), r = τ/dt)', async () => {
    const net = new SpikingNet(parseSpec('6C3-AP2-F-12-5', { bias: true }), cfg([1, 8, 8], 'im-snn', 5));
    const ex = netToNir(net);
    const lif = Object.values(ex.file.graph.nodes).find((n) => n.type === 'LIF') as NirLeaf;
    const tau = (lif.fields.tau as NirArray).data[0]!, r = (lif.fields.r as NirArray).data[0]!;
    // β = 0.5, dt = 1e-4
    assert.equal(tau, 1e-4 / (1 - 0.5));
    assert.equal(r, 1 / (1 - 0.5));
    const back = await roundTrip(ex.file, { metadata: false, T: 5 });
    const x = data(2, [1, 8, 8], 3);
    assert.deepEqual(outputs(back.net.withConfig({ readout: 'mean' }), x), outputs(net, x));
  });

  test('a file edited after writing is imported from its fields, with a warning; our semantics are in the metadata', async () => {
    const net = new SpikingNet(parseSpec('4-3', { bias: true }), cfg([5], 'im-snn'));
    const ex = netToNir(net);
    const meta = ex.file.graph.metadata;
    assert.match(String(meta.edgespike_semantics), /dt 0\.0001 s per step/);
    assert.match(String(meta.edgespike_export), /"preset":"snntorch"/);
    const nodes = ex.file.graph.nodes;
    const edit = (type: string, field: string, v: number): NirFile => {
      const [name, n] = Object.entries(nodes).find(([, nn]) => nn.type === type) as [string, NirLeaf];
      return { ...ex.file, graph: { ...ex.file.graph, nodes: { ...nodes, [name]: { ...n, fields: { ...n.fields, [field]: f4Array(n.fields[field] as NirArray, 0, v) } } } } };
    };
    // a weight our model holds as it is: the restored model takes the edited value
    const w = await roundTrip(edit('Affine', 'weight', 2.5));
    assert.equal(w.restored, true);
    const fc = Object.entries(nodes).find(([, n]) => n.type === 'Affine')![0];
    assert.equal(w.net.tensorValues()[`${fc}.weight`]![0], 2.5);
    // a threshold our model does not hold as a field: the fields are imported instead, with a warning
    const th = await roundTrip(edit('LIF', 'v_threshold', 0.25));
    assert.equal(th.restored, false);
    assert.match(th.warnings.join('\n'), /no longer matches the standard fields \(node "[^"]+", field "v_threshold"\)/);
    const lif = th.net.graph.nodes.find((n) => n.op === 'nir-neuron' || n.op === 'neuron')!;
    assert.equal(lif.op, 'nir-neuron', 'a per-neuron threshold runs as the NIR neuron');
    assert.equal(th.net.tensorValues()[`${lif.id}.v_threshold`]![0], 0.25);
  });

  test('a layer training quantized (SAWB 4-bit) is written with the weights it computes with', async () => {
    const net = quantizeNet(new SpikingNet(parseSpec('6C3-AP2-F-12-5', { bias: true }), cfg([1, 8, 8], 'im-snn', 4)), { weights: { kind: 'sawb', bits: 4 }, keepEnds: false });
    assert.ok(net.graph.nodes.some((n) => (n.op === 'conv' || n.op === 'dense') && n.attrs.quant && !n.attrs.quant.frozen));
    const ex = netToNir(net);
    const conv = Object.values(ex.file.graph.nodes).find((n) => n.type === 'Conv2d') as NirLeaf;
    const levels = new Set(Array.from((conv.fields.weight as NirArray).data));
    assert.ok(levels.size <= 16, `${levels.size} distinct 4-bit weights`);
    const back = await roundTrip(ex.file, { metadata: false, T: 4 });
    const x = data(2, [1, 8, 8], 5, 3);
    assert.deepEqual(outputs(back.net, x), outputs(net, x));
    // our own reader restores the latent weights (training can go on)
    const restored = await roundTrip(ex.file);
    assert.equal(restored.restored, true);
    assert.deepEqual(restored.net.tensorValues(), net.tensorValues());
  });

  test('gzip-chunked and contiguous files read the same', async () => {
    const net = new SpikingNet(parseSpec('4C3-F-6', { bias: true }), cfg([1, 5, 5], 'lif'));
    const ex = netToNir(net);
    const a = await roundTrip(ex.file, { compress: true }), b = await roundTrip(ex.file, { compress: false });
    assert.deepEqual(a.net.tensorValues(), b.net.tensorValues());
    assert.deepEqual(a.net.tensorValues(), net.tensorValues());
  });
});

function f4Array(a: NirArray, at: number, v: number): NirArray {
  const data = Float64Array.from(a.data);
  data[at] = v;
  return { ...a, data };
}

test('an imported NIR graph (CubaLIF with a recurrent Affine, SumPool2d, Delay, Conv1d) exports and re-imports with the same bits', async () => {
  const path = tmp.path('foreign.nir');
  await writeRaw(path, '0.2.0', {
    type: 'NIRGraph',
    edges: [['input', 'conv'], ['conv', 'flat'], ['flat', 'delay'], ['delay', 'lif'], ['lif', 'rec'], ['rec', 'lif'], ['lif', 'output']],
    nodes: {
      input: { type: 'Input', shape: i8([1, 6]) },
      conv: { type: 'Conv1d', weight: f4([1, -0.5, 0.5, 0.25, 1, -1], [2, 1, 3]), bias: f4([0.1, 0]), stride: i8(1), padding: i8(1), dilation: i8(1), groups: i8(1) },
      flat: { type: 'Flatten', start_dim: i8(0), end_dim: i8(-1) },
      delay: { type: 'Delay', delay: f4(Array.from({ length: 12 }, (_, i) => (i % 3) * 1e-4)) },
      lif: { type: 'CubaLIF', tau_syn: f4(new Array(12).fill(5e-4)), tau_mem: f4(Array.from({ length: 12 }, (_, i) => 1e-3 * (1 + (i % 2)))), r: f4(new Array(12).fill(1.5)), v_leak: f4(new Array(12).fill(0)), v_threshold: f4(new Array(12).fill(0.2)), w_in: f4(new Array(12).fill(1)) },
      rec: { type: 'Affine', weight: f4(Array.from({ length: 144 }, (_, i) => (i % 13 === 0 ? -0.5 : 0.01)), [12, 12]), bias: f4(new Array(12).fill(0)) },
      output: { type: 'Output', shape: i8([12]) },
    },
  });
  const first = nirToNet((await readNir(path)).file, { T: 20 });
  const again = await roundTrip(netToNir(first.net).file);
  assert.equal(again.restored, true);
  const x = Float32Array.from({ length: 20 * 6 }, (_, i) => 0.5 + 0.5 * Math.sin(i));
  const a = runSequence(first.net, x, [20, 1, 6]), b = runSequence(again.net, x, [20, 1, 6]);
  assert.ok(a.counts!.some((c) => c > 0));
  assert.deepEqual(Array.from(b.steps), Array.from(a.steps));
  // from the standard fields alone too: the NIR nodes are written as they were read
  const plain = await roundTrip(netToNir(first.net).file, { metadata: false });
  assert.deepEqual(Array.from(runSequence(plain.net, x, [20, 1, 6]).steps), Array.from(a.steps));
});
