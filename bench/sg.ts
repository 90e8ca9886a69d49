/**
 * `npm run bench -- sg`: Scatter-and-Gather's table (§4.7) measured: for MNIST and Fashion-MNIST and each
 * of k0B1, k0B2, k1B2, k1B4, sg-lenet trained by the recipe (`edgespike train --model sg-lenet
 * --act-levels …`), converted, and both run on the 10,000 test images: ANN and SNN accuracy, the images on
 * which they disagree, spikes and SOPs per image; then k1B2 with 10 % and 20 % of the first layer's spikes
 * dropped. Prints one JSON line per row and a markdown table at the end.
 * Options: --out DIR (where the models go; default a temporary folder), --datasets mnist,fashion-mnist,
 * --levels k0B1,k0B2,k1B2,k1B4, --epochs N (default: the recipe's).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/main.js';
import { loadNet } from '../src/train/model-file.js';
import { scatterReport } from '../src/metrics/run.js';
import { staticDataset } from '../src/data/registry.js';
import { noGrad } from '../src/tensor/tape.js';
import { workspace } from '../src/tensor/storage.js';
import { makeBatch } from '../src/data/batch.js';
import { argmaxRows } from '../src/ops/reduce.js';
import type { SpikingNet } from '../src/layers/net.js';
import type { Dataset } from '../src/data/dataset.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const print = (o: object): void => { process.stdout.write(JSON.stringify(o) + '\n'); };

function predictions(net: SpikingNet, test: Dataset): Int32Array {
  const out = new Int32Array(test.length);
  noGrad(() => {
    for (let b = 0; b < test.length; b += 500) {
      const { x } = makeBatch(test, null, b, Math.min(test.length, b + 500));
      out.set(workspace(() => argmaxRows(net.forward(x, { training: false }).logits)), b);
    }
  });
  return out;
}

/** Runs the table. */
export async function runSgBench(): Promise<void> {
  const dir = process.argv.includes('--out') ? arg('out', '') : mkdtempSync(join(tmpdir(), 'edgespike-sg-'));
  mkdirSync(dir, { recursive: true });
  const datasets = arg('datasets', 'mnist,fashion-mnist').split(','), levels = arg('levels', 'k0B1,k0B2,k1B2,k1B4').split(',');
  const epochs = process.argv.includes('--epochs') ? ['--epochs', arg('epochs', '6')] : [];
  const rows: Record<string, unknown>[] = [];
  for (const dataset of datasets) {
    const test = staticDataset(dataset as 'mnist', 'test', {});
    for (const lv of levels) {
      const ann = join(dir, `${dataset}-${lv}-ann.es`), snn = join(dir, `${dataset}-${lv}-snn.es`);
      const t0 = performance.now();
      const code = await runCli(['train', '--model', 'sg-lenet', '--dataset', dataset, '--act-levels', lv, ...epochs, '--json', '--out', ann]);
      if (code !== 0) throw new Error(`training ${dataset} ${lv} failed (exit ${code})`);
      const trainSeconds = (performance.now() - t0) / 1000;
      if (await runCli(['convert', ann, '--out', snn, '--json']) !== 0) throw new Error(`converting ${dataset} ${lv} failed`);
      const a = loadNet(ann).net, s = loadNet(snn).net;
      const annPred = predictions(a, test);
      const r = scatterReport(s, test, { batchSize: 200 });
      let annCorrect = 0, diff = 0;
      for (let i = 0; i < test.length; i++) { if (annPred[i] === test.label(i)) annCorrect++; if (annPred[i] !== r.predictions[i]) diff++; }
      const row: Record<string, unknown> = { bench: 'sg', dataset, levels: lv, train_seconds: trainSeconds, ann_accuracy: annCorrect / test.length,
        snn_accuracy: r.accuracy, disagreements: diff, spikes_per_image: r.spikesPerImage, sops_per_image: r.sopsPerImage };
      if (lv === 'k1B2') {
        for (const ratio of [0.1, 0.2]) row[`snn_accuracy_drop_${Math.round(ratio * 100)}`] = scatterReport(s, test, { batchSize: 200, dropRatio: ratio, seed: 1 }).accuracy;
      }
      print(row);
      rows.push(row);
    }
  }
  const pct = (x: unknown): string => (typeof x === 'number' ? (100 * x).toFixed(2) : '–');
  process.stdout.write('\n| data set | levels | ANN % | SNN % | disagreements | spikes / image | SOPs / image | 10 % / 20 % drop | training s |\n|---|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${String(r.dataset)} | ${String(r.levels)} | ${pct(r.ann_accuracy)} | ${pct(r.snn_accuracy)} | ${String(r.disagreements)} | ${Math.round(r.spikes_per_image as number).toLocaleString('en-US')} | ${(r.sops_per_image as number).toExponential(3)} | ` +
      `${r.snn_accuracy_drop_10 === undefined ? '' : `${pct(r.snn_accuracy_drop_10)} / ${pct(r.snn_accuracy_drop_20)}`} | ${Math.round(r.train_seconds as number)} |\n`);
  }
}
