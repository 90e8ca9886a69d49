/**
 * Fitting the gates' predictors (src/layers/gate-fit.ts) on the pretrained MNIST lenet, and `quantize --gate`:
 * the fit lowers each gate's BCE against its targets, closes the channels the targets close most of the time,
 * closes more at a lower mass ratio, and leaves every other parameter as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin } from '../helpers/cli.js';
import { loadNet } from '../../src/train/model-file.js';
import { quantizeNet } from '../../src/layers/quantize.js';
import { fitGates } from '../../src/layers/gate-fit.js';
import { mnist } from '../../src/data/mnist.js';
import { limit } from '../../src/data/dataset.js';
import { makeBatch } from '../../src/data/batch.js';
import { noGrad } from '../../src/tensor/tape.js';

test('fitGates: lower BCE, the rarely kept channels closed, more closed at a lower ratio, nothing else changed', () => {
  const { net: float } = loadNet('lenet-mnist');
  const data = limit(mnist('train'), 256);
  const open: number[][] = [];
  for (const ratio of [0.85, 0.5]) {
    const q = quantizeNet(float, { gate: true, gateRatio: ratio, keepEnds: true });
    const named = (): [string, Float32Array][] => q.namedParameters().filter(([name]) => !name.includes('gate')).map(([name, p]) => [name, p.data]);
    const others = named().map(([name, d]) => [name, Float32Array.from(d)] as const);
    // how often each channel of the first gate is a target, over the same samples
    const kept = new Float64Array(16);
    let rows = 0;
    noGrad(() => q.forward(makeBatch(data, null, 0, 256).x, {
      training: false, integer: false,
      onGateFit: (id, _f, t) => {
        if (id !== q.graph.nodes.find((n) => n.op === 'gate')!.id) return;
        for (let i = 0; i < t.size; i++) kept[i % 16] += t.data[i]!;
        rows += t.size / 16;
      },
    }));
    const fits = fitGates(q, data);
    assert.equal(fits.length, 2);
    for (const f of fits) {
      assert.ok(f.bceAfter < f.bceBefore - 0.05, `${f.gate} at ${ratio}: BCE ${f.bceBefore} → ${f.bceAfter}`);
      assert.equal(f.openBefore, 1, 'the gates start open');
    }
    assert.ok(fits[0]!.openAfter < 0.95, `first gate at ${ratio} leaves ${fits[0]!.openAfter} open`);
    open.push(fits.map((f) => f.openAfter));
    named().forEach(([name, d], i) => assert.deepEqual(d, others[i]![1], `${name} changed`));
    // a channel kept in at most 15 % of the rows is closed after the fit in at least 80 % of them
    const rare = [...kept].map((k, c) => [k / rows, c] as const).filter(([share]) => share <= 0.15);
    if (ratio === 0.85) assert.ok(rare.length > 0, 'the first gate has a rarely kept channel at 0.85');
    const closed = new Float64Array(16);
    let n = 0;
    noGrad(() => q.forward(makeBatch(data, null, 0, 256).x, {
      training: false, integer: false,
      onGate: (id, mask, r, C) => {
        if (id !== fits[0]!.gate) return;
        for (let i = 0; i < r * C; i++) if (mask[i] === 0) closed[i % C]! += 1;
        n += r;
      },
    }));
    for (const [share, c] of rare) assert.ok(closed[c]! / n >= 0.8, `channel ${c} (kept ${share}) closed in ${closed[c]! / n} of the rows`);
  }
  assert.ok(open[1]![0]! < open[0]![0]! && open[1]![1]! < open[0]![1]!, `open at 0.85 ${open[0]} vs 0.5 ${open[1]}`);
});

test('quantize --gate: the gates close channels; --gate-ratio is checked and lowers what stays open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-gate-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, EDGESPIKE_THREADS: '1' } });
    const summary = (...extra: string[]) => {
      const r = run('quantize', 'lenet-mnist', '--weight-bits', '2', '--membrane-bits', '1.58', '--gate', '--limit', '256', '--test-limit', '128', '--json', ...extra);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { gates: { gate: string; open: number }[]; test_accuracy: number };
    };
    const a = summary('--out', join(dir, 'a.es')), b = summary('--gate-ratio', '0.5', '--out', join(dir, 'b.es'));
    assert.equal(a.gates.length, 2);
    assert.ok(a.gates[0]!.open < 0.95, JSON.stringify(a.gates));
    assert.ok(b.gates.every((g, i) => g.open < a.gates[i]!.open), `${JSON.stringify(a.gates)} vs ${JSON.stringify(b.gates)}`);
    // info says how many test samples the stored accuracy is of
    const inf = run('info', join(dir, 'a.es'));
    assert.equal(inf.status, 0, inf.stderr);
    assert.match(inf.stdout, /^trained +3 epochs float \(\d+\.\d\d%\), quantized with 0 fine-tuning epochs, test accuracy \d+\.\d\d% on 128 samples$/m);
    // train with gates from the start: fitted at the end, the model tested again with them
    const t = run('train', '--model', '8C5-P2-16C5-P2-10', '--weight-bits', '2', '--gate', '--epochs', '1', '--limit', '256', '--test-limit', '64', '--out', join(dir, 't.es'), '--json');
    assert.equal(t.status, 0, t.stderr);
    const ts = JSON.parse(t.stdout) as { gates: { gate: string; open: number }[]; gated_test_accuracy: number };
    assert.equal(ts.gates.length, 2);
    assert.ok(ts.gates.every((g) => g.open > 0 && g.open <= 1) && ts.gated_test_accuracy >= 0 && ts.gated_test_accuracy <= 1, t.stdout);
    const ev = run('eval', join(dir, 'a.es'), '--limit', '128', '--json');
    assert.equal(ev.status, 0, ev.stderr);
    assert.ok((JSON.parse(ev.stdout) as { gated_flops_reduction: number }).gated_flops_reduction > 1.01);
    for (const [args, want] of [
      [['--gate-ratio', '0', '--gate'], /--gate-ratio: expected a number in \(0, 1\], got "0"/],
      [['--gate-ratio', 'NaN', '--gate'], /--gate-ratio: expected a number in \(0, 1\], got "NaN"/],
      [['--gate-ratio', '0.5'], /--gate-ratio: applies with --gate only/],
    ] as const) {
      const out = join(dir, 'bad.es'), r = run('quantize', 'lenet-mnist', '--weight-bits', '2', ...args, '--out', out);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), want);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.ok(!existsSync(out));
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
