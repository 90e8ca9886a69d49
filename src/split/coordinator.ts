/**
 * The coordinator of a served split (`edgespike fuse`): it takes requests from clients, forwards each input
 * to the devices that are online, waits for their features up to a timeout, fills the features of devices
 * that did not answer with zeros, runs the fusion and answers once.
 *
 * Devices: a hello under the split's hash, from a device of the manifest serving its sub-models, puts a
 * device online; another hash, name or sub-model list is refused with one logged line and never used. A
 * gone (graceful, or the last will when the connection drops), three missed heartbeats or an unanswered
 * request mark it missing; its next hello (or features) takes it back.
 *
 * Exactly one answer per request: a request is keyed by client and request id; a repeated one (a client
 * sends its pending requests again after a reconnection) is ignored while it waits and gets the stored
 * answer once answered. Inputs are sent again to a device that comes back while a request waits for it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { readSplit, type SplitManifest } from './manifest.js';
import { openLink, type BrokerOptions, type Link } from './link.js';
import { startBroker, type EmbeddedBroker } from './broker.js';
import {
  checkPrefix, decodeMessage, defaultPrefix, encodeMessage, hashPrefix, topics,
  type AnswerBody, type FeatureBlock, type HelloInfo, type Message,
} from './protocol.js';
import { devicePlans, loadFusion, runFusion, type DevicePlan } from './runtime.js';
import type { SpikingNet } from '../layers/net.js';

/** Default milliseconds the coordinator waits for the devices' features. */
export const FUSE_TIMEOUT_MS = 2000;
/** Answers kept to repeat to a client that asks again (the oldest are dropped first). */
const ANSWERS_KEPT = 4096;

/** Options of startCoordinator. */
export interface CoordinatorOptions {
  /** An external broker, or an embedded one on 127.0.0.1 at this port (0: any free port). */
  readonly broker: BrokerOptions | { readonly embedded: number };
  /** Milliseconds to wait for the devices' features (default FUSE_TIMEOUT_MS). */
  readonly timeout?: number;
  readonly prefix?: string;
  /** Receives one line per event (default: stderr, prefixed "edgespike fuse: "). */
  readonly log?: (line: string) => void;
  /** Seconds between the coordinator's own hellos (default 5). */
  readonly heartbeatS?: number;
}

export type DeviceState = 'online' | 'missing' | 'refused';

/** A running coordinator. */
export interface RunningCoordinator {
  /** The broker it uses (the embedded one's mqtt://127.0.0.1:PORT). */
  readonly url: string;
  readonly prefix: string;
  readonly manifest: SplitManifest;
  /** Each device's state now. */
  devices(): Record<string, DeviceState>;
  /** Answers what still waits with an error, says gone, disconnects and closes the embedded broker. */
  stop(): Promise<void>;
}

interface DeviceRecord {
  state: DeviceState;
  instance?: string;
  /** The connection count of its last hello. */
  connection?: number;
  lastSeen: number;
  heartbeatS: number;
  /** Set once the device has been online, to say "back" rather than "online" the next time. */
  seen: boolean;
}

interface Pending {
  readonly key: string;
  readonly client: string;
  readonly clientId: number;
  readonly hash: string;
  readonly x: Float32Array;
  readonly start: number;
  /** Devices whose features are still awaited, with the time their input was (last) sent. */
  readonly waiting: Map<string, number>;
  readonly blocks: Map<string, FeatureBlock>;
  readonly deviceMs: Record<string, number>;
  timer?: NodeJS.Timeout;
}

/** Starts the coordinator of split folder `dir` (the files' hash is checked first). */
export async function startCoordinator(dir: string, o: CoordinatorOptions): Promise<RunningCoordinator> {
  const m = readSplit(dir);
  const fusion = loadFusion(dir, m);
  const timeout = o.timeout ?? FUSE_TIMEOUT_MS;
  const prefix = checkPrefix(o.prefix ?? defaultPrefix(m.hash));
  const log = o.log ?? ((line: string) => process.stderr.write(`edgespike fuse: ${line}\n`));
  const heartbeatS = o.heartbeatS ?? 5;
  const embedded: EmbeddedBroker | undefined = 'embedded' in o.broker ? await startBroker(o.broker.embedded) : undefined;
  const broker: BrokerOptions = embedded ? { url: embedded.url } : (o.broker as BrokerOptions);
  const c = new Coordinator(m, fusion, { timeout, prefix, log, heartbeatS });
  await c.open(broker, `serving split ${m.hash.slice(0, 12)}… at ${broker.url} under ${prefix} (devices: ${c.plans.map((p) => p.name).join(', ')}; timeout ${timeout} ms)`);
  return {
    url: broker.url, prefix, manifest: m,
    devices: () => c.states(),
    async stop() {
      await c.stop();
      await embedded?.close();
    },
  };
}

