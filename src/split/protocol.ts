/**
 * The binary messages and MQTT topics of a served split (`edgespike device`, `fuse`, `infer`).
 *
 * Every message is a header and a payload, little-endian:
 *
 *   0   4  magic "ESPK"
 *   4   1  protocol version (PROTOCOL_VERSION)
 *   5   1  message type (MESSAGE_TYPES)
 *   6  16  the split's model hash: the first 16 bytes of split.json's SHA-256
 *  22   4  request id (uint32; 0 in hello and gone)
 *  26   1  name length n (0 … 64): the device's name in device messages, else empty
 *  27   n  name (ASCII letters, digits, ".", "_", "-")
 *  27+n    payload:
 *            hello, gone, answer, error   one JSON object (UTF-8)
 *            request, input               a float32 tensor: rank (uint8), dims (uint32 each), values
 *            features                     blocks (uint8 count), each: encoding (uint8: 0 float32, 1 bits),
 *                                         T (uint32), F (uint32), then T·F float32 values or ⌈T·F/8⌉
 *                                         bytes of spikes packed LSB first (padding bits zero)
 *
 * Decoding checks every length and value before allocating: a malformed buffer is one EdgespikeError
 * naming what is wrong, never another exception.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';

/** The protocol version this code speaks; a message of another version is refused. */
export const PROTOCOL_VERSION = 1;

/** Bytes of the model hash carried by every message (of SHA-256's 32): 2^128 tells any two splits apart. */
export const HASH_BYTES = 16;

/** Largest message accepted (a 64 MiB input or feature payload is far beyond any edge model). */
export const MAX_MESSAGE_BYTES = 64 * 2 ** 20;

const MAGIC = [0x45, 0x53, 0x50, 0x4b]; // "ESPK"
const HEADER_BYTES = 27;
const NAME_RE = /^[A-Za-z0-9._-]*$/;

