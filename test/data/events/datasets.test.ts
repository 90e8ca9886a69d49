import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flipLR } from '../../../src/data/events/augment.js';
import { writeAedat2 } from '../../../src/data/events/aedat2.js';
import { writeAedat3 } from '../../../src/data/events/aedat3.js';
import { writeAtis } from '../../../src/data/events/atis.js';
import { eventDataset } from '../../../src/data/events/datasets.js';
import { makeEvents, type Events, type SensorSize } from '../../../src/data/events/events.js';
import { framesBySplit } from '../../../src/data/events/frame.js';
import { writeGestureLabels } from '../../../src/data/events/gesture-labels.js';
import { writeShd } from '../../../src/data/events/shd.js';
import { EdgespikeError } from '../../../src/util/errors.js';

const root = mkdtempSync(join(tmpdir(), 'es-ds-'));
after(() => rmSync(root, { recursive: true, force: true }));
/** Events whose first timestamp tags the file: t = tag, tag + 10, ... */
const tagged = (tag: number, n: number, sensor: SensorSize): Events =>
  makeEvents({ x: Array.from({ length: n }, (_, i) => i % sensor[0]), y: Array.from({ length: n }, (_, i) => (i * 5) % sensor[1]),
    t: Array.from({ length: n }, (_, i) => tag + 10 * i), p: Array.from({ length: n }, (_, i) => i & 1) }, sensor);
const read = (d: { shape: readonly number[]; read(i: number, o: Float32Array, off: number): void }, i: number): Float32Array => {
  const out = new Float32Array(d.shape.reduce((a, b) => a * b, 1));
  d.read(i, out, 0);
  return out;
};

