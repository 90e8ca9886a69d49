/** Model graphs: what the notation builds, the ANN build, validation errors, and recurrent graphs run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as op from '../../src/ops/index.js';
import { parseSpec } from '../../src/notation/parse.js';
import { zoo } from '../../src/models/zoo.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { neuronStep } from '../../src/neurons/step.js';
import { graphFromSpec } from '../../src/graph/build.js';
import { checkGraph, INPUT, type GraphNode, type ModelGraph } from '../../src/graph/graph.js';
import { formatGraph } from '../../src/graph/describe.js';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { EdgespikeError } from '../../src/util/errors.js';

const lif = neuronParams('lif');
const cfg = (over: Partial<NetConfig> = {}): NetConfig => ({
  input: [1, 28, 28], neuron: lif, T: 3, encoder: { kind: 'direct' }, readout: 'mean', readoutBeta: 0.9, seed: 1, ...over,
});

test('lenet from the notation: the pool moves before the neuron, the conv bias after the pool, ids name the layers', () => {
  const { graph } = graphFromSpec(zoo('lenet').spec, { input: [1, 28, 28], neuron: lif });
  assert.deepEqual(graph.nodes.map((n) => `${n.id}:${n.op}<${n.inputs.join('+')}`), [
    '0.conv:conv<input', '1.pool:pool<0.conv', '0.bias:bias<1.pool', '0.lif:neuron<0.bias',
    '2.conv:conv<0.lif', '3.pool:pool<2.conv', '2.bias:bias<3.pool', '2.lif:neuron<2.bias',
    '4.dense:dense<2.lif', '4.lif:neuron<4.dense', '5.dense:dense<4.lif',
  ]);
  const conv = graph.nodes[0]!, bias = graph.nodes[2]!;
  assert.equal(conv.op === 'conv' && conv.attrs.bias, false);
  assert.deepEqual(bias.op === 'bias' && bias.attrs, { of: '0.conv' });
  assert.equal(graph.output, '5.dense');
  // every neuron node carries its own copy of the parameters
  const neurons = graph.nodes.filter((n): n is Extract<GraphNode, { op: 'neuron' }> => n.op === 'neuron');
  assert.equal(neurons.length, 3);
  assert.notEqual(neurons[0]!.neuron, neurons[1]!.neuron);
  assert.deepEqual(neurons[0]!.neuron, lif);
});

test('a conv with batch norm keeps its bias; a linear conv keeps its pool after it', () => {
  const { graph } = graphFromSpec(parseSpec('4C3bn-P2-4C3l-P2-10'), { input: [1, 12, 12], neuron: lif });
  assert.deepEqual(graph.nodes.map((n) => n.id), ['0.conv', '0.bn', '1.pool', '0.lif', '2.conv', '3.pool', '4.dense']);
  assert.equal(graph.nodes[0]!.op === 'conv' && graph.nodes[0]!.attrs.bias, true);
});

test('residual blocks are sub-graphs: body and shortcut read the block input, their sum feeds the neuron', () => {
  const { graph } = graphFromSpec(zoo('resnet19').spec, { input: [3, 32, 32], neuron: lif });
  const sum = graph.nodes.find((n) => n.id === '2.lif')!;
  assert.deepEqual(sum.inputs, ['2.body.1.bn', '1.lif']); // identity shortcut: the block input itself
  const down = graph.nodes.find((n) => n.id === '4.lif')!;
  assert.deepEqual(down.inputs, ['4.body.1.bn', '4.shortcut.0.bn']);
  assert.equal(graph.nodes.find((n) => n.id === '4.shortcut.0.conv')!.block, '4.shortcut');
  assert.equal(down.block, '4');
});

test('the ANN of a spec: ReLU for every neuron, max instead of average pooling, biases on', () => {
  const { graph } = graphFromSpec(zoo('vgg9').spec, { input: [3, 32, 32], neuron: lif, act: 'ann' });
  assert.equal(graph.nodes.filter((n) => n.op === 'neuron').length, 0);
  assert.equal(graph.nodes.filter((n) => n.op === 'relu').length, 7);
  assert.ok(graph.nodes.filter((n) => n.op === 'pool').every((n) => n.op === 'pool' && n.attrs.kind === 'max'));
  assert.ok(graph.nodes.filter((n) => n.op === 'conv' || n.op === 'dense').every((n) => (n.op === 'conv' || n.op === 'dense') && n.attrs.bias));
});

test('graph errors are one line naming the node', () => {
  const good = graphFromSpec(parseSpec('4C3-10'), { input: [1, 6, 6], neuron: lif }).graph;
  const bad = (g: ModelGraph, message: RegExp): void => {
    assert.throws(() => checkGraph(g), (e: unknown) => e instanceof EdgespikeError && !e.message.includes('\n') && message.test(e.message));
  };
  const nodes = good.nodes as GraphNode[];
  bad({ ...good, nodes: [nodes[0]!, nodes[0]!, ...nodes.slice(1)] }, /^graph: node "0\.conv" \(conv\) appears twice$/);
  bad({ ...good, nodes: [...nodes.slice(0, 2), { ...nodes[2]!, inputs: ['nope'] } as GraphNode] }, /^graph: node "1\.dense" \(dense\) reads "nope", which is not a node$/);
  bad({ ...good, nodes: [nodes[1]!, nodes[0]!, nodes[2]!] }, /^graph: node "0\.lif" \(neuron\) reads "0\.conv", which comes later/);
  bad({ ...good, nodes: [{ ...nodes[0]!, attrs: { ...(nodes[0]!.attrs as object), kernel: [9, 9] } } as unknown as GraphNode, ...nodes.slice(1)] }, /^graph: node "0\.conv" \(conv\) needs a map of at least 9×9/);
  bad({ ...good, nodes: [...nodes.slice(0, 2), { ...nodes[2]!, op: 'warp' } as unknown as GraphNode] }, /^graph: node "1\.dense" \(warp\) has an unknown op/);
  bad({ ...good, nodes: [...nodes.slice(0, 2), { ...nodes[2]!, inputs: ['0.lif', INPUT] } as GraphNode] }, /^graph: node "1\.dense" \(dense\) sums inputs of different shapes: \[4, 4, 4\] and \[1, 6, 6\]/);
  bad({ ...good, nodes: [...nodes.slice(0, 1), { ...nodes[1]!, recurrent: ['1.dense'] } as GraphNode, nodes[2]!] }, /^graph: node "0\.lif" \(neuron\) has a recurrent edge from "1\.dense" of shape \[10\], but its input is \[4, 4, 4\]$/);
  bad({ ...good, output: 'x' }, /^graph: output "x" is not a node$/);
});

test('formatGraph lists every node with what it reads when not the node above', () => {
  const { graph } = graphFromSpec(zoo('resnet19').spec, { input: [3, 32, 32], neuron: lif });
  const text = formatGraph(graph);
  assert.match(text, /^4\.lif +neuron +4\.body\.1\.bn \+ 4\.shortcut\.0\.bn +256×16×16 +β 0\.9, θ 1, fire >=, soft reset, atan surrogate$/m);
  assert.match(text, /^0\.conv +conv +64×32×32 +1,728 +64 filters 3×3, pad 1×1$/m);
});

test('a recurrent graph runs one step at a time: values and gradients equal a loop written with the ops', () => {
  // x → dense(W) → lif, whose input also gets rec(t−1) = U·s(t−1); readout dense(V) on the spikes
  const H = 5, I = 3, C = 2, T = 4, N = 2;
  const p = neuronParams('lif', { beta: 0.8, vth: 0.5 });
  const graph: ModelGraph = {
    input: [I],
    nodes: [
      { id: 'in', op: 'dense', attrs: { out: H, bias: false }, inputs: [INPUT] },
      { id: 'lif', op: 'neuron', attrs: { threshold: 'scalar' }, neuron: p, inputs: ['in'], recurrent: ['rec'] },
      { id: 'rec', op: 'dense', attrs: { out: H, bias: false }, inputs: ['lif'] },
      { id: 'out', op: 'dense', attrs: { out: C, bias: true }, inputs: ['lif'] },
    ],
    output: 'out',
  };
  const net = new SpikingNet(graph, { input: [I], T, encoder: { kind: 'direct' }, readout: 'mean', readoutBeta: 0.9, seed: 3 });
  const x = new Tensor(Float32Array.from({ length: N * T * I }, (_, i) => Math.abs(Math.sin(i * 1.3)) * 2), [N, T, I]);
  const got = net.forward(x, { training: true });
  const loss = op.crossEntropy(got.logits, [1, 0]);
  loss.backward();
  // the same computation by hand, on copies of the parameters
  const P = Object.fromEntries(net.namedParameters().map(([n, t]) => [n, new Tensor(t.data.slice(), t.shape, true)]));
  let v = new Tensor(new Float32Array(N * H), [N, H]), s: Tensor | null = null;
  const outs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const xt = op.reshape(op.slice(x, 1, t, t + 1), [N, I]);
    let a = op.linear(xt, P['in.weight']!);
    if (s) a = op.add(a, op.linear(s, P['rec.weight']!));
    const r = neuronStep(a, v, p);
    v = r.v; s = r.s;
    outs.push(op.linear(s, P['out.weight']!, P['out.bias']!));
  }
  const logits = net.aggregate(op.stack(outs, 0));
  op.crossEntropy(logits, [1, 0]).backward();
  assert.deepEqual(got.logits.toArray(), logits.toArray());
  for (const [name, t] of net.namedParameters()) {
    const want = P[name]!.grad!;
    t.grad!.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1e-6 * (1 + Math.abs(g)), `${name}[${i}]: ${g} vs ${want[i]}`));
  }
  assert.ok(Array.from(net.namedParameters().find(([n]) => n === 'rec.weight')![1].grad!).some((g) => g !== 0), 'the recurrent weights get a gradient');
});

test('step-by-step and fused runs of a feed-forward graph agree', () => {
  const spec = parseSpec('6C3-P2-12-4');
  const net = new SpikingNet(spec, cfg({ input: [2, 8, 8], T: 5 }));
  const x = new Tensor(Float32Array.from({ length: 3 * 128 }, (_, i) => ((i * 37) % 11) / 5), [3, 2, 8, 8]);
  const fused = net.forward(x, { training: false }).logits.toArray();
  // a recurrent edge whose source is always zero forces the step-by-step path without changing the values
  const g = net.graph;
  const zero: GraphNode = { id: 'zero', op: 'clamp', attrs: { lo: 0, hi: 0 }, inputs: ['0.lif'] };
  const nodes = g.nodes.flatMap((n): GraphNode[] => (n.id === '0.lif' ? [n, zero] : n.id === '2.dense' ? [{ ...n, recurrent: [] }] : [n]))
    .map((n) => (n.id === '0.lif' ? { ...n, recurrent: ['zero'] } as GraphNode : n));
  const stepped = new SpikingNet({ ...g, nodes }, { ...net.config }, net.tensorValues());
  const s = stepped.forward(x, { training: false }).logits.toArray();
  s.forEach((v, i) => assert.ok(Math.abs(v - fused[i]!) <= 1e-5 * (1 + Math.abs(v)), `${i}: ${v} vs ${fused[i]}`));
});
