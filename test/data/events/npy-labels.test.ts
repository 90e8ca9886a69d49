import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEvents } from '../../../src/data/events/events.js';
import { cutGestures, formatGestureLabels, parseGestureLabels, readGestureLabels } from '../../../src/data/events/gesture-labels.js';
import { decodeNpyEvents, encodeNpy, encodeNpyEvents, parseNpyHeader, readNpyEvents } from '../../../src/data/events/npy.js';
import { EdgespikeError } from '../../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'es-npy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('.npy events', () => {
  const ev = makeEvents({ x: [1, 2, 33], y: [4, 5, 6], t: [10, 2 ** 40, 30], p: [1, 0, 1] }, [34, 34, 2]);

  test("tonic's structured record (x, y int16, t int64, p bool) round trips and the header reads back", () => {
    const bytes = encodeNpyEvents(ev);
    const h = parseNpyHeader(bytes, 'e.npy', bytes.length);
    assert.equal(h.dataStart % 64, 0);
    assert.deepEqual(h.fields!.map((f) => [f.name, f.type, f.offset]), [['x', '<i2', 0], ['y', '<i2', 2], ['t', '<i8', 4], ['p', '|b1', 12]]);
    assert.equal(h.recordSize, 13);
    const back = decodeNpyEvents(bytes);
    assert.deepEqual([back.x, back.y, back.t, back.p], [ev.x, ev.y, ev.t, ev.p]);
    assert.deepEqual(back.sensor, [34, 7, 2]); // guessed: max x + 1, max y + 1, max p + 1
  });

  test('any field order (t, x, p as in audio sets): y defaults to 0', () => {
    const bytes = encodeNpyEvents(ev, [['t', '<f8'], ['x', '<u2'], ['p', '<i1']]);
    const back = decodeNpyEvents(bytes);
    assert.deepEqual(Array.from(back.x), [1, 2, 33]);
    assert.deepEqual(Array.from(back.y), [0, 0, 0]);
    assert.deepEqual(Array.from(back.t), [10, 2 ** 40, 30]);
  });

  test("a plain (N, 4) array with tonic's gesture columns x, y, p, t in ms", () => {
    const bytes = encodeNpy([7, 8, 1, 1.5, 9, 10, 0, 2], [2, 4], '<f8');
    const back = decodeNpyEvents(bytes, 'g.npy', { columns: 'xypt', timeScale: 1000, sensor: [128, 128, 2] });
    assert.deepEqual(Array.from(back.t), [1500, 2000]);
    assert.deepEqual(Array.from(back.x), [7, 9]);
    assert.deepEqual(Array.from(back.p), [1, 0]);
    const path = join(dir, 'g.npy');
    writeFileSync(path, bytes);
    assert.deepEqual(readNpyEvents(path, { columns: 'xypt', timeScale: 1000 }).t, back.t);
  });

  test('errors: truncated data, wrong shape, bad magic, out-of-range x', () => {
    const bytes = encodeNpyEvents(ev);
    // header 128 bytes (10 + dict padded to a multiple of 64) + 3 × 13 data bytes = 167; cut by 2 → ends at 165
    assert.equal(bytes.length, 167);
    assert.throws(() => decodeNpyEvents(bytes.subarray(0, bytes.length - 2), 'e.npy'),
      /NPY file "e.npy": byte 165: expected 39 data bytes for shape \(3\) of 13-byte items, file has 37/);
    assert.throws(() => decodeNpyEvents(encodeNpy([1, 2, 3], [3], '<f8'), 'v.npy'), /expected a structured array or shape \(N, 4\)/);
    assert.throws(() => decodeNpyEvents(new Uint8Array(20), 'z.npy'), /byte 0: expected magic/);
    assert.throws(() => decodeNpyEvents(encodeNpy([-1, 0, 0, 0], [1, 4], '<f8'), 'n.npy'), EdgespikeError);
  });
});

describe('gesture labels CSV', () => {
  const text = 'class,startTime_usec,endTime_usec\n3,100,200\n11,200,350\n';

  test('parses rows into label = class − 1 and cuts half-open spans', () => {
    const spans = parseGestureLabels(text);
    assert.deepEqual(spans, [{ label: 2, start: 100, end: 200 }, { label: 10, start: 200, end: 350 }]);
    const ev = makeEvents({ x: [0, 1, 2, 3, 4], y: [0, 0, 0, 0, 0], t: [99, 100, 199, 200, 350], p: [0, 0, 0, 0, 0] }, [128, 128, 2]);
    const parts = cutGestures(ev, spans);
    assert.deepEqual(Array.from(parts[0].events.t), [100, 199]); // 99 before, 200 belongs to the next
    assert.deepEqual(Array.from(parts[1].events.t), [200]); // 350 = end is excluded
    assert.equal(formatGestureLabels(spans), text);
  });

  test('errors name the file and byte offset of the bad line', () => {
    assert.throws(() => parseGestureLabels('class,startTime_usec,endTime_usec\n3,100,200\n0,5,6\n', 'u_labels.csv'),
      /gesture labels file "u_labels.csv": byte 44: expected "class ≥ 1,start,end"/);
    assert.throws(() => parseGestureLabels('a,b\n', 'u_labels.csv'), /byte 0: expected header/);
    assert.throws(() => readGestureLabels(join(dir, 'missing_labels.csv')), /cannot open \(ENOENT\)/);
  });
});
