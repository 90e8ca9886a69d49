/**
 * Structural edits and partial runs: cut-and-chain equals the whole model bit for bit, keeping every
 * channel is the identity, pruning channels whose outgoing weights are zero leaves the outputs unchanged,
 * per-node neurons follow the step function, and wrong edits are one-line errors naming the node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/tensor/tape.js';
import * as op from '../../src/ops/index.js';
import { parseSpec } from '../../src/notation/parse.js';
import { zoo } from '../../src/models/zoo.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { neuronStep } from '../../src/neurons/step.js';
import { residual, conv, dense, type ModelSpec } from '../../src/notation/spec.js';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { cut, insertNode, keepChannels, removeNode, replaceHead, replaceNeuron } from '../../src/layers/edit.js';
import { Monitor } from '../../src/metrics/monitor.js';
import { EdgespikeError } from '../../src/util/errors.js';
import { forEachBackend } from '../helpers/backends.js';

const cfg = (input: number[], over: Partial<NetConfig> = {}): NetConfig => ({
  input, neuron: neuronParams('lif', { vth: 0.5 }), T: 4, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 2, ...over,
});
const data = (n: number, shape: number[], seed = 1): Tensor =>
  new Tensor(Float32Array.from({ length: n * shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.abs(Math.sin(i * 0.37 + seed)) * 1.5), [n, ...shape]);
const logits = (net: SpikingNet, x: Tensor): number[] => noGrad(() => net.forward(x, { training: false }).logits.toArray());
const oneLine = (fn: () => unknown, message: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof EdgespikeError && !e.message.includes('\n') && message.test(e.message), String(message));
};

/** A small residual network: conv, a block with a 1×1 shortcut, a block with an identity shortcut, GAP, dense. */
const resSpec: ModelSpec = {
  layers: [
    conv(8, 3, { pad: 1, bn: true }),
    residual([conv(12, 3, { pad: 1, stride: 2, bn: true }), conv(12, 3, { pad: 1, bn: true, spike: false })], [conv(12, 1, { stride: 2, bn: true, spike: false })]),
    residual([conv(12, 3, { pad: 1, bn: true }), conv(12, 3, { pad: 1, bn: true, spike: false })]),
    { kind: 'gap' }, dense(16, { bias: true }), dense(5, { bias: true, spike: false }),
  ],
};

