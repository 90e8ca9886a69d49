/** The HTML report: every plot is an SVG with marks; where Debian's chromium is installed, it opens there too. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpikingNet } from '../../src/layers/net.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { parseSpec } from '../../src/notation/parse.js';
import { mnist } from '../../src/data/mnist.js';
import { limit } from '../../src/data/dataset.js';
import { train } from '../../src/train/trainer.js';
import { saveNet } from '../../src/train/model-file.js';
import { writeRunReport } from '../../src/cli/report.js';

const CHROMIUM = '/usr/bin/chromium';

test('report of a run directory: six SVG plots with data marks, then Chromium renders them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-report-'));
  try {
    const net = new SpikingNet(parseSpec('6C5-P2-12C5-P2-10', { bias: true }), { input: [1, 28, 28], neuron: neuronParams('lif'), T: 3, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 2 });
    const model = join(dir, 'net.es');
    const history = train(net, limit(mnist('train'), 256), limit(mnist('test'), 64), { epochs: 2, batchSize: 32, optim: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'none' }, loss: { kind: 'ce' }, seed: 1, logPath: `${model}.log.jsonl` });
    saveNet(model, net, { dataset: 'mnist', training: { epochs: history } });
    const out = await writeRunReport(dir, join(dir, 'report.html'), { limit: 64 });
    const html = readFileSync(out, 'utf8');
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 6);
    for (const t of ['Training curves', 'Firing rate per layer and time step', 'Spike raster of one test sample', 'Operations per layer', 'Energy per layer', 'Memory by precision']) assert.ok(html.includes(t), t);
    // Every plot draws data: marks groups with paths (lines, bars, ticks).
    for (const s of svgs) assert.ok((s.match(/<path /g) ?? []).length >= 3, 'an SVG without marks');
    assert.ok(!/<script/i.test(html), 'the page must be self-contained and script-free');
    if (!existsSync(CHROMIUM)) return;
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'chrome')}`];
    const dom = spawnSync(CHROMIUM, [...flags, '--dump-dom', `file://${out}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(dom.status, 0, dom.stderr);
    assert.equal((dom.stdout.match(/<svg/g) ?? []).length, 6, 'Chromium did not parse six SVG elements');
    const png = join(dir, 'shot.png');
    spawnSync(CHROMIUM, [...flags, `--screenshot=${png}`, '--window-size=1200,1600', `file://${out}`], { timeout: 60_000 });
    assert.ok(existsSync(png) && statSync(png).size > 20_000, 'Chromium screenshot missing or blank');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
