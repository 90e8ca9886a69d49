/**
 * `edgespike split m.es --devices devices.json --apoz 95 --min-filters 16 --out DIR`: EC-SNN's split of a
 * trained model into class-specific pruned sub-models assigned to devices, retrained, with a fusion MLP;
 * writes DIR (see src/split/manifest.ts) with report.json and report.md.
 */
import { defineCommand } from 'citty';
import { join } from 'node:path';
import { EdgespikeError } from '../util/errors.js';
import { checkOutputDir, makeDirs, readInput } from '../util/fsx.js';
import { writeFileAtomic } from '../util/atomic.js';
import { loadNet } from '../train/model-file.js';
import { checkDevices } from '../split/manifest.js';
import { runSplit, type SplitReport } from '../split/split.js';
import { checkFlags, num, optNum, printJson } from './_args.js';
import { loadDataset } from './_data.js';

const args = {
  model: { type: 'positional', description: 'trained model file (.es)', required: true },
  devices: { type: 'string', description: 'JSON list of devices: [{"name": "pi-1", "memory_bytes": 4000000, "speed": 1.0}] (optional energy_j, ops)', required: true },
  out: { type: 'string', description: 'folder to write the split into', required: true },
  apoz: { type: 'string', description: 'APoZ threshold ζ in percent (layer l prunes above (ζ − l)/100)', default: '95' },
  'min-filters': { type: 'string', description: 'filters every conv keeps at least', default: '16' },
  'delta-zeta': { type: 'string', description: 'how much ζ drops when a sub-model fits no device', default: '1' },
  dataset: { type: 'string', description: 'data set (default: the one the model was trained on)' },
  'data-dir': { type: 'string', description: 'folder with the data set files' },
  limit: { type: 'string', description: 'use the first N training samples' },
  'test-limit': { type: 'string', description: 'use the first N test samples' },
  'retrain-epochs': { type: 'string', description: 'epochs each sub-model retrains (the seed: 20)', default: '2' },
  'retrain-lr': { type: 'string', description: 'sub-model learning rate (Adam, cosine)', default: '0.001' },
  'fusion-epochs': { type: 'string', description: 'epochs the fusion MLP trains (the seed: at most 15)', default: '2' },
  'fusion-lr': { type: 'string', description: 'fusion learning rate (Adam, cosine)', default: '0.001' },
  'batch-size': { type: 'string', description: 'batch size (also the APoZ chunk)', default: '64' },
  'drop-devices': { type: 'string', description: 'probability that one sub-model\'s features are dropped in a fusion batch (robustness to a missing device)', default: '0.2' },
  seed: { type: 'string', description: 'random seed', default: '1' },
  json: { type: 'boolean', description: 'print the report as one JSON object' },
} as const;

/** The report as a markdown table, one row per device, then the totals. */
export function splitTable(r: SplitReport): string {
  const pct = (x: number): string => (100 * x).toFixed(2);
  const lines = [
    '| sub-model | device | classes | ζ | weights | accuracy (own classes) | ATSAN | SOPs | energy µJ | latency ms |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.submodels.map((s) => `| ${s.name} | ${s.device} | ${s.classes.join(',')} | ${s.zeta} | ${s.weight_bytes.toLocaleString('en-US')} B | ${pct(s.accuracy)} % | ${s.atsan.toFixed(0)} | ${s.sops.toExponential(2)} | ${s.energy_uj.toFixed(3)} | ${s.device_latency_ms.toFixed(3)} |`),
    `| unsplit | – | all | – | ${r.unsplit.weight_bytes.toLocaleString('en-US')} B | ${pct(r.unsplit.accuracy)} % | ${r.unsplit.atsan.toFixed(0)} | ${r.unsplit.sops.toExponential(2)} | ${r.unsplit.energy_uj.toFixed(3)} | ${r.unsplit.latency_ms.toFixed(3)} |`,
    '',
    `fused accuracy ${pct(r.fused_accuracy)} % (unsplit ${pct(r.unsplit.accuracy)} %); shrink ratio ${r.shrink_ratio.toFixed(3)}; step latency ${r.step_latency_ms.toFixed(3)} ms (slowest device + fusion ${r.fusion_latency_ms.toFixed(3)} ms)`,
    ...(r.fused_accuracy_one_device_missing.length ? [`with one device missing: ${r.fused_accuracy_one_device_missing.map((m) => `${m.device} ${pct(m.accuracy)} %`).join(', ')}`] : []),
  ];
  return lines.join('\n') + '\n';
}

export const splitCommand = defineCommand({
  meta: { name: 'split', description: 'Split a model into class-specific sub-models for several devices, with a fusion MLP (EC-SNN)' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('split', rawArgs, args);
    const zeta = num('apoz', a.apoz, { min: 0, max: 100 }), minFilters = num('min-filters', a['min-filters'], { int: true, min: 1, max: 1e6 });
    const deltaZeta = num('delta-zeta', a['delta-zeta'], { min: 0.01, max: 100 });
    const batchSize = num('batch-size', a['batch-size'], { int: true, min: 1, max: 65_536 }), seed = num('seed', a.seed, { int: true, min: 0, max: 2 ** 32 - 1 });
    const retrain = { epochs: num('retrain-epochs', a['retrain-epochs'], { int: true, min: 1, max: 1000 }), lr: num('retrain-lr', a['retrain-lr'], { min: 1e-12, max: 10 }), batchSize };
    const fusion = { epochs: num('fusion-epochs', a['fusion-epochs'], { int: true, min: 1, max: 1000 }), lr: num('fusion-lr', a['fusion-lr'], { min: 1e-12, max: 10 }), batchSize,
      dropDevices: num('drop-devices', a['drop-devices'], { min: 0, max: 1 }) };
    const limit = optNum('limit', a.limit, { int: true, min: 1, max: 1e9 }), testLimit = optNum('test-limit', a['test-limit'], { int: true, min: 1, max: 1e9 });
    const devicesFile = String(a.devices);
    let devicesJson: unknown;
    try { devicesJson = JSON.parse(readInput(devicesFile, 'devices file', 1 << 20).toString('utf8')); } catch (e) {
      if (e instanceof EdgespikeError) throw e;
      throw new EdgespikeError(`--devices ${devicesFile}: not JSON (${(e as Error).message})`);
    }
    const devices = checkDevices(devicesJson, `--devices ${devicesFile}`);
    const out = String(a.out);
    checkOutputDir('--out', out);
    const { net, meta } = loadNet(String(a.model));
    const dataset = String(a.dataset ?? meta.dataset ?? 'mnist');
    const T = net.config.T;
    const trainSet = await loadDataset(dataset, 'train', { dataDir: a['data-dir'], T, limit });
    const testSet = await loadDataset(dataset, 'test', { dataDir: a['data-dir'], T, limit: testLimit });
    if (devices.length > trainSet.numClasses) throw new EdgespikeError(`--devices: ${devices.length} devices for ${trainSet.numClasses} classes; each device needs a class`);
    makeDirs(out);
    const { report } = runSplit(net, trainSet, testSet, {
      devices, apoz: zeta, minFilters, deltaZeta, retrain, fusion, seed, outDir: out, dataset, normalize: meta.normalize, progress: !a.json,
      log: a.json ? undefined : (line) => process.stderr.write(`${line}\n`),
    });
    writeFileAtomic(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileAtomic(join(out, 'report.md'), splitTable(report));
    if (a.json) printJson(report);
    else process.stdout.write(`${out}: ${report.devices} sub-models and a fusion\n\n${splitTable(report)}`);
  },
});
