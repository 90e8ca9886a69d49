import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { parseSpec } from '../../src/notation/parse.js';
import { zoo } from '../../src/models/zoo.js';
import { encode } from '../../src/layers/encode.js';
import { Rng } from '../../src/data/rng.js';
import * as op from '../../src/ops/index.js';
import type { GraphNode } from '../../src/graph/graph.js';

const cfg = (over: Partial<NetConfig> = {}): NetConfig => ({
  input: [1, 28, 28], neuron: neuronParams('lif'), T: 3, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.5, seed: 1, ...over,
});
const digits = (n: number) => new Tensor(new Float32Array(n * 784).map((_, i) => ((i * 7919) % 13) / 13), [n, 1, 28, 28]);

test('lenet: the neuron follows each max pool (conv → pool → LIF), the readout is non-spiking', () => {
  const net = new SpikingNet(zoo('lenet').spec, cfg());
  assert.deepEqual(net.layers.map((l) => l.name), ['0.conv', '1.pool', '0.bias', '0.lif', '2.conv', '3.pool', '2.bias', '2.lif', '4.dense', '4.lif', '5.dense']);
  assert.equal(net.spikingLayers, 3);
  assert.equal(net.classes, 10);
});

test('direct input: the layers before the first neuron run once on [N, …], not T times', () => {
  const net = new SpikingNet(zoo('lenet').spec, cfg({ T: 5 }));
  const seen: number[][] = [];
  for (const l of net.layers.slice(0, 3)) {
    const f = l.forward.bind(l);
    l.forward = (x, ctx) => { seen.push([...x.shape]); return f(x, ctx); };
  }
  net.forward(digits(2), { training: false });
  assert.deepEqual(seen, [[2, 1, 28, 28], [2, 16, 24, 24], [2, 16, 12, 12]]);
});

test('a conv bias added after its max pool gives the same outputs and gradients as before the pool', () => {
  const moved = new SpikingNet(zoo('lenet').spec, cfg({ T: 3 }));
  // the same network with each bias on its conv: bias nodes removed, their readers re-pointed to the pool
  const biasOf = new Map(moved.graph.nodes.flatMap((n) => (n.op === 'bias' && n.attrs.of ? [[n.id, n]] : [])));
  const nodes = moved.graph.nodes.filter((n) => !biasOf.has(n.id)).map((n): GraphNode => {
    const inputs = n.inputs.map((s) => biasOf.get(s)?.inputs[0] ?? s);
    return n.op === 'conv' ? { ...n, attrs: { ...n.attrs, bias: [...biasOf.values()].some((b) => b.attrs.of === n.id) }, inputs } : { ...n, inputs };
  });
  const values: Record<string, Float32Array> = {};
  for (const [name, v] of Object.entries(moved.tensorValues())) {
    const node = name.slice(0, name.lastIndexOf('.'));
    const b = biasOf.get(node);
    values[b ? `${(b as { attrs: { of: string } }).attrs.of}.bias` : name] = v.slice();
  }
  const direct = new SpikingNet({ ...moved.graph, nodes }, cfg({ T: 3 }), values);
  assert.equal(direct.graph.nodes.filter((n) => n.op === 'bias').length, 0);
  const x = digits(3);
  const run = (net: SpikingNet) => {
    const out = net.forward(x, { training: true });
    op.crossEntropy(out.logits, [1, 2, 3]).backward();
    const grads = new Map(net.namedParameters().map(([n, p]) => [n, Array.from(p.grad!)]));
    return { logits: out.logits.toArray(), grads };
  };
  const a = run(moved), b = run(direct);
  assert.deepEqual(a.logits, b.logits);
  for (const [name, g] of a.grads) {
    const node = name.slice(0, name.lastIndexOf('.'));
    const other = b.grads.get(biasOf.has(node) ? `${(biasOf.get(node) as { attrs: { of: string } }).attrs.of}.bias` : name)!;
    g.forEach((v, j) => assert.ok(Math.abs(v - other[j]!) <= 1e-5 * (1 + Math.abs(v)), `${name}[${j}]`));
  }
});

