// Hand-computed cases for the reference GEMM: all four transpose combinations and both betas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gemm } from '../../../src/backends/ref/gemm.js';

const f = (v: number[]): Float32Array => Float32Array.from(v);

test('gemm 2x2: [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]] in every transpose layout', () => {
  // 1·5+2·7 = 19, 1·6+2·8 = 22, 3·5+4·7 = 43, 3·6+4·8 = 50
  const a = f([1, 2, 3, 4]), at = f([1, 3, 2, 4]), b = f([5, 6, 7, 8]), bt = f([5, 7, 6, 8]);
  for (const [x, ta, y, tb] of [[a, false, b, false], [at, true, b, false], [a, false, bt, true], [at, true, bt, true]] as const) {
    const c = f([NaN, NaN, NaN, NaN]);
    gemm(x, y, c, 2, 2, 2, ta, tb, 0);
    assert.deepEqual([...c], [19, 22, 43, 50]);
  }
});

test('gemm rectangular 2x3 · 3x1 and beta 1 accumulates', () => {
  // a = [[1,2,3],[4,5,6]], b = [1,0,-1]ᵀ: rows give 1−3 = −2 and 4−6 = −2; c starts at [10, 20]
  const c = f([10, 20]);
  gemm(f([1, 2, 3, 4, 5, 6]), f([1, 0, -1]), c, 2, 1, 3, false, false, 1);
  assert.deepEqual([...c], [8, 18]);
  gemm(f([1, 2, 3, 4, 5, 6]), f([1, 0, -1]), c, 2, 1, 3, false, false, 0);
  assert.deepEqual([...c], [-2, -2]);
});

test('gemm with k = 0 writes zeros (beta 0) and keeps c (beta 1)', () => {
  const c = f([7, NaN]);
  gemm(f([]), f([]), c, 1, 2, 0, false, false, 0);
  assert.deepEqual([...c], [0, 0]);
  const d = f([7, 8]);
  gemm(f([]), f([]), d, 1, 2, 0, false, false, 1);
  assert.deepEqual([...d], [7, 8]);
});
