/**
 * `edgespike convert ann.es --out snn.es`: Scatter-and-Gather's lossless conversion of a quantized ANN
 * (trained with --act-levels) into a one-step SNN of multi-threshold neurons.
 */
import { defineCommand } from 'citty';
import { checkOutputFile } from '../util/fsx.js';
import { loadNet, saveNet } from '../train/model-file.js';
import { convertScatterGather } from '../layers/convert.js';
import { checkFlags, printJson } from './_args.js';

const args = {
  model: { type: 'positional', description: 'quantized ANN model file (trained with --act-levels)', required: true },
  out: { type: 'string', description: 'SNN model file to write', required: true },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

export const convertCommand = defineCommand({
  meta: { name: 'convert', description: 'Convert a quantized ANN into a one-step SNN that gives the same answer on every input' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('convert', rawArgs, args);
    const out = String(a.out);
    checkOutputFile('--out', out);
    const { net, meta } = loadNet(String(a.model));
    const snn = convertScatterGather(net);
    const levels = snn.graph.nodes.find((n) => n.op === 'scatter');
    const training = meta.training as Record<string, unknown> | undefined;
    saveNet(out, snn, { ...meta, training: { ...(training ?? {}), converted_from: String(a.model), act_levels: net.config.levels ?? null } });
    const summary = { model: out, from: String(a.model), scatter_layers: snn.graph.nodes.filter((n) => n.op === 'scatter').length,
      levels: levels?.op === 'scatter' ? levels.attrs.levels : 0, timesteps: snn.config.T };
    if (a.json) printJson(summary);
    else process.stdout.write(`${out}: ${summary.scatter_layers} scatter layers of ${summary.levels} thresholds, one step\n`);
  },
});
