/**
 * kill -9 during training, then --resume, again and again: the run ends with the weights of an
 * uninterrupted run, no temporary file is left, and the epoch log lists every epoch once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNet } from '../../src/train/model-file.js';

const bin = new URL('../../../bin/edgespike.js', import.meta.url).pathname;
const args = (out: string) => ['train', '--model', '4C5-P2-8C3-P2-32-10', '--limit', '400', '--test-limit', '50', '--epochs', '5',
  '--batch-size', '40', '-T', '2', '--seed', '3', '--json', '--out', out];

/** Starts a run and kills it with SIGKILL after `ms`; resolves to its exit code (null when killed). */
function runKilledAfter(argv: string[], ms: number): Promise<number | null> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [bin, ...argv], { stdio: 'ignore', env: { ...process.env, EDGESPIKE_THREADS: '1' } });
    const timer = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('exit', (code) => { clearTimeout(timer); done(code); });
  });
}

test('runs killed with SIGKILL and resumed end with the weights of an uninterrupted run', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-kill-'));
  try {
    const whole = join(dir, 'whole.es');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, ...args(whole)], { encoding: 'utf8', env: { ...process.env, EDGESPIKE_THREADS: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const full = performance.now() - t0;
    const killed = join(dir, 'killed.es');
    let kills = 0, code: number | null = null;
    // kill points spread over the run (process start, data, each epoch's checkpoint and log)
    for (let i = 0; code !== 0; i++) {
      const ms = i < 8 ? full * (0.15 + 0.12 * i) : full * 4;
      code = await runKilledAfter([...args(killed), '--resume'], ms);
      if (code === null) kills++;
      else assert.equal(code, 0, `run ${i} exited with ${code}`);
    }
    assert.ok(kills >= 3, `only ${kills} runs were killed`);
    const a = loadNet(whole).net.tensorValues(), b = loadNet(killed).net.tensorValues();
    for (const [name, v] of Object.entries(a)) assert.deepEqual(Array.from(b[name]!), Array.from(v), name);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    const epochs = readFileSync(`${killed}.log.jsonl`, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    assert.deepEqual(epochs, [1, 2, 3, 4, 5]);
    // a resume with other settings is refused instead of finishing someone else's run
    const other = spawnSync(process.execPath, [bin, ...args(killed).map((x) => (x === '3' ? '4' : x)), '--resume'], { encoding: 'utf8' });
    assert.equal(other.status, 2);
    assert.match(other.stderr, /^edgespike: checkpoint .*killed\.es\.ckpt: written by another run \(seed 3, not 4\); remove it or train without --resume\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
