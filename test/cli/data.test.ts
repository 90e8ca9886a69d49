/** `edgespike data`: inspect, frames and emulate through the CLI, and training on the emulated set. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';

const bin = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, EDGESPIKE_THREADS: '1' } });

test('emulate → inspect → frames → train on the emulated N-MNIST layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-data-'));
  try {
    const out = join(dir, 'nmnist');
    const e = run('data', 'emulate', '--from', 'mnist', '--out', out, '--limit', '30');
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /30 training and 5 test recordings/);
    // the size it announced before starting is within a factor of 2 of what it wrote
    const said = /^data emulate: 35 recordings \(30 training, 5 test\) into .*: about ([\d.]+) (kB|MB) and \d+ (s|minutes) here\n$/.exec(e.stderr);
    assert.ok(said, e.stderr);
    const announced = Number(said[1]) * (said[2] === 'MB' ? 1e6 : 1e3);
    const written = readdirSync(join(out, 'Train')).reduce((n, d) => n + readdirSync(join(out, 'Train', d)).reduce((m, f) => m + statSync(join(out, 'Train', d, f)).size, 0), 0)
      + readdirSync(join(out, 'Test')).reduce((n, d) => n + readdirSync(join(out, 'Test', d)).reduce((m, f) => m + statSync(join(out, 'Test', d, f)).size, 0), 0);
    assert.ok(announced > written / 2 && announced < written * 2, `announced ${announced} bytes, wrote ${written}`);
    assert.deepEqual(readdirSync(join(out, 'Train')).sort(), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const file = join(out, 'Train', '5', '00000.bin'); // MNIST's first training digit is a 5
    assert.ok(existsSync(file));
    const info = JSON.parse(run('data', 'inspect', file, '--json').stdout);
    assert.equal(info.format, 'atis-bin');
    assert.equal(info.events, statSync(file).size / 5);
    assert.ok(info.duration_us > 250_000 && info.duration_us <= 300_000, `duration ${info.duration_us}`);
    assert.ok(Math.abs(info.event_rate - info.events / (info.duration_us / 1e6)) < 1e-6 * info.event_rate);
    const png = join(dir, 'frames.png');
    const f = run('data', 'frames', file, '--time-bins', '5', '-o', png, '--scale', '2');
    assert.equal(f.status, 0, f.stderr);
    const img = PNG.sync.read(readFileSync(png));
    assert.ok(img.width >= 5 * 34 * 2 && img.height >= 34 * 2, `${img.width}×${img.height}`);
    const t = run('train', '--dataset', 'nmnist', '--data-dir', out, '--epochs', '1', '--timesteps', '3', '--batch-size', '8', '--out', join(dir, 'n.es'), '--json');
    assert.equal(t.status, 0, t.stderr);
    const s = JSON.parse(t.stdout);
    assert.equal(s.train_samples, 30);
    const infoModel = JSON.parse(run('info', join(dir, 'n.es'), '--json').stdout);
    assert.deepEqual(infoModel.input, [2, 34, 34]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('data errors: one line, exit code 2', () => {
  for (const [args, re] of [
    [['data', 'inspect', '/nonexistent/x.bin'], /x\.bin/],
    [['data', 'frames', 'x.bin', '--time-bins', '3', '--event-bins', '4'], /give one of --time-bins, --event-bins, --time-window, --event-count, not --time-bins and --event-bins/],
    [['data', 'emulate', '--from', 'cifar10', '--out', '/tmp/none'], /--from: expected mnist or fashion-mnist, got "cifar10"/],
    [['data', 'emulate', '--out', '/tmp/none', '--limit', '-4'], /--limit: expected an integer ≥ 1, got -4/],
  ] as [string[], RegExp][]) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});