describe('event data sets', () => {
  test('N-MNIST: Train/<digit>/*.bin, frames equal split-by-number counts', async () => {
    const dir = join(root, 'nmnist');
    for (const d of ['0', '1', '2']) mkdirSync(join(dir, 'Train', d), { recursive: true });
    mkdirSync(join(dir, 'Test', '5'), { recursive: true });
    writeAtis(join(dir, 'Train', '0', '00001.bin'), tagged(100, 50, [34, 34, 2]));
    writeAtis(join(dir, 'Train', '2', '00002.bin'), tagged(200, 40, [34, 34, 2]));
    writeAtis(join(dir, 'Test', '5', '00003.bin'), tagged(300, 30, [34, 34, 2]));
    const train = await eventDataset('nmnist', dir, 'train', { framing: { kind: 'number', frames: 3 } });
    assert.deepEqual([train.length, train.shape, train.numClasses, train.label(0), train.label(1)], [2, [3, 2, 34, 34], 10, 0, 2]);
    assert.deepEqual(read(train, 1), framesBySplit(tagged(200, 40, [34, 34, 2]), 3).data);
    const test = await eventDataset('nmnist', dir, 'test', { framing: { kind: 'number', frames: 3 }, binary: true, scale: 2 });
    assert.equal(test.label(0), 5);
    assert.ok(read(test, 0).every((v) => v === 0 || v === 2));
  });

  test('CIFAR10-DVS: first ⌈0.8·n⌉ files per class in name order train, the rest test', async () => {
    const dir = join(root, 'c10');
    for (const c of ['airplane', 'automobile']) {
      mkdirSync(join(dir, c), { recursive: true });
      for (let i = 0; i < 12; i++) writeAedat2(join(dir, c, `cifar10_${c}_${i}.aedat`), tagged(i, 5, [128, 128, 2]));
    }
    const train = await eventDataset('cifar10dvs', dir, 'train', { framing: { kind: 'number', frames: 2 } });
    const test = await eventDataset('cifar10dvs', dir, 'test', { framing: { kind: 'number', frames: 2 } });
    // ⌈0.8·12⌉ = 10 train per class; names sort 0, 1, 10, 11, 2, …, 9, so files 8 and 9 are test
    assert.deepEqual([train.length, test.length, test.label(0), test.label(2)], [20, 4, 0, 1]);
    assert.deepEqual([0, 1, 2, 3].map((i) => test.events(i).t[0]), [8, 9, 8, 9]);
    assert.deepEqual(test.classNames, ['airplane', 'automobile']);
  });

  test('DVS128 Gesture: trials lists, labels CSV cut into gestures, transform applied before framing', async () => {
    const dir = join(root, 'gesture');
    mkdirSync(dir, { recursive: true });
    const rec = tagged(0, 100, [128, 128, 2]); // t = 0 … 990
    for (const u of ['user01_led', 'user24_led']) {
      writeAedat3(join(dir, `${u}.aedat`), rec);
      writeGestureLabels(join(dir, `${u}_labels.csv`), [{ label: 0, start: 0, end: 300 }, { label: 10, start: 500, end: 800 }]);
    }
    writeFileSync(join(dir, 'trials_to_train.txt'), 'user01_led.aedat\n\n');
    writeFileSync(join(dir, 'trials_to_test.txt'), 'user24_led.aedat\n');
    const train = await eventDataset('dvsgesture', dir, 'train', { framing: { kind: 'number', frames: 1 }, transform: (e) => flipLR(e) });
    assert.deepEqual([train.length, train.label(0), train.label(1), train.numClasses], [2, 0, 10, 11]);
    assert.equal(train.events(1).length, 30); // t = 500 … 790
    const frame = read(train, 0); // 30 events, x = i % 128 flipped to 127 − i
    assert.equal(frame.reduce((a, b) => a + b, 0), 30);
    assert.equal(frame[(0 * 128 + 0) * 128 + 127], 1); // event 0: p 0, y 0, x 0 → 127
  });

  test('N-Caltech101: Caltech101/<class>/*.bin with an 80/20 split on a 240×180 sensor', async () => {
    const dir = join(root, 'ncal');
    for (const c of ['Faces_easy', 'accordion']) {
      mkdirSync(join(dir, 'Caltech101', c), { recursive: true });
      for (let i = 1; i <= 5; i++) writeAtis(join(dir, 'Caltech101', c, `image_000${i}.bin`), tagged(i, 10, [240, 180, 2]));
    }
    const train = await eventDataset('ncaltech101', dir, 'train', { framing: { kind: 'timeBins', frames: 2 } });
    assert.deepEqual([train.length, train.shape, train.classNames], [8, [2, 2, 180, 240], ['Faces_easy', 'accordion']]);
  });

  test('SHD: shd_train.h5 framed as [T, 1, 1, 700]', async () => {
    const dir = join(root, 'shd');
    mkdirSync(dir, { recursive: true });
    await writeShd(join(dir, 'shd_train.h5'), [{ times: [0.1, 0.2, 0.3], units: [5, 5, 699] }], [13]);
    const d = await eventDataset('shd', dir, 'train', { framing: { kind: 'number', frames: 3 } });
    assert.deepEqual([d.length, d.shape, d.label(0), d.numClasses], [1, [3, 1, 1, 700], 13, 20]);
    const f = read(d, 0);
    assert.deepEqual([f[5], f[700 + 5], f[1400 + 699]], [1, 1, 1]);
  });

  test('clear errors for unknown names, missing or wrongly laid out directories', async () => {
    await assert.rejects(eventDataset('mnist-dvs', root, 'train', { framing: { kind: 'number', frames: 1 } }), /unknown data set "mnist-dvs"/);
    await assert.rejects(eventDataset('nmnist', join(root, 'nope'), 'train', { framing: { kind: 'number', frames: 1 } }),
      /eventDataset nmnist: directory ".*nope" not found/);
    await assert.rejects(eventDataset('nmnist', join(root, 'c10'), 'train', { framing: { kind: 'number', frames: 1 } }),
      /expected folder ".*Train" with digit subfolders/);
    await assert.rejects(eventDataset('dvsgesture', join(root, 'c10'), 'test', { framing: { kind: 'number', frames: 1 } }),
      /expected "trials_to_test.txt"/);
    await assert.rejects(eventDataset('shd', root, 'test', { framing: { kind: 'number', frames: 1 } }), EdgespikeError);
  });
});
