/**
 * `edgespike split serve DIR`: serves a split folder on this machine in one command: the embedded MQTT
 * broker on 127.0.0.1, the coordinator in-process, and one `edgespike device` process per device of the
 * manifest (started again when it exits), until SIGINT or SIGTERM.
 */
import { defineCommand } from 'citty';
import { readSplit } from '../split/manifest.js';
import { MQTT_PORT } from '../split/broker.js';
import { FUSE_TIMEOUT_MS } from '../split/coordinator.js';
import { serveSplit } from '../split/serve.js';
import { checkFlags, num } from './_args.js';
import { requirePackages } from '../util/optional.js';
import { exitSoon, prefixFromFlags } from './_broker.js';

const args = {
  dir: { type: 'positional', description: 'split folder (split.json and its model files)', required: true },
  port: { type: 'string', description: `port of the embedded broker on 127.0.0.1 (0: any free port)`, default: String(MQTT_PORT) },
  timeout: { type: 'string', description: 'milliseconds the coordinator waits for the devices\' features', default: String(FUSE_TIMEOUT_MS) },
  prefix: { type: 'string', description: 'topic prefix (default edgespike/<first 8 hex digits of the split\'s hash>)' },
} as const;

export const splitServeCommand = defineCommand({
  meta: { name: 'serve', description: 'Serve a split on this machine: embedded broker, coordinator and one process per device' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('split serve', rawArgs, args);
    requirePackages('split serve', 'mqtt', 'aedes');
    const port = num('port', a.port, { int: true, min: 0, max: 65535 });
    const timeout = num('timeout', a.timeout, { int: true, min: 1, max: 3_600_000 });
    const prefix = prefixFromFlags(a);
    const dir = String(a.dir);
    const m = readSplit(dir); // a bad folder is one line before anything starts
    const served = await serveSplit(dir, { port, timeout, ...(prefix ? { prefix } : {}) });
    const states = served.devices();
    process.stderr.write(`edgespike split serve: ${dir} at ${served.url} under ${served.prefix}; devices ${Object.entries(states).map(([n, s]) => `${n} ${s}`).join(', ')} (${m.devices.length} in the manifest); clients: edgespike infer --split ${dir} --broker ${served.url} FILE…\n`);
    await served.stopped;
    exitSoon();
  },
});
