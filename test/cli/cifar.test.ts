/** `edgespike train` on CIFAR-10 binary files in a user directory (written here in the real format). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCifar10Batch } from '../../src/data/cifar.js';

const bin = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));

test('train and eval a small conv net on CIFAR-10 binary batches with crop-flip augmentation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-cifar-'));
  try {
    // Class c images are bright in channel c % 3 and dark elsewhere: learnable in one epoch.
    const make = (n: number, seed: number) => {
      const img = new Uint8Array(n * 3072), lab = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const c = (i + seed) % 3; lab[i] = c;
        for (let ch = 0; ch < 3; ch++) img.fill(ch === c ? 220 : 30, i * 3072 + ch * 1024, i * 3072 + (ch + 1) * 1024);
      }
      return { img, lab };
    };
    for (let b = 1; b <= 5; b++) { const { img, lab } = make(24, b); writeCifar10Batch(join(dir, `data_batch_${b}.bin`), img, lab); }
    { const { img, lab } = make(30, 0); writeCifar10Batch(join(dir, 'test_batch.bin'), img, lab); }
    const out = join(dir, 'c.es');
    const r = spawnSync(process.execPath, [bin, 'train', '--model', '8C3p1-P2-16-10', '--dataset', 'cifar10', '--data-dir', dir, '--epochs', '2',
      '--batch-size', '8', '--timesteps', '2', '--lr', '0.01', '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.train_samples, 120);
    assert.ok(s.test_accuracy > 0.9, `accuracy ${s.test_accuracy}`);
    const e = JSON.parse(spawnSync(process.execPath, [bin, 'eval', out, '--data-dir', dir, '--json'], { encoding: 'utf8' }).stdout);
    assert.equal(e.samples, 30);
    assert.equal(e.test_accuracy, s.test_accuracy);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
