/**
 * CIFAR-10/100 binary files: tiny real-format folders written with the writers, read back plane by
 * plane; normalisation presets; one-line errors for missing files, wrong lengths and bad labels.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifar10, cifar100, CIFAR_IMAGE_BYTES, writeCifar100File, writeCifar10Batch } from '../../src/data/cifar.js';
import { EdgespikeError } from '../../src/util/errors.js';

/** Image i: red plane all 10·i, green plane all 100, blue plane pixel p = p mod 256. */
function images(n: number, base: number): Uint8Array {
  const out = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  for (let i = 0; i < n; i++) {
    const o = i * CIFAR_IMAGE_BYTES;
    out.fill(10 * (base + i), o, o + 1024);
    out.fill(100, o + 1024, o + 2048);
    for (let p = 0; p < 1024; p++) out[o + 2048 + p] = p % 256;
  }
  return out;
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-cifar-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cifar10Dir(dir: string): void {
  for (let b = 1; b <= 5; b++) writeCifar10Batch(join(dir, `data_batch_${b}.bin`), images(2, 2 * (b - 1)), [b, 9 - b]);
  writeCifar10Batch(join(dir, 'test_batch.bin'), images(1, 20), [6]);
  writeFileSync(join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
}

describe('CIFAR-10', () => {
  test('a record is 1 label byte + R, G, B planes: the writer lays out exactly that', () => {
    withDir((dir) => {
      writeCifar10Batch(join(dir, 'b.bin'), images(2, 0), [3, 7]);
      const bytes = readFileSync(join(dir, 'b.bin'));
      assert.equal(bytes.length, 2 * 3073);
      assert.deepEqual([bytes[0], bytes[1], bytes[1025], bytes[2049 + 5], bytes[3073], bytes[3074]], [3, 0, 100, 5, 7, 10]);
    });
  });

  test('five train batches in order, the test batch, class names from batches.meta.txt', () => {
    withDir((dir) => {
      cifar10Dir(dir);
      const train = cifar10(dir, 'train'), test10k = cifar10(dir, 'test');
      assert.deepEqual([train.length, test10k.length], [10, 1]);
      assert.deepEqual(train.shape, [3, 32, 32]);
      // Batch b holds labels [b, 9 − b].
      assert.deepEqual(Array.from({ length: 10 }, (_, i) => train.label(i)), [1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
      assert.equal(test10k.label(0), 6);
      assert.equal(train.classNames?.[6], 'frog');
      const out = new Float32Array(3072);
      train.read(7, out, 0); // image index 7 overall: red = 70
      assert.equal(out[0], Math.fround(70 / 255));
      assert.equal(out[1023], Math.fround(70 / 255));
      assert.equal(out[1024], Math.fround(100 / 255));
      assert.equal(out[2048 + 300], Math.fround((300 % 256) / 255));
    });
  });

  test('normalize: true uses (0.4914, 0.4822, 0.4465)/(0.2023, 0.1994, 0.2010); "imagenet" the ImageNet preset', () => {
    withDir((dir) => {
      cifar10Dir(dir);
      const out = new Float32Array(3072);
      cifar10(dir, 'test', { normalize: true }).read(0, out, 0); // red 200, green 100, blue p mod 256
      assert.equal(out[0], Math.fround((200 / 255 - 0.4914) / 0.2023));
      assert.equal(out[1024], Math.fround((100 / 255 - 0.4822) / 0.1994));
      assert.equal(out[2048 + 3], Math.fround((3 / 255 - 0.4465) / 0.201));
      cifar10(dir, 'test', { normalize: 'imagenet' }).read(0, out, 0);
      assert.equal(out[0], Math.fround((200 / 255 - 0.485) / 0.229));
    });
  });

  test('missing file, wrong length, label out of range', () => {
    withDir((dir) => {
      assert.throws(() => cifar10(dir, 'test'), new EdgespikeError(
        `cifar10/test: missing ${join(dir, 'test_batch.bin')} (expected the binary version: test_batch.bin)`));
      writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(3073 + 100));
      assert.throws(() => cifar10(dir, 'test'), new EdgespikeError(
        `${join(dir, 'test_batch.bin')}: length 3173 is not a whole number of 3073-byte records (record 1 starting at byte offset 3073 is cut short)`));
      writeCifar10Batch(join(dir, 'data_batch_1.bin'), images(2, 0), [0, 10]);
      assert.throws(() => cifar10(dir, 'train'), new EdgespikeError(
        `${join(dir, 'data_batch_1.bin')}: label at byte offset 3073 is 10, expected 0..9`));
    });
  });
});

describe('CIFAR-100', () => {
  test('coarse then fine label bytes; fine labels by default, coarse on request; preset normalisation', () => {
    withDir((dir) => {
      writeCifar100File(join(dir, 'train.bin'), images(3, 1), [4, 19, 0], [57, 99, 3]);
      const bytes = readFileSync(join(dir, 'train.bin'));
      assert.deepEqual([bytes[0], bytes[1], bytes[2], bytes[3074], bytes[3075]], [4, 57, 10, 19, 99]);
      const fine = cifar100(dir, 'train'), coarse = cifar100(dir, 'train', { labels: 'coarse' });
      assert.deepEqual([fine.numClasses, coarse.numClasses], [100, 20]);
      assert.deepEqual([0, 1, 2].map((i) => fine.label(i)), [57, 99, 3]);
      assert.deepEqual([0, 1, 2].map((i) => coarse.label(i)), [4, 19, 0]);
      const out = new Float32Array(3072);
      cifar100(dir, 'train', { normalize: true }).read(2, out, 0); // red = 30
      assert.equal(out[5], Math.fround((30 / 255 - 0.5071) / 0.2675));
      assert.equal(out[1024], Math.fround((100 / 255 - 0.4867) / 0.2565));
      assert.equal(out[2048], Math.fround((0 / 255 - 0.4408) / 0.2761));
    });
  });

  test('fine label above 99 and a missing test file are one-line errors', () => {
    withDir((dir) => {
      writeCifar100File(join(dir, 'train.bin'), images(1, 0), [1], [100]);
      assert.throws(() => cifar100(dir, 'train'), new EdgespikeError(
        `${join(dir, 'train.bin')}: label at byte offset 1 is 100, expected 0..99`));
      assert.throws(() => cifar100(dir, 'test'), new EdgespikeError(
        `cifar100/test: missing ${join(dir, 'test.bin')} (expected the binary version: test.bin)`));
    });
  });
});
