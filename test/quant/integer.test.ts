/**
 * The integer runtime of frozen quantized networks (src/layers/integer.ts): a quantized LeNet saved to a packed
 * file and loaded back runs its spike-fed conv and dense layers on the integer kernels, skips the channels its
 * gates close and keeps ternary / 4-bit membranes as int8 levels, and computes what the float path of the same
 * model computes. The two paths differ only in how a layer's sum is rounded (exactly once on integers; float32
 * sums of the weights scale·q on the float path), so every neuron layer's spikes must be identical, and the
 * logits — a float readout of identical spikes through the float last layer, or through the integer one — agree
 * within 1e-5 of their magnitude (the float32 summation error of the readout's few hundred terms, ≈ k·2^−24).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/tensor/tape.js';
import { zoo } from '../../src/models/zoo.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { freezeQuant, quantizeNet } from '../../src/layers/quantize.js';
import { loadNet, saveNet } from '../../src/train/model-file.js';
import { forceQuantKernels, quantKernels, setBackend } from '../../src/backends/index.js';
import type { QuantKernels } from '../../src/kernels/quant.js';
import type { WeightQuant } from '../../src/quant/weights.js';
import { argmaxRows } from '../../src/ops/reduce.js';
import { parametersChanged } from '../../src/tensor/generation.js';
import { Optimizer } from '../../src/train/optim.js';

const cfg: NetConfig = { input: [1, 28, 28], neuron: neuronParams('lif'), T: 4, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 5 };
/** Images with strokes bright enough that the random LeNet fires in every layer. */
const images = (n: number): Tensor => new Tensor(Float32Array.from({ length: n * 784 }, (_, i) => (((i * 7919) % 13) / 13) * (i % 3 ? 4 : 0.5)), [n, 1, 28, 28]);

/** Calls of the integer kernels during fn: counts by name, the gates seen by spikeConv2dQ. */
function counted<T>(fn: () => T): { r: T; calls: Record<string, number>; closed: number; packed: number } {
  const inner = quantKernels(), calls: Record<string, number> = { spikeLinearQ: 0, spikeConv2dQ: 0, qlifForward: 0 };
  let closed = 0, packed = 0;
  const k: QuantKernels = {
    spikeLinearQ: (...a) => { calls.spikeLinearQ!++; if (a[8]) packed++; inner.spikeLinearQ(...a); },
    spikeConv2dQ: (...a) => {
      calls.spikeConv2dQ!++;
      if (a[6]) closed += a[6].filter((v) => v === 0).length;
      if (a[7]) packed++;
      inner.spikeConv2dQ(...a);
    },
    qlifForward: (...a) => { calls.qlifForward!++; return inner.qlifForward(...a); },
  };
  forceQuantKernels(k);
  try { return { r: fn(), calls, closed, packed }; } finally { forceQuantKernels(null); }
}

/** Logits and every neuron layer's spikes of one inference pass. */
function infer(net: SpikingNet, x: Tensor, integer: boolean): { logits: Float32Array; spikes: Map<string, Float32Array> } {
  const spikes = new Map<string, Float32Array>();
  const out = noGrad(() => net.forward(x, {
    training: false, integer,
    onLayer: (l, _in, y) => { if (l.node.op === 'neuron') spikes.set(l.name, y.data.slice()); },
  }));
  return { logits: out.logits.data.slice(), spikes };
}

const WEIGHTS: [string, WeightQuant][] = [['ternary', { kind: 'ternary', bits: 2 }], ['4-bit', { kind: 'sawb', bits: 4 }], ['8-bit', { kind: 'sawb', bits: 8 }]];

