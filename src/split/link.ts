/**
 * The MQTT connection of a served split's processes: broker address and credentials checked before any
 * work, QoS 1 subscriptions made again on every (re)connection, reconnection every second for as long as
 * the process runs, and one logged line per change of state (lost, back, refused) instead of one per retry.
 * The mqtt package is imported when a link opens, so the other commands do not pay for loading it.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { EdgespikeError } from '../util/errors.js';
import { readInput } from '../util/fsx.js';
import { importOptional } from '../util/optional.js';

/** Where and how to reach a broker. */
export interface BrokerOptions {
  /** mqtt://, mqtts://, tcp://, ssl://, ws:// or wss:// with a host (and port). */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM contents: the CA that signed the broker's certificate, and this client's certificate and key. */
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

const SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'];
const TLS_SCHEMES = ['mqtts:', 'ssl:', 'wss:'];

/** Checks a broker address (`flag` names it in errors) and returns it. */
export function checkBrokerUrl(flag: string, url: string): string {
  let u: URL;
  try { u = new URL(url); } catch { throw new EdgespikeError(`${flag}: expected a broker address such as mqtt://127.0.0.1:1883, got ${JSON.stringify(url)}`); }
  if (!SCHEMES.includes(u.protocol)) throw new EdgespikeError(`${flag}: expected one of ${SCHEMES.map((s) => `${s}//`).join(', ')}, got ${JSON.stringify(url)}`);
  if (!u.hostname) throw new EdgespikeError(`${flag}: ${JSON.stringify(url)} names no host`);
  return url;
}

/** The connection flags as the commands take them, before their files are read. */
export interface BrokerFlags {
  readonly url: string;
  readonly flag: string;
  readonly username?: string;
  readonly password?: string;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

/** Checks the connection flags and reads the TLS files (one line naming the flag on any problem). */
export function brokerOptions(f: BrokerFlags): BrokerOptions {
  const url = checkBrokerUrl(f.flag, f.url);
  if (f.password !== undefined && f.username === undefined) throw new EdgespikeError('--password: needs --username');
  if ((f.tlsCert === undefined) !== (f.tlsKey === undefined)) throw new EdgespikeError('--tls-cert and --tls-key: give both or neither');
  const tls = f.tlsCa !== undefined || f.tlsCert !== undefined;
  if (tls && !TLS_SCHEMES.includes(new URL(url).protocol)) throw new EdgespikeError(`${f.flag}: TLS files need an mqtts://, ssl:// or wss:// broker, got ${JSON.stringify(url)}`);
  const pem = (flag: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    const b = readInput(path, 'PEM file', 1 << 20);
    if (!b.toString('latin1').includes('-----BEGIN ')) throw new EdgespikeError(`${flag} ${path}: not a PEM file (no "-----BEGIN" line)`);
    return b;
  };
  return {
    url,
    ...(f.username !== undefined ? { username: f.username } : {}),
    ...(f.password !== undefined ? { password: f.password } : {}),
    ...(tls ? { ca: pem('--tls-ca', f.tlsCa), cert: pem('--tls-cert', f.tlsCert), key: pem('--tls-key', f.tlsKey) } : {}),
  };
}

/** Seconds between reconnection attempts. */
export const RECONNECT_S = 1;

/** What a link is opened with. */
export interface LinkOptions {
  readonly clientId: string;
  /** Topics subscribed (QoS 1) on every connection before onConnect runs. */
  readonly subscriptions: readonly string[];
  /** A retained last will: published by the broker when the connection drops without a goodbye. */
  readonly will?: { readonly topic: string; readonly payload: Buffer };
  /** Seconds between pings; the broker declares the client gone after 1.5 × this without traffic. */
  readonly keepalive?: number;
  /** Called after every (re)connection once the subscriptions are granted; `first` on the first. */
  readonly onConnect: (first: boolean) => void;
  readonly onMessage: (topic: string, payload: Buffer) => void;
  /** One line per state change. */
  readonly log: (line: string) => void;
}

/** An open MQTT connection that reconnects by itself. */
export interface Link {
  readonly client: MqttClient;
  /** True while connected with the subscriptions in place. */
  readonly ready: boolean;
  /** Publishes with QoS 1 (kept and sent after a reconnection while offline); resolves on the broker's acknowledgement. */
  publish(topic: string, payload: Buffer, retain?: boolean): Promise<void>;
  /** Resolves at the first ready connection; rejects after `ms` (if given) with the last connection error. */
  firstConnection(ms?: number): Promise<void>;
  /** Closes the connection (after sending what is queued when `flush`). */
  end(flush?: boolean): Promise<void>;
}

/** Opens a link to a broker; it keeps reconnecting every RECONNECT_S until end() is called. */
export async function openLink(b: BrokerOptions, o: LinkOptions): Promise<Link> {
  const mqtt = await importOptional('mqtt', 'broker link', () => import('mqtt'));
  const opts: IClientOptions = {
    clientId: o.clientId, clean: true, protocolVersion: 4, keepalive: o.keepalive ?? 10, resubscribe: false,
    reconnectPeriod: RECONNECT_S * 1000, connectTimeout: 10_000,
    ...(o.will ? { will: { topic: o.will.topic, payload: o.will.payload, qos: 1, retain: true } } : {}),
    ...(b.username !== undefined ? { username: b.username } : {}),
    ...(b.password !== undefined ? { password: b.password } : {}),
    ...(b.ca ? { ca: b.ca } : {}), ...(b.cert ? { cert: b.cert } : {}), ...(b.key ? { key: b.key } : {}),
  };
  const client = mqtt.connect(b.url, opts);
  let ready = false, everReady = false, lastError = '', lost = false, ended = false;
  const waiters: (() => void)[] = [];
  client.on('connect', () => {
    // small messages go out at once instead of waiting for the previous one's acknowledgement (Nagle)
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    client.subscribe(o.subscriptions.map((t) => t), { qos: 1 }, (err, granted) => {
      const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
      if (err || refused.length) {
        const why = err ? err.message : `the broker refused the subscription to ${refused.join(', ')}`;
        if (why !== lastError) o.log(`cannot subscribe at ${b.url} (${why})`);
        lastError = why;
        return;
      }
      const first = !everReady;
      ready = true; everReady = true;
      if (lost) { o.log(`reconnected to the broker at ${b.url}`); lost = false; }
      lastError = '';
      o.onConnect(first);
      for (const w of waiters.splice(0)) w();
    });
  });
  client.on('message', (topic, payload) => o.onMessage(topic, payload));
  client.on('close', () => {
    if (ready && !ended) { o.log(`lost the broker at ${b.url}; reconnecting every ${RECONNECT_S} s`); lost = true; }
    ready = false;
  });
  client.on('error', (e) => {
    // refused credentials, TLS failures and unreachable brokers: one line per distinct cause, not per retry
    const why = (e as NodeJS.ErrnoException).code && !e.message.includes((e as NodeJS.ErrnoException).code!) ? `${e.message} (${(e as NodeJS.ErrnoException).code})` : e.message;
    if (why !== lastError) o.log(`broker at ${b.url}: ${why}${ready ? '' : `; retrying every ${RECONNECT_S} s`}`);
    lastError = why;
  });
  return {
    client,
    get ready() { return ready; },
    publish(topic, payload, retain = false) {
      return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve())));
    },
    firstConnection(ms) {
      if (everReady) return Promise.resolve();
      return new Promise((resolve, reject) => {
        if (ms === undefined) { waiters.push(resolve); return; }
        const t = setTimeout(() => {
          const i = waiters.indexOf(done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new EdgespikeError(`cannot reach the broker at ${b.url} within ${ms} ms${lastError ? ` (${lastError})` : ''}`, 1));
        }, ms);
        const done = (): void => { clearTimeout(t); resolve(); };
        waiters.push(done);
      });
    },
    end(flush = true) {
      ended = true;
      // a client still connecting is closed at once (a graceful end would wait for a connection)
      return new Promise((resolve) => client.end(!(flush && ready), {}, () => resolve()));
    },
  };
}
