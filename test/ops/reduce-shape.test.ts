import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/tensor/tensor.js';
import * as op from '../../src/ops/index.js';
import { Rng } from '../../src/data/rng.js';
import { gradcheck, rand } from '../helpers/gradcheck.js';

describe('reductions', () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  test('values', () => {
    assert.deepEqual(op.sum(x).toArray(), [21]);
    assert.deepEqual(op.sum(x, 0).toArray(), [5, 7, 9]);
    assert.deepEqual(op.sum(x, -1, true).shape, [2, 1]);
    assert.deepEqual(op.mean(x, 1).toArray(), [2, 5]);
    assert.deepEqual(op.max(tensor([1, 9, 3, 7, 2, 8], [2, 3]), 1).toArray(), [9, 8]);
  });
  test('bad axis', () => assert.throws(() => op.sum(x, 2), /sum: axis 2 is out of range for shape \[2, 3\]/));
  test('gradients', () => {
    const rng = new Rng(2);
    gradcheck('sum', (a) => op.sum(a, [0, 2]), [rand(rng, [2, 3, 4])]);
    gradcheck('mean', (a) => op.mean(a, 1, true), [rand(rng, [2, 3, 4])]);
    gradcheck('max', (a) => op.max(a, 1), [rand(rng, [3, 5])]);
  });
});

describe('movement ops', () => {
  const rng = new Rng(3);
  test('transpose values', () => {
    assert.deepEqual(op.transpose(tensor([1, 2, 3, 4, 5, 6], [2, 3])).toArray(), [1, 4, 2, 5, 3, 6]);
    const t = op.transpose(tensor([...Array(24).keys()], [2, 3, 4]), [2, 0, 1]);
    assert.deepEqual(t.shape, [4, 2, 3]);
    assert.equal(t.data[1 * 6 + 1 * 3 + 2], 1 * 12 + 2 * 4 + 1); // out[1,1,2] = in[1,2,1]
  });
  test('slice, concat, stack, pad values', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual(op.slice(a, 1, 1, 3).toArray(), [2, 3, 5, 6]);
    assert.deepEqual(op.concat([a, tensor([7, 8], [2, 1])], 1).toArray(), [1, 2, 3, 7, 4, 5, 6, 8]);
    assert.deepEqual(op.stack([tensor([1, 2]), tensor([3, 4])], 1).toArray(), [1, 3, 2, 4]);
    assert.deepEqual(op.pad(tensor([1, 2], [1, 2]), [[1, 0], [0, 1]], 9).toArray(), [9, 9, 9, 1, 2, 9]);
  });
  test('errors name the op and shapes', () => {
    assert.throws(() => op.reshape(tensor([1, 2, 3]), [2, 2]), /reshape: cannot reshape \[3\] \(3 values\) to \[2, 2\]/);
    assert.throws(() => op.slice(tensor([1, 2, 3]), 0, 2, 5), /slice: range \[2, 5\) is not within axis 0 of size 3/);
    assert.throws(() => op.concat([tensor([1, 2], [1, 2]), tensor([1, 2, 3], [1, 3])], 0), /concat: shape \[1, 3\] does not match \[1, 2\]/);
  });
  test('gradients', () => {
    gradcheck('reshape', (a) => op.mul(op.reshape(a, [3, -1]), 2), [rand(rng, [2, 3, 2])]);
    gradcheck('transpose', (a) => op.transpose(a, [1, 2, 0]), [rand(rng, [2, 3, 4])]);
    gradcheck('slice', (a) => op.slice(a, 1, 1, 3), [rand(rng, [2, 4, 2])]);
    gradcheck('concat', (a, b) => op.concat([a, b], 1), [rand(rng, [2, 2, 3]), rand(rng, [2, 1, 3])]);
    gradcheck('stack', (a, b) => op.stack([a, b], 2), [rand(rng, [2, 3]), rand(rng, [2, 3])]);
    gradcheck('pad', (a) => op.pad(a, [[0, 0], [1, 2], [2, 1]]), [rand(rng, [2, 2, 3])]);
  });
});

describe('losses', () => {
  const rng = new Rng(4);
  test('cross-entropy value by hand: logits [0, ln 3] label 1 → −ln(3/4)', () => {
    const l = op.crossEntropy(tensor([0, Math.log(3)], [1, 2]), [1]);
    assert.ok(Math.abs(l.item() - -Math.log(0.75)) < 1e-6);
  });
  test('label smoothing by hand: ε = 0.2, C = 2, p = (1/4, 3/4), label 1', () => {
    const l = op.crossEntropy(tensor([0, Math.log(3)], [1, 2]), [1], { labelSmoothing: 0.2 });
    const want = -(0.9 * Math.log(0.75) + 0.1 * Math.log(0.25));
    assert.ok(Math.abs(l.item() - want) < 1e-6);
  });
  test('bad labels', () => {
    assert.throws(() => op.crossEntropy(tensor([0, 1], [1, 2]), [2]), /crossEntropy: label 2 at row 0 is not a class in 0 … 1/);
  });
  test('gradients', () => {
    gradcheck('logSoftmax', op.logSoftmax, [rand(rng, [3, 4])]);
    gradcheck('softmax', op.softmax, [rand(rng, [3, 4])]);
    gradcheck('crossEntropy', (x) => op.crossEntropy(x, [0, 3, 1], { labelSmoothing: 0.1 }), [rand(rng, [3, 4])]);
    gradcheck('mse', op.mse, [rand(rng, [5]), rand(rng, [5])]);
  });
  test('dropout mask: zero or 1/(1−p), fraction near p', () => {
    const m = op.dropoutMask([10000], 0.3, new Rng(5));
    const zeros = m.toArray().filter((v) => v === 0).length;
    assert.ok(m.toArray().every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
    assert.ok(Math.abs(zeros / 10000 - 0.3) < 0.02, `dropped ${zeros}`);
  });
});
