/**
 * The pretrained models: the index matches the files, each model's accuracy is what the index says
 * (float ones on the whole test split, ternary ones on its first 1,000 images), a name works where a model
 * file goes, a file of that name wins, and a damaged file is refused in one line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRETRAINED_DIR, pretrainedModels } from '../../src/models/pretrained.js';
import { loadNet } from '../../src/train/model-file.js';
import { evaluate } from '../../src/train/trainer.js';
import { limit } from '../../src/data/dataset.js';
import { staticDataset } from '../../src/data/registry.js';
import { mnist } from '../../src/data/mnist.js';
import { writePng } from '../../src/data/image.js';

const bin = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'es-pretrained-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (args: string[], cwd = tmp) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd });

test('the index names every file with its size and SHA-256', () => {
  const models = pretrainedModels();
  assert.deepEqual(models.map((m) => m.name), ['lenet-mnist', 'lenet-fashion', 'lenet-mnist-ternary', 'lenet-fashion-ternary']);
  for (const m of models) {
    const bytes = readFileSync(join(PRETRAINED_DIR, m.file));
    assert.equal(bytes.length, m.bytes, m.name);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), m.sha256, m.name);
    const { meta } = loadNet(m.name);
    assert.equal(meta.dataset, m.dataset, m.name);
  }
});

test('each pretrained model scores the accuracy its index entry states', { timeout: 180_000 }, async () => {
  for (const m of pretrainedModels()) {
    const { net } = loadNet(m.name);
    const test = staticDataset(m.dataset as 'mnist' | 'fashion-mnist', 'test');
    if (m.weights === 'float') {
      const r = evaluate(net, test);
      assert.equal(r.samples, m.test_samples);
      assert.ok(Math.abs(r.accuracy - m.test_accuracy) <= 2 / m.test_samples, `${m.name}: ${r.accuracy} vs ${m.test_accuracy}`);
    } else {
      const r = evaluate(net, limit(test, 1000));
      assert.ok(r.accuracy >= m.test_accuracy - 0.02, `${m.name}: ${r.accuracy} on the first 1,000 vs ${m.test_accuracy} on all`);
    }
  }
});

test('a pretrained name works where a model file goes; a file of that name wins; damage is one line', () => {
  const d = mnist('test', { normalize: false }), px = new Float32Array(784);
  d.read(0, px, 0);
  writePng(join(tmp, 'digit.png'), px, 1, 28, 28);
  const byName = cli(['predict', 'lenet-mnist', 'digit.png', '--json']);
  assert.equal(byName.status, 0, byName.stderr);
  assert.equal(JSON.parse(byName.stdout).class, d.label(0));

  for (const argv of [['info', 'lenet-mnist-ternary'], ['eval', 'lenet-fashion', '--limit', '50'], ['profile', 'lenet-mnist', '--limit', '20'], ['profile', 'lenet-mnist-ternary', '--arch-only']]) {
    const r = cli(argv);
    assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  }
  const got = cli(['pretrained', 'get', 'lenet-fashion', '--out', 'f.es']);
  assert.equal(got.status, 0, got.stderr);
  assert.deepEqual(readFileSync(join(tmp, 'f.es')), readFileSync(join(PRETRAINED_DIR, 'lenet-fashion.es')));
  // a file named like a pretrained model is read as the file: here the Fashion model, whose classes are named
  copyFileSync(join(tmp, 'f.es'), join(tmp, 'lenet-mnist'));
  const byFile = cli(['predict', 'lenet-mnist', 'digit.png', '--json']);
  assert.equal(byFile.status, 0, byFile.stderr);
  assert.ok(!/^\d$/.test(JSON.parse(byFile.stdout).name), byFile.stdout);

  const unknown = cli(['pretrained', 'get', 'lenet-cifar']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^edgespike: "lenet-cifar": no pretrained model of that name \(lenet-mnist, lenet-fashion, lenet-mnist-ternary, lenet-fashion-ternary\)\n$/);
  const badOut = cli(['pretrained', 'get', 'lenet-mnist', '--out', join(tmp, 'no/such/dir/m.es')]);
  assert.equal(badOut.status, 2);
  assert.equal(badOut.stderr.trim().split('\n').length, 1, badOut.stderr);

  // a damaged copy of the package: the checksum is checked when a model is taken by name
  const root = fileURLToPath(new URL('../../../', import.meta.url)), dist = fileURLToPath(new URL('../../', import.meta.url));
  const pkg = join(tmp, 'pkg');
  for (const part of ['package.json', 'bin', 'build', 'pretrained']) cpSync(join(root, part), join(pkg, part), { recursive: true });
  cpSync(join(dist, 'src'), join(pkg, 'dist', 'src'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  const file = join(pkg, 'pretrained', 'lenet-mnist.es');
  const bytes = readFileSync(file);
  bytes[bytes.length - 100]! ^= 1;
  writeFileSync(file, bytes);
  const damaged = spawnSync(process.execPath, [join(pkg, 'bin/edgespike.js'), 'info', 'lenet-mnist'], { encoding: 'utf8', cwd: pkg });
  assert.equal(damaged.status, 2, damaged.stderr);
  assert.match(damaged.stderr, /lenet-mnist\.es: SHA-256 [0-9a-f]{12}… differs from the index's [0-9a-f]{12}… \(a damaged install\?\)\n$/);
});
