/** `edgespike info`: what a model file holds (spec, neuron, encoder, T, parameters, training summary). */
import { defineCommand } from 'citty';
import { loadNet } from '../train/model-file.js';
import { checkFlags, printJson } from './_args.js';

const args = {
  model: { type: 'positional', description: 'model file (.es)', required: true },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

export const infoCommand = defineCommand({
  meta: { name: 'info', description: 'Show what a model file holds' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('info', rawArgs, args);
    const { net, meta } = loadNet(String(a.model));
    const params = net.parameters().reduce((s, t) => s + t.size, 0);
    const c = net.config;
    const training = meta.training as { epochs?: { test_accuracy?: number }[] } | undefined;
    const lastAcc = training?.epochs?.at(-1)?.test_accuracy;
    const info = {
      spec: meta.specText ?? null, input: c.input, classes: net.classes, parameters: params, spiking_layers: net.spikingLayers,
      timesteps: c.T, neuron: c.neuron, encoder: c.encoder, readout: c.readout, dataset: meta.dataset ?? null,
      epochs: training?.epochs?.length ?? 0, test_accuracy: lastAcc ?? null,
    };
    if (a.json) { printJson(info); return; }
    const lines = [
      ['spec', info.spec ?? '(built in code)'], ['input', `[${c.input.join(', ')}]`], ['classes', String(net.classes)],
      ['parameters', params.toLocaleString('en-US')], ['spiking layers', String(net.spikingLayers)], ['time steps', String(c.T)],
      ['neuron', `${c.neuron.charge}, β ${c.neuron.beta}, τ ${c.neuron.tau}, θ ${c.neuron.vth}, ${c.neuron.reset} reset, surrogate ${String(c.neuron.surrogate)}`],
      ['encoder', c.encoder.kind], ['readout', c.readout], ['dataset', String(info.dataset ?? '-')],
      ['trained', `${info.epochs} epochs${lastAcc === undefined ? '' : `, test accuracy ${(100 * lastAcc).toFixed(2)}%`}`],
    ];
    for (const [k, v] of lines) process.stdout.write(`${k.padEnd(15)} ${v}\n`);
  },
});