/** Message types by wire code. */
export const MESSAGE_TYPES = ['hello', 'gone', 'request', 'input', 'features', 'answer', 'error'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
const CODE: Record<MessageType, number> = { hello: 1, gone: 2, request: 3, input: 4, features: 5, answer: 6, error: 7 };

/** What a device or coordinator says when it (re)connects and every heartbeat. */
export interface HelloInfo {
  readonly role: 'device' | 'coordinator';
  /** Random per process: a gone message only takes off the instance that sent it. */
  readonly instance: string;
  /** Device: the sub-models it serves, by name. */
  readonly submodels?: readonly string[];
  /** Coordinator: each device's state. */
  readonly devices?: Readonly<Record<string, 'online' | 'missing' | 'refused'>>;
  /** Coordinator: how long it waits for the devices' features. */
  readonly timeout_ms?: number;
  /** Seconds between heartbeats (a repeated hello). */
  readonly heartbeat_s?: number;
  /** Device: how many times it has connected; a new count tells the coordinator to forward waiting inputs again. */
  readonly connection?: number;
}

/** Sent (retained) when a process leaves, and set as its last will. */
export interface GoneInfo {
  readonly role: 'device' | 'coordinator';
  readonly instance: string;
  readonly reason?: string;
}

/** The coordinator's answer to one request. */
export interface AnswerBody {
  readonly class: number;
  readonly name: string;
  readonly probabilities: readonly number[];
  /** The fusion's logits (mean over T) as float32 values. */
  readonly logits: readonly number[];
  /** Devices whose features were used, in manifest order. */
  readonly devices: readonly string[];
  /** True when a device did not answer in time (its features were zeros). */
  readonly degraded: boolean;
  /** Per device that answered: milliseconds from forwarding the input to receiving its features. */
  readonly device_ms: Readonly<Record<string, number>>;
  /** Milliseconds from receiving the request to sending the answer. */
  readonly total_ms: number;
}

/** One sub-model's features: spikes (or values) over T steps, [T, F] row-major. */
export interface FeatureBlock {
  readonly T: number;
  readonly F: number;
  readonly data: Float32Array;
}

interface Head {
  /** The model hash prefix as hex (2·HASH_BYTES characters). */
  readonly hash: string;
  readonly id: number;
  readonly name: string;
}

/** A decoded message. */
export type Message =
  | (Head & { readonly type: 'hello'; readonly info: HelloInfo })
  | (Head & { readonly type: 'gone'; readonly info: GoneInfo })
  | (Head & { readonly type: 'request' | 'input'; readonly shape: readonly number[]; readonly x: Float32Array })
  | (Head & { readonly type: 'features'; readonly blocks: readonly FeatureBlock[] })
  | (Head & { readonly type: 'answer'; readonly answer: AnswerBody })
  | (Head & { readonly type: 'error'; readonly error: string });

/** The hash prefix messages carry for a manifest's full SHA-256 (hex). */
export function hashPrefix(hash: string): string {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new EdgespikeError(`split hash: expected 64 hex digits, got ${JSON.stringify(hash)}`);
  return hash.slice(0, 2 * HASH_BYTES);
}

/** The default topic prefix of a split: edgespike/ and the first 8 hex digits of its hash. */
export function defaultPrefix(hash: string): string {
  return `edgespike/${hash.slice(0, 8)}`;
}

/** Checks a topic prefix: levels of letters, digits, ".", "_", "-" separated by single "/" (no wildcards). */
export function checkPrefix(prefix: string, who = '--prefix'): string {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix) || prefix.length > 200) {
    throw new EdgespikeError(`${who}: expected topic levels of letters, digits, ".", "_" or "-" separated by "/", got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/** The topics of one deployment (all under one prefix). */
export function topics(prefix: string) {
  return {
    /** The coordinator's retained hello (with the devices' states) or gone. */
    coordinator: `${prefix}/coordinator`,
    /** A device's retained hello or gone (its last will). */
    hello: (device: string) => `${prefix}/device/${device}/hello`,
    /** Inputs the coordinator forwards to a device. */
    input: (device: string) => `${prefix}/device/${device}/input`,
    /** Features a device sends back. */
    features: (device: string) => `${prefix}/device/${device}/features`,
    /** Requests of one client. */
    request: (client: string) => `${prefix}/request/${client}`,
    /** Answers to one client. */
    answer: (client: string) => `${prefix}/answer/${client}`,
    /** Subscriptions of the coordinator. */
    allHellos: `${prefix}/device/+/hello`,
    allFeatures: `${prefix}/device/+/features`,
    allRequests: `${prefix}/request/+`,
  };
}

// ---- encoding ----

/** Encodes a message. `hash` is the manifest's hash (full or prefix); `name` at most 64 name characters. */
export function encodeMessage(m: Message): Buffer {
  if (!NAME_RE.test(m.name) || m.name.length > 64) throw new EdgespikeError(`message: name ${JSON.stringify(m.name)} is not 0 … 64 letters, digits, ".", "_" or "-"`);
  if (!Number.isInteger(m.id) || m.id < 0 || m.id > 0xffffffff) throw new EdgespikeError(`message: request id ${m.id} is not a uint32`);
  const payload = encodePayload(m);
  const out = Buffer.alloc(HEADER_BYTES + m.name.length + payload.length);
  out.set(MAGIC, 0);
  out[4] = PROTOCOL_VERSION;
  out[5] = CODE[m.type];
  const hash = m.hash.slice(0, 2 * HASH_BYTES);
  if (!/^[0-9a-f]+$/.test(hash) || hash.length !== 2 * HASH_BYTES) throw new EdgespikeError(`message: hash must start with ${2 * HASH_BYTES} hex digits, got ${JSON.stringify(m.hash)}`);
  out.write(hash, 6, 'hex');
  out.writeUInt32LE(m.id, 22);
  out[26] = m.name.length;
  out.write(m.name, HEADER_BYTES, 'latin1');
  out.set(payload, HEADER_BYTES + m.name.length);
  return out;
}

function encodePayload(m: Message): Uint8Array {
  switch (m.type) {
    case 'hello': case 'gone': return Buffer.from(JSON.stringify(m.info), 'utf8');
    case 'answer': return Buffer.from(JSON.stringify(m.answer), 'utf8');
    case 'error': return Buffer.from(JSON.stringify({ error: m.error }), 'utf8');
    case 'request': case 'input': return encodeTensor(m.shape, m.x);
    case 'features': return encodeFeatures(m.blocks);
  }
}

function encodeTensor(shape: readonly number[], x: Float32Array): Buffer {
  if (shape.length < 1 || shape.length > 8 || shape.some((d) => !Number.isInteger(d) || d < 1) || shape.reduce((a, b) => a * b, 1) !== x.length) {
    throw new EdgespikeError(`message: tensor of shape ${fmtShape(shape)} cannot hold ${x.length} values`);
  }
  const out = Buffer.alloc(1 + 4 * shape.length + 4 * x.length);
  out[0] = shape.length;
  shape.forEach((d, i) => out.writeUInt32LE(d, 1 + 4 * i));
  writeFloats(out, 1 + 4 * shape.length, x);
  return out;
}

/** Packs 0/1 values LSB first, or returns null when a value is neither 0 nor 1. */
export function packSpikes(x: Float32Array): Uint8Array | null {
  const out = new Uint8Array(Math.ceil(x.length / 8));
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v === 1) out[i >> 3]! |= 1 << (i & 7);
    else if (v !== 0) return null;
  }
  return out;
}

function encodeFeatures(blocks: readonly FeatureBlock[]): Buffer {
  if (blocks.length < 1 || blocks.length > 255) throw new EdgespikeError(`message: features need 1 … 255 blocks, got ${blocks.length}`);
  const parts: Uint8Array[] = [Uint8Array.of(blocks.length)];
  for (const b of blocks) {
    if (!Number.isInteger(b.T) || !Number.isInteger(b.F) || b.T < 1 || b.F < 1 || b.T * b.F !== b.data.length) {
      throw new EdgespikeError(`message: a feature block of [${b.T}, ${b.F}] cannot hold ${b.data.length} values`);
    }
    const bits = packSpikes(b.data);
    const head = Buffer.alloc(9);
    head[0] = bits ? 1 : 0;
    head.writeUInt32LE(b.T, 1);
    head.writeUInt32LE(b.F, 5);
    parts.push(head);
    if (bits) parts.push(bits);
    else { const f = Buffer.alloc(4 * b.data.length); writeFloats(f, 0, b.data); parts.push(f); }
  }
  return Buffer.concat(parts);
}

function writeFloats(out: Buffer, at: number, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) out.writeFloatLE(x[i]!, at + 4 * i);
}

// ---- decoding ----

/** Decodes a message; anything malformed is one EdgespikeError saying what is wrong and where. */
export function decodeMessage(buf: Uint8Array): Message {
  const bad = (why: string): never => { throw new EdgespikeError(`malformed message (${buf.length} bytes): ${why}`); };
  if (buf.length > MAX_MESSAGE_BYTES) bad(`more than the ${MAX_MESSAGE_BYTES} bytes a message may have`);
  if (buf.length < HEADER_BYTES) bad(`shorter than the ${HEADER_BYTES}-byte header`);
  if (!MAGIC.every((b, i) => buf[i] === b)) bad('no "ESPK" magic at byte 0 (not an edgespike message)');
  if (buf[4] !== PROTOCOL_VERSION) bad(`protocol version ${buf[4]}, this program speaks ${PROTOCOL_VERSION}`);
  const type = MESSAGE_TYPES[buf[5]! - 1];
  if (!type) bad(`unknown message type ${buf[5]} at byte 5`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const hash = b.toString('hex', 6, 6 + HASH_BYTES);
  const id = b.readUInt32LE(22);
  const n = buf[26]!;
  if (n > 64) bad(`name length ${n} at byte 26 is above 64`);
  if (buf.length < HEADER_BYTES + n) bad(`the name of ${n} bytes runs past the end`);
  const name = b.toString('latin1', HEADER_BYTES, HEADER_BYTES + n);
  if (!NAME_RE.test(name)) bad(`the name ${JSON.stringify(name)} has characters other than letters, digits, ".", "_", "-"`);
  const head = { hash, id, name };
  const p = b.subarray(HEADER_BYTES + n);
  const where = `${type} payload`;
  try {
    switch (type!) {
      case 'hello': return { ...head, type: 'hello', info: checkHello(json(p)) };
      case 'gone': return { ...head, type: 'gone', info: checkGone(json(p)) };
      case 'answer': return { ...head, type: 'answer', answer: checkAnswer(json(p)) };
      case 'error': {
        const o = json(p);
        if (typeof o.error !== 'string') throw new Error('no "error" text');
        return { ...head, type: 'error', error: o.error };
      }
      case 'request': case 'input': return { ...head, type: type as 'request' | 'input', ...decodeTensor(p) };
      case 'features': return { ...head, type: 'features', blocks: decodeFeatures(p) };
    }
  } catch (e) {
    return bad(`${where}: ${(e as Error).message}`);
  }
}

function json(p: Buffer): Record<string, unknown> {
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(p); } catch { throw new Error('not UTF-8 text'); }
  let o: unknown;
  try { o = JSON.parse(text); } catch (e) { throw new Error(`not JSON (${(e as Error).message})`); }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('not a JSON object');
  return o as Record<string, unknown>;
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length <= 64 && NAME_RE.test(v);
const finiteList = (v: unknown, what: string): number[] => {
  if (!Array.isArray(v) || v.length > 1 << 20 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new Error(`"${what}" is not a list of finite numbers`);
  return v;
};

function checkHello(o: Record<string, unknown>): HelloInfo {
  if (o.role !== 'device' && o.role !== 'coordinator') throw new Error(`role ${JSON.stringify(o.role)} is neither "device" nor "coordinator"`);
  if (!isName(o.instance) || o.instance === '') throw new Error('no instance name');
  if (o.submodels !== undefined && (!Array.isArray(o.submodels) || !o.submodels.every(isName))) throw new Error('"submodels" is not a list of names');
  if (o.role === 'device' && o.submodels === undefined) throw new Error('a device hello lists no sub-models');
  if (o.devices !== undefined) {
    const d = o.devices as Record<string, unknown>;
    if (d === null || typeof d !== 'object' || Array.isArray(d) || !Object.entries(d).every(([k, v]) => isName(k) && (v === 'online' || v === 'missing' || v === 'refused'))) {
      throw new Error('"devices" is not an object of device states');
    }
  }
  for (const k of ['timeout_ms', 'heartbeat_s', 'connection'] as const) {
    if (o[k] !== undefined && !(typeof o[k] === 'number' && (o[k] as number) > 0 && Number.isFinite(o[k]))) throw new Error(`"${k}" is not a positive number`);
  }
  return o as unknown as HelloInfo;
}

function checkGone(o: Record<string, unknown>): GoneInfo {
  if (o.role !== 'device' && o.role !== 'coordinator') throw new Error(`role ${JSON.stringify(o.role)} is neither "device" nor "coordinator"`);
  if (!isName(o.instance) || o.instance === '') throw new Error('no instance name');
  if (o.reason !== undefined && typeof o.reason !== 'string') throw new Error('"reason" is not text');
  return o as unknown as GoneInfo;
}

function checkAnswer(o: Record<string, unknown>): AnswerBody {
  const p = finiteList(o.probabilities, 'probabilities'), l = finiteList(o.logits, 'logits');
  if (p.length === 0 || l.length !== p.length) throw new Error(`${p.length} probabilities and ${l.length} logits`);
  if (!Number.isInteger(o.class) || (o.class as number) < 0 || (o.class as number) >= p.length) throw new Error(`class ${JSON.stringify(o.class)} is not an index of the ${p.length} classes`);
  if (typeof o.name !== 'string') throw new Error('no class name');
  if (!Array.isArray(o.devices) || !o.devices.every(isName)) throw new Error('"devices" is not a list of names');
  if (typeof o.degraded !== 'boolean') throw new Error('"degraded" is not true or false');
  const ms = o.device_ms as Record<string, unknown>;
  if (ms === null || typeof ms !== 'object' || Array.isArray(ms) || !Object.entries(ms).every(([k, v]) => isName(k) && typeof v === 'number' && Number.isFinite(v))) {
    throw new Error('"device_ms" is not an object of milliseconds');
  }
  if (typeof o.total_ms !== 'number' || !Number.isFinite(o.total_ms)) throw new Error('"total_ms" is not a number');
  return o as unknown as AnswerBody;
}

function decodeTensor(p: Buffer): { shape: number[]; x: Float32Array } {
  if (p.length < 1) throw new Error('empty (expected a float32 tensor)');
  const rank = p[0]!;
  if (rank < 1 || rank > 8) throw new Error(`rank ${rank} is not 1 … 8`);
  if (p.length < 1 + 4 * rank) throw new Error(`${p.length} bytes cannot hold the ${rank} dimensions`);
  const shape = Array.from({ length: rank }, (_, i) => p.readUInt32LE(1 + 4 * i));
  const count = shape.reduce((a, d) => a * d, 1);
  if (shape.includes(0)) throw new Error(`shape ${fmtShape(shape)} has no values`);
  const want = 1 + 4 * rank + 4 * count;
  if (p.length !== want) throw new Error(`shape ${fmtShape(shape)} needs ${want} bytes, got ${p.length}`);
  const x = readFloats(p, 1 + 4 * rank, count);
  return { shape, x };
}

function readFloats(p: Buffer, at: number, count: number): Float32Array {
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = p.readFloatLE(at + 4 * i);
    if (!Number.isFinite(v)) throw new Error(`value ${i} is ${v}`);
    x[i] = v;
  }
  return x;
}

function decodeFeatures(p: Buffer): FeatureBlock[] {
  if (p.length < 1) throw new Error('empty (expected feature blocks)');
  const count = p[0]!;
  if (count < 1) throw new Error('holds no feature block');
  const blocks: FeatureBlock[] = [];
  let at = 1;
  for (let k = 0; k < count; k++) {
    if (p.length < at + 9) throw new Error(`block ${k} of ${count}: its 9-byte head runs past the end`);
    const enc = p[at]!, T = p.readUInt32LE(at + 1), F = p.readUInt32LE(at + 5);
    at += 9;
    if (enc > 1) throw new Error(`block ${k}: encoding ${enc} is neither 0 (float32) nor 1 (bits)`);
    if (T < 1 || F < 1) throw new Error(`block ${k}: shape [${T}, ${F}] has no values`);
    const n = T * F, bytes = enc === 1 ? Math.ceil(n / 8) : 4 * n;
    if (p.length < at + bytes) throw new Error(`block ${k}: [${T}, ${F}] needs ${bytes} bytes, ${p.length - at} are left`);
    let data: Float32Array;
    if (enc === 0) data = readFloats(p, at, n);
    else {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = (p[at + (i >> 3)]! >> (i & 7)) & 1;
      if (n % 8 !== 0 && p[at + bytes - 1]! >> (n % 8) !== 0) throw new Error(`block ${k}: padding bits after the last spike are not zero`);
    }
    blocks.push({ T, F, data });
    at += bytes;
  }
  if (at !== p.length) throw new Error(`${p.length - at} bytes after the last block`);
  return blocks;
}
