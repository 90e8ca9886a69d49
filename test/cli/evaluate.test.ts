/**
 * edgespike evaluate and edgespike worker, end to end on tiny cells (MNIST and Fashion-MNIST, 300
 * training and 100 test images, one epoch, T = 4): bad flags, local worker processes with a coordinator
 * killed mid-cell and resumed, the same cells through a Redis queue with two workers, and a worker
 * killed mid-cell. The rows' measurements are deterministic for a seed (the kernels sum in a fixed
 * order whatever the thread count), so every way of running the cells must give the same rows; only
 * the batch-1 latency and the seconds are timings, and they are left out of the comparisons.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, bin, gone, startCli, type CliProcess, oneLineError } from '../helpers/cli.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { runPool } from '../../src/evaluate/harness.js';

const CELLS = ['--datasets', 'mnist,fashion-mnist', '--limit', '300', '--test-limit', '100', '--epochs', '1', '-T', '4', '--batch-size', '8'];
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

let dir = '', redis: TestRedis | undefined;
const procs: CliProcess[] = [];
const cellPids: number[] = [];
const start = (args: string[]): CliProcess => { const p = startCli(args); procs.push(p); return p; };

before(() => { dir = mkdtempSync(join(tmpdir(), 'es-evaluate-')); });
after(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
  for (const pid of cellPids) assert.ok(await gone(pid), `cell process ${pid} is still running`);
});

/** Every cell process a command reported starting, remembered so the end of the file can check they are gone. */
function noteCellPids(stderr: string): number[] {
  const pids = [...stderr.matchAll(/running \(process (\d+)\)/g)].map((m) => Number(m[1]));
  cellPids.push(...pids);
  return pids;
}


