/** `edgespike eval`: test accuracy and speed of a model file on a data set. */
import { defineCommand } from 'citty';
import { evaluate } from '../train/trainer.js';
import { loadNet } from '../train/model-file.js';
import { runReport } from '../metrics/run.js';
import { checkFlags, num, optNum, printJson } from './_args.js';
import { loadDataset } from './_data.js';

const args = {
  model: { type: 'positional', description: 'model file (.es)', required: true },
  dataset: { type: 'string', description: 'data set (default: the one it was trained on)' },
  'data-dir': { type: 'string', description: 'folder with the data set files' },
  limit: { type: 'string', description: 'use the first N test samples' },
  timesteps: { type: 'string', alias: 'T', description: 'evaluate with another number of time steps' },
  'batch-size': { type: 'string', description: 'batch size', default: '256' },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

export const evalCommand = defineCommand({
  meta: { name: 'eval', description: 'Evaluate a model file: test accuracy, samples/s' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('eval', rawArgs, args);
    const Tflag = optNum('timesteps', a.timesteps, { int: true, min: 1, max: 1000 });
    const limitN = optNum('limit', a.limit, { int: true, min: 1, max: 1e9 }), batch = num('batch-size', a['batch-size'], { int: true, min: 1, max: 65_536 });
    let { net, meta } = loadNet(String(a.model));
    const T = Tflag ?? net.config.T;
    if (T !== net.config.T) net = net.withConfig({ T });
    const dataset = String(a.dataset ?? meta.dataset ?? 'mnist');
    const test = await loadDataset(dataset, 'test', { dataDir: a['data-dir'], T, limit: limitN });
    const r = evaluate(net, test, batch);
    // gated models also report SpQuant-SNN's FLOPs reduction, from a run with the gates' masks counted
    const gated = net.graph.nodes.some((n) => n.op === 'gate') ? runReport(net, test, { batchSize: batch }) : null;
    const out = { test_accuracy: r.accuracy, samples: r.samples, timesteps: T, samples_per_second: r.samplesPerSecond, dataset,
      ...(gated ? { gated_flops_reduction: gated.gatedFlopsReduction, gate_active_fraction: gated.gates!.map((g) => g.activeFraction) } : {}) };
    if (a.json) printJson(out);
    else process.stdout.write(`${dataset}: ${(100 * r.accuracy).toFixed(2)}% of ${r.samples} test samples, T = ${T}, ${Math.round(r.samplesPerSecond)} samples/s` +
      `${gated ? `, gated FLOPs reduction ${gated.gatedFlopsReduction!.toFixed(2)}×` : ''}\n`);
  },
});
