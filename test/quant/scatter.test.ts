/**
 * Scatter-and-Gather: the median quantizer and thresholds of check number #11, thresholds against a
 * brute-force search of the quantizer's step points (negative and zero γ too), ANN = SNN on random inputs
 * for random small networks, and the SOP formula on a hand-counted case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/tensor/tape.js';
import * as op from '../../src/ops/index.js';
import { parseSpec } from '../../src/notation/parse.js';
import { Rng } from '../../src/data/rng.js';
import { SpikingNet, type NetConfig } from '../../src/layers/net.js';
import { convertScatterGather, scatterThresholds } from '../../src/layers/convert.js';
import { scatterReport } from '../../src/metrics/run.js';
import type { GraphNode } from '../../src/graph/graph.js';
import type { Dataset } from '../../src/data/dataset.js';

const sgConfig = (input: number[], k: number, B: number, seed = 1): NetConfig => ({
  input, act: 'sg', levels: { k, B }, T: 1, encoder: { kind: 'direct' }, readout: 'mean', readoutBeta: 0.9, seed,
});

/** Random batch-norm statistics: some γ negative, some zero. */
function randomizeBn(net: SpikingNet, rng: Rng): void {
  for (const l of net.layers) {
    if (l.node.op !== 'bn') continue;
    const p = Object.fromEntries(l.params()), b = Object.fromEntries(l.buffers());
    for (let c = 0; c < p.weight!.size; c++) {
      const r = rng.float();
      p.weight!.data[c] = r < 0.2 ? -0.3 - rng.float() : r < 0.3 ? 0 : 0.2 + 2 * rng.float();
      p.bias!.data[c] = 2 * rng.float() - 0.7;
      b.running_mean![c] = 6 * (rng.float() - 0.5);
      b.running_var![c] = 0.05 + 10 * rng.float();
    }
  }
}

test('check number #11: the median quantizer k 1, B 2 (0.74 → 0.5, 0.75 → 1, 2.7 → 2) and its thresholds 0.5, 1.5, 2.5, 3.5', () => {
  const q = op.quantizeActivation(new Tensor(Float32Array.of(0.74, 0.75, 2.7, 0, 0.24, 0.25, 1.3, -1), [8]), 1, 2);
  assert.deepEqual(Array.from(q.data), [0.5, 1, 2, 0, 0, 0.5, 1.5, -1]);
  // the seed's closed form with β 0, γ 1, μ 0, σ² = 1 − 1e−5: θ_i = 2·(0.25 + i/2)
  const closed = [0, 1, 2, 3].map((i) => 2 * ((1 / 4 + i / 2 - 0) * Math.sqrt(1 - 1e-5 + 1e-5) / 1 + 0));
  assert.deepEqual(closed, [0.5, 1.5, 2.5, 3.5]);
  // our thresholds on a layer fed by counts (V in units of input spikes): the float32 step points, a hair
  // below the closed form because the quantizer adds 1e−5 before rounding
  const net = new SpikingNet(parseSpec('1C1-4C1-2', { bn: true }), sgConfig([1, 1, 1], 1, 2));
  const bn = net.layer('1.bn'), st = Object.fromEntries(bn.buffers()), p = Object.fromEntries(bn.params());
  st.running_mean!.fill(0); st.running_var!.fill(1 - 1e-5); p.weight!.data.fill(1); p.bias!.data.fill(0);
  const chain = { bn: net.info.byId.get('1.bn') as Extract<GraphNode, { op: 'bn' }>, relu: net.info.byId.get('1.relu')!, quant: net.info.byId.get('1.q') as Extract<GraphNode, { op: 'quant' }> };
  const { thresholds, direction } = scatterThresholds(net, chain, 4, 2);
  assert.deepEqual(Array.from(direction), [1, 1, 1, 1]);
  for (let i = 0; i < 4; i++) {
    const th = thresholds[i]!;
    assert.ok(th <= closed[i]! && closed[i]! - th < 3e-5, `θ${i} = ${th}`);
  }
});

