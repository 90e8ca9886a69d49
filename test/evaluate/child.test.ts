/** Cells in child processes: how a failing cell is reported, and that a cell process dies with its parent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CellError, runCellInChild } from '../../src/evaluate/child.js';
import type { EvalCell } from '../../src/evaluate/cells.js';
import { gone } from '../helpers/cli.js';

const entry = new URL('./_child-fixture.js', import.meta.url);
const cell = (dataset: string): EvalCell => ({
  id: `${dataset}-complete-0`, dataset, label: 'complete', seed: 1,
  recipe: { model: 'lenet', epochs: 1, T: 2, batchSize: 8, lr: 0.003 }, components: { coding: true, correction: true, coopt: true },
});
const failure = async (dataset: string): Promise<CellError> => {
  try { await runCellInChild(cell(dataset), { entry, threads: 1, memoryBytes: 2 ** 30 }); } catch (e) {
    assert.ok(e instanceof CellError, `not a CellError: ${e}`);
    return e;
  }
  throw new Error(`cell ${dataset} did not fail`);
};

test('a failing cell gives one line: bad input as it is, a bug with its name and stack, a lost process with its exit', async () => {
  const [bad, bug, exit, kill] = await Promise.all(['bad-input', 'bug', 'exit', 'kill'].map(failure));
  assert.equal(bad.message, 'fixture: no such data');
  assert.equal(bad.details, '');
  assert.equal(bug.message, 'TypeError: fixture: x is undefined');
  assert.match(bug.details, /at .*_child-fixture\.js/);
  assert.equal(exit.message, 'its process ended with exit code 3 and no row: fixture: giving up');
  assert.equal(kill.message, 'its process was killed (SIGKILL)');
  for (const e of [bad, bug, exit, kill]) assert.ok(!e.message.includes('\n'));
});

test('a cell process kills itself when its parent dies, even in the middle of synchronous work', async () => {
  // A parent that starts a cell which never ends, prints the cell's pid and is then killed with SIGKILL.
  const parent = spawn(process.execPath, ['--input-type=module', '-e', `
    import { runCellInChild } from ${JSON.stringify(new URL('../../src/evaluate/child.js', import.meta.url).href)};
    runCellInChild(${JSON.stringify(cell('hang'))}, { entry: new URL(${JSON.stringify(entry.href)}), threads: 1, memoryBytes: 2 ** 30,
      onStart: (pid) => console.log(pid) }).catch(() => {});`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  assert.ok(pid > 0);
  parent.kill('SIGKILL');
  assert.ok(await gone(pid, 5000), `cell process ${pid} outlived its parent`);
});
