/**
 * edgespike evaluate's data sets: the emulated N-MNIST made once under --out, notes for the sets
 * --data-dir does not hold, the ablation rows, and a cell that fails while the others go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin } from '../helpers/cli.js';

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const TINY = ['--limit', '60', '--test-limit', '20', '--epochs', '1', '-T', '2', '--batch-size', '8'];
const rowsOf = (out: string) => readFileSync(join(out, 'rows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('nmnist without N-MNIST in --data-dir runs on the emulated N-MNIST, made once; the others are skipped with a note', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-evaluate-data-'));
  try {
    const out = join(dir, 'out');
    const r = run('evaluate', '--datasets', 'nmnist,cifar10,dvsgesture', ...TINY, '--workers', '1', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^note: cifar10 skipped: no --data-dir$/m);
    assert.match(r.stderr, /^note: dvsgesture skipped: no --data-dir$/m);
    assert.match(r.stderr, /making the emulated N-MNIST: 60 training and 20 test images of MNIST/);
    const emulated = join(out, 'data', 'nmnist-emulated-60x20-s1');
    assert.deepEqual(JSON.parse(readFileSync(join(emulated, 'emulated.json'), 'utf8')).train, 60);
    const [row] = rowsOf(out);
    assert.equal(row!.dataset, 'nmnist');
    assert.equal(row!.test_samples, 20);

    // The ablation reuses the complete row and the emulated data, and runs the three other rows.
    const abl = run('evaluate', '--datasets', 'nmnist', ...TINY, '--ablation', '--workers', '2', '--out', out, '--json');
    assert.equal(abl.status, 0, abl.stderr);
    assert.doesNotMatch(abl.stderr, /making the emulated/);
    assert.match(abl.stderr, /4 cells, 1 done before, 3 to run/);
    const rows = abl.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(rows.map((x) => x.label), ['coding', 'correction', 'co-optimization', 'complete']);
    assert.deepEqual(rows[3], row);
    assert.equal(readFileSync(join(out, 'table.md'), 'utf8').trim().split('\n').length, 6);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a cell that fails is one line naming it; the other cells finish; the exit code is 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-evaluate-data-'));
  try {
    // An N-MNIST folder whose recordings are damaged: found before work, refused by the cell that reads it.
    for (const split of ['Train', 'Test']) {
      mkdirSync(join(dir, 'data', 'nmnist', split, '0'), { recursive: true });
      for (let i = 0; i < 12; i++) writeFileSync(join(dir, 'data', 'nmnist', split, '0', `${String(i).padStart(5, '0')}.bin`), 'abc');
    }
    const out = join(dir, 'out');
    const r = run('evaluate', '--datasets', 'mnist,nmnist', '--data-dir', join(dir, 'data'), ...TINY, '--workers', '2', '--out', out);
    assert.equal(r.status, 2, r.stderr);
    const failed = r.stderr.split('\n').filter((l) => / failed: /.test(l));
    assert.equal(failed.length, 1, r.stderr);
    assert.match(failed[0]!, /^cell nmnist-complete-[0-9a-f]{12} failed: .*truncated event/);
    assert.match(r.stderr.trim().split('\n').pop()!, /^edgespike: evaluate: 1 of 2 cells failed \(nmnist-complete-[0-9a-f]{12}\); run the same command again to retry them$/);
    assert.deepEqual(rowsOf(out).map((x) => x.dataset), ['mnist']);
    assert.match(r.stdout, /\| mnist \| complete \|/);
    assert.ok(!existsSync(join(out, 'data')), 'no emulation when --data-dir holds N-MNIST');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