test('thresholds equal a brute-force search of the quantizer’s step points, for random batch norms (γ < 0 and γ = 0 too)', () => {
  const rng = new Rng(7);
  for (const [k, B] of [[0, 1], [1, 2], [0, 4], [2, 1]] as const) {
    const net = new SpikingNet(parseSpec('3C1-12C1-2', { bn: true }), sgConfig([3, 1, 1], k, B));
    randomizeBn(net, rng);
    const gamma = net.layer('1.bn').params()[0]![1].data;
    gamma[0] = -0.8; gamma[1] = 0;
    const chain = { bn: net.info.byId.get('1.bn') as Extract<GraphNode, { op: 'bn' }>, relu: net.info.byId.get('1.relu')!, quant: net.info.byId.get('1.q') as Extract<GraphNode, { op: 'quant' }> };
    const L = 2 ** k * B, scale = 2 ** k;
    const { thresholds, direction } = scatterThresholds(net, chain, 12, scale);
    assert.ok(Array.from(gamma).some((g) => g < 0) && Array.from(gamma).some((g) => g === 0));
    // every V on a fine grid (integers and quarters over ±40): the ANN chain's count = the scatter count
    const vs: number[] = [];
    for (let v = -40; v <= 40; v += 0.25) vs.push(v);
    const grid = new Tensor(Float32Array.from({ length: vs.length * 12 }, (_, i) => vs[Math.floor(i / 12)]! / scale), [vs.length, 12]);
    const ann = noGrad(() => {
      const bn = net.layer('1.bn'), st = Object.fromEntries(bn.buffers());
      const y = op.batchNorm(grid, bn.params()[0]![1], bn.params()[1]![1], { runningMean: st.running_mean!, runningVar: st.running_var! }, { training: false });
      return op.quantizeActivation(op.relu(y), k, B).data;
    });
    for (let r = 0; r < vs.length; r++) {
      for (let c = 0; c < 12; c++) {
        let n = 0;
        for (let i = 0; i < L; i++) n += direction[c]! > 0 ? (vs[r]! >= thresholds[c * L + i]! ? 1 : 0) : (vs[r]! <= thresholds[c * L + i]! ? 1 : 0);
        assert.equal(n, Math.round(ann[r * 12 + c]! * scale), `k${k}B${B} channel ${c} (γ ${gamma[c]}) at V ${vs[r]}`);
      }
    }
  }
});

test('ANN = SNN, logits bit for bit, on random inputs for random small networks', () => {
  const rng = new Rng(11);
  const specs = ['6C3p1-8C3-8C2s2-16C3-10', '4C5-8C3s2-12C3-32-10', '8C3-16C3-F-20-5'];
  for (const [i, text] of specs.entries()) {
    for (const [k, B] of [[0, 1], [1, 2], [0, 2], [1, 4]] as const) {
      const ann = new SpikingNet(parseSpec(text, { bn: true }), sgConfig([2, 12, 12], k, B, i + 1));
      randomizeBn(ann, rng);
      const snn = convertScatterGather(ann);
      assert.equal(snn.config.T, 1);
      assert.ok(snn.graph.nodes.every((n) => n.op !== 'bn' && n.op !== 'relu' && n.op !== 'quant'));
      const x = new Tensor(Float32Array.from({ length: 8 * 288 }, () => 2 * rng.float() - 0.5), [8, 2, 12, 12]);
      const a = noGrad(() => ann.forward(x, { training: false }).logits.toArray());
      const s = noGrad(() => snn.forward(x, { training: false }).logits.toArray());
      assert.deepEqual(s, a, `${text} k${k}B${B}`);
    }
  }
});

test('SOPs by the seed’s formula on a hand-counted case; spikes counted with the encoder', () => {
  // input 1×3×3 of ones → encoder 1C1 (weight 1) → scatter (1 level, threshold 0.5: all fire, 9 spikes) →
  // hidden conv 2C2 (stride 1): each input spike reaches fan-out(position) windows: corners 1, edges 2,
  // centre 4 → Σ = 16; SOPs = 16 · C_out 2 · 2 · levels 1 = 64
  const ann = new SpikingNet(parseSpec('1C1-2C2-3', { bn: true }), sgConfig([1, 3, 3], 0, 1));
  for (const l of ann.layers) {
    for (const [name, t] of l.params()) {
      if (name === 'weight') t.data.fill(l.node.op === 'bn' ? 1 : 1);
      if (name === 'bias') t.data.fill(0);
    }
    if (l.node.op === 'bn') { const st = Object.fromEntries(l.buffers()); st.running_mean!.fill(0); st.running_var!.fill(1 - 1e-5); }
  }
  const snn = convertScatterGather(ann);
  const data: Dataset = { name: 'ones', length: 2, shape: [1, 3, 3], temporal: false, numClasses: 3, classNames: ['a', 'b', 'c'],
    label: () => 0, read: (_i: number, out: Float32Array, off: number) => { out.fill(1, off, off + 9); } } as unknown as Dataset;
  const r = scatterReport(snn, data, { batchSize: 2 });
  assert.equal(r.sopsPerImage, 64);
  // spikes: encoder scatter 9 per image; hidden conv 2C2 of ones: V = 4 per output (2×2 windows), 2×2×2 = 8 outputs, all fire
  assert.deepEqual(r.layerSpikes, { '0.scatter': 9, '1.scatter': 8 });
  assert.equal(r.spikesPerImage, 17);
  assert.deepEqual(r.spikesPerBatch, [34]);
  assert.deepEqual(r.sopsPerBatch, [128]);
});
