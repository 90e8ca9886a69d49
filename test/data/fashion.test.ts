/**
 * Fashion-MNIST: the package's per-class JSON parsed by hand-made examples, the documented
 * deterministic split of the packaged copy, and the official IDX files from a user folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FASHION_CLASSES, fashionMnist, interleaveSplit, packagedFashionDir, parseFashionJson } from '../../src/data/fashion.js';
import { writeIdx } from '../../src/data/idx.js';
import { EdgespikeError } from '../../src/util/errors.js';

const image = (v: number): number[] => Array.from({ length: 784 }, (_, k) => (k + v) % 256);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('parseFashionJson: images in file order, empty arrays skipped', () => {
  const text = `{"data": [[${image(0).join(',')}], [], [${image(7).join(', ')}]]}`;
  const px = parseFashionJson(enc(text), 'c.json');
  assert.equal(px.length, 2 * 784);
  assert.deepEqual([...px.subarray(0, 784)], image(0));
  assert.deepEqual([...px.subarray(784)], image(7));
});

test('parseFashionJson: wrong lengths and bad values name the byte offset', () => {
  assert.throws(() => parseFashionJson(enc('{"data":[[1,2,3]]}'), 'c.json'),
    new EdgespikeError('c.json: byte offset 9: expected an image of 784 values, got 3'));
  assert.throws(() => parseFashionJson(enc('{"data":[[1,256]]}'), 'c.json'),
    new EdgespikeError('c.json: byte offset 12: expected a pixel value 0..255, got "2"'));
  assert.throws(() => parseFashionJson(enc('{"data":[[]  []]}'), 'c.json'),
    new EdgespikeError('c.json: byte offset 13: expected "," between images or "]" closing the data array, got "["'));
  assert.throws(() => parseFashionJson(enc('{"data":[[1,'), 'c.json'),
    new EdgespikeError('c.json: byte offset 12: expected a pixel value 0..255, got end of file'));
  assert.throws(() => parseFashionJson(enc('{"x":1}'), 'c.json'),
    new EdgespikeError('c.json: byte offset 0: expected a "data" key, got "{"'));
});

test('interleaveSplit: sample i has label i mod 10; train takes each class\'s first 6 000, test the next 1 000', () => {
  // Class c's j-th image is filled with (c·7 + j) mod 256, so every pixel tells where it came from.
  const perClass = Array.from({ length: 10 }, (_, c) => {
    const px = new Uint8Array(7000 * 784);
    for (let j = 0; j < 7000; j++) px.fill((c * 7 + j) % 256, j * 784, (j + 1) * 784);
    return px;
  });
  const train = interleaveSplit(perClass, 'train'), test10k = interleaveSplit(perClass, 'test');
  assert.equal(train.labels.length, 60000);
  assert.equal(test10k.labels.length, 10000);
  // train sample 23 → class 3, image 2 → 3·7 + 2 = 23; test sample 23 → class 3, image 6002 → (21 + 6002) mod 256 = 6023 − 23·256 = 135.
  assert.equal(train.labels[23], 3);
  assert.equal(train.pixels[23 * 784 + 400], 23);
  assert.equal(test10k.pixels[23 * 784], 135);
  assert.equal(test10k.labels[9999], 9);
});

test('packaged copy: 60 000 / 10 000, balanced labels, class names; pixels match the package file', () => {
  const train = fashionMnist('train'), test10k = fashionMnist('test');
  assert.deepEqual([train.length, test10k.length], [60000, 10000]);
  assert.deepEqual(train.shape, [1, 28, 28]);
  assert.deepEqual(train.classNames, FASHION_CLASSES);
  assert.equal(FASHION_CLASSES[9], 'Ankle boot');
  assert.deepEqual([0, 1, 9, 10, 59999].map((i) => train.label(i)), [0, 1, 9, 0, 9]);
  // Independent read of class 0: JSON.parse, drop the empty entries, take images 0 (train) and 6 000 (test).
  const file = join(packagedFashionDir(), '0.json');
  const imgs = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[][] }).data.filter((r) => r.length === 784);
  assert.equal(imgs.length, 7000);
  const out = new Float32Array(784);
  train.read(0, out, 0);
  assert.deepEqual([...out], imgs[0].map((v) => Math.fround(v / 255)));
  test10k.read(0, out, 0);
  assert.deepEqual([...out], imgs[6000].map((v) => Math.fround(v / 255)));
});

test('official IDX files from a user folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-fashion-'));
  try {
    writeIdx(join(dir, 'train-images-idx3-ubyte'), [0, 255, 255, 0], [1, 2, 2]);
    writeIdx(join(dir, 'train-labels-idx1-ubyte'), [9], [1]);
    const d = fashionMnist('train', { dir, normalize: true });
    assert.equal(d.label(0), 9);
    assert.equal(d.classNames?.[d.label(0)], 'Ankle boot');
    const out = new Float32Array(4);
    d.read(0, out, 0);
    // Preset mean 0.286, std 0.353: (0 − .286)/.353 and (1 − .286)/.353.
    assert.deepEqual([...out], [0, 1, 1, 0].map((v) => Math.fround((v - 0.286) / 0.353)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
