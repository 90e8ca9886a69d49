/** `edgespike device`: serve one device's sub-models of a split over MQTT until stopped. */
import { defineCommand } from 'citty';
import { startDevice } from '../split/device.js';
import { checkFlags } from './_args.js';
import { requirePackages } from '../util/optional.js';
import { brokerFromFlags, connectionArgs, exitSoon, prefixFromFlags, stopSignal } from './_broker.js';

const args = {
  split: { type: 'string', description: 'split folder (split.json and its model files)', required: true },
  name: { type: 'string', description: 'this device: a device name of the manifest', required: true },
  broker: { type: 'string', description: 'broker address, e.g. mqtt://127.0.0.1:1883 (mqtts://, ws://, wss://)', required: true },
  ...connectionArgs,
} as const;

export const deviceCommand = defineCommand({
  meta: { name: 'device', description: 'Serve a device of a split: features of every forwarded input, over MQTT' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('device', rawArgs, args);
    requirePackages('device', 'mqtt');
    const broker = brokerFromFlags(String(a.broker), a);
    const prefix = prefixFromFlags(a);
    const device = await startDevice(String(a.split), String(a.name), { broker, ...(prefix ? { prefix } : {}) });
    const why = await stopSignal().stopped;
    await device.stop(why === 'SIGINT' || why === 'SIGTERM' ? 'stopped' : why);
    exitSoon();
  },
});