class Coordinator {
  readonly plans: DevicePlan[];
  private readonly hash: string;
  private readonly t: ReturnType<typeof topics>;
  private readonly instance = randomBytes(6).toString('hex');
  private readonly records = new Map<string, DeviceRecord>();
  private readonly pending = new Map<number, Pending>();
  private readonly byKey = new Map<string, number>();
  private readonly answers = new Map<string, Buffer>();
  /** Ids answered lately with the devices that had answered, so late features are told apart from repeats and unknown ids. */
  private readonly finished = new Map<number, ReadonlySet<string>>();
  private readonly refusedLogged = new Set<string>();
  private nextId = randomInt(0, 2 ** 31);
  private link!: Link;
  private beat?: NodeJS.Timeout;
  private stopping = false;
  private readonly inputSize: number;

  constructor(private readonly m: SplitManifest, private readonly fusion: SpikingNet,
    private readonly o: { timeout: number; prefix: string; log: (line: string) => void; heartbeatS: number }) {
    this.plans = devicePlans(m);
    this.hash = hashPrefix(m.hash);
    this.t = topics(o.prefix);
    this.inputSize = m.input.reduce((a, b) => a * b, 1);
    for (const p of this.plans) this.records.set(p.name, { state: 'missing', lastSeen: 0, heartbeatS: 5, seen: false });
  }

  /** Connects; `ready` is logged at the first connection, before any hello is handled. */
  async open(broker: BrokerOptions, ready: string): Promise<void> {
    const gone = encodeMessage({ type: 'gone', hash: this.hash, id: 0, name: '', info: { role: 'coordinator', instance: this.instance, reason: 'connection lost' } });
    this.link = await openLink(broker, {
      clientId: `es-fuse-${this.instance}`,
      subscriptions: [this.t.allHellos, this.t.allFeatures, this.t.allRequests],
      will: { topic: this.t.coordinator, payload: gone },
      onConnect: (first) => { if (first) this.o.log(ready); this.announce(); },
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      log: this.o.log,
    });
    // an external broker that is not up yet is waited for (the link logs why it cannot connect)
    await this.link.firstConnection();
    this.beat = setInterval(() => this.heartbeat(), this.o.heartbeatS * 1000);
  }

  states(): Record<string, DeviceState> {
    return Object.fromEntries([...this.records].map(([n, r]) => [n, r.state]));
  }

  /** Publishes the coordinator's retained hello with the devices' states. */
  private announce(): void {
    const info: HelloInfo = { role: 'coordinator', instance: this.instance, devices: this.states(), timeout_ms: this.o.timeout, heartbeat_s: this.o.heartbeatS };
    this.send(this.t.coordinator, encodeMessage({ type: 'hello', hash: this.hash, id: 0, name: '', info }), true);
  }

  private send(topic: string, payload: Buffer, retain = false): void {
    this.link.publish(topic, payload, retain).catch((e: Error) => this.o.log(`cannot publish on ${topic} (${e.message})`));
  }

