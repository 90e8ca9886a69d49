/** `edgespike info`: what a model file holds (its graph, settings, tensors' storage, training summary). */
import { defineCommand } from 'citty';
import { loadNet } from '../train/model-file.js';
import { checkFlags, printJson } from './_args.js';
import { describeGraph, formatGraph } from '../graph/describe.js';
import type { GraphNode } from '../graph/graph.js';

/** What a JSON node row adds to describeGraph's: the attributes and, for neurons, every neuron parameter. */
function graphNodeExtras(n: GraphNode): Record<string, unknown> {
  return { attrs: n.attrs, ...(n.op === 'neuron' ? { neuron: n.neuron } : {}), ...(n.block ? { block: n.block } : {}) };
}

const args = {
  model: { type: 'positional', description: 'model file (.es)', required: true },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

export const infoCommand = defineCommand({
  meta: { name: 'info', description: 'Show what a model file holds' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('info', rawArgs, args);
    const { net, meta, stored, version } = loadNet(String(a.model));
    const params = net.parameters().reduce((s, t) => s + t.size, 0);
    const c = net.config;
    const training = meta.training as { epochs?: { test_accuracy?: number }[] } | undefined;
    const lastAcc = training?.epochs?.at(-1)?.test_accuracy;
    const dtypes: Record<string, number> = {};
    for (const t of Object.values(stored)) dtypes[t.dtype ?? 'F32'] = (dtypes[t.dtype ?? 'F32'] ?? 0) + 1;
    const info = {
      format_version: version, spec: net.spec ? meta.specText ?? null : null, input: c.input, classes: net.classes, parameters: params,
      spiking_layers: net.spikingLayers, timesteps: c.T, act: c.act ?? 'snn', encoder: c.encoder, readout: c.readout,
      dataset: meta.dataset ?? null, epochs: training?.epochs?.length ?? 0, test_accuracy: lastAcc ?? null, tensor_dtypes: dtypes,
      graph: { input: net.graph.input, output: net.graph.output, nodes: describeGraph(net.graph).map((r, i) => ({ ...r, ...graphNodeExtras(net.graph.nodes[i]!) })) },
    };
    if (a.json) { printJson(info); return; }
    const lines = [
      ['spec', info.spec ?? '(a graph without notation)'], ['input', `[${c.input.join(', ')}]`], ['classes', String(net.classes)],
      ['parameters', params.toLocaleString('en-US')], ['spiking layers', String(net.spikingLayers)], ['time steps', String(c.T)],
      ...(c.act === 'ann' ? [['act', 'ann (ReLU, max pooling, biases)']] : []),
      ['encoder', c.encoder.kind], ['readout', c.readout], ['dataset', String(info.dataset ?? '-')],
      ['stored as', Object.entries(dtypes).map(([d, n]) => `${n} × ${d}`).join(', ')], ['file format', `version ${version}`],
      ['trained', `${info.epochs} epochs${lastAcc === undefined ? '' : `, test accuracy ${(100 * lastAcc).toFixed(2)}%`}`],
    ];
    for (const [k, v] of lines) process.stdout.write(`${k.padEnd(15)} ${v}\n`);
    process.stdout.write(`\n${formatGraph(net.graph)}\n`);
  },
});
