import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import * as op from '../../src/ops/index.js';
import { Rng } from '../../src/data/rng.js';
import { gradcheck, rand } from '../helpers/gradcheck.js';
import { forEachBackend } from '../helpers/backends.js';

/** Binary tensor with the given density of ones. */
function spikes(rng: Rng, shape: number[], density: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const t = new Tensor(Float32Array.from({ length: n }, () => (rng.float() < density ? 1 : 0)), shape);
  t.binary = true;
  return t;
}

forEachBackend('matmul and linear', () => {
  const rng = new Rng(10);
  test('2×2 by hand and batched', () => {
    assert.deepEqual(op.matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6, 7, 8], [2, 2])).toArray(), [19, 22, 43, 50]);
    const c = op.matmul(tensor([1, 0, 0, 1, 2, 0, 0, 2], [2, 2, 2]), tensor([1, 2, 3, 4, 1, 2, 3, 4], [2, 2, 2]));
    assert.deepEqual(c.toArray(), [1, 2, 3, 4, 2, 4, 6, 8]);
  });
  test('linear by hand: [1,2]·[[1,1],[0,1],[2,0]]ᵀ + [0,0,1] = [3,2,3]', () => {
    const y = op.linear(tensor([1, 2], [1, 2]), tensor([1, 1, 0, 1, 2, 0], [3, 2]), tensor([0, 0, 1]));
    assert.deepEqual(y.toArray(), [3, 2, 3]);
  });
  test('shape errors name the op and both shapes', () => {
    assert.throws(() => op.linear(tensor([1, 2, 3], [1, 3]), tensor([1, 1, 0, 1], [2, 2])), /linear: input must be \[\.\.\., 2\], got \[1, 3\]/);
    assert.throws(() => op.matmul(tensor([1, 2], [1, 2]), tensor([1, 2, 3], [3, 1])), /matmul: inner sizes differ: \[1, 2\] · \[3, 1\]/);
  });
  test('gradients', () => {
    gradcheck('matmul', op.matmul, [rand(rng, [3, 4]), rand(rng, [4, 5])]);
    gradcheck('matmul nd', op.matmul, [rand(rng, [2, 3, 4]), rand(rng, [4, 2])]);
    gradcheck('bmm', op.matmul, [rand(rng, [2, 3, 4]), rand(rng, [2, 4, 2])]);
    gradcheck('linear', op.linear, [rand(rng, [3, 5]), rand(rng, [4, 5]), rand(rng, [4])]);
  });
  test('spike input: same output and weight gradient as dense input', () => {
    const x = spikes(rng, [16, 40], 0.1), w = rand(rng, [12, 40]);
    const y1 = op.linear(x, w); op.sum(op.mul(y1, y1)).backward();
    const g1 = w.grad!; w.grad = null;
    const xd = new Tensor(x.data, x.shape); // same values, not marked binary
    const y2 = op.linear(xd, w); op.sum(op.mul(y2, y2)).backward();
    for (let i = 0; i < y1.size; i++) assert.ok(Math.abs(y1.data[i]! - y2.data[i]!) <= 1e-5 * (1 + Math.abs(y2.data[i]!)));
    for (let i = 0; i < g1.length; i++) assert.ok(Math.abs(g1[i]! - w.grad![i]!) <= 1e-4 * (1 + Math.abs(w.grad![i]!)));
  });
});

