/** `edgespike eval`: test accuracy and speed of a model file on a data set. */
import { defineCommand } from 'citty';
import { evaluate } from '../train/trainer.js';
import { loadNet } from '../train/model-file.js';
import { join } from 'node:path';
import { EdgespikeError } from '../util/errors.js';
import { checkOutputDir, makeDirs } from '../util/fsx.js';
import { writeFileAtomic } from '../util/atomic.js';
import { scatterReport, type ScatterReport } from '../metrics/run.js';
import type { SpikingNet } from '../layers/net.js';
import type { Dataset } from '../data/dataset.js';
import { noGrad } from '../tensor/tape.js';
import { workspace } from '../tensor/storage.js';
import { makeBatch } from '../data/batch.js';
import { argmaxRows } from '../ops/reduce.js';
import { runReport } from '../metrics/run.js';
import { checkFlags, num, optNum, printJson } from './_args.js';
import { loadDataset } from './_data.js';

const args = {
  model: { type: 'positional', description: 'model file (.es)', required: true },
  dataset: { type: 'string', description: 'data set (default: the one it was trained on)' },
  'data-dir': { type: 'string', description: 'folder with the data set files' },
  limit: { type: 'string', description: 'use the first N test samples' },
  'test-limit': { type: 'string', description: 'the same as --limit (the name train and quantize give it)' },
  timesteps: { type: 'string', alias: 'T', description: 'evaluate with another number of time steps' },
  'batch-size': { type: 'string', description: 'batch size', default: '256' },
  compare: { type: 'string', description: 'another model file run on the same samples: its accuracy and the samples on which the two disagree' },
  'noise-ratio': { type: 'string', description: 'converted (scatter) models: drop each first-layer spike with this probability', default: '0' },
  logs: { type: 'string', description: 'converted models: write spike_num.txt, sop_num.txt and accuracy.txt (one line per test batch) under DIR/k{k}B{B}/' },
  seed: { type: 'string', description: 'seed of the spike drops', default: '1' },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

/** The predictions of a model on a test set, batch by batch. */
function predictions(net: SpikingNet, test: Dataset, batch: number): Int32Array {
  const out = new Int32Array(test.length);
  noGrad(() => {
    for (let b = 0; b < test.length; b += batch) {
      const { x } = makeBatch(test, null, b, Math.min(test.length, b + batch));
      out.set(workspace(() => argmaxRows(net.forward(x, { training: false }).logits)), b);
    }
  });
  return out;
}

/** Writes the seed's per-batch logs under DIR/k{k}B{B}/ (k and B from the network's scatter layers). */
function writeScatterLogs(dir: string, net: SpikingNet, r: ScatterReport): void {
  const levels = (net.graph.nodes.find((n) => n.op === 'scatter') as { attrs: { levels: number } }).attrs.levels;
  const lv = net.config.levels ?? { k: 0, B: levels };
  const sub = join(dir, `k${lv.k}B${lv.B}`);
  makeDirs(sub);
  const lines = (a: number[]): string => a.map((v) => String(v)).join('\n') + '\n';
  writeFileAtomic(join(sub, 'spike_num.txt'), lines(r.spikesPerBatch));
  writeFileAtomic(join(sub, 'sop_num.txt'), lines(r.sopsPerBatch));
  writeFileAtomic(join(sub, 'accuracy.txt'), lines(r.correctPerBatch));
}

export const evalCommand = defineCommand({
  meta: { name: 'eval', description: 'Evaluate a model file: test accuracy, samples/s' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('eval', rawArgs, args);
    const Tflag = optNum('timesteps', a.timesteps, { int: true, min: 1, max: 1000 });
    const noise = num('noise-ratio', a['noise-ratio'], { min: 0, max: 1 }), seed = num('seed', a.seed, { int: true, min: 0, max: 2 ** 32 - 1 });
    if (a.logs !== undefined) checkOutputDir('--logs', String(a.logs));
    if (a.limit !== undefined && a['test-limit'] !== undefined) throw new EdgespikeError('eval: give --limit or --test-limit, not both');
    const limitN = a['test-limit'] !== undefined ? optNum('test-limit', a['test-limit'], { int: true, min: 1, max: 1e9 }) : optNum('limit', a.limit, { int: true, min: 1, max: 1e9 }), batch = num('batch-size', a['batch-size'], { int: true, min: 1, max: 65_536 });
    let { net, meta } = loadNet(String(a.model));
    const T = Tflag ?? net.config.T;
    if (T !== net.config.T) net = net.withConfig({ T });
    const dataset = String(a.dataset ?? meta.dataset ?? 'mnist');
    const test = await loadDataset(dataset, 'test', { dataDir: a['data-dir'], T, limit: limitN });
    const scatter = net.graph.nodes.some((n) => n.op === 'scatter');
    if (!scatter && (noise > 0 || a.logs !== undefined)) throw new EdgespikeError('eval: --noise-ratio and --logs apply to converted (scatter) models');
    const sg = scatter ? scatterReport(net, test, { batchSize: batch, dropRatio: noise, seed }) : null;
    const r = sg ? { accuracy: sg.accuracy, samples: sg.samples, samplesPerSecond: NaN } : evaluate(net, test, batch);
    let compare = null;
    if (a.compare !== undefined) {
      const other = loadNet(String(a.compare)).net;
      if (other.config.input.join() !== net.config.input.join()) throw new EdgespikeError(`--compare ${a.compare}: takes input [${other.config.input.join(', ')}], this model [${net.config.input.join(', ')}]`);
      const mine = sg?.predictions ?? predictions(net, test, batch), theirs = predictions(other, test, batch);
      let agree = 0, correct = 0, diff = 0;
      for (let i = 0; i < test.length; i++) { if (theirs[i] === test.label(i)) correct++; if (mine[i] === theirs[i]) agree++; else diff++; }
      void agree;
      compare = { compare_accuracy: correct / test.length, disagreements: diff, compare_model: String(a.compare) };
    }
    if (sg && a.logs !== undefined) writeScatterLogs(String(a.logs), net, sg);
    // gated models also report SpQuant-SNN's FLOPs reduction, from a run with the gates' masks counted
    const gated = net.graph.nodes.some((n) => n.op === 'gate') ? runReport(net, test, { batchSize: batch }) : null;
    const out = { test_accuracy: r.accuracy, samples: r.samples, timesteps: T, ...(sg ? {} : { samples_per_second: r.samplesPerSecond }), dataset,
      ...(compare ?? {}),
      ...(sg ? { spikes_per_image: sg.spikesPerImage, sops_per_image: sg.sopsPerImage, layer_spikes_per_image: sg.layerSpikes, noise_ratio: noise } : {}),
      ...(gated ? { gated_flops_reduction: gated.gatedFlopsReduction, gate_active_fraction: gated.gates!.map((g) => g.activeFraction) } : {}) };
    if (a.json) printJson(out);
    else process.stdout.write(`${dataset}: ${(100 * r.accuracy).toFixed(2)}% of ${r.samples} test samples, T = ${T}` +
      `${sg ? `, ${Math.round(sg.spikesPerImage)} spikes and ${sg.sopsPerImage.toExponential(3)} SOPs per image` : `, ${Math.round(r.samplesPerSecond)} samples/s`}` +
      `${gated ? `, gated FLOPs reduction ${gated.gatedFlopsReduction!.toFixed(2)}×` : ''}` +
      `${compare ? `; ${compare.compare_model}: ${(100 * compare.compare_accuracy).toFixed(2)}%, ${compare.disagreements} disagreements` : ''}\n`);
  },
});
