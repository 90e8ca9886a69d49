/** `edgespike info`: what a model file holds (its graph, settings, tensors' storage, training summary). */
import { defineCommand } from 'citty';
import { closeSync, openSync, readSync } from 'node:fs';
import { loadNet } from '../train/model-file.js';
import { CHECKPOINT_FORMAT, loadCheckpoint } from '../io/model-file.js';
import { checkFlags, printJson } from './_args.js';
import { describeGraph, formatGraph } from '../graph/describe.js';
import type { GraphNode } from '../graph/graph.js';

/** What a JSON node row adds to describeGraph's: the attributes and, for neurons, every neuron parameter. */
function graphNodeExtras(n: GraphNode): Record<string, unknown> {
  return { attrs: n.attrs, ...(n.op === 'neuron' ? { neuron: n.neuron } : {}), ...(n.block ? { block: n.block } : {}) };
}

/** The format tag of a safetensors file (undefined for anything else), read from its header alone. */
function fileFormat(path: string): string | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(8);
      if (readSync(fd, head, 0, 8, 0) < 8) return undefined;
      const n = Number(head.readBigUInt64LE(0));
      if (n > 1e6 || n < 2) return undefined;
      const text = Buffer.alloc(n);
      readSync(fd, text, 0, n, 8);
      return (JSON.parse(text.toString('utf8')) as { __metadata__?: { format?: string } }).__metadata__?.format;
    } finally { closeSync(fd); }
  } catch { return undefined; }
}

/** What a training checkpoint holds: where the run stands and which run it is. */
function checkpointInfo(path: string, json: boolean): void {
  const { arrays, state } = loadCheckpoint(path);
  const history = (state.history as { epoch: number; loss: number; test_accuracy?: number }[] | undefined) ?? [];
  const weights = Object.keys(arrays).filter((k) => !k.startsWith('optim.'));
  const out = {
    kind: 'checkpoint', epoch: state.epoch ?? 0, step: state.step ?? 0, tensors: weights.length,
    values: weights.reduce((n, k) => n + arrays[k]!.data.length, 0), identity: state.identity ?? null, history,
  };
  if (json) { printJson(out); return; }
  const id = state.identity as Record<string, unknown> | undefined;
  const last = history.at(-1);
  const lines = [
    ['checkpoint', `after epoch ${out.epoch} (step ${out.step})`], ['weights', `${out.tensors} tensors, ${out.values.toLocaleString('en-US')} values`],
    ['run', id ? `model ${String(id.model)}, data ${String(id.dataset)}, seed ${String(id.seed)}, T ${String(id.T)}, batch ${String(id.batch_size)}` : '(not recorded)'],
    ['last epoch', last ? `loss ${last.loss.toFixed(4)}${last.test_accuracy === undefined ? '' : `, test accuracy ${(100 * last.test_accuracy).toFixed(2)}%`}` : '-'],
  ];
  for (const [k, v] of lines) process.stdout.write(`${k!.padEnd(15)} ${v}\n`);
}

const args = {
  model: { type: 'positional', description: 'model file (.es) or training checkpoint (.ckpt)', required: true },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

/** "1 epoch", "3 epochs". */
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

export const infoCommand = defineCommand({
  meta: { name: 'info', description: 'Show what a model file (or a training checkpoint) holds' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('info', rawArgs, args);
    if (fileFormat(String(a.model)) === CHECKPOINT_FORMAT) { checkpointInfo(String(a.model), !!a.json); return; }
    const { net, meta, stored, version } = loadNet(String(a.model));
    const params = net.parameters().reduce((s, t) => s + t.size, 0);
    const c = net.config;
    const training = meta.training as { epochs?: { test_accuracy?: number }[]; test_samples?: number;
      quantization?: { accuracy?: number; float_accuracy?: number; finetune_epochs?: number; test_samples?: number } } | undefined;
    // a quantized model's accuracy is the one measured after quantizing, not its float parent's
    const quant = training?.quantization;
    const lastAcc = quant?.accuracy ?? training?.epochs?.at(-1)?.test_accuracy;
    // how many test samples that accuracy is of, when the file says (a --test-limit run measures fewer)
    const accSamples = quant ? quant.test_samples : training?.test_samples;
    const dtypes: Record<string, number> = {};
    for (const t of Object.values(stored)) dtypes[t.dtype ?? 'F32'] = (dtypes[t.dtype ?? 'F32'] ?? 0) + 1;
    const info = {
      format_version: version, spec: net.spec ? meta.specText ?? null : null, input: c.input, classes: net.classes, parameters: params,
      spiking_layers: net.spikingLayers, timesteps: c.T, act: c.act ?? 'snn', encoder: c.encoder, readout: c.readout,
      dataset: meta.dataset ?? null, epochs: training?.epochs?.length ?? 0, test_accuracy: lastAcc ?? null, test_samples: accSamples ?? null, tensor_dtypes: dtypes,
      graph: { input: net.graph.input, output: net.graph.output, nodes: describeGraph(net.graph).map((r, i) => ({ ...r, ...graphNodeExtras(net.graph.nodes[i]!) })) },
    };
    if (a.json) { printJson(info); return; }
    const accuracy = lastAcc === undefined ? '' : `, test accuracy ${(100 * lastAcc).toFixed(2)}%${accSamples === undefined ? '' : ` on ${accSamples.toLocaleString('en-US')} samples`}`;
    const lines = [
      ['spec', info.spec ?? (typeof meta.specText === 'string' && quant ? `${meta.specText} (the float model's; quantized, with the nodes the graph below lists)` : '(a graph without notation)')], ['input', `[${c.input.join(', ')}]`], ['classes', String(net.classes)],
      ['parameters', params.toLocaleString('en-US')], ['spiking layers', String(net.spikingLayers)], ['time steps', String(c.T)],
      ...(c.act === 'ann' ? [['act', 'ann (ReLU, max pooling, biases)']] : []),
      ['encoder', c.encoder.kind], ['readout', c.readout], ['dataset', String(info.dataset ?? '-')],
      ['stored as', Object.entries(dtypes).map(([d, n]) => `${n} × ${d}`).join(', ')], ['file format', `version ${version}`],
      ['trained', quant ? `${count(info.epochs, 'epoch')} float${quant.float_accuracy === undefined ? '' : ` (${(100 * quant.float_accuracy).toFixed(2)}%)`}, quantized with ${count(quant.finetune_epochs ?? 0, 'fine-tuning epoch')}${accuracy}`
        : `${count(info.epochs, 'epoch')}${accuracy}`],
    ];
    for (const [k, v] of lines) process.stdout.write(`${k.padEnd(15)} ${v}\n`);
    process.stdout.write(`\n${formatGraph(net.graph)}\n`);
  },
});
