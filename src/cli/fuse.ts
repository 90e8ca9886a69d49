/** `edgespike fuse`: the coordinator of a served split, with an external or an embedded MQTT broker. */
import { defineCommand } from 'citty';
import { EdgespikeError } from '../util/errors.js';
import { startCoordinator, FUSE_TIMEOUT_MS } from '../split/coordinator.js';
import { MQTT_PORT } from '../split/broker.js';
import { checkFlags, num } from './_args.js';
import { requirePackages } from '../util/optional.js';
import { brokerFromFlags, connectionArgs, exitSoon, noConnectionFlags, prefixFromFlags, stopSignal } from './_broker.js';

const args = {
  split: { type: 'string', description: 'split folder (split.json and its model files)', required: true },
  broker: { type: 'string', description: `broker address (mqtt://HOST:PORT, mqtts://, ws://, wss://), or embedded[:PORT] for an in-process broker on 127.0.0.1 (default port ${MQTT_PORT}; 0: any free port)`, required: true },
  timeout: { type: 'string', description: 'milliseconds to wait for the devices\' features', default: String(FUSE_TIMEOUT_MS) },
  ...connectionArgs,
} as const;

/** The port of `embedded[:PORT]`, or undefined for a broker address. */
function embeddedPort(v: string): number | undefined {
  if (v === 'embedded') return MQTT_PORT;
  if (!v.startsWith('embedded:')) return undefined;
  const p = v.slice('embedded:'.length);
  if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) throw new EdgespikeError(`--broker: expected embedded:PORT with a port 0 … 65535, got ${JSON.stringify(v)}`);
  return Number(p);
}

export const fuseCommand = defineCommand({
  meta: { name: 'fuse', description: 'Coordinate a served split: forward requests to the devices, fuse their features, answer' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('fuse', rawArgs, args);
    requirePackages('fuse', 'mqtt', 'aedes');
    const timeout = num('timeout', a.timeout, { int: true, min: 1, max: 3_600_000 });
    const port = embeddedPort(String(a.broker));
    if (port !== undefined) noConnectionFlags(a, 'an embedded broker takes no credentials or TLS files');
    const broker = port !== undefined ? { embedded: port } : brokerFromFlags(String(a.broker), a);
    const prefix = prefixFromFlags(a);
    let started = false;
    const signal = stopSignal();
    // a stop that comes while an external broker is still awaited ends the process there
    void signal.stopped.then(() => { if (!started) process.exit(0); });
    let c;
    try {
      c = await startCoordinator(String(a.split), { broker, timeout, ...(prefix ? { prefix } : {}) });
    } catch (e) {
      signal.dispose();
      throw e;
    }
    started = true;
    await signal.stopped;
    await c.stop();
    exitSoon();
  },
});
