/** The binary messages of a served split: every type round trip, spike packing, and malformed buffers as one error each. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPrefix, decodeMessage, defaultPrefix, encodeMessage, hashPrefix, packSpikes, topics, HASH_BYTES, type Message,
} from '../../src/split/protocol.js';
import { EdgespikeError } from '../../src/util/errors.js';

const HASH = 'ab'.repeat(32);
const head = { hash: hashPrefix(HASH), id: 4_000_000_001, name: 'pi-1' };

const samples: Message[] = [
  { ...head, type: 'hello', info: { role: 'device', instance: 'a1b2c3', submodels: ['sub-0', 'sub-1'], heartbeat_s: 5, connection: 2 } },
  { ...head, name: '', type: 'hello', info: { role: 'coordinator', instance: 'ffee', devices: { 'pi-1': 'online', 'pi-2': 'refused' }, timeout_ms: 2000 } },
  { ...head, type: 'gone', info: { role: 'device', instance: 'a1b2c3', reason: 'connection lost' } },
  { ...head, name: '', type: 'request', shape: [1, 2, 3], x: Float32Array.from([0, -1.5, 2.25, 1e-30, 3.4e38, -0]) },
  { ...head, type: 'input', shape: [6], x: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  { ...head, type: 'features', blocks: [
    { T: 3, F: 5, data: Float32Array.from({ length: 15 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0) },
    { T: 2, F: 2, data: Float32Array.from([0.5, 0, 1, 2]) },
  ] },
  { ...head, name: '', type: 'answer', answer: { class: 1, name: 'one', probabilities: [0.25, 0.75], logits: [-1, 0.5], devices: ['pi-1'], degraded: true, device_ms: { 'pi-1': 3.5 }, total_ms: 4.25 } },
  { ...head, name: '', type: 'error', error: 'no device answered within 2000 ms' },
];

test('every message type decodes to what was encoded', () => {
  for (const m of samples) {
    const back = decodeMessage(encodeMessage(m));
    assert.deepEqual(back, m, m.type);
  }
});

test('the header: magic, version, type, 16 hash bytes, request id, name', () => {
  const b = encodeMessage(samples[0]!);
  assert.equal(b.toString('latin1', 0, 4), 'ESPK');
  assert.equal(b[4], 1);
  assert.equal(b[5], 1);
  assert.equal(b.toString('hex', 6, 6 + HASH_BYTES), HASH.slice(0, 32));
  assert.equal(b.readUInt32LE(22), 4_000_000_001);
  assert.equal(b[26], 4);
  assert.equal(b.toString('latin1', 27, 31), 'pi-1');
});

test('binary features travel as packed bits, others as float32', () => {
  // [3, 5] spikes: 15 bits in 2 bytes; [2, 2] with 0.5: 16 bytes of float32
  const b = encodeMessage(samples[5]!);
  assert.equal(b.length, 27 + 4 + 1 + (9 + 2) + (9 + 16));
  assert.deepEqual(Array.from(packSpikes(Float32Array.from([1, 0, 0, 1, 0, 0, 0, 0, 1]))!), [0b1001, 1]);
  assert.equal(packSpikes(Float32Array.from([1, 0.5])), null);
  // a T = 4, F = 800 block of spikes takes 400 bytes instead of 12,800
  const big = encodeMessage({ ...head, type: 'features', blocks: [{ T: 4, F: 800, data: Float32Array.from({ length: 3200 }, (_, i) => i % 5 === 0 ? 1 : 0) }] });
  assert.equal(big.length, 27 + 4 + 1 + 9 + 400);
});

test('prefixes and hashes', () => {
  assert.equal(defaultPrefix(HASH), 'edgespike/abababab');
  assert.equal(topics('p/q').input('pi-1'), 'p/q/device/pi-1/input');
  assert.equal(checkPrefix('site-3/line.2'), 'site-3/line.2');
  for (const bad of ['', 'a/+/b', 'a/#', '/a', 'a//b', 'a/', 'x y']) assert.throws(() => checkPrefix(bad), /--prefix: expected topic levels/, bad);
  assert.throws(() => hashPrefix('abc'), /64 hex digits/);
});

/** A valid message with bytes changed by `edit`. */
function edited(m: Message, edit: (b: Buffer) => Buffer | void): Buffer {
  const b = Buffer.from(encodeMessage(m));
  return edit(b) ?? b;
}

