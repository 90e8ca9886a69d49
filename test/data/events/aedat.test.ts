import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAedat2, encodeAedat2, readAedat2 } from '../../../src/data/events/aedat2.js';
import { decodeAedat3, encodeAedat3, readAedat3 } from '../../../src/data/events/aedat3.js';
import { makeEvents } from '../../../src/data/events/events.js';
import { EdgespikeError } from '../../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'es-aedat-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

describe('AEDAT 2.0', () => {
  // address 0x0000_0A15: p_raw = 1, x_raw = (0x15 & 0xfe) >> 1 = 10, y_raw = 0x0a = 10 → x = 127 − 10 = 117, y = 10, p = 0
  // address 0x0000_7F00: p_raw = 0, x_raw = 0, y_raw = 127 → x = 127, y = 127, p = 1
  const body = new Uint8Array([0, 0, 0x0a, 0x15, 0, 0, 0x01, 0x00, 0, 0, 0x7f, 0x00, 0x80, 0, 0, 1]);
  const file = cat(enc('#!AER-DAT2.0\r\n# comment\r\n'), body);

  test('decodes big-endian [address, timestamp] with the original x and polarity flip', () => {
    const ev = decodeAedat2(file);
    assert.deepEqual(Array.from(ev.x), [117, 127]);
    assert.deepEqual(Array.from(ev.y), [10, 127]);
    assert.deepEqual(Array.from(ev.p), [0, 1]);
    assert.deepEqual(Array.from(ev.t), [256, 2 ** 31 + 1]);
  });

  test("'upright' transposes: x = 127 − y_raw, y = 127 − x_raw", () => {
    const ev = decodeAedat2(file, 'f', { orientation: 'upright' });
    assert.deepEqual(Array.from(ev.x), [117, 0]);
    assert.deepEqual(Array.from(ev.y), [117, 127]);
  });

  test('round trip in both orientations, and the file reader agrees', () => {
    const ev = makeEvents({ x: [0, 5, 127], y: [3, 127, 0], t: [1, 2, 4000000], p: [1, 0, 1] }, [128, 128, 2]);
    for (const o of ['original', 'upright'] as const) {
      const back = decodeAedat2(encodeAedat2(ev, o), 'f', { orientation: o });
      assert.deepEqual([back.x, back.y, back.t, back.p], [ev.x, ev.y, ev.t, ev.p]);
    }
    const path = join(dir, 'a.aedat');
    writeFileSync(path, encodeAedat2(ev));
    assert.deepEqual(readAedat2(path).t, ev.t);
  });

  test('a header longer than the first 4 KB read is scanned to its end', () => {
    const long = enc('#!AER-DAT2.0\r\n' + '# jAER setting line of some length....\r\n'.repeat(400)); // 16 014 bytes
    const path = join(dir, 'long.aedat');
    writeFileSync(path, cat(long, body));
    const ev = readAedat2(path);
    assert.deepEqual(Array.from(ev.t), [256, 2 ** 31 + 1]);
  });

  test('errors: wrong header, odd body, unterminated header line', () => {
    assert.throws(() => decodeAedat2(cat(enc('#!AER-DAT3.1\r\n'), body), 'c.aedat'),
      /AEDAT 2.0 file "c.aedat": byte 0: expected "#!AER-DAT2.0" header, found "#!AER-DAT3.1"/);
    // header 14 + 11 = 25 bytes, body 16 − 3 = 13 bytes: one record, 5 bytes left at 25 + 8 = 33
    assert.throws(() => decodeAedat2(file.subarray(0, file.length - 3), 'c.aedat'),
      /byte 33: truncated event \(8-byte records, 5 bytes left\)/);
    assert.throws(() => decodeAedat2(enc('#!AER-DAT2.0'), 'c.aedat'), /byte 0: header line without end of line/);
    const path = join(dir, 'bad.aedat');
    writeFileSync(path, file.subarray(0, file.length - 1));
    assert.throws(() => readAedat2(path), EdgespikeError);
  });
});

describe('AEDAT 3.1', () => {
  const head = enc('#!AER-DAT3.1\r\n#Format: RAW\r\n#!END-HEADER\r\n');
  const packet = (type: number, size: number, overflow: number, events: number[][]): Uint8Array => {
    const out = new Uint8Array(28 + events.length * size), dv = new DataView(out.buffer);
    dv.setInt16(0, type, true); dv.setInt16(2, 1, true);
    [size, 4, overflow, events.length, events.length, events.length].forEach((v, j) => dv.setInt32(4 + 4 * j, v, true));
    events.forEach((e, i) => { dv.setUint32(28 + i * size, e[0], true); dv.setInt32(32 + i * size, e[1], true); });
    return out;
  };
  // data = x<<17 | y<<2 | p<<1 | valid: (3, 4, p 1) → 0x60013; (127, 0, p 0) → 0xfe0001; invalid event dropped
  const file = cat(head,
    packet(1, 8, 0, [[(3 << 17) | (4 << 2) | 2 | 1, 100], [(9 << 17) | 2, 150]]),
    packet(0, 12, 0, [[1, 2], [3, 4]]),
    packet(1, 8, 1, [[(127 << 17) | 1, 5]]));

  test('decodes polarity packets, skips other types and invalid events, applies tsOverflow', () => {
    const ev = decodeAedat3(file);
    assert.deepEqual(Array.from(ev.x), [3, 127]);
    assert.deepEqual(Array.from(ev.y), [4, 0]);
    assert.deepEqual(Array.from(ev.p), [1, 0]);
    assert.deepEqual(Array.from(ev.t), [100, 2 ** 31 + 5]);
  });

  test('the streaming reader agrees; writer round trip across packets', () => {
    const path = join(dir, 'g.aedat');
    writeFileSync(path, file);
    assert.deepEqual(readAedat3(path).t, decodeAedat3(file).t);
    const n = 10000;
    const ev = makeEvents({ x: Array.from({ length: n }, (_, i) => i % 128), y: Array.from({ length: n }, (_, i) => (i * 3) % 128),
      t: Array.from({ length: n }, (_, i) => i * 400000), p: Array.from({ length: n }, (_, i) => (i >> 1) & 1) }, [128, 128, 2]);
    const bytes = encodeAedat3(ev, 3000);
    writeFileSync(path, bytes);
    const back = readAedat3(path);
    assert.deepEqual([back.x, back.y, back.t, back.p], [ev.x, ev.y, ev.t, ev.p]);
  });

  test('errors: truncated packet body, truncated header, missing END-HEADER', () => {
    assert.throws(() => decodeAedat3(file.subarray(0, file.length - 1), 'g.aedat'),
      new RegExp(`AEDAT 3.1 file "g.aedat": byte ${file.length - 36}: truncated packet \\(1 events of 8 bytes, 7 bytes left\\)`));
    // the header is three lines of 14 bytes: the first packet starts at byte 42
    assert.throws(() => decodeAedat3(cat(head, new Uint8Array(10)), 'g.aedat'), /byte 42: truncated packet header \(28 bytes, 10 left\)/);
    assert.throws(() => decodeAedat3(enc('#!AER-DAT3.1\r\n'), 'g.aedat'), /header without "#!END-HEADER" line/);
    assert.throws(() => decodeAedat3(enc('#!AER-DAT2.0\r\n'), 'g.aedat'), /expected "#!AER-DAT3.1" header/);
  });
});