test('leaky readout weights by hand: T = 3, β = 0.5 → mean of m = (I0, I0/2 + I1, I0/4 + I1/2 + I2)', () => {
  const net = new SpikingNet(parseSpec('4-2'), cfg({ input: [3, 1, 1] }));
  const steps = new Tensor(Float32Array.of(1, 0, 0, 10, 0, 100), [3, 1, 2]); // I_t for two classes
  const got = net.aggregate(steps).toArray();
  const want = [(1 + 0.5 + 0.25) / 3, (10 + 0.5 * 0 + 100 + 0.5 * 0) / 3];
  assert.ok(Math.abs(got[0]! - want[0]!) < 1e-6 && Math.abs(got[1]! - (10 * 1.5 + 100) / 3) < 1e-5, `${got}`);
});

test('spike-count readout: logits are spike counts in 0 … T and steps are binary', () => {
  const net = new SpikingNet(zoo('lenet').spec, cfg({ readout: 'count', T: 4 }));
  const out = net.forward(digits(3), { training: false });
  assert.ok(out.steps.toArray().every((v) => v === 0 || v === 1));
  assert.ok(out.logits.toArray().every((v) => Number.isInteger(v) && v >= 0 && v <= 4));
  const rate = new SpikingNet(zoo('lenet').spec, cfg({ readout: 'rate', T: 4 }));
  assert.ok(rate.forward(digits(1), { training: false }).logits.toArray().every((v) => v >= 0 && v <= 1));
});

test('dropout keeps one mask per sample for all T steps', () => {
  const net = new SpikingNet(parseSpec('20-D0.5-5'), cfg({ input: [8, 1, 1], T: 4, readout: 'mean' }));
  const seen: Tensor[] = [];
  const d = net.layers.find((l) => l.name.endsWith('dropout'))!;
  const f = d.forward.bind(d);
  d.forward = (x, ctx) => { const y = f(x, ctx); seen.push(x, y); return y; };
  net.forward(new Tensor(new Float32Array(2 * 8).fill(3), [2, 8, 1, 1]), { training: true, rng: new Rng(4) });
  const [x, y] = seen as [Tensor, Tensor];
  const keep = (t: number, i: number) => y.data[t * 40 + i] !== 0 || x.data[t * 40 + i] === 0;
  for (let i = 0; i < 40; i++) for (let t = 1; t < 4; t++) {
    if (x.data[t * 40 + i] !== 0 && x.data[i] !== 0) assert.equal(keep(t, i), keep(0, i), `unit ${i} step ${t}`);
  }
});

test('encoders: rate spikes follow intensity, latency fires once early for bright pixels, delta fires at step 0', () => {
  const x = new Tensor(Float32Array.of(0, 0.25, 1), [1, 3]);
  const r = encode(x, { kind: 'rate' }, 2000, new Rng(1)).x;
  const rate = (i: number) => { let s = 0; for (let t = 0; t < 2000; t++) s += r.data[t * 3 + i]!; return s / 2000; };
  assert.equal(rate(0), 0); assert.equal(rate(2), 1); assert.ok(Math.abs(rate(1) - 0.25) < 0.03);
  const l = encode(x, { kind: 'latency' }, 5, new Rng(1)).x.toArray(); // t = round((1 − x)·4): 0.25 → 3, 1 → 0
  assert.deepEqual(l, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual(encode(x, { kind: 'delta', threshold: 0.2 }, 2, new Rng(1)).x.toArray(), [0, 1, 1, 0, 0, 0]);
});

test('temporal input [N, T, C, H, W] (event frames) runs one frame per step and backpropagates', () => {
  const net = new SpikingNet(parseSpec('4C3-P2-10'), cfg({ input: [2, 8, 8], T: 3 }));
  const x = new Tensor(new Float32Array(2 * 3 * 2 * 64).map((_, i) => (i % 5 === 0 ? 1 : 0)), [2, 3, 2, 8, 8]);
  const out = net.forward(x, { training: true });
  assert.deepEqual(out.steps.shape, [3, 2, 10]);
  op.crossEntropy(out.logits, [1, 2]).backward();
  assert.ok(net.parameters().every((p) => p.grad !== null));
  assert.throws(() => net.forward(new Tensor(new Float32Array(2 * 72), [1, 2, 8, 9]), { training: false }), /net: input must be \[1, 2, 8, 8\] or \[1, 3, 2, 8, 8\], got \[1, 2, 8, 9\]/);
});
