/** The seeds' arithmetic reproduced exactly by `edgespike profile` (seeds.md §6.2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));
const profile = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, 'profile', ...args, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).architecture;
};

test('SpQuant VGG-9 on 3×48×48: 921,600 neurons, Umem 3.68 MB at 32 bits, 0.23 MB at 2 bits (1.58-bit stored in 2)', () => {
  const a = profile('--model', 'vgg9-48', '--input', '3x48x48', '--weight-bits', '2', '--membrane-bits', '1.58');
  assert.equal(a.neurons, 921600);
  assert.equal(a.membrane_storage_bits, 2);
  assert.equal(a.membrane_mb_paper, '0.23');
  assert.equal(a.weights, 9263808);
  assert.equal(profile('--model', 'vgg9-48', '--membrane-bits', '32').membrane_mb_paper, '3.68');
});

test('LT-SNN ResNet-19 on 32×32: 12,486,336 conv weights → 49.94 MB at 32 bits, 6.24 at 4 bits; 1,376,512 neurons', () => {
  const a = profile('--model', 'resnet19');
  assert.equal(a.conv_weights, 12486336);
  assert.equal(a.weight_mb_paper, '49.94');
  assert.equal(a.neurons, 1376512);
  assert.equal(profile('--model', 'resnet19', '--weight-bits', '4').weight_mb_paper, '6.24');
  assert.equal(profile('--model', 'resnet19', '--membrane-bits', '1.5').membrane_mb_nominal_bits_paper, '0.25');
});

test('Scatter-and-Gather LeNet and VGG-Net: neurons and MACs', () => {
  const l = profile('--model', 'sg-lenet');
  assert.equal(l.neurons, 26880);
  assert.equal(l.macs_per_step, 4849664);
  const v = profile('--model', 'sg-vgg');
  assert.equal(v.neurons, 150272);
  assert.equal(v.macs_per_step, 126222336);
});

test('EC-SNN vgg9 on CIFAR-10: 5,941,184 parameters; a spec needs an input shape', () => {
  assert.equal(profile('--model', 'vgg9').params, 5941184);
  // LeNet's neurons run after its max pools (conv → pool → LIF)
  assert.equal(profile('--model', '16C5-P2-16C5-P2-256-10', '--input', '1x28x28').neurons, 16 * 12 * 12 + 16 * 4 * 4 + 256);
  const r = spawnSync(process.execPath, [bin, 'profile', '--model', '16C5-10', '--input', '3x48'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr.trim(), /^edgespike: --input: expected CxHxW with positive integers \(e\.g\. 3x48x48\), got "3x48"$/);
});