  /** Every heartbeat: devices silent for three of their heartbeats are missing; the coordinator says hello. */
  private heartbeat(): void {
    const now = performance.now();
    for (const [name, r] of this.records) {
      if (r.state === 'online' && now - r.lastSeen > 3 * r.heartbeatS * 1000) {
        this.o.log(`device ${name} sent no hello for ${Math.round((now - r.lastSeen) / 1000)} s; marked missing until it says hello again`);
        this.markMissing(name);
      }
    }
    if (this.link.ready) this.announce();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.stopping) return;
    try {
      const msg = decodeMessage(payload);
      const rest = topic.slice(this.o.prefix.length + 1).split('/');
      if (rest[0] === 'request' && rest.length === 2) this.onRequest(rest[1]!, msg);
      else if (rest[0] === 'device' && rest.length === 3 && rest[2] === 'hello') this.onHello(rest[1]!, msg);
      else if (rest[0] === 'device' && rest.length === 3 && rest[2] === 'features') this.onFeatures(rest[1]!, msg);
    } catch (e) {
      this.o.log(`ignored a message on ${topic}: ${e instanceof EdgespikeError ? e.message : `internal error (${(e as Error).message})`}`);
    }
  }

  // ---- devices ----

  private onHello(name: string, msg: Message): void {
    if (msg.type !== 'hello' && msg.type !== 'gone') throw new EdgespikeError(`a ${msg.type} message where hellos come`);
    if (msg.info.role !== 'device' || msg.name !== name) throw new EdgespikeError(`a ${msg.info.role} hello named ${JSON.stringify(msg.name)} on the topic of device ${name}`);
    const r = this.records.get(name);
    if (msg.type === 'gone') {
      if (!r || r.state === 'missing' || (r.instance !== undefined && r.instance !== msg.info.instance)) return;
      this.o.log(`device ${name} is gone (${msg.info.reason ?? 'no reason given'})`);
      this.markMissing(name);
      return;
    }
    const plan = this.plans.find((p) => p.name === name);
    const want = plan?.submodels.map((s) => s.name) ?? [];
    const why = !plan ? `not a device of this split (devices: ${this.plans.map((p) => p.name).join(', ')})`
      : msg.hash !== this.hash ? `its model hash ${msg.hash.slice(0, 12)}… differs from the split's ${this.hash.slice(0, 12)}… (other weights or another split)`
        : msg.info.submodels!.join(',') !== want.join(',') ? `it serves sub-models [${msg.info.submodels!.join(', ')}], the split gives it [${want.join(', ')}]`
          : undefined;
    if (why !== undefined) {
      const key = `${name}/${msg.info.instance}`;
      if (!this.refusedLogged.has(key)) { this.refusedLogged.add(key); this.o.log(`refused device ${name}: ${why}`); }
      if (r && r.state !== 'refused') {
        // the device's topics now reach a process with other weights: never send it work
        this.markMissing(name);
        r.state = 'refused';
        r.instance = msg.info.instance;
        this.announce();
      }
      return;
    }
    const rec = r!;
    const back = rec.state !== 'online' || rec.instance !== msg.info.instance;
    const reconnected = rec.connection !== msg.info.connection;
    rec.lastSeen = performance.now();
    rec.heartbeatS = msg.info.heartbeat_s ?? 5;
    rec.connection = msg.info.connection;
    if (back) {
      this.o.log(rec.seen ? `device ${name} is back` : `device ${name} is online (${want.join(', ')})`);
      rec.state = 'online'; rec.instance = msg.info.instance; rec.seen = true;
      this.announce();
    }
    if (!back && !reconnected) return;
    // requests still waiting for it may have lost their input with its last connection
    for (const [id, p] of this.pending) {
      if (p.waiting.has(name)) { p.waiting.set(name, performance.now()); this.sendInput(name, id, p.x); }
    }
  }

  /** Marks a device missing; requests waiting for it stop waiting (and are answered if it was the last). */
  private markMissing(name: string): void {
    const r = this.records.get(name)!;
    if (r.state === 'missing') return;
    r.state = 'missing';
    this.announce();
    for (const p of [...this.pending.values()]) {
      if (p.waiting.delete(name) && p.waiting.size === 0) this.finish(p);
    }
  }

  private onFeatures(name: string, msg: Message): void {
    if (msg.type !== 'features') throw new EdgespikeError(`a ${msg.type} message where features come`);
    if (msg.name !== name) throw new EdgespikeError(`features named ${JSON.stringify(msg.name)} on the topic of device ${name}`);
    if (msg.hash !== this.hash) throw new EdgespikeError(`its model hash ${msg.hash.slice(0, 12)}… differs from the split's ${this.hash.slice(0, 12)}…`);
    const r = this.records.get(name);
    if (!r || r.state === 'refused') throw new EdgespikeError(`features from device ${name}, which is ${r ? 'refused' : 'not a device of this split'}`);
    const plan = this.plans.find((p) => p.name === name)!;
    if (msg.blocks.length !== plan.submodels.length) throw new EdgespikeError(`${msg.blocks.length} feature blocks, device ${name} runs ${plan.submodels.length} sub-models`);
    plan.submodels.forEach((s, k) => {
      const b = msg.blocks[k]!;
      if (b.T !== this.m.T || b.F !== s.feature_size) throw new EdgespikeError(`features of ${s.name} shaped [${b.T}, ${b.F}], expected [${this.m.T}, ${s.feature_size}]`);
    });
    r.lastSeen = performance.now();
    if (r.state === 'missing') {
      // it answers again (it had missed a request or its heartbeats)
      this.o.log(`device ${name} answers again`);
      r.state = 'online';
      this.announce();
    }
    const p = this.pending.get(msg.id);
    if (!p) {
      const done = this.finished.get(msg.id);
      // a repeat from a device that had answered (an input forwarded again after a reconnection) needs no line
      if (done) { if (!done.has(name)) this.o.log(`features of device ${name} for request ${msg.id} came after its answer`); }
      else throw new EdgespikeError(`features for request ${msg.id}, which was never forwarded`);
      return;
    }
    const sent = p.waiting.get(name);
    if (sent === undefined) return; // a repeated delivery (QoS 1 is at least once)
    plan.submodels.forEach((s, k) => p.blocks.set(s.name, msg.blocks[k]!));
    p.deviceMs[name] = round(performance.now() - sent);
    p.waiting.delete(name);
    if (p.waiting.size === 0) this.finish(p);
  }

  private sendInput(device: string, id: number, x: Float32Array): void {
    this.send(this.t.input(device), encodeMessage({ type: 'input', hash: this.hash, id, name: device, shape: [...this.m.input], x }));
  }

  // ---- requests ----

  private onRequest(client: string, msg: Message): void {
    if (msg.type !== 'request') throw new EdgespikeError(`a ${msg.type} message where requests come`);
    const key = `${client}/${msg.id}`;
    const kept = this.answers.get(key);
    if (kept) { this.send(this.t.answer(client), kept); return; }
    if (this.byKey.has(key)) return; // asked again while it waits: the one answer comes when it is done
    const fail = (why: string): void => this.answer(key, client, encodeMessage({ type: 'error', hash: msg.hash, id: msg.id, name: '', error: why }));
    if (msg.hash !== this.hash) return fail(`the request's model hash ${msg.hash.slice(0, 12)}… differs from the split's ${this.hash.slice(0, 12)}… served here`);
    if (msg.x.length !== this.inputSize) return fail(`input of shape ${fmtShape(msg.shape)}, the split's input is ${fmtShape(this.m.input)}`);
    const online = this.plans.filter((p) => this.records.get(p.name)!.state === 'online').map((p) => p.name);
    if (online.length === 0) return fail(`no device of the split is online (${this.plans.map((p) => `${p.name}: ${this.records.get(p.name)!.state}`).join(', ')})`);
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const now = performance.now();
    const p: Pending = { key, client, clientId: msg.id, hash: msg.hash, x: msg.x, start: now, waiting: new Map(online.map((n) => [n, now])), blocks: new Map(), deviceMs: {} };
    this.pending.set(id, p);
    this.byKey.set(key, id);
    p.timer = setTimeout(() => this.finish(p, true), this.o.timeout);
    for (const name of online) this.sendInput(name, id, msg.x);
  }

  /** Answers a request with what arrived: the fusion over the features, zeros for the devices that did not answer. */
  private finish(p: Pending, timedOut = false): void {
    const id = this.byKey.get(p.key);
    if (id === undefined || this.pending.get(id) !== p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    this.byKey.delete(p.key);
    this.finished.set(id, new Set(Object.keys(p.deviceMs)));
    if (this.finished.size > ANSWERS_KEPT) this.finished.delete(this.finished.keys().next().value!);
    const silent = timedOut ? [...p.waiting.keys()] : [];
    for (const name of silent) {
      this.o.log(`device ${name} did not answer request ${id} within ${this.o.timeout} ms; not used until it answers or says hello again`);
      this.markMissing(name);
    }
    const answered = this.plans.filter((d) => d.name in p.deviceMs).map((d) => d.name);
    let msg: Buffer;
    if (answered.length === 0) {
      msg = encodeMessage({ type: 'error', hash: p.hash, id: p.clientId, name: '', error: `no device answered within ${this.o.timeout} ms` });
    } else {
      try {
        const { logits, probabilities } = runFusion(this.fusion, this.m, p.blocks);
        const best = argmax(probabilities);
        const body: AnswerBody = {
          class: best, name: this.m.classNames?.[best] ?? String(best),
          probabilities: Array.from(probabilities), logits: Array.from(logits),
          devices: answered, degraded: answered.length < this.plans.length,
          device_ms: p.deviceMs, total_ms: round(performance.now() - p.start),
        };
        msg = encodeMessage({ type: 'answer', hash: p.hash, id: p.clientId, name: '', answer: body });
      } catch (e) {
        this.o.log(`the fusion failed on request ${id}: ${(e as Error).message}`);
        msg = encodeMessage({ type: 'error', hash: p.hash, id: p.clientId, name: '', error: `the fusion failed: ${(e as Error).message}` });
      }
    }
    this.answer(p.key, p.client, msg);
  }

  /** Sends an answer and keeps it for a client that asks again. */
  private answer(key: string, client: string, msg: Buffer): void {
    this.answers.set(key, msg);
    if (this.answers.size > ANSWERS_KEPT) this.answers.delete(this.answers.keys().next().value!);
    this.send(this.t.answer(client), msg);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    clearInterval(this.beat);
    for (const p of [...this.pending.values()]) {
      clearTimeout(p.timer);
      this.answer(p.key, p.client, encodeMessage({ type: 'error', hash: p.hash, id: p.clientId, name: '', error: 'the coordinator stopped before the devices answered' }));
    }
    this.pending.clear();
    this.stopping = true;
    const gone = encodeMessage({ type: 'gone', hash: this.hash, id: 0, name: '', info: { role: 'coordinator', instance: this.instance, reason: 'stopped' } });
    if (this.link.ready) await Promise.race([this.link.publish(this.t.coordinator, gone, true).catch(() => undefined), delay(1000)]);
    await Promise.race([this.link.end(true), delay(1000)]);
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

function argmax(p: Float32Array): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}
