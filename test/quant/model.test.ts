/**
 * Quantizing whole networks: the graph edits, a training step with gates, freezing into codes that equal
 * the evaluation-time quantization, packed files of the expected size, truncated packed data, and the
 * FLOPs accounting of gated layers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/tensor/tape.js';
import { parseSpec } from '../../src/notation/parse.js';
import { zoo } from '../../src/models/zoo.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { freezeQuant, frozenCodes, quantizeNet } from '../../src/layers/quantize.js';
import { loadNet, saveNet } from '../../src/train/model-file.js';
import { lossOf } from '../../src/train/loss.js';
import { Optimizer } from '../../src/train/optim.js';
import { quantizeWeights } from '../../src/quant/weights.js';
import { massTarget } from '../../src/layers/layers.js';
import { runReport } from '../../src/metrics/run.js';
import { mnist } from '../../src/data/mnist.js';
import { limit } from '../../src/data/dataset.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { EdgespikeError } from '../../src/util/errors.js';

const cfg = (input: number[], over: Partial<NetConfig> = {}): NetConfig => ({
  input, neuron: neuronParams('lif'), T: 3, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 5, ...over,
});
const digits = (n: number): Tensor => new Tensor(Float32Array.from({ length: n * 784 }, (_, i) => ((i * 7919) % 13) / 13), [n, 1, 28, 28]);
const logits = (net: SpikingNet, x: Tensor): number[] => noGrad(() => net.forward(x, { training: false }).logits.toArray());
function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'es-quant-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('quantizeNet: hidden layers quantized (ends float), QLIF membranes, a gate before every conv-fed neuron', () => {
  const net = new SpikingNet(zoo('lenet').spec, cfg([1, 28, 28]));
  const q = quantizeNet(net, { weights: { kind: 'ternary', bits: 2 }, membraneBits: 1.58, gate: true });
  const quant = q.graph.nodes.filter((n) => (n.op === 'conv' || n.op === 'dense') && n.attrs.quant).map((n) => n.id);
  assert.deepEqual(quant, ['2.conv', '4.dense']);
  const neurons = q.graph.nodes.filter((n) => n.op === 'neuron');
  assert.ok(neurons.every((n) => n.op === 'neuron' && n.neuron.membrane?.levels === 3 && n.neuron.fire === '>' && n.neuron.reset === 'hard'));
  assert.deepEqual(q.graph.nodes.filter((n) => n.op === 'gate').map((n) => `${n.id}<${n.inputs[0]}|${n.side![0]}`), ['0.lif.gate<0.bias|input', '2.lif.gate<2.bias|0.lif']);
  // one training step: the gates' BCE joins the loss, every parameter gets a gradient
  const out = q.forward(new Tensor(digits(4).data.map((v) => 4 * v), [4, 1, 28, 28]), { training: true });
  assert.ok(out.aux && Number.isFinite(out.aux.item()) && out.aux.item() > 0);
  const loss = lossOf(out, [1, 2, 3, 4], { kind: 'ce' });
  const opt = new Optimizer(q.parameters(), { kind: 'adam', lr: 1e-3 });
  opt.zeroGrad();
  loss.backward();
  // (a layer whose input spikes are all silent in this step has no weight gradient, as in any SNN)
  for (const name of ['0.conv.weight', '2.conv.weight', '0.lif.gate.weight', '0.lif.gate.bias', '2.lif.gate.weight', '4.dense.bias']) {
    const p = q.namedParameters().find(([n]) => n === name)![1];
    assert.ok(p.grad && p.grad.some((g) => g !== 0), `${name} has no gradient`);
  }
  opt.step();
});

test('freezeQuant: the frozen weights are the evaluation-time quantization, scale·q, and compute the same outputs', () => {
  const net = new SpikingNet(parseSpec('8C3-P2-32-10', { bias: true }), cfg([1, 28, 28]));
  for (const bits of [2, 4, 8] as const) {
    const q = quantizeNet(net, { weights: bits === 2 ? { kind: 'ternary', bits } : { kind: 'sawb', bits }, keepEnds: false });
    const frozen = freezeQuant(q);
    assert.deepEqual(logits(frozen, digits(3)), logits(q, digits(3)), `${bits} bits`);
    const v = frozen.tensorValues(), orig = q.tensorValues();
    for (const id of ['0.conv', '2.dense']) {
      const want = quantizeWeights(orig[`${id}.weight`]!, bits === 2 ? { kind: 'ternary', bits } : { kind: 'sawb', bits }, false);
      assert.equal(v[`${id}.wscale`]![0], want.scale);
      assert.deepEqual(Array.from(frozenCodes(v[`${id}.weight`]!, want.scale)), Array.from(want.q));
    }
    assert.throws(() => quantizeNet(frozen, { weights: { kind: 'sawb', bits: 8 }, keepEnds: false }), /already quantized and frozen/);
  }
});

test('packed files: codes round-trip exactly; a 2-bit vgg9-48 file is weights × 2 / 8 within 5 % plus its header', () => {
  withDir((dir) => {
    const net = new SpikingNet(parseSpec('8C3-P2-32-10', { bias: true }), cfg([1, 28, 28]));
    const frozen = freezeQuant(quantizeNet(net, { weights: { kind: 'sawb', bits: 4 }, membraneBits: 2 }));
    const p = join(dir, 'q.es');
    saveNet(p, frozen);
    const { net: back, stored } = loadNet(p);
    assert.equal(stored['2.dense.weight']!.dtype, 'Q4');
    assert.deepEqual(logits(back, digits(2)), logits(frozen, digits(2)));
    assert.deepEqual(back.tensorValues()['2.dense.weight'], frozen.tensorValues()['2.dense.weight']);
    // a whole VGG-9 at 48×48, every layer ternary
    const vgg = new SpikingNet(zoo('vgg9-48').spec, cfg([3, 48, 48], { T: 2 }));
    const t = freezeQuant(quantizeNet(vgg, { weights: { kind: 'ternary', bits: 2 }, membraneBits: 1.58, keepEnds: false }));
    const path = join(dir, 'vgg.es');
    saveNet(path, t);
    const bytes = readFileSync(path), header = 8 + Number(bytes.readBigUInt64LE(0));
    const weights = 9_263_808, floats = vgg.parameters().reduce((a, p) => a + p.size, 0) - weights + vgg.namedBuffers().reduce((a, [, b]) => a + b.length, 0);
    const data = bytes.length - header, ideal = (weights * 2) / 8;
    assert.ok(Math.abs(data - ideal) <= 0.05 * ideal, `data ${data} bytes, weights × 2 / 8 = ${ideal} (${floats} other floats)`);
    assert.ok(bytes.length < 2.7e6, `${bytes.length} bytes`);
    // truncated packed data is a one-line error
    writeFileSync(p, readFileSync(p).subarray(0, readFileSync(p).length - 37));
    assert.throws(() => loadNet(p), (e: unknown) => e instanceof EdgespikeError && /truncated safetensors file/.test(e.message) && !e.message.includes('\n'));
    assert.equal(readSafetensors(path).tensors['1.conv.weight']!.dtype, 'U8'); // packed 2-bit codes
  });
});

test('gate targets: the channels that carry 85 % of the row mass; gated FLOPs counted dense / sparse with the gate cost', () => {
  // one row, four channels with max activations 4, 3, 2, 1 (total 10): 4 + 3 + 2 = 9 ≥ 8.5 → three kept
  const x = new Tensor(Float32Array.of(4, 0, 3, -1, 2, 0, 1, 0.5), [1, 4, 2]);
  assert.deepEqual(Array.from(massTarget(x, 0.85).data), [1, 1, 1, 0]);
  assert.deepEqual(Array.from(massTarget(x, 0.5).data), [1, 1, 0, 0]);
  const net = quantizeNet(new SpikingNet(parseSpec('8C3-P2-16C3-10', { bias: true }), cfg([1, 28, 28])), { gate: true });
  const r = runReport(net, limit(mnist('test'), 20));
  assert.equal(r.gates!.length, 2);
  const g = r.gates![1]!; // 16C3 on 8×13×13: out 16×11×11, 8·9 MACs per output, 2 × 8 × 16 for the predictor
  assert.equal(g.denseFlops, 3 * (16 * 121 * 8 * 9 + 16 * 121));
  assert.ok(g.sparseFlops > 0 && g.activeFraction > 0 && g.activeFraction <= 1);
  assert.ok(Math.abs(r.gatedFlopsReduction! - (r.gates!.reduce((a, x) => a + x.denseFlops, 0) / r.gates!.reduce((a, x) => a + x.sparseFlops, 0))) < 1e-9);
});
