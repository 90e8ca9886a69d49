/** `edgespike infer`: classify input files with a served split, through its coordinator. */
import { defineCommand } from 'citty';
import { EdgespikeError } from '../util/errors.js';
import { readSplit } from '../split/manifest.js';
import { SplitClient, readSample } from '../split/client.js';
import { checkBrokerUrl } from '../split/link.js';
import { checkFlags, num, printJson } from './_args.js';
import { requirePackages } from '../util/optional.js';
import { brokerFromFlags, connectionArgs, prefixFromFlags } from './_broker.js';

const args = {
  split: { type: 'string', description: 'split folder (split.json and its model files)', required: true },
  broker: { type: 'string', description: 'broker address, e.g. mqtt://127.0.0.1:1883', required: true },
  timeout: { type: 'string', description: 'milliseconds to wait for the broker, the coordinator, the devices and each answer', default: '10000' },
  json: { type: 'boolean', description: 'print one JSON line per input' },
  ...connectionArgs,
} as const;

export const inferCommand = defineCommand({
  meta: { name: 'infer', description: 'Classify PNG or .npy inputs with a served split (one line per input)' },
  args,
  async run({ args: a, rawArgs }) {
    // any number of input files
    checkFlags('infer', rawArgs, { ...args, ...Object.fromEntries(rawArgs.map((_, i) => [`file${i}`, { type: 'positional' as const }])) });
    requirePackages('infer', 'mqtt');
    const files = (a._ as string[]).map(String);
    if (files.length === 0) throw new EdgespikeError('infer: give at least one input file (PNG or .npy)');
    const timeout = num('timeout', a.timeout, { int: true, min: 1, max: 3_600_000 });
    const url = checkBrokerUrl('--broker', String(a.broker));
    const broker = brokerFromFlags(url, a);
    const prefix = prefixFromFlags(a);
    const dir = String(a.split);
    const m = readSplit(dir);
    // every input is read and checked before anything is sent
    const samples = files.map((f) => readSample(f, m));
    const client = await SplitClient.connect(url, dir, { ...broker, timeout, ...(prefix ? { prefix } : {}) });
    let failed = 0;
    try {
      for (let i = 0; i < files.length; i++) {
        const file = files[i]!;
        try {
          const r = await client.infer(samples[i]!);
          const out = { file, class: r.class, name: r.name, probabilities: r.probabilities, devices: r.devices, degraded: r.degraded, device_ms: r.device_ms, total_ms: r.total_ms };
          if (a.json) printJson(out);
          else process.stdout.write(`${file}: ${r.name} (class ${r.class}, p = ${r.probabilities[r.class]!.toFixed(3)}) from ${r.devices.join(', ')}${r.degraded ? ' (degraded: a device did not answer)' : ''}, ${r.total_ms} ms\n`);
        } catch (e) {
          if (!(e instanceof EdgespikeError)) throw e;
          failed++;
          if (a.json) printJson({ file, error: e.message });
          else process.stdout.write(`${file}: ${e.message}\n`);
        }
      }
    } finally {
      await client.close();
    }
    if (failed) throw new EdgespikeError(`infer: ${failed} of ${files.length} inputs got no answer`, 1);
  },
});
