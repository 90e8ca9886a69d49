/**
 * MNIST from the packaged IDX files (sizes, first labels, class counts and pixel statistics known
 * from the published data set) and from a user folder with tiny hand-made IDX files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeIdx } from '../../src/data/idx.js';
import { mnist, packagedMnistDir } from '../../src/data/mnist.js';
import { EdgespikeError } from '../../src/util/errors.js';

test('packaged MNIST: 60 000 / 10 000 samples of [1, 28, 28]; first labels 5 (train) and 7 (test)', () => {
  const train = mnist('train'), test10k = mnist('test');
  assert.equal(train.length, 60000);
  assert.equal(test10k.length, 10000);
  assert.deepEqual(train.shape, [1, 28, 28]);
  assert.equal(train.temporal, false);
  assert.equal(train.numClasses, 10);
  assert.equal(train.name, 'mnist/train');
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => train.label(i)), [5, 0, 4, 1, 9]);
  assert.equal(test10k.label(0), 7);
});

test('class counts of both splits match the published ones', () => {
  const counts = (split: 'train' | 'test'): number[] => {
    const d = mnist(split), c = new Array<number>(10).fill(0);
    for (let i = 0; i < d.length; i++) c[d.label(i)]++;
    return c;
  };
  assert.deepEqual(counts('train'), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(counts('test'), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
});

test('training pixels/255 have mean 0.1307 and std 0.3081 to 4 decimals', () => {
  const d = mnist('train'), buf = new Float32Array(784);
  let s = 0, s2 = 0;
  for (let i = 0; i < d.length; i++) {
    d.read(i, buf, 0);
    for (let k = 0; k < 784; k++) { s += buf[k]; s2 += buf[k] * buf[k]; }
  }
  const n = d.length * 784, mean = s / n, std = Math.sqrt(s2 / n - mean * mean);
  assert.equal(Math.round(mean * 1e4) / 1e4, 0.1307);
  assert.equal(Math.round(std * 1e4) / 1e4, 0.3081);
});

test('read gives file byte / 255; normalize: true gives (byte/255 − 0.1307)/0.3081; offset respected', () => {
  const bytes = readFileSync(join(packagedMnistDir(), 't10k-images-idx3-ubyte'));
  const img = bytes.subarray(16 + 784 * 3, 16 + 784 * 4); // test sample 3
  const raw = new Float32Array(784 + 5), norm = new Float32Array(784);
  mnist('test').read(3, raw, 5);
  mnist('test', { normalize: true }).read(3, norm, 0);
  for (let k = 0; k < 784; k++) {
    assert.equal(raw[5 + k], Math.fround(img[k] / 255));
    assert.equal(norm[k], Math.fround((img[k] / 255 - 0.1307) / 0.3081));
  }
  assert.ok(img.some((v) => v === 255) && img.some((v) => v === 0));
});

test('a user folder with tiny IDX files; missing files and bad labels are named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-mnist-'));
  try {
    writeIdx(join(dir, 't10k-images-idx3-ubyte'), [0, 51, 102, 255, 255, 0, 0, 0], [2, 2, 2]);
    writeIdx(join(dir, 't10k-labels-idx1-ubyte'), [3, 8], [2]);
    const d = mnist('test', { dir, normalize: [0.5, 0.5] });
    assert.deepEqual([d.length, d.label(0), d.label(1)], [2, 3, 8]);
    assert.deepEqual(d.shape, [1, 2, 2]);
    const out = new Float32Array(4);
    d.read(0, out, 0);
    // (51/255 − .5)/.5 = (.2 − .5)/.5 = −.6; 102/255 = .4 → −.2; 255 → 1.
    assert.deepEqual([...out], [-1, -0.6, -0.2, 1].map(Math.fround));
    assert.throws(() => d.read(2, out, 0), new EdgespikeError('mnist/test.read: index must be an integer in [0, 2), got 2'));
    assert.throws(() => mnist('train', { dir }), new EdgespikeError(
      `mnist/train: missing ${join(dir, 'train-images-idx3-ubyte')} (expected the uncompressed IDX files train-images-idx3-ubyte and train-labels-idx1-ubyte)`));
    writeIdx(join(dir, 'train-images-idx3-ubyte'), [0, 0, 0, 0], [1, 2, 2]);
    writeIdx(join(dir, 'train-labels-idx1-ubyte'), [10], [1]);
    assert.throws(() => mnist('train', { dir }), new EdgespikeError(
      `${join(dir, 'train-labels-idx1-ubyte')}: label at byte offset 8 is 10, expected 0..9`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