forEachBackend('conv2d', () => {
  const rng = new Rng(11);
  test('3×3 input, 2×2 kernel, by hand', () => {
    // x = 1..9, w = [[1,0],[0,1]] → y[i,j] = x[i,j] + x[i+1,j+1]
    const y = op.conv2d(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), tensor([1, 0, 0, 1], [1, 1, 2, 2]));
    assert.deepEqual(y.toArray(), [6, 8, 12, 14]);
    const yp = op.conv2d(tensor([1, 2, 3, 4], [1, 1, 2, 2]), tensor([1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 3, 3]), tensor([10]), { padding: 1 });
    assert.deepEqual(yp.toArray(), [20, 20, 20, 20]);
  });
  test('shape errors', () => {
    assert.throws(() => op.conv2d(tensor([1, 2, 3, 4], [2, 2]), tensor([1], [1, 1, 1, 1])), /conv2d: input must be \[N, C, H, W\], got \[2, 2\]/);
    assert.throws(() => op.conv2d(rand(rng, [1, 3, 5, 5]), rand(rng, [2, 2, 3, 3])), /conv2d: weight \[2, 2, 3, 3\] expects 2 input channels \(groups 1\), input \[1, 3, 5, 5\] has 3/);
    assert.throws(() => op.conv2d(rand(rng, [1, 1, 2, 2]), rand(rng, [1, 1, 3, 3])), /conv2d: kernel 3×3 does not fit input 2×2/);
  });
  test('gradients: stride, padding, bias, groups, depthwise', () => {
    gradcheck('conv', (x, w, b) => op.conv2d(x, w, b), [rand(rng, [2, 2, 5, 5]), rand(rng, [3, 2, 3, 3]), rand(rng, [3])]);
    gradcheck('conv s2 p1', (x, w) => op.conv2d(x, w, null, { stride: 2, padding: 1 }), [rand(rng, [1, 2, 6, 5]), rand(rng, [2, 2, 3, 3])]);
    gradcheck('conv groups 2', (x, w) => op.conv2d(x, w, null, { groups: 2, padding: 1 }), [rand(rng, [1, 4, 4, 4]), rand(rng, [4, 2, 3, 3])]);
    gradcheck('depthwise', (x, w) => op.conv2d(x, w, null, { groups: 3 }), [rand(rng, [2, 3, 4, 4]), rand(rng, [3, 1, 2, 2])]);
  });
  test('spike input: same output and weight gradient as dense input', () => {
    const x = spikes(rng, [4, 6, 10, 10], 0.1), w = rand(rng, [5, 6, 3, 3]);
    const y1 = op.conv2d(x, w, null, { padding: 1 }); op.sum(op.mul(y1, y1)).backward();
    const g1 = w.grad!; w.grad = null;
    const y2 = op.conv2d(new Tensor(x.data, x.shape), w, null, { padding: 1 }); op.sum(op.mul(y2, y2)).backward();
    for (let i = 0; i < y1.size; i++) assert.ok(Math.abs(y1.data[i]! - y2.data[i]!) <= 1e-5 * (1 + Math.abs(y2.data[i]!)));
    for (let i = 0; i < g1.length; i++) assert.ok(Math.abs(g1[i]! - w.grad![i]!) <= 1e-4 * (1 + Math.abs(w.grad![i]!)));
  });
});

forEachBackend('pooling', () => {
  const rng = new Rng(12);
  test('by hand', () => {
    const x = tensor([1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 1, 2, 9, 1, 3], [1, 1, 4, 4]);
    assert.deepEqual(op.maxPool2d(x, 2).toArray(), [5, 8, 9, 3]);
    assert.deepEqual(op.avgPool2d(x, 2).toArray(), [13 / 4, 11 / 4, 11 / 4, 6 / 4]);
    assert.deepEqual(op.adaptiveAvgPool2d(x, 1).toArray(), [41 / 16]);
  });
  test('max pool keeps spikes binary', () => {
    const s = new Tensor(new Float32Array([0, 1, 0, 0]), [1, 1, 2, 2]); s.binary = true;
    assert.equal(op.maxPool2d(s, 2).binary, true);
  });
  test('gradients', () => {
    gradcheck('maxPool', (x) => op.maxPool2d(x, 2), [rand(rng, [2, 2, 4, 6])]);
    gradcheck('maxPool s1 p1', (x) => op.maxPool2d(x, 3, { stride: 1, padding: 1 }), [rand(rng, [1, 2, 4, 4])]);
    gradcheck('avgPool', (x) => op.avgPool2d(x, 2), [rand(rng, [2, 2, 4, 4])]);
    gradcheck('adaptive', (x) => op.adaptiveAvgPool2d(x, 2, 3), [rand(rng, [1, 2, 5, 7])]);
  });
});

test('batch norm: values, running statistics, gradients (train and eval)', () => {
  const rng = new Rng(13);
  const x = tensor([1, 2, 3, 4, 10, 20, 30, 40], [2, 2, 2]); // channel 0: 1,2,10,20; channel 1: 3,4,30,40
  const st = { runningMean: new Float32Array(2), runningVar: new Float32Array([1, 1]) };
  const y = op.batchNorm(x, null, null, st, { training: true, momentum: 0.5 });
  const m0 = 33 / 4, v0 = ((1 - m0) ** 2 + (2 - m0) ** 2 + (10 - m0) ** 2 + (20 - m0) ** 2) / 4;
  assert.ok(Math.abs(y.data[0]! - (1 - m0) / Math.sqrt(v0 + 1e-5)) < 1e-5);
  assert.ok(Math.abs(st.runningMean[0]! - 0.5 * m0) < 1e-5);
  assert.ok(Math.abs(st.runningVar[0]! - (0.5 + 0.5 * (v0 * 4) / 3)) < 1e-3);
  const s2 = { runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1) };
  gradcheck('bn train', (a, g, b) => op.batchNorm(a, g, b, s2, { training: true }), [rand(rng, [4, 3, 2, 2]), rand(rng, [3], 0.5, 1.5), rand(rng, [3])], { atol: 3e-3 });
  gradcheck('bn eval', (a, g, b) => op.batchNorm(a, g, b, s2, { training: false }), [rand(rng, [2, 3]), rand(rng, [3]), rand(rng, [3])]);
});
