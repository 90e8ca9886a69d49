import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { SpikingNet } from '../../src/layers/net.js';
import { Conv, Dense } from '../../src/layers/layers.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { parseSpec } from '../../src/notation/parse.js';
import { runReport, ENERGY_PRESETS, latencyReport } from '../../src/metrics/run.js';
import { Monitor } from '../../src/metrics/monitor.js';
import type { Dataset } from '../../src/data/dataset.js';

/** A tiny synthetic data set of 1×10×10 images. */
const data: Dataset = {
  name: 'synthetic', length: 12, shape: [1, 10, 10], temporal: false, numClasses: 3,
  label: (i) => i % 3,
  read: (i, out, off) => { for (let j = 0; j < 100; j++) out[off + j] = ((i * 31 + j * 17) % 23) / 10; },
};
const build = () => new SpikingNet(parseSpec('6C3s2p1-P2-5C3p1-8-3', { bias: true }), {
  input: [1, 10, 10], neuron: neuronParams('lif', { vth: 0.3 }), T: 3, encoder: { kind: 'direct' }, readout: 'mean', readoutBeta: 0.9, seed: 9,
});

/** Counts, by brute force, the additions a spike-fed conv performs: every active input, every output it reaches. */
function bruteConvAcs(c: Conv, x: Tensor): number {
  const [, cin, h, w] = x.shape as number[];
  const cout = c.weight.shape[0]!, k = c.node.attrs.kernel[0], s = c.node.attrs.stride[0], p = c.node.attrs.pad[0], oh = Math.floor((h! + 2 * p - k) / s) + 1, ow = Math.floor((w! + 2 * p - k) / s) + 1;
  let count = 0;
  for (let i = 0; i < x.size; i++) {
    if (x.data[i] === 0) continue;
    const ix = i % w!, iy = Math.floor(i / w!) % h!;
    for (let co = 0; co < cout; co++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const ty = iy + p - ky, tx = ix + p - kx;
      if (ty % s === 0 && tx % s === 0 && ty / s >= 0 && ty / s < oh && tx / s >= 0 && tx / s < ow) count++;
    }
  }
  void cin;
  return count;
}

test('SOPs (accumulates done) equal a brute-force count over the real spike inputs', () => {
  const net = build();
  let brute = 0, bruteDense = 0;
  const x = new Float32Array(12 * 100);
  for (let i = 0; i < 12; i++) data.read(i, x, i * 100);
  net.forward(new Tensor(x, [12, 1, 10, 10]), {
    training: false,
    onLayer: (l, inp) => {
      if (l instanceof Conv && inp.binary) brute += bruteConvAcs(l, inp);
      if (l instanceof Dense && l.name === '3.dense' && inp.binary) { let nz = 0; for (const v of inp.data) nz += v !== 0 ? 1 : 0; bruteDense += nz * l.weight.shape[0]!; }
    },
  });
  const r = runReport(net, data, { batchSize: 5 });
  const conv2 = r.layers.find((l) => l.layer === '2.conv')!;
  assert.equal(conv2.input, 'spikes');
  assert.ok(brute > 0, 'no spikes reached the second conv: the test would prove nothing');
  assert.ok(Math.abs(conv2.acs * 12 - brute) < 1e-6, `${conv2.acs * 12} vs ${brute}`);
  const fc = r.layers.find((l) => l.layer === '3.dense')!;
  assert.ok(Math.abs(fc.acs * 12 - bruteDense) < 1e-6);
  // Scatter-and-Gather convention: hidden layers only (first and readout excluded).
  assert.ok(Math.abs(r.sopsScatterGather - (conv2.acs + fc.acs)) < 1e-6);
});

test('static first layer counts its MACs once; energy and FLOPs reduction follow the formulas', () => {
  const r = runReport(build(), data);
  const first = r.layers[0]!;
  assert.equal(first.input, 'static');
  // 6 filters, 5×5 output, 1·3·3 taps: 1350 MACs per step, counted once per sample.
  assert.equal(first.macsPerStep, 6 * 25 * 9);
  assert.equal(first.macs, 1350);
  assert.equal(first.acs, 0);
  const e = ENERGY_PRESETS.fp32;
  assert.ok(Math.abs(r.energyUj - (r.macs * e.macPj + r.acs * e.acPj) / 1e6) < 1e-12);
  const dense = r.layers.reduce((s, l) => s + l.macsPerStep, 0);
  assert.equal(r.denseMacsT, dense * 3);
  assert.ok(Math.abs(r.flopsReduction - (dense * 3) / (r.macs + r.acs)) < 1e-9);
  // EC-SNN SOPs: dense MACs per step × input rate × T.
  for (const l of r.layers) assert.ok(Math.abs(l.sopsEcSnn - l.macsPerStep * l.inputRate * 3) < 1e-6);
});

test('monitors do not change results and record per-step firing rates', () => {
  const net = build();
  const x = new Float32Array(4 * 100);
  for (let i = 0; i < 4; i++) data.read(i, x, i * 100);
  const a = net.forward(new Tensor(x, [4, 1, 10, 10]), { training: false }).logits.toArray();
  const mon = new Monitor(3, { membrane: true });
  const b = net.forward(new Tensor(x, [4, 1, 10, 10]), { training: false, monitor: mon.hook }).logits.toArray();
  assert.deepEqual(a, b);
  const rates = mon.firingRates();
  assert.deepEqual(Object.keys(rates), ['0.lif', '2.lif', '3.lif']);
  for (const rs of Object.values(rates)) { assert.equal(rs.length, 3); assert.ok(rs.every((v) => v >= 0 && v <= 1)); }
  const rec = mon.records.get('0.lif')!;
  assert.equal(rec.neurons, 6 * 2 * 2);
  assert.equal(rec.raster!.length, 3 * 24);
  assert.equal(rec.membrane!.length, 3 * 24);
  const total = [...mon.records.values()].reduce((s, r) => s + r.spikesPerStep.reduce((p, v) => p + v, 0), 0);
  assert.ok(Math.abs(mon.spikesPerSample() - total / 4) < 1e-9);
});

test('latency report gives ordered quantiles and per-layer times', () => {
  const l = latencyReport(build(), data, 20);
  assert.ok(l.p50 > 0 && l.p95 >= l.p50);
  assert.ok(Object.keys(l.perLayerMs).includes('2.conv'));
});
