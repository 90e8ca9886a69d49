/**
 * staticDataset: names resolve to the right loaders; unknown names, bad splits and missing data
 * folders give one-line errors that list what is expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCifar10Batch } from '../../src/data/cifar.js';
import { staticDataset, STATIC_DATASETS, type StaticDatasetName } from '../../src/data/registry.js';
import { EdgespikeError } from '../../src/util/errors.js';

test('mnist needs no folder; cifar10 reads its folder', () => {
  const d = staticDataset('mnist', 'test', { normalize: true });
  assert.deepEqual([d.name, d.length, d.label(0)], ['mnist/test', 10000, 7]);
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-reg-'));
  try {
    writeCifar10Batch(join(dir, 'test_batch.bin'), new Uint8Array(2 * 3072), [2, 5]);
    const c = staticDataset('cifar10', 'test', { dataDir: dir });
    assert.deepEqual([c.name, c.length, c.label(1), c.numClasses], ['cifar10/test', 2, 5, 10]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors: unknown name, bad split, missing dataDir, dataDir that does not exist', () => {
  assert.deepEqual(Object.keys(STATIC_DATASETS), ['mnist', 'fashion-mnist', 'cifar10', 'cifar100']);
  assert.throws(() => staticDataset('svhn' as StaticDatasetName, 'train'), new EdgespikeError(
    'staticDataset: unknown data set "svhn", expected one of mnist, fashion-mnist, cifar10, cifar100'));
  assert.throws(() => staticDataset('mnist', 'val' as 'train'), new EdgespikeError(
    'staticDataset: split must be "train" or "test", got "val"'));
  assert.throws(() => staticDataset('cifar100', 'train'), new EdgespikeError(
    'staticDataset: cifar100 needs dataDir, a folder with the binary version (train.bin, test.bin)'));
  assert.throws(() => staticDataset('cifar10', 'train', { dataDir: '/nonexistent/cifar' }), new EdgespikeError(
    'staticDataset: dataDir /nonexistent/cifar for cifar10 does not exist or is not a folder'));
});