interface Row { id: string; dataset: string; label: string; [k: string]: unknown }
const rowsOf = (out: string): Row[] => readFileSync(join(out, 'rows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
/** A row without its timings. */
const measured = (r: Row): Row => { const { latency_ms_batch1: _l, seconds: _s, ...rest } = r; return rest as Row; };
/** The table without its last column (the batch-1 latency, a timing). */
const tableOf = (out: string): string => readFileSync(join(out, 'table.md'), 'utf8').split('\n').map((l) => l.replace(/[^|]*\|\s*$/, '')).join('\n');

function sameRows(out: string, reference: string): void {
  const a = rowsOf(out), b = rowsOf(reference);
  assert.deepEqual(a.map(measured), b.map(measured));
  assert.equal(tableOf(out), tableOf(reference));
}

test('evaluate and worker: bad flags are one line with exit 2, before any work', async () => {
  const out = join(dir, 'never');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'not a folder');
  writeFileSync(join(dir, 'junk.es'), 'not a model');
  const cases: [string[], RegExp][] = [
    [['evaluate', '--bogus', '--out', out], /evaluate: unknown flag --bogus/],
    [['evaluate', '--datasets', 'mnist,imagenet', '--out', out], /--datasets: unknown data set "imagenet"/],
    [['evaluate', '--datasets', 'cifar10', '--out', out], /nothing to run \(cifar10 skipped: no --data-dir\)/],
    [['evaluate', '--workers', '0', '--out', out], /--workers: expected an integer ≥ 1, got 0/],
    [['evaluate', '--epochs', 'two', '--out', out], /--epochs: expected an integer, got "two"/],
    [['evaluate', '--recipe-model', 'vgg99', '--out', out], /--recipe-model: "vgg99" is not a zoo name/],
    [['evaluate', '--model', 'mnist', '--out', out], /--model: expected DATASET=FILE, got "mnist"/],
    [['evaluate', '--models', join(dir, 'junk.es'), '--out', out], /junk\.es/],
    [['evaluate', '--data-dir', join(dir, 'missing'), '--out', out], /--data-dir .*missing: not a folder/],
    [['evaluate', '--out', file], /--out .*a-file: .*is not a directory/],
    [['evaluate', '--report', dir, '--out', out], /--report .*: is a directory/],
    [['evaluate', '--queue', 'http://127.0.0.1:6379', '--out', out], /--queue: expected redis:\/\/HOST:PORT, got "http:/],
    [['evaluate', '--queue', 'redis://127.0.0.1:1', '--out', out], /--queue redis:\/\/127\.0\.0\.1:1: cannot reach Redis \(connect ECONNREFUSED/],
    [['evaluate', '--queue', 'redis://127.0.0.1:1', '--workers', '2', '--out', out], /--workers runs cells on this machine; with --queue/],
    [['worker'], /worker: Missing required argument: --queue/],
    [['worker', '--queue', 'redis://127.0.0.1:1', '--concurrency', '0'], /--concurrency: expected an integer ≥ 1, got 0/],
    [['worker', '--queue', 'redis://127.0.0.1:1'], /cannot reach Redis/],
  ];
  const results = new Array<{ status: number | null; stderr: string }>(cases.length);
  await runPool(cases.map((_, i) => i), 4, async (i) => {
    const p = startCli(cases[i]![0]);
    results[i] = { status: await p.exited(), stderr: p.stderr() };
  });
  cases.forEach(([, pattern], i) => oneLineError(results[i]!, pattern));
  assert.equal(existsSync(out), false, 'bad input wrote the output folder');
});

const local = (): string => join(dir, 'local');

test('evaluate on local worker processes: a coordinator killed mid-cell leaves no process, and the next run does only the missing cell', async () => {
  const out = local(), report = join(dir, 'evaluation.html');
  const args = ['evaluate', ...CELLS, '--workers', '1', '--out', out];
  const first = start(args);
  // With one worker process the cells run one after the other: kill the coordinator while the second runs.
  const [, doneId] = await first.waitFor(/cell (\S+): done in/);
  const m = await first.waitFor(/running \(process \d+\)[\s\S]*cell (\S+): running \(process (\d+)\)/);
  const [, secondId, secondPid] = m;
  noteCellPids(first.stderr());
  await first.kill('SIGKILL');
  assert.ok(await gone(Number(secondPid)), 'the cell process outlived its killed coordinator');
  assert.deepEqual(readdirSync(join(out, 'cells')).filter((f) => f.endsWith('.json')), [`${doneId}.json`]);
  const kept = readFileSync(join(out, 'cells', `${doneId}.json`), 'utf8');

  const again = start([...args, '--json', '--report', report]);
  assert.equal(await again.exited(), 0, again.stderr());
  const err = again.stderr();
  assert.match(err, /2 cells, 1 done before, 1 to run/);
  assert.match(err, new RegExp(`cell ${doneId}: done before`));
  assert.deepEqual([...err.matchAll(/cell (\S+): running/g)].map((x) => x[1]), [secondId], 'only the missing cell ran');
  noteCellPids(err);
  assert.equal(readFileSync(join(out, 'cells', `${doneId}.json`), 'utf8'), kept, 'a finished row was rewritten');

  const lines = again.stdout().trim().split('\n').map((l) => JSON.parse(l) as Row);
  assert.deepEqual(lines.map((r) => [r.dataset, r.label]), [['mnist', 'complete'], ['fashion-mnist', 'complete']]);
  assert.deepEqual(Object.keys(lines[0]!).slice(0, 9), ['dataset', 'label', 'accuracy', 'epochs', 'T', 'spikes_per_sample', 'sops', 'energy_uj', 'latency_ms_batch1']);
  for (const r of lines) {
    assert.equal(r.epochs, 1);
    assert.equal(r.T_trained, 4);
    // the coding the probes measured best
    const probes = r.coding_probes as { coding: string; chosen?: boolean }[];
    assert.equal(probes.length, 4);
    assert.equal(r.coding, probes.find((p) => p.chosen)!.coding);
    // the complete row: the mean T of the adaptive exit, at most the T the corrected network runs at
    assert.ok((r.T as number) >= 1 && (r.T as number) <= (r.T_max as number) && (r.T_max as number) <= 4, `T ${r.T}, T_max ${r.T_max}`);
    assert.ok((r.spikes_per_sample as number) <= (r.spikes_full_T as number));
    assert.deepEqual((r.correction as { T: number }[]).map((g) => g.T), [1, 2]);
    assert.equal(r.test_samples, 100);
    assert.ok((r.spikes_full_T as number) > 0 && (r.sops as number) > 0 && (r.energy_uj as number) > 0, JSON.stringify(r));
  }
  assert.ok((lines[0]!.accuracy as number) > 0.2, `mnist accuracy ${lines[0]!.accuracy}: the cell did not train`);
  assert.deepEqual(rowsOf(out), lines);
  const table = readFileSync(join(out, 'table.md'), 'utf8').trim().split('\n');
  assert.equal(table[0], '| data set | row | accuracy | epochs | T | spikes/sample | SOPs | energy µJ | batch-1 latency ms |');
  assert.equal(table.length, 4);
  const T0 = lines[0]!.T as number;
  assert.match(table[2]!, new RegExp(`^\\| mnist \\| complete \\| \\d+\\.\\d\\d % \\| 1 \\| ${Number.isInteger(T0) ? T0 : T0.toFixed(2)} \\| `));
  for (const r of lines) assert.ok(existsSync(join(out, 'models', `${r.id}.es`)), `model of ${r.id}`);
  const html = readFileSync(report, 'utf8');
  assert.match(html, /<th>spikes\/sample<\/th>/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 4, 'the report has its plots');
  assert.deepEqual(readdirSync(join(out, 'cells')).filter((f) => f.endsWith('.tmp')), []);

  // A third run has nothing left to do and prints the same table.
  const third = run(...args);
  assert.equal(third.status, 0, third.stderr);
  assert.match(third.stderr, /2 cells, 2 done before, 0 to run/);
  assert.equal(third.stdout, readFileSync(join(out, 'table.md'), 'utf8'));
});

test('evaluate --queue with two workers gives the rows of the local run, and resumes from its cells', async () => {
  redis = await startRedis();
  const models = join(dir, 'worker-models');
  const workers = [0, 1].map(() => start(['worker', '--queue', redis!.url, '--lock-seconds', '2', '--out', models]));
  await Promise.all(workers.map((w) => w.waitFor(/worker: taking cells from queue edgespike-evaluate/)));
  const out = join(dir, 'queue');
  const c = start(['evaluate', ...CELLS, '--queue', redis.url, '--out', out]);
  assert.equal(await c.exited(), 0, c.stderr());
  assert.match(c.stderr(), /2 cells, 0 done before, 2 to run on the queue edgespike-evaluate/);
  for (const w of workers) noteCellPids(w.stderr());
  sameRows(out, local());
  assert.equal(readdirSync(join(out, 'cells')).filter((f) => f.endsWith('.json')).length, 2);
  for (const r of rowsOf(out)) assert.ok(existsSync(join(models, 'models', `${r.id}.es`)), `worker --out keeps the model of ${r.id}`);

  const again = run('evaluate', ...CELLS, '--queue', redis.url, '--out', out);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /2 cells, 2 done before, 0 to run/);
});

test('a worker killed mid-cell: its cell goes back on the queue, runs on the other worker and is counted once', async () => {
  assert.ok(redis, 'needs the queue test\'s Redis');
  // Two workers: one of the queue test's, and one to kill once it runs a cell.
  const [steady, spare] = procs.filter((p) => p.proc.spawnargs.includes('worker') && p.proc.exitCode === null);
  await spare!.kill('SIGTERM');
  const doomed = start(['worker', '--queue', redis.url, '--lock-seconds', '2']);
  await doomed.waitFor(/worker: taking cells/);
  const out = join(dir, 'queue-killed');
  const c = start(['evaluate', ...CELLS, '--queue', redis.url, '--out', out]);
  const [, killedId, killedPid] = await doomed.waitFor(/cell (\S+): running \(process (\d+)\)/);
  cellPids.push(Number(killedPid));
  await doomed.kill('SIGKILL');
  assert.ok(await gone(Number(killedPid)), 'the cell process outlived its killed worker');

  assert.equal(await c.exited(), 0, c.stderr());
  const err = c.stderr();
  assert.match(err, new RegExp(`cell ${killedId}: its worker stopped \\(lock expired\\); the cell is back on the queue`));
  assert.equal([...err.matchAll(new RegExp(`cell ${killedId}: done in`, 'g'))].length, 1, 'the retried cell was counted twice');
  assert.match(steady!.stderr(), new RegExp(`cell ${killedId}: running \\(process \\d+\\)`), 'the other worker did not run the retried cell');
  noteCellPids(steady!.stderr());
  const rows = rowsOf(out);
  assert.deepEqual(rows.map((r) => r.id).sort(), [...new Set(rows.map((r) => r.id))].sort());
  assert.equal(rows.length, 2);
  sameRows(out, local());
  assert.ok(!alive(doomed.pid));
});
