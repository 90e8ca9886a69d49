/**
 * One edge device of a served split (`edgespike device`): it runs its sub-models up to their feature
 * nodes on every input the coordinator forwards, and sends the features back.
 *
 * It announces itself with a retained hello (its name, instance and sub-models under the split's hash),
 * repeated every heartbeat, and leaves a retained gone as its last will, so the coordinator sees it
 * disappear. A malformed message, or one for another split, is one logged line; the device keeps serving.
 * When the broker goes away it reconnects every second and says hello again.
 */
import { randomBytes } from 'node:crypto';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { readSplit } from './manifest.js';
import { openLink, type BrokerOptions, type Link } from './link.js';
import { checkPrefix, decodeMessage, defaultPrefix, encodeMessage, hashPrefix, topics } from './protocol.js';
import { loadSubModels, subModelFeatures } from './runtime.js';

/** Seconds between a device's heartbeats (the coordinator marks it missing after three are missed). */
export const HEARTBEAT_S = 5;

/** Options of startDevice. */
export interface DeviceOptions {
  readonly broker: BrokerOptions;
  /** Topic prefix (default edgespike/<first 8 hex digits of the split's hash>). */
  readonly prefix?: string;
  /** Receives one line per event (default: stderr, prefixed "edgespike device NAME: "). */
  readonly log?: (line: string) => void;
  readonly heartbeatS?: number;
}

/** A running device. */
export interface RunningDevice {
  readonly name: string;
  /** Random per process; its hello and gone carry it. */
  readonly instance: string;
  readonly prefix: string;
  /** Resolves once connected with its subscription in place. */
  readonly connected: Promise<void>;
  /** Says gone (retained), then disconnects. */
  stop(reason?: string): Promise<void>;
}

/** Loads device `name`'s sub-models from split folder `dir` (hash checked) and serves them. */
export async function startDevice(dir: string, name: string, o: DeviceOptions): Promise<RunningDevice> {
  const m = readSplit(dir);
  const subs = loadSubModels(dir, m, name);
  const prefix = checkPrefix(o.prefix ?? defaultPrefix(m.hash));
  const hash = hashPrefix(m.hash), t = topics(prefix);
  const log = o.log ?? ((line: string) => process.stderr.write(`edgespike device ${name}: ${line}\n`));
  const heartbeatS = o.heartbeatS ?? HEARTBEAT_S;
  const instance = randomBytes(6).toString('hex');
  let connection = 0;
  const hello = (): Buffer => encodeMessage({ type: 'hello', hash, id: 0, name, info: { role: 'device', instance, submodels: subs.map((s) => s.entry.name), heartbeat_s: heartbeatS, connection } });
  const gone = (reason: string): Buffer => encodeMessage({ type: 'gone', hash, id: 0, name, info: { role: 'device', instance, reason } });
  const inputSize = m.input.reduce((a, b) => a * b, 1);

  /** Computes the features of one forwarded input and sends them back; anything wrong is one line. */
  const onMessage = (topic: string, payload: Buffer): void => {
    try {
      const msg = decodeMessage(payload);
      if (msg.hash !== hash) throw new EdgespikeError(`its model hash ${msg.hash.slice(0, 12)}… is not this device's ${hash.slice(0, 12)}… (another split)`);
      if (msg.type !== 'input') throw new EdgespikeError(`a ${msg.type} message where inputs come`);
      if (msg.x.length !== inputSize) throw new EdgespikeError(`input of shape ${fmtShape(msg.shape)}, the split's input is ${fmtShape(m.input)}`);
      const blocks = subs.map((s) => subModelFeatures(s, msg.x));
      link.publish(t.features(name), encodeMessage({ type: 'features', hash, id: msg.id, name, blocks })).catch((e: Error) => log(`cannot send the features of request ${msg.id} (${e.message})`));
    } catch (e) {
      log(`ignored a message on ${topic}: ${e instanceof EdgespikeError ? e.message : `internal error (${(e as Error).message})`}`);
    }
  };

  let resolveConnected!: () => void;
  const connected = new Promise<void>((r) => { resolveConnected = r; });
  const sayHello = (): void => { link.publish(t.hello(name), hello(), true).catch(() => { /* sent again at the next connection or heartbeat */ }); };
  const link: Link = await openLink(o.broker, {
    clientId: `es-dev-${name}-${instance}`.slice(0, 64),
    subscriptions: [t.input(name)],
    will: { topic: t.hello(name), payload: gone('connection lost') },
    onConnect: (first) => {
      connection++;
      sayHello();
      if (first) {
        log(`serving ${subs.map((s) => `${s.entry.name} (${s.entry.feature_size} features)`).join(', ')} of split ${m.hash.slice(0, 12)}… at ${o.broker.url} under ${prefix}`);
        resolveConnected();
      }
    },
    onMessage,
    log,
  });
  const beat = setInterval(() => { if (link.ready) sayHello(); }, heartbeatS * 1000);
  let stopped = false;
  return {
    name, instance, prefix, connected,
    async stop(reason = 'stopped') {
      if (stopped) return;
      stopped = true;
      clearInterval(beat);
      if (link.ready) await Promise.race([link.publish(t.hello(name), gone(reason), true).catch(() => undefined), delay(1000)]);
      await Promise.race([link.end(true), delay(1000)]);
    },
  };
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