for (const backend of ['wasm', 'ref'] as const) {
  test(`${backend}: a frozen LeNet from a packed file runs on integers and equals its float path (ternary, 4- and 8-bit weights)`, () => {
    setBackend(backend);
    const dir = mkdtempSync(join(tmpdir(), 'es-int-'));
    try {
      const x = images(8);
      for (const [name, weights] of WEIGHTS) {
        for (const membraneBits of [1.58, 4, 8]) {
          const what = `${name} weights, ${membraneBits}-bit membranes`;
          const q = quantizeNet(new SpikingNet(zoo('lenet').spec, cfg), { weights, membraneBits, gate: true, keepEnds: false });
          const path = join(dir, 'q.es');
          saveNet(path, freezeQuant(q));
          const net = loadNet(path).net;
          const int = counted(() => infer(net, x, true)), flt = counted(() => infer(net, x, false));
          // the float path calls no integer kernel; the integer path: 2.conv, 4.dense and 5.dense (the first conv
          // is fed by pixels), each of the three QLIF layers unless the membrane has 256 levels (8 bits: float path)
          assert.deepEqual(flt.calls, { spikeLinearQ: 0, spikeConv2dQ: 0, qlifForward: 0 }, what);
          assert.deepEqual(int.calls, { spikeLinearQ: 2, spikeConv2dQ: 1, qlifForward: membraneBits === 8 ? 0 : 3 }, what);
          // the first QLIF layer (4 steps of 8 × 2304 neurons) hands its spikes to the conv packed as well; the
          // others (4 × 8 × 256) are below the size worth packing
          assert.equal(int.packed, membraneBits === 8 ? 0 : 1, `${what}: packed spikes`);
          for (const [layer, s] of flt.r.spikes) {
            const si = int.r.spikes.get(layer)!;
            assert.ok(s.some((v) => v === 1), `${what}: ${layer} never fires (the comparison would be empty)`);
            assert.deepEqual(si, s, `${what}: spikes of ${layer}`);
          }
          const a = int.r.logits, b = flt.r.logits, mag = Math.max(...Array.from(b, Math.abs));
          for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * mag, `${what}: logit ${i} ${a[i]} vs ${b[i]}`);
          const n = x.shape[0]!;
          assert.deepEqual(Array.from(argmaxRows(new Tensor(a, [n, 10]))), Array.from(argmaxRows(new Tensor(b, [n, 10]))), what);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      setBackend('wasm');
    }
  });
}

test('a batch large enough packs the spikes of both QLIF layers that feed integer layers; the bits equal the float path', () => {
  setBackend('wasm');
  const net = freezeQuant(quantizeNet(new SpikingNet(zoo('lenet').spec, cfg), { weights: { kind: 'ternary', bits: 2 }, membraneBits: 1.58, keepEnds: true }));
  const x = images(32);
  const int = counted(() => infer(net, x, true)), flt = infer(net, x, false);
  // 4 steps × 32 × 2304 and 4 × 32 × 256 spikes, packed for 2.conv and 4.dense (5.dense is the float last layer)
  assert.equal(int.packed, 2);
  for (const [layer, s] of flt.spikes) assert.deepEqual(int.r.spikes.get(layer), s, layer);
  assert.deepEqual(Array.from(argmaxRows(new Tensor(int.r.logits, [32, 10]))), Array.from(argmaxRows(new Tensor(flt.logits, [32, 10]))));
});

test('the gate before an integer convolution decides first: its closed channels are skipped and their spikes stay 0', () => {
  setBackend('wasm');
  const q = quantizeNet(new SpikingNet(zoo('lenet').spec, cfg), { weights: { kind: 'ternary', bits: 2 }, membraneBits: 1.58, gate: true, keepEnds: false });
  const net = freezeQuant(q);
  // close the gate of 2.conv for half its channels: bias −5 on channels 0 … 7 (sigmoid < 0.5 for any softmax input)
  const v = net.tensorValues();
  const bias = v['2.lif.gate.bias']!;
  for (let c = 0; c < 8; c++) bias[c] = -5;
  const x = images(4);
  const int = counted(() => infer(net, x, true)), flt = infer(net, x, false);
  // 4 images × T 4 rows × 8 closed channels reach spikeConv2dQ as closed
  assert.equal(int.closed, 4 * 4 * 8);
  const s = int.r.spikes.get('2.lif')!, plane = 4 * 4; // 2.conv's 8×8 output max-pooled
  for (let row = 0; row < 16; row++) for (let c = 0; c < 8; c++) for (let p = 0; p < plane; p++) assert.equal(s[(row * 16 + c) * plane + p], 0);
  assert.deepEqual(int.r.spikes.get('2.lif'), flt.spikes.get('2.lif'));
  assert.ok(s.some((v) => v === 1));
});

test('training, gradients and monitors keep the float path; a layer whose weights are not scale·q falls back', () => {
  setBackend('wasm');
  const net = freezeQuant(quantizeNet(new SpikingNet(zoo('lenet').spec, cfg), { weights: { kind: 'sawb', bits: 4 }, membraneBits: 1.58, keepEnds: false }));
  const x = images(2);
  const train = counted(() => net.forward(x, { training: true }));
  assert.deepEqual(train.calls, { spikeLinearQ: 0, spikeConv2dQ: 0, qlifForward: 0 });
  const grad = counted(() => net.forward(x, { training: false }));
  // outside noGrad the weights want gradients: the float path records them
  assert.deepEqual(grad.calls, { spikeLinearQ: 0, spikeConv2dQ: 0, qlifForward: 0 });
  const mon = counted(() => noGrad(() => net.forward(x, { training: false, monitor: () => {} })));
  assert.deepEqual(mon.calls, { spikeLinearQ: 2, spikeConv2dQ: 1, qlifForward: 0 });
  // a weight nudged off the grid (and the edit announced): that layer (4.dense) takes the float path, the others
  // stay on integers; an optimizer step is announced by the optimizer itself
  const w = net.tensorValues()['4.dense.weight']!, w0 = w[0]!;
  w[0] = w0 + 1e-3;
  parametersChanged();
  const off = counted(() => infer(net, x, true));
  assert.deepEqual(off.calls, { spikeLinearQ: 1, spikeConv2dQ: 1, qlifForward: 3 });
  w[0] = w0;
  parametersChanged();
  assert.deepEqual(counted(() => infer(net, x, true)).calls, { spikeLinearQ: 2, spikeConv2dQ: 1, qlifForward: 3 });
  const dense = net.namedParameters().find(([n]) => n === '4.dense.weight')![1];
  dense.grad = new Float32Array(dense.size).fill(1e-3);
  new Optimizer([dense], { kind: 'sgd', lr: 1 }).step();
  assert.deepEqual(counted(() => infer(net, x, true)).calls, { spikeLinearQ: 1, spikeConv2dQ: 1, qlifForward: 3 });
});
