/** Spawns the CLI: exit codes, one-line errors without stack traces, JSON output, no half-written files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oneLineError } from '../helpers/cli.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { mnist } from '../../src/data/mnist.js';

const bin = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, EDGESPIKE_THREADS: '1' } });


test('train → info → eval → predict on a small MNIST subset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-cli-'));
  try {
    const out = join(dir, 'm.es');
    const t = run('train', '--model', 'lenet', '--dataset', 'mnist', '--epochs', '1', '--timesteps', '2', '--limit', '640', '--batch-size', '16', '--test-limit', '200', '--out', out, '--json');
    assert.equal(t.status, 0, t.stderr);
    const summary = JSON.parse(t.stdout);
    assert.equal(summary.epochs, 1);
    assert.equal(summary.timesteps, 2);
    assert.ok(summary.test_accuracy > 0.3, `accuracy ${summary.test_accuracy}`);
    assert.ok(existsSync(`${out}.ckpt`) && existsSync(`${out}.log.jsonl`));
    const info = JSON.parse(run('info', out, '--json').stdout);
    assert.equal(info.timesteps, 2);
    assert.equal(info.classes, 10);
    assert.equal(info.parameters, 16 * 25 + 16 + 16 * 16 * 25 + 16 + 256 * 256 + 256 + 256 * 10 + 10);
    const e = run('eval', out, '--json', '--limit', '200');
    assert.equal(e.status, 0, e.stderr);
    const ev = JSON.parse(e.stdout);
    assert.deepEqual(Object.keys(ev).slice(0, 4), ['test_accuracy', 'samples', 'timesteps', 'samples_per_second']);
    assert.equal(ev.samples, 200);
    assert.equal(ev.test_accuracy, summary.test_accuracy);
    // predict on a real test digit written as a PNG
    const d = mnist('test'), px = new Float32Array(784);
    d.read(0, px, 0);
    const png = new PNG({ width: 28, height: 28, colorType: 0 });
    for (let i = 0; i < 784; i++) { const v = Math.round(px[i]! * 255); png.data.set([v, v, v, 255], i * 4); }
    writeFileSync(join(dir, 'digit.png'), PNG.sync.write(png));
    const p = run('predict', out, join(dir, 'digit.png'), '--json');
    assert.equal(p.status, 0, p.stderr);
    const pr = JSON.parse(p.stdout);
    assert.equal(pr.probabilities.length, 10);
    assert.ok(Math.abs(pr.probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-5);
    assert.equal(pr.inverted, false);
    // the same digit drawn dark on light: detected and inverted back, the same answer
    for (let i = 0; i < 784; i++) { const v = 255 - Math.round(px[i]! * 255); png.data.set([v, v, v, 255], i * 4); }
    writeFileSync(join(dir, 'dark.png'), PNG.sync.write(png));
    const q = JSON.parse(run('predict', out, join(dir, 'dark.png'), '--json').stdout);
    assert.equal(q.inverted, true);
    assert.equal(q.class, pr.class);
    q.probabilities.forEach((v: number, i: number) => assert.ok(Math.abs(v - pr.probabilities[i]) < 1e-5, `class ${i}: ${v} vs ${pr.probabilities[i]}`));
    const kept = JSON.parse(run('predict', out, join(dir, 'dark.png'), '--json', '--invert', 'no').stdout);
    assert.equal(kept.inverted, false);
    assert.notDeepEqual(kept.probabilities, pr.probabilities);
    const text = run('predict', out, join(dir, 'dark.png'));
    assert.match(text.stdout, /input inverted to light-on-dark/);
    assert.equal(run('predict', out, join(dir, 'dark.png'), '--invert', 'maybe').status, 2);
    // no temporary files are left behind
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('bad input: one line, exit code 2, nothing written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-cli-'));
  try {
    const out = join(dir, 'x.es');
    oneLineError(run('train', '--bogus', '1', '--out', out), /train: unknown flag --bogus/);
    oneLineError(run('train', '--epochs', 'two', '--out', out), /--epochs: expected an integer, got "two"/);
    oneLineError(run('train', '--lr', 'NaN', '--out', out), /--lr: expected a number, got "NaN"/);
    oneLineError(run('train', '--model', '16C5-PX-10', '--limit', '8', '--out', out), /--model: "16C5-PX-10" is neither a zoo name .* nor a valid spec: .*PX/);
    oneLineError(run('train', '--dataset', 'imagenet', '--out', out), /--dataset: unknown data set "imagenet"/);
    oneLineError(run('train', '--dataset', 'cifar10', '--out', out), /--dataset cifar10: needs --data-dir/);
    assert.equal(existsSync(out), false);
    oneLineError(run('frobnicate'), /unknown command "frobnicate"/);
    oneLineError(run('eval', join(dir, 'missing.es')), /missing\.es/);
    writeFileSync(join(dir, 'junk.es'), 'not a model at all');
    oneLineError(run('eval', join(dir, 'junk.es')), /junk\.es/);
    oneLineError(run('info', join(dir, 'junk.es'), '--verbose'), /info: unknown flag --verbose/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('--help prints usage and exits 0', () => {
  const r = run('train', '--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout + r.stderr, /--timesteps/);
  void readFileSync;
});

test('a reader that closes the pipe early ends the command quietly: exit 0, no stack trace', () => {
  // `edgespike info m.es | head -c 1`: the shell's head closes the pipe after the first byte
  for (const args of [['info', 'lenet-mnist-ternary'], ['profile', 'lenet-mnist-ternary', '--arch-only']]) {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" ${args.join(' ')} | head -c 1 >/dev/null`],
      { encoding: 'utf8', env: { ...process.env, EDGESPIKE_THREADS: '1' } });
    assert.equal(r.status, 0, args.join(' '));
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|at /, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('an output folder that refuses new files (/proc) is refused before any work', () => {
  const t0 = Date.now(), r = run('quantize', 'lenet-mnist', '--weight-bits', '2', '--finetune-epochs', '1', '--out', '/proc/o.es');
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim(), 'edgespike: --out /proc/o.es: the folder /proc is not writable');
  assert.ok(Date.now() - t0 < 15_000, 'refused only after fine-tuning');
  const d = run('data', 'emulate', '--from', 'mnist', '--out', '/proc/emulated', '--limit', '10');
  assert.equal(d.status, 2, d.stderr);
  assert.match(d.stderr.trim(), /^edgespike: --out \/proc\/emulated: \/proc is not writable$/);
});

test('flags given twice, flags a model file or a run without fine-tuning would ignore: one line, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['quantize', 'lenet-mnist', '--weight-bits', '2', '--weight-bits', '4', '--out', '/tmp/x.es'], /^edgespike: quantize: flag --weight-bits given twice$/],
    [['quantize', 'lenet-mnist', '--gate', '--no-gate', '--out', '/tmp/x.es'], /^edgespike: quantize: flag --gate given twice$/],
    [['quantize', 'lenet-mnist', '--weight-bits', '2', '--lr', '0.01', '--out', '/tmp/x.es'], /^edgespike: --lr: applies with --finetune-epochs above 0$/],
    [['quantize', 'lenet-mnist', '--weight-bits', '2', '--limit', '100', '--out', '/tmp/x.es'], /^edgespike: --limit: applies with --finetune-epochs above 0 \(or --gate\)$/],
    [['profile', 'lenet-mnist-ternary', '--input', '3x48x48', '--arch-only'], /^edgespike: --input: applies with --model NAME\|SPEC only; lenet-mnist-ternary has its own$/],
    [['profile', 'lenet-mnist-ternary', '--membrane-bits', '1.5'], /^edgespike: --membrane-bits: applies with --model NAME\|SPEC only/],
    [['profile', 'lenet-mnist-ternary', '--arch-only', '--limit', '10'], /^edgespike: --limit: runs on data, which --arch-only does not$/],
  ];
  for (const [args, want] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), want, args.join(' '));
  }
  // a different data set than the model's is allowed, with a note
  const dir = mkdtempSync(join(tmpdir(), 'es-note-'));
  try {
    const r = run('quantize', 'lenet-mnist', '--weight-bits', '8', '--dataset', 'fashion-mnist', '--test-limit', '32', '--out', join(dir, 'f.es'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /quantize: note: lenet-mnist was trained on mnist; testing on fashion-mnist/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('eval takes --test-limit as train and quantize do; info shows a quantized model\'s float spec', () => {
  const r = run('eval', 'lenet-mnist', '--test-limit', '40');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /of 40 test samples/);
  const i = run('info', 'lenet-mnist-ternary');
  assert.equal(i.status, 0, i.stderr);
  assert.match(i.stdout, /^spec +16C5b-P2-16C5b-P2-256b-10b \(the float model's; quantized, with the nodes the graph below lists\)$/m);
});
