/**
 * Small split folders for the tests of the served runtime: three sub-models (4C3-P2-8C3-P2-F-16l-3 on
 * 1×16×16 inputs, cut at their flatten node "4.flatten": 32 features per step) on devices alpha, beta and
 * gamma, and a fusion MLP (16-6 over the 96 concatenated features, readout mean), T = 4. The reference
 * runs the same computation in this process, straight through the SpikingNet API.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { SpikingNet } from '../../src/layers/net.js';
import { parseSpec } from '../../src/notation/parse.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { loadNet, saveNet } from '../../src/train/model-file.js';
import { writeSplit, type SplitManifest } from '../../src/split/manifest.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/tensor/tape.js';
import { softmax } from '../../src/ops/loss.js';
import { encodeNpy } from '../../src/data/events/npy.js';

export const DEVICES = ['alpha', 'beta', 'gamma'] as const;
export const INPUT = [1, 16, 16] as const;
export const T = 4;

/** Writes a split into `dir` whose weights come from `seed` (another seed: another hash). */
export function makeSplit(dir: string, seed: number): SplitManifest {
  const neuron = neuronParams('lif');
  const submodels = DEVICES.map((device, k) => {
    const net = new SpikingNet(parseSpec('4C3-P2-8C3-P2-F-16l-3', { bias: true }), {
      input: [...INPUT], neuron, T, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: seed * 10 + k,
    });
    // stronger first and second convolutions, so the feature node carries plenty of spikes
    for (const name of ['0.conv.weight', '2.conv.weight']) { const w = net.tensorValues()[name]!; for (let i = 0; i < w.length; i++) w[i]! *= 3; }
    const file = `sub-${k}.es`;
    saveNet(join(dir, file), net, { dataset: 'mnist' });
    return { name: `sub-${k}`, file, classes: [2 * k, 2 * k + 1], feature_node: '4.flatten', feature_size: 32, device, zeta: 50, memory_bytes: 4 * net.parameters().reduce((a, p) => a + p.size, 0) };
  });
  const fusion = new SpikingNet(parseSpec('16-6', { bias: true }), { input: [96], neuron, T, encoder: { kind: 'direct' }, readout: 'mean', readoutBeta: 0.9, seed: seed * 10 + 9 });
  for (const name of ['0.dense.weight']) { const w = fusion.tensorValues()[name]!; for (let i = 0; i < w.length; i++) w[i]! *= 4; }
  saveNet(join(dir, 'fusion.es'), fusion, { dataset: 'mnist' });
  return writeSplit(dir, {
    dataset: 'mnist', input: [...INPUT], classes: 6, T, classNames: ['zero', 'one', 'two', 'three', 'four', 'five'], normalize: 'mnist',
    submodels, devices: DEVICES.map((name) => ({ name, memory_bytes: 1_000_000 })), fusion: { file: 'fusion.es' },
  });
}

/** A deterministic test image in [0, 1] (pattern k). */
export function image(k: number): Float32Array {
  return Float32Array.from({ length: 256 }, (_, i) => (((i * (7 + 2 * k)) + 13 * k) % 17) / 16);
}

/** Writes image k as an 8-bit grey PNG and returns the pixels as the PNG holds them. */
export function writeImagePng(path: string, k: number): Float32Array {
  const px = image(k), png = new PNG({ width: 16, height: 16, colorType: 0 });
  const held = new Float32Array(256);
  for (let i = 0; i < 256; i++) { const v = Math.round(px[i]! * 255); png.data.set([v, v, v, 255], 4 * i); held[i] = v / 255; }
  writeFileSync(path, PNG.sync.write(png));
  return held;
}

/** Writes image k as a float32 .npy sample shaped [1, 16, 16]. */
export function writeImageNpy(path: string, k: number): Float32Array {
  const px = image(k);
  writeFileSync(path, encodeNpy(px, [...INPUT], '<f4'));
  return px;
}

/** Pixels → the model input: MNIST's normalisation, as the split's manifest says. */
export function normalised(px: Float32Array): Float32Array {
  return px.map((v) => Math.fround((Math.fround(v) - 0.1307) / 0.3081));
}

/** Runs the split in this process: each sub-model to its flatten node, concatenated per step, the fusion. */
export function reference(dir: string, m: SplitManifest, x: Float32Array, drop: readonly string[] = []): { logits: number[]; probabilities: number[]; class: number; spikes: number } {
  const D = m.submodels.reduce((a, s) => a + s.feature_size, 0);
  const features = new Float32Array(T * D);
  let at = 0, spikes = 0;
  for (const s of m.submodels) {
    if (!drop.includes(s.device)) {
      const { net } = loadNet(join(dir, s.file));
      const f = noGrad(() => net.run(new Tensor(x, [1, ...INPUT]), { training: false, to: s.feature_node }));
      for (let t = 0; t < T; t++) for (let j = 0; j < s.feature_size; j++) {
        const v = f.x.data[t * s.feature_size + j]!;
        features[t * D + at + j] = v;
        spikes += v;
      }
    }
    at += s.feature_size;
  }
  const { net: fusion } = loadNet(join(dir, m.fusion.file));
  const logits = noGrad(() => fusion.forward(new Tensor(features, [T, 1, D]), { training: false, form: 'time' }).logits);
  const p = Array.from(softmax(logits).data);
  return { logits: Array.from(logits.data), probabilities: p, class: p.indexOf(Math.max(...p)), spikes };
}
