/** The harness's planning, data folders, finished-row files, table and pool. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ABLATION, type EvalRow } from '../../src/evaluate/cells.js';
import {
  cellFile, checkRow, emulationSize, findDataDir, formatDetails, formatTable, planEvaluation, readFinished, runPool, writeFinished, type PlanOptions,
} from '../../src/evaluate/harness.js';

const recipe = { model: 'lenet', epochs: 1, T: 2, batchSize: 8, lr: 0.003 };
const base: PlanOptions = { datasets: ['mnist', 'fashion-mnist'], models: new Map(), recipe, ablation: false, seed: 1, out: '/tmp/es-eval-out' };

const row = (id: string, over: Partial<EvalRow> = {}): EvalRow => ({
  id, dataset: 'mnist', label: 'complete', accuracy: 0.9876, epochs: 3, T: 4, spikes_per_sample: 1234.56, sops: 123456.7,
  energy_uj: 1.23456, latency_ms_batch1: 0.3456, test_samples: 100, seconds: 2.5, ...over,
});

test('plan: one row with every component per data set, or the four ablation rows, in order', () => {
  const one = planEvaluation(base);
  assert.deepEqual(one.cells.map((c) => [c.dataset, c.label]), [['mnist', 'complete'], ['fashion-mnist', 'complete']]);
  assert.deepEqual(one.cells[0]!.components, { coding: true, correction: true, coopt: true });
  assert.equal(one.cells[0]!.dataDir, undefined, 'embedded sets read no folder');
  const abl = planEvaluation({ ...base, ablation: true });
  assert.deepEqual(abl.cells.map((c) => c.label), [...ABLATION.map((r) => r.name), ...ABLATION.map((r) => r.name)]);
  assert.deepEqual(abl.cells.map((c) => c.components), [...ABLATION, ...ABLATION].map((r) => r.components));
  // The complete row of the ablation is the same cell as the single row: it is not run twice.
  assert.equal(abl.cells[3]!.id, one.cells[0]!.id);
});

test('cell ids: stable for the same settings, new for others, independent of --out', () => {
  const id = (o: Partial<PlanOptions>) => planEvaluation({ ...base, ...o }).cells[0]!.id;
  const first = id({});
  assert.match(first, /^mnist-complete-[0-9a-f]{12}$/);
  assert.equal(id({}), first);
  assert.equal(id({ out: '/elsewhere' }), first);
  for (const o of [{ seed: 2 }, { limit: 300 }, { testLimit: 100 }, { recipe: { ...recipe, epochs: 2 } }, { recipe: { ...recipe, model: 'cifarnet' } }]) {
    assert.notEqual(id(o), first, JSON.stringify(o));
  }
  const withModel = (sha: string) => planEvaluation({ ...base, models: new Map([['mnist', { path: '/m.es', T: 8, sha256: sha }]]) }).cells[0]!;
  assert.equal(withModel('aa').model, '/m.es');
  assert.equal(withModel('aa').recipe.T, 8, 'a model cell runs at the model\'s T');
  assert.notEqual(withModel('aa').id, withModel('bb').id, 'a changed model file is a new cell');
});

test('data folders: each set in its sub-folder or the folder itself; missing sets are notes, nmnist is emulated', () => {
  const root = mkdtempSync(join(tmpdir(), 'es-harness-'));
  try {
    const mk = (...p: string[]) => mkdirSync(join(root, ...p), { recursive: true });
    const touch = (...p: string[]) => writeFileSync(join(root, ...p), '');
    assert.deepEqual(findDataDir('mnist', root), {});
    assert.match(findDataDir('nmnist', undefined).missing!, /no --data-dir/);
    mk('nmnist', 'Train'); mk('nmnist', 'Test');
    assert.equal(findDataDir('nmnist', root).dir, join(root, 'nmnist'));
    mk('cifar-10-batches-bin'); touch('cifar-10-batches-bin', 'data_batch_1.bin'); touch('cifar-10-batches-bin', 'test_batch.bin');
    assert.equal(findDataDir('cifar10', root).dir, join(root, 'cifar-10-batches-bin'));
    touch('shd_train.h5'); touch('shd_test.h5');
    assert.equal(findDataDir('shd', root).dir, root);
    mk('dvsgesture', 'DvsGesture'); touch('dvsgesture', 'DvsGesture', 'trials_to_train.txt');
    assert.equal(findDataDir('dvsgesture', root).dir, join(root, 'dvsgesture'));
    assert.match(findDataDir('cifar10dvs', root).missing!, /no class folders of \.aedat files in .*cifar10dvs, /);
    mk('cifar10dvs', 'airplane'); touch('cifar10dvs', 'airplane', 'a.aedat');
    assert.equal(findDataDir('cifar10dvs', root).dir, join(root, 'cifar10dvs'));

    const empty = join(root, 'empty');
    mkdirSync(empty);
    const p = planEvaluation({ ...base, datasets: ['nmnist', 'cifar10', 'shd'], dataDir: empty, limit: 60, testLimit: 20 });
    assert.deepEqual(p.cells.map((c) => c.dataset), ['nmnist']);
    assert.deepEqual(p.notes.map((n) => n.split(':').slice(0, 2).join(':')), ['note: cifar10 skipped', 'note: shd skipped']);
    assert.deepEqual(p.emulation, { train: 60, test: 20, seed: 1, dir: join('/tmp/es-eval-out', 'data', 'nmnist-emulated-60x20-s1') });
    assert.equal(p.cells[0]!.dataDir, p.emulation!.dir);
    const real = planEvaluation({ ...base, datasets: ['nmnist'], dataDir: root });
    assert.equal(real.emulation, undefined);
    assert.equal(real.cells[0]!.dataDir, join(root, 'nmnist'));
  } finally { rmSync(root, { recursive: true, force: true }); }
  assert.deepEqual(emulationSize(undefined, undefined), { train: 6000, test: 1000 });
  assert.deepEqual(emulationSize(1e9, 1e9), { train: 60_000, test: 10_000 });
});

test('finished rows: written with their cell, read back only for the same settings', () => {
  const out = mkdtempSync(join(tmpdir(), 'es-harness-'));
  try {
    mkdirSync(join(out, 'cells'));
    const [cell] = planEvaluation({ ...base, out }).cells;
    assert.deepEqual(readFinished(out, cell!), { row: null });
    const r = row(cell!.id);
    writeFinished(out, cell!, r);
    assert.deepEqual(readFinished(out, cell!).row, { ...r });
    // The same file name holding another cell's settings, or a damaged file, is run again.
    writeFinished(out, { ...cell!, seed: 99 }, r);
    assert.match(readFinished(out, cell!).problem!, /\(it was written for other settings\); running it again/);
    writeFileSync(cellFile(out, cell!.id), '{"cell": ');
    assert.equal(readFinished(out, cell!).row, null);
    assert.match(readFinished(out, cell!).problem!, /is not a finished row of this cell/);
    assert.throws(() => checkRow({ ...r, accuracy: null }, cell!), /accuracy is null, expected a finite number/);
    assert.throws(() => checkRow({ ...r, id: 'other' }, cell!), /id is "other"/);
  } finally { rmSync(out, { recursive: true, force: true }); }
});

test('the table: columns, units and number formats', () => {
  assert.equal(formatTable([row('a'), row('b', { dataset: 'nmnist', label: 'coding', T: 3.25 })]), [
    '| data set | row | accuracy | epochs | T | spikes/sample | SOPs | energy µJ | batch-1 latency ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    '| mnist | complete | 98.76 % | 3 | 4 | 1234.6 | 1.235e+5 | 1.235 | 0.346 |',
    '| nmnist | coding | 98.76 % | 3 | 3.25 | 1234.6 | 1.235e+5 | 1.235 | 0.346 |',
    '',
  ].join('\n'));
});

test('the details: coding probes, regularizer search, correction gains and Pareto fronts of the rows that have them', () => {
  const r = row('a', {
    correction: [{ T: 1, plain: 0.1, corrected: 0.9512 }],
    pareto: [{ T: 1, accuracy: 0.9512, spikes_per_sample: 12.34, spike_cost: 0.2 }, { T: 1.234, accuracy: 0.99, spikes_per_sample: 50, adaptive: true, spike_cost: 0.2 }],
    coding_probes: [{ coding: 'direct', accuracy: 0.97, spikes_per_sample: 300 }, { coding: 'rate', accuracy: 0.98, spikes_per_sample: 400, chosen: true }],
    spike_cost: 0.2, spike_costs: [{ spike_cost: 0.05, accuracy: 0.99, spikes_per_sample: 500 }, { spike_cost: 0.2, accuracy: 0.989, spikes_per_sample: 250.25, chosen: true }],
  });
  assert.equal(formatDetails([row('b'), r]), [
    'Dynamic coding: the input codings tried (one probe epoch each), on the held-out samples', '',
    '| data set | row | coding | held-out accuracy | spikes/sample |  |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    '| mnist | complete | direct | 97.00 % | 300.0 |  |',
    '| mnist | complete | rate | 98.00 % | 400.0 | chosen |', '',
    'Co-optimization: the regularizer weights searched, on the held-out samples', '',
    '| data set | row | spike cost | held-out accuracy | spikes/sample at T |  |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    '| mnist | complete | 0.05 | 99.00 % | 500.0 |  |',
    '| mnist | complete | 0.2 | 98.90 % | 250.3 | chosen |', '',
    'Dynamic correction: test accuracy at a lower T without and with it', '',
    '| data set | row | T | accuracy plain | accuracy corrected | gain (points) |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    '| mnist | complete | 1 | 10.00 % | 95.12 % | 85.12 |', '',
    'Pareto front of accuracy, T and spikes per sample (test set: fixed T, the adaptive exit, each weight\'s network)', '',
    '| data set | row | T | accuracy | spikes/sample | spike cost |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    '| mnist | complete | 1 | 95.12 % | 12.3 | 0.2 |',
    '| mnist | complete | 1.23 (exit) | 99.00 % | 50.0 | 0.2 |', '',
  ].join('\n'));
  assert.equal(formatDetails([row('b')]), '');
});

test('runPool runs every item, at most n at a time, starting them in order', async () => {
  let now = 0, most = 0;
  const started: number[] = [];
  await runPool([0, 1, 2, 3, 4, 5, 6], 3, async (i) => {
    started.push(i); now++; most = Math.max(most, now);
    await new Promise((r) => setTimeout(r, 5 + (i % 3) * 5));
    now--;
  });
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(most, 3);
});