forEachBackend('edits', () => {
  test('cut-and-chain equals the whole model, bit for bit, at every node where every path passes', () => {
    for (const [spec, input] of [[zoo('lenet').spec, [1, 28, 28]], [resSpec, [3, 10, 10]], [parseSpec('8C3bn-AP2-D0.3-16n-10'), [2, 10, 10]]] as const) {
      const net = new SpikingNet(spec, cfg([...input]));
      const x = data(3, [...input]);
      const whole = noGrad(() => net.run(x, { training: false }));
      const cuts = net.graph.nodes.map((n) => n.id).filter((id) => id !== net.graph.output && !id.includes('.body.') && !id.includes('.shortcut.'));
      assert.ok(cuts.length >= 5);
      for (const id of cuts) {
        const { features, head } = cut(net, id);
        const mid = noGrad(() => features.run(x, { training: false }));
        const end = noGrad(() => head.run(mid.x, { training: false, form: mid.form }));
        assert.equal(end.form, whole.form, id);
        assert.deepEqual(Array.from(end.x.data), Array.from(whole.x.data), `cut at ${id}`);
        // partial runs of the whole net meet at the same bits
        const part = noGrad(() => net.run(mid.x, { training: false, from: id, form: mid.form }));
        assert.deepEqual(Array.from(part.x.data), Array.from(whole.x.data), `run from ${id}`);
        const headLogits = noGrad(() => head.forward(mid.x, { training: false, form: mid.form }).logits.toArray());
        assert.deepEqual(headLogits, logits(net, x), `logits after ${id}`);
      }
    }
  });

  test('a cut inside a residual block is refused: the shortcut passes around it', () => {
    const net = new SpikingNet(resSpec, cfg([3, 10, 10]));
    oneLine(() => cut(net, '1.body.0.lif'), /^graph: node "1\.shortcut\.0\.conv" \(conv\) reads "0\.lif", which lies before the cut at "1\.body\.0\.lif"; cut where every path passes$/);
  });

  test('keeping every channel is the identity', () => {
    const net = new SpikingNet(zoo('lenet').spec, cfg([1, 28, 28]));
    const x = data(4, [1, 28, 28]);
    let edited = net;
    for (const id of ['0.conv', '2.conv', '4.dense']) {
      const out = (edited.info.byId.get(id)!.attrs as { out: number }).out;
      edited = keepChannels(edited, id, Array.from({ length: out }, (_, i) => i));
    }
    assert.deepEqual(logits(edited, x), logits(net, x));
    assert.deepEqual(Object.keys(edited.tensorValues()), Object.keys(net.tensorValues()));
  });

  test('pruning channels whose outgoing weights are zero leaves the outputs unchanged (conv → conv, conv → flatten → dense, BN and per-channel thresholds carried)', () => {
    const spec = parseSpec('8C3bn-P2-6C3-F-12-10');
    const base = new SpikingNet(spec, cfg([2, 12, 12]));
    const net = replaceNeuron(base, '0.lif', { vth: 0.4 }, { threshold: 'channel' });
    const v = net.tensorValues();
    v['0.lif.vth']!.forEach((_, c) => { v['0.lif.vth']![c] = 0.3 + 0.05 * c; });
    const drop = [1, 4, 6], keep = [0, 2, 3, 5, 7];
    const w2 = v['2.conv.weight']!; // [6, 8, 3, 3]
    for (let o = 0; o < 6; o++) for (const c of drop) w2.fill(0, (o * 8 + c) * 9, (o * 8 + c + 1) * 9);
    const dropD = [2, 5], keepD = [0, 1, 3, 4];
    const w4 = v['4.dense.weight']!; // [12, 6·3·3]
    for (let o = 0; o < 12; o++) for (const c of dropD) w4.fill(0, o * 54 + c * 9, o * 54 + c * 9 + 9);
    const x = data(3, [2, 12, 12]);
    let pruned = keepChannels(net, '0.conv', keep);
    pruned = keepChannels(pruned, '2.conv', keepD);
    assert.deepEqual(logits(pruned, x), logits(net, x));
    const pv = pruned.tensorValues();
    assert.deepEqual(Array.from(pv['0.bn.running_var']!), keep.map((c) => v['0.bn.running_var']![c]!));
    assert.deepEqual(Array.from(pv['0.lif.vth']!), keep.map((c) => v['0.lif.vth']![c]!));
    assert.deepEqual(pv['4.dense.weight']!.length, 12 * 4 * 9);
    assert.equal((pruned.info.byId.get('0.conv')!.attrs as { out: number }).out, 5);
  });

  test('wrong edits are one-line errors naming the node', () => {
    const net = new SpikingNet(resSpec, cfg([3, 10, 10]));
    oneLine(() => keepChannels(net, '0.conv', [0, 8]), /^graph: node "0\.conv" \(conv\) has 8 channels; channel 8 is out of range$/);
    oneLine(() => keepChannels(net, '0.conv', [3, 1]), /^graph: node "0\.conv" \(conv\) channels to keep must be in increasing order/);
    oneLine(() => keepChannels(net, '0.conv', []), /^graph: node "0\.conv" \(conv\) must keep at least one channel$/);
    oneLine(() => keepChannels(net, '2.body.1.conv', [0, 1]), /^graph: node "2\.lif" \(neuron\) sums "2\.body\.1\.bn" and "1\.lif"; keeping channels of "2\.body\.1\.conv" changes only one of them$/);
    oneLine(() => keepChannels(net, '0.bn', [0]), /^graph: node "0\.bn" \(bn\) is not a conv or dense layer/);
    oneLine(() => keepChannels(net, 'nope', [0]), /^graph: no node "nope" \(nodes: 0\.conv, 0\.bn, 0\.lif, /);
    oneLine(() => removeNode(net, '2.lif'), /^graph: node "2\.lif" \(neuron\) reads several nodes/);
    oneLine(() => removeNode(net, '1.shortcut.0.conv'), /^graph: node "1\.lif" \(neuron\) sums inputs of different shapes: \[12, 5, 5\] and \[8, 10, 10\]/);
    oneLine(() => insertNode(net, '0.lif', { id: '0.conv', op: 'relu', attrs: {} }), /^graph: node "0\.conv" already exists$/);
  });
});

test('per-node neurons: two layers with their own β, thresholds (one per channel in the first) and reset follow the step function', () => {
  const base = new SpikingNet(parseSpec('7-6-3'), cfg([5, 1, 1], { T: 6, readout: 'mean' }));
  let net = replaceNeuron(base, '0.lif', { beta: 0.5, vth: 0.3, reset: 'hard' }, { threshold: 'channel' });
  net = replaceNeuron(net, '1.lif', { beta: 0.95, vth: 0.8, reset: 'soft' });
  const th = net.tensorValues()['0.lif.vth']!;
  assert.deepEqual(Array.from(th), new Array(7).fill(Math.fround(0.3)));
  th.forEach((_, c) => { th[c] = 0.15 + 0.1 * c; });
  const x = data(2, [5, 1, 1], 4);
  const mon = new Monitor(6);
  noGrad(() => net.forward(x, { training: false, monitor: mon.hook }));
  const v = net.tensorValues();
  const p0 = (net.info.byId.get('0.lif') as { neuron: ReturnType<typeof neuronParams> }).neuron;
  const p1 = (net.info.byId.get('1.lif') as { neuron: ReturnType<typeof neuronParams> }).neuron;
  assert.deepEqual([p0.beta, p0.vth, p0.reset, p1.beta, p1.vth, p1.reset], [0.5, 0.3, 'hard', 0.95, 0.8, 'soft']);
  noGrad(() => {
    const a0 = op.linear(op.reshape(x, [2, 5]), new Tensor(v['0.dense.weight']!, [7, 5]));
    let v0 = new Tensor(new Float32Array(14), [2, 7]), v1 = new Tensor(new Float32Array(12), [2, 6]);
    for (let t = 0; t < 6; t++) {
      const r0 = neuronStep(a0, v0, p0, { vth: new Tensor(th, [7]) });
      v0 = r0.v;
      const r1 = neuronStep(op.linear(r0.s, new Tensor(v['1.dense.weight']!, [6, 7])), v1, p1);
      v1 = r1.v;
      const rec0 = mon.records.get('0.lif')!, rec1 = mon.records.get('1.lif')!;
      assert.deepEqual(Array.from(rec0.raster!.subarray(t * 7, t * 7 + 7)), Array.from(r0.s.data.subarray(0, 7)), `layer 0, step ${t}`);
      assert.deepEqual(Array.from(rec1.raster!.subarray(t * 6, t * 6 + 6)), Array.from(r1.s.data.subarray(0, 6)), `layer 1, step ${t}`);
    }
  });
  const spikes = [...mon.records.values()].map((r) => r.spikesPerStep.reduce((a, b) => a + b, 0));
  assert.ok(spikes.every((s) => s > 0), `both layers fire (${spikes})`);
});

test('replaceHead puts a new classifier after a node; insertNode and removeNode keep shapes chained', () => {
  const net = new SpikingNet(zoo('lenet').spec, cfg([1, 28, 28]));
  const h = replaceHead(net, '2.lif', parseSpec('D0.5-32-3'));
  assert.deepEqual(h.graph.nodes.slice(-4).map((n) => n.id), ['head.0.dropout', 'head.1.dense', 'head.1.lif', 'head.2.dense']);
  assert.equal(h.classes, 3);
  const v = net.tensorValues(), hv = h.tensorValues();
  assert.deepEqual(hv['2.conv.weight'], v['2.conv.weight']);
  const x = data(2, [1, 28, 28]);
  // the extractor is untouched: its output is the same bits in both
  assert.deepEqual(Array.from(noGrad(() => h.run(x, { training: false, to: '2.lif' })).x.data), Array.from(noGrad(() => net.run(x, { training: false, to: '2.lif' })).x.data));
  const withRelu = insertNode(net, '4.dense', { id: 'extra', op: 'clamp', attrs: { lo: -1e30, hi: 1e30 } });
  assert.deepEqual(withRelu.graph.nodes.map((n) => n.id).slice(8, 11), ['4.dense', 'extra', '4.lif']);
  assert.deepEqual(logits(withRelu, x), logits(net, x));
  const back = removeNode(withRelu, 'extra');
  assert.deepEqual(back.graph.nodes.map((n) => n.id), net.graph.nodes.map((n) => n.id));
  assert.deepEqual(logits(back, x), logits(net, x));
});

test('per-channel learned thresholds of a conv layer get a gradient per channel', () => {
  const base = new SpikingNet(parseSpec('6C3-P2-10'), cfg([1, 8, 8]));
  const net = replaceNeuron(base, '0.lif', { learnThreshold: true }, { threshold: 'channel' });
  const vth = net.namedParameters().find(([n]) => n === '0.lif.vth')![1];
  assert.deepEqual(vth.shape, [6]);
  const out = net.forward(data(4, [1, 8, 8]), { training: true });
  op.crossEntropy(out.logits, [0, 1, 2, 3]).backward();
  assert.equal(vth.grad!.length, 6);
  assert.ok(Array.from(vth.grad!).filter((g) => g !== 0).length >= 4, `${Array.from(vth.grad!)}`);
});
