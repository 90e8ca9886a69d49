/**
 * A client of a served split: it sends input samples to the coordinator and receives one answer each
 * (`edgespike infer` uses it).
 *
 * ```ts
 * const client = await SplitClient.connect('mqtt://127.0.0.1:1883', 'split-dir');
 * const answer = await client.infer(readSample('digit.png', client.manifest));   // { class, name, degraded, … }
 * await client.close();
 * ```
 *
 * Requests that still wait are sent again whenever the coordinator says hello (after either side
 * reconnected, or at its heartbeat): the coordinator ignores a request it is working on and repeats the
 * answer of one it has answered, and the client takes the first answer of each request, so every infer
 * call settles exactly once (an answer, an error answer, or a timeout).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { readInput } from '../util/fsx.js';
import { readImage, toModelInput } from '../data/image.js';
import { NORMALIZATIONS, normalize, resolveNormalization, type NormalizationName, type NormalizeOption } from '../data/augment.js';
import { npyValues, parseNpyHeader } from '../data/events/_npy-header.js';
import { readSplit, type SplitManifest } from './manifest.js';
import { openLink, type BrokerOptions, type Link } from './link.js';
import { checkPrefix, decodeMessage, defaultPrefix, encodeMessage, hashPrefix, topics, type AnswerBody, type HelloInfo } from './protocol.js';

/** An answer to one input. */
export type Answer = AnswerBody;

/** Options of SplitClient.connect. */
export interface ClientOptions extends Omit<BrokerOptions, 'url'> {
  /** Milliseconds to wait for the broker and the coordinator, and (at least) for each answer (default 10000). */
  readonly timeout?: number;
  readonly prefix?: string;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

interface Waiting {
  readonly payload: Buffer;
  sentAt: number;
  readonly resolve: (a: Answer) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** A connection to the coordinator of one split. */
export class SplitClient {
  private readonly pending = new Map<number, Waiting>();
  private nextId = 1;
  private coordinator: HelloInfo | null = null;
  private otherHash: string | null = null;
  private closed = false;
  private readonly watchers = new Set<() => void>();
  private link!: Link;

  private constructor(readonly manifest: SplitManifest, readonly url: string, readonly prefix: string,
    private readonly hash: string, private readonly clientId: string, private readonly timeout: number) {}

