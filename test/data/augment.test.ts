/**
 * Augmentation and normalisation on [C, H, W]: shifts, crops and flips checked on small images
 * by hand; crops and flips draw from the seeded generator in a fixed order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  augment, blackAfter, flipHorizontal, normalize, NORMALIZATIONS, randomCrop, randomFlip, resolveNormalization, shiftImage,
} from '../../src/data/augment.js';
import { Rng } from '../../src/data/rng.js';
import { EdgespikeError } from '../../src/util/errors.js';

// One 3×3 channel:  1 2 3 / 4 5 6 / 7 8 9.
const IMG = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);

test('shiftImage by (dy, dx) = (1, −1) reads src[y+1][x−1], fill elsewhere', () => {
  const out = new Float32Array(9);
  shiftImage(IMG, out, 1, 3, 3, 1, -1, -7);
  // row 0 ← src row 1 shifted right: [fill, 4, 5]; row 1 ← src row 2: [fill, 7, 8]; row 2 ← outside.
  assert.deepEqual([...out], [-7, 4, 5, -7, 7, 8, -7, -7, -7]);
  shiftImage(IMG, out, 1, 3, 3, 0, 0);
  assert.deepEqual(out, IMG);
});

test('randomCrop draws top then left in [0, 2·pad] and equals a shift of (top − pad, left − pad)', () => {
  const rng = new Rng(11), twin = new Rng(11);
  const out = new Float32Array(9), want = new Float32Array(9);
  const seen = new Set<string>();
  for (let k = 0; k < 200; k++) {
    const [dy, dx] = randomCrop(IMG, out, 1, 3, 3, 1, rng);
    const top = twin.int(3), left = twin.int(3);
    assert.deepEqual([dy, dx], [top - 1, left - 1]);
    shiftImage(IMG, want, 1, 3, 3, dy, dx);
    assert.deepEqual(out, want);
    seen.add(`${dy},${dx}`);
  }
  assert.equal(seen.size, 9); // all (dy, dx) in {−1, 0, 1}² occur
});

test('flipHorizontal mirrors each row of each channel; randomFlip uses one float draw against p', () => {
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // [2, 2, 3]
  flipHorizontal(x, 2, 2, 3);
  assert.deepEqual([...x], [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
  const y = Float32Array.from(IMG);
  assert.equal(randomFlip(y, 1, 3, 3, new Rng(1), 0), false);
  assert.deepEqual(y, IMG);
  assert.equal(randomFlip(y, 1, 3, 3, new Rng(1), 1), true);
  assert.deepEqual([...y], [3, 2, 1, 6, 5, 4, 9, 8, 7]);
  const r = new Rng(9), twin = new Rng(9);
  for (let k = 0; k < 50; k++) assert.equal(randomFlip(Float32Array.from(IMG), 1, 3, 3, r), twin.float() < 0.5);
});

test('augment = crop then flip with the same draws, src untouched', () => {
  const src = Float32Array.from(IMG), out = new Float32Array(9), want = new Float32Array(9);
  augment(src, out, [1, 3, 3], new Rng(4), { pad: 1, flip: 0.5, fill: 0 });
  const twin = new Rng(4);
  randomCrop(IMG, want, 1, 3, 3, 1, twin);
  randomFlip(want, 1, 3, 3, twin, 0.5);
  assert.deepEqual(out, want);
  assert.deepEqual(src, IMG);
  augment(src, out, [1, 3, 3], new Rng(4), {});
  assert.deepEqual(out, IMG);
});

test('normalize per channel and the black fill after normalisation', () => {
  const x = Float32Array.from([0, 1, 0.5, 0.5]); // [2, 1, 2]
  normalize(x, 2, 1, 2, { mean: [0.5, 0.25], std: [0.5, 0.25] });
  // ch0: (0 − .5)/.5 = −1, (1 − .5)/.5 = 1; ch1: (.5 − .25)/.25 = 1 twice.
  assert.deepEqual([...x], [-1, 1, 1, 1]);
  assert.deepEqual(blackAfter({ mean: [0.5, 0.25], std: [0.5, 0.25] }), [-1, -1]);
});

test('resolveNormalization: presets, tuples, and one-line errors', () => {
  assert.equal(resolveNormalization(undefined, 'mnist', 1, 'w'), null);
  assert.equal(resolveNormalization(false, 'mnist', 1, 'w'), null);
  assert.deepEqual(resolveNormalization(true, 'cifar10', 3, 'w'), NORMALIZATIONS.cifar10);
  assert.deepEqual(NORMALIZATIONS.cifar100, { mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] });
  assert.deepEqual(resolveNormalization('imagenet', 'cifar10', 3, 'w'), { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  assert.deepEqual(resolveNormalization([0.5, 0.2], 'cifar10', 3, 'w'), { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] });
  assert.throws(() => resolveNormalization('nope' as 'mnist', 'mnist', 1, 'w'),
    new EdgespikeError('w: unknown normalisation "nope", expected one of mnist, fashion, cifar10, cifar100, imagenet'));
  assert.throws(() => resolveNormalization(true, 'cifar10', 1, 'mnist/train'),
    new EdgespikeError('mnist/train: normalisation must give 1 finite mean(s) and positive std(s), got mean [0.4914, 0.4822, 0.4465] std [0.2023, 0.1994, 0.201]'));
});
