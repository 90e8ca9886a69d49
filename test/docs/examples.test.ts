/**
 * The examples/ folder runs: predict.mjs with a pretrained model on an MNIST test image, train.mjs on a
 * small subset, and the browser example in headless Chromium, whose answer for a digit must be Node's.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mnist } from '../../src/data/mnist.js';
import { writePng } from '../../src/data/image.js';
import { loadNet } from '../../src/train/model-file.js';
import { predictImage } from '../../src/train/predict.js';
import { serveStatic } from '../../demo/browser/serve.js';
import { CHROMIUM, pageValue } from '../browser/chromium.js';

const distDir = fileURLToPath(new URL('../../', import.meta.url));
const root = resolve(distDir, '..');
const tmp = mkdtempSync(join(tmpdir(), 'es-examples-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The first `n` MNIST test images as [0, 1] pixels, with their labels. */
function digits(n: number): { pixels: Float32Array; label: number }[] {
  const d = mnist('test', { normalize: false });
  return Array.from({ length: n }, (_, i) => { const pixels = new Float32Array(784); d.read(i, pixels, 0); return { pixels, label: d.label(i) }; });
}

test('examples/predict.mjs names the digit of MNIST test images with the pretrained models', () => {
  for (const [i, { pixels, label }] of digits(3).entries()) {
    const png = join(tmp, `d${i}.png`);
    writePng(png, pixels, 1, 28, 28);
    for (const model of ['lenet-mnist', 'lenet-mnist-ternary']) {
      const r = spawnSync(process.execPath, [join(root, 'examples/predict.mjs'), png, model], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^${png.replace(/[.\\/]/g, '\\$&')}: ${label} \\(p = 0\\.\\d{3}\\)`), r.stdout);
      assert.match(r.stdout, /\nprobabilities( 0\.\d{3}){10}\n/);
    }
  }
});

test('examples/train.mjs trains, evaluates and saves a model from code', { timeout: 120_000 }, () => {
  const r = spawnSync(process.execPath, [join(root, 'examples/train.mjs'), '1000', '1'], { encoding: 'utf8', cwd: tmp });
  assert.equal(r.status, 0, r.stderr);
  const acc = /test accuracy ([\d.]+) % on 1000 images/.exec(r.stdout);
  assert.ok(acc, r.stdout);
  assert.ok(Number(acc[1]) > 40, `one epoch on 1,000 images should do better than chance: ${acc[1]} %`);
  assert.ok(existsSync(join(tmp, 'lenet.es')));
  assert.equal(loadNet(join(tmp, 'lenet.es')).meta.dataset, 'mnist');
});

test('examples/browser: the page classifies a digit as Node does', { skip: !existsSync(CHROMIUM) && 'no Chromium', timeout: 60_000 }, async () => {
  const server = await serveStatic(root);
  try {
    const model = loadNet('lenet-mnist');
    for (const { pixels } of digits(2)) {
      const want = predictImage(model, { data: pixels, c: 1, h: 28, w: 28 }, { invert: 'no' });
      const got = await pageValue(`${server.url}examples/browser/index.html`, {
        ready: 'window.exampleReady === true', value: `classify(${JSON.stringify(Array.from(pixels))})`,
        timeoutMs: 20_000, userDataDir: join(tmp, `chrome-${basename(dirname(distDir))}-${want.class}`),
      }) as { class: number; probability: number };
      assert.equal(got.class, want.class);
      assert.ok(Math.abs(got.probability - want.probability) < 1e-6, `${got.probability} vs ${want.probability}`);
    }
  } finally { await server.close(); }
});