test('malformed buffers: one EdgespikeError naming what is wrong', () => {
  const req = samples[3]!, feat = samples[5]!, hello = samples[0]!, ans = samples[6]!;
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /shorter than the 27-byte header/],
    ['text', Buffer.from('hello, is anyone there? this is not binary'), /no "ESPK" magic/],
    ['version', edited(req, (b) => { b[4] = 2; }), /protocol version 2, this program speaks 1/],
    ['type', edited(req, (b) => { b[5] = 9; }), /unknown message type 9/],
    ['name length', edited(req, (b) => { b[26] = 65; }), /name length 65 at byte 26 is above 64/],
    ['name past end', encodeMessage(req).subarray(0, 27).map((v, i) => (i === 26 ? 40 : v)) as Buffer, /name of 40 bytes runs past the end/],
    ['name chars', edited(hello, (b) => { b[28] = 0x2f; }), /has characters other than/],
    ['tensor truncated', edited(req, (b) => b.subarray(0, b.length - 3)), /request payload: shape \[1, 2, 3\] needs 37 bytes, got 34/],
    ['tensor rank', edited(req, (b) => { b[27] = 0; }), /request payload: rank 0 is not 1 … 8/],
    ['tensor NaN', edited(req, (b) => { b.writeFloatLE(NaN, 27 + 13 + 4); }), /request payload: value 1 is NaN/],
    ['tensor huge', edited(req, (b) => { b.writeUInt32LE(0xffffffff, 28); }), /needs \d+ bytes, got 37/],
    ['features padding', edited(feat, (b) => { b[27 + 4 + 1 + 9 + 1] |= 0x80; }), /padding bits after the last spike are not zero/],
    ['features trailing', Buffer.concat([encodeMessage(feat), Buffer.from([0])]), /1 bytes after the last block/],
    ['features encoding', edited(feat, (b) => { b[27 + 4 + 1] = 7; }), /encoding 7 is neither 0/],
    ['features count', edited(feat, (b) => { b[27 + 4] = 3; }), /block 2 of 3: its 9-byte head runs past the end/],
    ['features empty shape', edited(feat, (b) => { b.writeUInt32LE(0, 27 + 4 + 1 + 1); }), /shape \[0, 5\] has no values/],
    ['json', edited(hello, (b) => { b[31] = 0x5b; }), /hello payload: not JSON/],
    ['utf-8', edited(hello, (b) => { b[40] = 0xff; }), /hello payload: not UTF-8 text/],
    ['no instance', Buffer.from(encodeMessage(hello).toString('latin1').replace('"instance":"a1b2c3"', '"instance":""'), 'latin1'), /no instance name/],
    ['role', Buffer.from(encodeMessage(hello).toString('latin1').replace('"device"', '"router"'), 'latin1'), /role "router" is neither/],
    ['answer class', Buffer.from(encodeMessage(ans).toString('latin1').replace('"class":1', '"class":7'), 'latin1'), /class 7 is not an index of the 2 classes/],
    ['answer logits', Buffer.from(encodeMessage(ans).toString('latin1').replace('"logits":[-1,0.5]', '"logits":[-1]'), 'latin1'), /2 probabilities and 1 logits/],
  ];
  for (const [what, buf, re] of cases) {
    assert.throws(() => decodeMessage(buf), (e: unknown) => {
      assert.ok(e instanceof EdgespikeError, `${what}: ${String(e)}`);
      assert.match(e.message, /^malformed message \(\d+ bytes\): /, what);
      assert.match(e.message, re, what);
      assert.ok(!e.message.includes('\n'), what);
      return true;
    }, what);
  }
});

test('5,000 damaged messages: each decodes or is one EdgespikeError', () => {
  let s = 12345;
  const rand = (n: number): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s % n; };
  let decoded = 0;
  for (let k = 0; k < 5000; k++) {
    const b = Buffer.from(encodeMessage(samples[k % samples.length]!));
    const kind = rand(3);
    let buf: Buffer = b;
    if (kind === 0) for (let j = 1 + rand(4); j > 0; j--) b[rand(b.length)] = rand(256);
    else if (kind === 1) buf = b.subarray(0, rand(b.length));
    else buf = Buffer.concat([b.subarray(0, rand(b.length)), Buffer.from(Array.from({ length: rand(40) }, () => rand(256)))]);
    try {
      decodeMessage(buf);
      decoded++;
    } catch (e) {
      assert.ok(e instanceof EdgespikeError, `case ${k}: ${e instanceof Error ? e.stack : String(e)}`);
      assert.ok(!e.message.includes('\n'));
    }
  }
  assert.ok(decoded > 0 && decoded < 5000, `${decoded} decoded`);
});