  /**
   * Connects to the broker at `url` and waits for the coordinator of the split in folder `dir` (its hash
   * checked against the files). Fails with one line when the broker or the coordinator cannot be reached
   * in time, or when the coordinator serves another split.
   */
  static async connect(url: string, dir: string, opts: ClientOptions = {}): Promise<SplitClient> {
    const m = readSplit(dir);
    const timeout = opts.timeout ?? 10_000;
    const prefix = checkPrefix(opts.prefix ?? defaultPrefix(m.hash));
    const c = new SplitClient(m, url, prefix, hashPrefix(m.hash), randomBytes(6).toString('hex'), timeout);
    const t = topics(prefix);
    c.link = await openLink({ ...opts, url }, {
      clientId: `es-client-${c.clientId}`,
      subscriptions: [t.answer(c.clientId), t.coordinator],
      onConnect: () => { /* the coordinator's retained hello follows the subscription and re-sends what waits */ },
      onMessage: (topic, payload) => c.onMessage(topic, payload),
      log: () => { /* connection changes show as answers that come late or time out */ },
    });
    const start = performance.now();
    try {
      await c.link.firstConnection(timeout);
      const ok = await c.until(() => c.coordinator !== null || c.otherHash !== null, Math.max(0, timeout - (performance.now() - start)));
      if (c.otherHash !== null && c.coordinator === null) throw new EdgespikeError(`the coordinator under ${prefix} at ${url} serves split ${c.otherHash.slice(0, 12)}…, not ${dir} (${c.hash.slice(0, 12)}…)`, 1);
      if (!ok) throw new EdgespikeError(`no coordinator serves split ${c.hash.slice(0, 12)}… under ${prefix} at ${url} (waited ${timeout} ms)`, 1);
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  /** Each device's state, as the coordinator last reported it. */
  devices(): Record<string, 'online' | 'missing' | 'refused'> {
    return { ...(this.coordinator?.devices ?? {}) };
  }

  /** Resolves true once the coordinator reports every device online, false after `ms`. */
  waitForDevices(ms: number): Promise<boolean> {
    return this.until(() => { const d = Object.values(this.devices()); return d.length > 0 && d.every((s) => s === 'online'); }, ms);
  }

  /** Resolves true when `test` holds (checked at every coordinator message), false after `ms`. */
  private until(test: () => boolean, ms: number): Promise<boolean> {
    if (test()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => { if (test()) { this.watchers.delete(check); clearTimeout(timer); resolve(true); } };
      const timer = setTimeout(() => { this.watchers.delete(check); resolve(false); }, ms);
      this.watchers.add(check);
    });
  }

  /**
   * Classifies one input sample x: the model input as the sub-models take it (shape manifest.input,
   * normalised as in training; readSample makes it from a PNG or .npy file).
   */
  infer(x: Float32Array): Promise<Answer> {
    if (this.closed) return Promise.reject(new EdgespikeError('infer: the client is closed'));
    const want = size(this.manifest.input);
    if (!(x instanceof Float32Array) || x.length !== want) return Promise.reject(new EdgespikeError(`infer: expected ${want} float32 values (input ${fmtShape(this.manifest.input)}), got ${x?.length}`));
    const bad = x.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) return Promise.reject(new EdgespikeError(`infer: value ${bad} of the input is ${x[bad]}`));
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const payload = encodeMessage({ type: 'request', hash: this.hash, id, name: '', shape: [...this.manifest.input], x });
    // never shorter than what the coordinator itself may wait for the devices
    const ms = Math.max(this.timeout, (this.coordinator?.timeout_ms ?? 0) + 2000);
    return new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EdgespikeError(`infer: no answer to request ${id} within ${ms} ms`, 1));
      }, ms);
      this.pending.set(id, { payload, sentAt: performance.now(), resolve, reject, timer });
      this.send(payload);
    });
  }

  private send(payload: Buffer): void {
    this.link.publish(topics(this.prefix).request(this.clientId), payload).catch(() => { /* sent again at the coordinator's next hello */ });
  }

  private onMessage(topic: string, payload: Buffer): void {
    let msg;
    try { msg = decodeMessage(payload); } catch { return; /* not for us to repair: the answer times out */ }
    if (topic === topics(this.prefix).coordinator) {
      if (msg.type === 'hello' && msg.info.role === 'coordinator') {
        if (msg.hash !== this.hash) { this.otherHash = msg.hash; this.coordinator = null; }
        else {
          this.coordinator = msg.info;
          // whatever waited may have been missed by a coordinator that was away: ask again (answers are not repeated)
          const now = performance.now();
          for (const w of this.pending.values()) if (now - w.sentAt > 1000) { w.sentAt = now; this.send(w.payload); }
        }
      } else if (msg.type === 'gone' && msg.hash === this.hash && msg.info.instance === this.coordinator?.instance) {
        this.coordinator = null;
        for (const [id, w] of this.pending) {
          this.pending.delete(id);
          clearTimeout(w.timer);
          w.reject(new EdgespikeError(`infer: the coordinator went away before answering request ${id} (${msg.info.reason ?? 'no reason given'})`, 1));
        }
      }
      for (const w of [...this.watchers]) w();
      return;
    }
    if (msg.type !== 'answer' && msg.type !== 'error') return;
    const w = this.pending.get(msg.id);
    if (!w) return; // a repeated answer: the first one was taken
    this.pending.delete(msg.id);
    clearTimeout(w.timer);
    if (msg.type === 'answer') w.resolve(msg.answer);
    else w.reject(new EdgespikeError(`infer: the coordinator answered request ${msg.id} with an error: ${msg.error}`, 1));
  }

  /** Rejects what still waits and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, w] of this.pending) { clearTimeout(w.timer); w.reject(new EdgespikeError(`infer: the client closed before request ${id} was answered`)); }
    this.pending.clear();
    if (this.link) await Promise.race([this.link.end(false), new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}

/** The normalisation preset a data set's `normalize: true` means. */
function presetOf(dataset: string): NormalizationName {
  if (dataset === 'fashion-mnist') return 'fashion';
  return dataset in NORMALIZATIONS ? (dataset as NormalizationName) : 'mnist';
}

/**
 * Reads one input sample for a split: a PNG or PGM image (converted to the input's channels and size as
 * `predict` does), or an .npy array holding one sample shaped as the input (or [1, …input]) with values in
 * [0, 1]; then normalised with the manifest's `normalize`, as in training.
 */
export function readSample(path: string, m: SplitManifest): Float32Array {
  const input = m.input;
  let x: Float32Array;
  if (/\.npy$/i.test(path)) x = readNpySample(path, input);
  else {
    if (input.length !== 3) throw new EdgespikeError(`${path}: the split takes input ${fmtShape(input)}, not an image; give an .npy sample`);
    x = toModelInput(readImage(path), input);
  }
  if (m.normalize) {
    const n = resolveNormalization(m.normalize as NormalizeOption, presetOf(m.dataset), input[0]!, 'infer');
    if (n) normalize(x, input[0]!, size(input.slice(1)), 1, n);
  }
  return x;
}

function readNpySample(path: string, input: readonly number[]): Float32Array {
  const bytes = readInput(path, 'npy file', 256 * 2 ** 20);
  const h = parseNpyHeader(bytes, path, bytes.length);
  if (h.fields) throw new EdgespikeError(`${path}: a structured array, expected plain numbers shaped ${fmtShape(input)}`);
  const shape = h.shape.length === input.length + 1 && h.shape[0] === 1 ? h.shape.slice(1) : h.shape;
  if (fmtShape(shape) !== fmtShape(input)) throw new EdgespikeError(`${path}: holds an array shaped ${fmtShape(h.shape)}, the split's input is ${fmtShape(input)}`);
  const x = npyValues(bytes, h, size(input));
  const bad = x.findIndex((v) => !(v >= 0 && v <= 1));
  if (bad >= 0) throw new EdgespikeError(`${path}: value ${bad} is ${x[bad]}; pixels must be in [0, 1] (the split normalises them)`);
  return x;
}
