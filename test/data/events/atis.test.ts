import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAtis, encodeAtis, readAtis, writeAtis } from '../../../src/data/events/atis.js';
import { makeEvents } from '../../../src/data/events/events.js';
import { EdgespikeError } from '../../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'es-atis-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('ATIS .bin', () => {
  test('decodes hand-made records', () => {
    // x=5 y=7 p=1 t=0x012345=74565 | x=33 y=0 p=0 t=0x7fffff=8388607
    const bytes = new Uint8Array([5, 7, 0x81, 0x23, 0x45, 33, 0, 0x7f, 0xff, 0xff]);
    const ev = decodeAtis(bytes);
    assert.deepEqual(Array.from(ev.x), [5, 33]);
    assert.deepEqual(Array.from(ev.y), [7, 0]);
    assert.deepEqual(Array.from(ev.p), [1, 0]);
    assert.deepEqual(Array.from(ev.t), [74565, 8388607]);
    assert.deepEqual(ev.sensor, [34, 34, 2]);
  });

  test('an overflow marker (y = 240) adds 2^13 µs to later events and is dropped', () => {
    const bytes = new Uint8Array([1, 1, 0, 0, 9, 0, 240, 0, 0, 0, 1, 2, 0, 0, 16, 0, 240, 0, 0, 0, 3, 4, 0x80, 0, 1]);
    const ev = decodeAtis(bytes);
    assert.deepEqual(Array.from(ev.t), [9, 16 + 8192, 1 + 2 * 8192]);
    assert.equal(ev.length, 3);
  });

  test('round trip, including times past 2^23 µs written with markers', () => {
    const ev = makeEvents({ x: [0, 10, 33, 2], y: [0, 20, 33, 239], t: [0, 300000, 8388608, 9000000], p: [1, 0, 1, 0] }, [34, 34, 2]);
    const bytes = encodeAtis(ev);
    // 8388608 needs one marker (8388608 − 8192 < 2^23), 9000000 needs ⌈(9000000 − 8388607)/8192⌉ = 75 in all
    assert.equal(bytes.length, (4 + 75) * 5);
    const back = decodeAtis(bytes);
    assert.deepEqual(Array.from(back.t), [0, 300000, 8388608, 9000000]);
    assert.deepEqual(Array.from(back.y), [0, 20, 33, 239]);
  });

  test('streaming reader over chunk boundaries equals the in-memory decoder', () => {
    const n = 250_000; // 1.25 MB: crosses the 1 MB chunk
    const ev = makeEvents({
      x: Array.from({ length: n }, (_, i) => i % 34), y: Array.from({ length: n }, (_, i) => (i * 7) % 34),
      t: Array.from({ length: n }, (_, i) => i * 3), p: Array.from({ length: n }, (_, i) => i & 1),
    }, [34, 34, 2]);
    const path = join(dir, 'big.bin');
    writeAtis(path, ev);
    const a = readAtis(path);
    assert.equal(a.length, n);
    assert.deepEqual(a.t, ev.t);
    assert.deepEqual(a.x, ev.x);
    assert.deepEqual(a.p, ev.p);
  });

  test('a truncated file names the file, the byte offset and the record size', () => {
    const path = join(dir, 'x.bin');
    writeFileSync(path, new Uint8Array(1238));
    assert.throws(() => readAtis(path), (e: unknown) => e instanceof EdgespikeError
      && e.message === 'N-MNIST file "x.bin": byte 1235: truncated event (5-byte records, 3 bytes left)');
    assert.throws(() => decodeAtis(new Uint8Array(7), 'y.bin'), /"y.bin": byte 5: truncated event \(5-byte records, 2 bytes left\)/);
  });

  test('a missing file is an EdgespikeError', () => {
    assert.throws(() => readAtis(join(dir, 'none.bin')), (e: unknown) => e instanceof EdgespikeError && /cannot open \(ENOENT\)/.test(e.message));
  });

  test('unwritable events are refused', () => {
    assert.throws(() => encodeAtis(makeEvents({ x: [300], y: [0], t: [0], p: [0] }, [34, 34, 2])), EdgespikeError);
    assert.throws(() => encodeAtis(makeEvents({ x: [0], y: [240], t: [0], p: [0] }, [34, 34, 2])), EdgespikeError);
    assert.throws(() => encodeAtis(makeEvents({ x: [0], y: [0], t: [1.5], p: [0] }, [34, 34, 2])), EdgespikeError);
  });
});
