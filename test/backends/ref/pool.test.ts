// Hand-computed 3x3 cases for the reference pooling kernels: max with argmax, average, padding, stride.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from '../../../src/backends/ref/pool.js';
import { poolGeom } from '../../kernels/geom.js';

const f = (v: number[]): Float32Array => Float32Array.from(v);
const x = f([1, 5, 2, 7, 3, 9, 4, 8, 6]);   // [[1,5,2],[7,3,9],[4,8,6]]

test('max pool 2x2 stride 1: maxima and their flat indices', () => {
  // windows: {1,5,7,3} → 7 @3, {5,2,3,9} → 9 @5, {7,3,4,8} → 8 @7, {3,9,8,6} → 9 @5
  const y = new Float32Array(4), arg = new Int32Array(4);
  maxPool2dForward(x, y, arg, poolGeom(1, 1, 3, 3, 2, 1, 0));
  assert.deepEqual([...y], [7, 9, 8, 9]);
  assert.deepEqual([...arg], [3, 5, 7, 5]);
});

test('max pool 2x2 stride 2 pad 1: padding is −∞, so a corner window returns its one real cell', () => {
  // on −x: windows {−1} → −1 @0, {−5,−2} → −2 @2, {−7,−4} → −4 @6, {−3,−9,−8,−6} → −3 @4
  const y = new Float32Array(4), arg = new Int32Array(4);
  maxPool2dForward(f([1, 5, 2, 7, 3, 9, 4, 8, 6].map((v) => -v)), y, arg, poolGeom(1, 1, 3, 3, 2, 2, 1));
  assert.deepEqual([...y], [-1, -2, -4, -3]);
  assert.deepEqual([...arg], [0, 2, 6, 4]);
});

test('max pool ties pick the first cell in row-major window order; backward routes to argmax', () => {
  const y = new Float32Array(4), arg = new Int32Array(4);
  maxPool2dForward(new Float32Array(9).fill(2), y, arg, poolGeom(1, 1, 3, 3, 2, 1, 0));
  assert.deepEqual([...arg], [0, 1, 3, 4]);
  // with args [3,5,7,5] from the first case: dx[3] = 1, dx[5] = 2 + 4 = 6, dx[7] = 3
  const dx = new Float32Array(9).fill(NaN);
  maxPool2dBackward(f([1, 2, 3, 4]), Int32Array.from([3, 5, 7, 5]), dx, poolGeom(1, 1, 3, 3, 2, 1, 0));
  assert.deepEqual([...dx], [0, 0, 0, 1, 0, 6, 0, 3, 0]);
});

test('avg pool 2x2: window sums over 4, padding counts as zero', () => {
  // stride 1: 16/4, 19/4, 22/4, 26/4
  const y = new Float32Array(4);
  avgPool2dForward(x, y, poolGeom(1, 1, 3, 3, 2, 1, 0));
  assert.deepEqual([...y], [4, 4.75, 5.5, 6.5]);
  // stride 2 pad 1: {1}/4, {5,2}/4, {7,4}/4, {3,9,8,6}/4
  avgPool2dForward(x, y, poolGeom(1, 1, 3, 3, 2, 2, 1));
  assert.deepEqual([...y], [0.25, 1.75, 2.75, 6.5]);
});

test('avg pool backward: each cell gets (number of windows covering it)/4 of a unit dy', () => {
  // coverage counts of a 2x2 stride-1 window on 3x3: [[1,2,1],[2,4,2],[1,2,1]]
  const dx = new Float32Array(9).fill(NaN);
  avgPool2dBackward(f([1, 1, 1, 1]), dx, poolGeom(1, 1, 3, 3, 2, 1, 0));
  assert.deepEqual([...dx], [0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25]);
});
