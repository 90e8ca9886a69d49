// Hand-computed cases for the reference spike kernels, and their equality with the dense kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conv2dBackwardWeight, conv2dForward } from '../../../src/backends/ref/conv.js';
import { gemm } from '../../../src/backends/ref/gemm.js';
import { spikeConv2dBackwardWeight, spikeConv2dForward, spikeLinear, spikeLinearBackwardWeight } from '../../../src/backends/ref/spike.js';
import { convGeom } from '../../kernels/geom.js';

const f = (v: number[]): Float32Array => Float32Array.from(v);

test('spikeLinear adds the weight columns of active inputs', () => {
  // s = [1,0,1], w = [[1,2,3],[4,5,6]] → y = [1+3, 4+6] = [4, 10]
  const y = f([NaN, NaN]);
  spikeLinear(f([1, 0, 1]), f([1, 2, 3, 4, 5, 6]), y, 1, 2, 3);
  assert.deepEqual([...y], [4, 10]);
});

test('spikeLinearBackwardWeight puts dy into the columns of active inputs; beta 1 adds', () => {
  // dy = [0.5, −2], s = [1,0,1] → dw = [[0.5,0,0.5],[−2,0,−2]]
  const dw = f([NaN, NaN, NaN, NaN, NaN, NaN]);
  spikeLinearBackwardWeight(f([1, 0, 1]), f([0.5, -2]), dw, 1, 2, 3, 0);
  assert.deepEqual([...dw], [0.5, 0, 0.5, -2, 0, -2]);
  spikeLinearBackwardWeight(f([1, 0, 1]), f([0.5, -2]), dw, 1, 2, 3, 1);
  assert.deepEqual([...dw], [1, 0, 1, -4, 0, -4]);
});

test('spikeLinear equals gemm(s, w, ·, transB) on a binary 3x5 input', () => {
  const s = f([1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  const w = Float32Array.from({ length: 4 * 5 }, (_, i) => (i % 9) - 4);
  const y1 = new Float32Array(12), y2 = new Float32Array(12);
  spikeLinear(s, w, y1, 3, 4, 5);
  gemm(s, w, y2, 3, 4, 5, false, true, 0);
  assert.deepEqual([...y1], [...y2]);
  const dy = Float32Array.from({ length: 12 }, (_, i) => i - 6);
  const d1 = new Float32Array(20), d2 = new Float32Array(20);
  spikeLinearBackwardWeight(s, dy, d1, 3, 4, 5, 0);
  gemm(dy, s, d2, 4, 5, 3, true, false, 0);
  assert.deepEqual([...d1], [...d2]);
});

test('spikeConv2dForward: a single spike at the centre of a 3x3 input stamps the flipped kernel', () => {
  // s has one spike at (1,1); pad 1, 2x2 kernel [[1,2],[3,4]], stride 1 → 4x4 output;
  // output (oy,ox) sees (1,1) through cell (1−oy+1, 1−ox+1): y[1][1] = w11 = 4, y[1][2] = w10 = 3, y[2][1] = w01 = 2, y[2][2] = w00 = 1
  const g = convGeom({ n: 1, cin: 1, h: 3, w: 3, cout: 1, kh: 2, kw: 2, pad: 1 });
  const y = new Float32Array(16).fill(NaN);
  spikeConv2dForward(f([0, 0, 0, 0, 1, 0, 0, 0, 0]), f([1, 2, 3, 4]), y, g);
  assert.deepEqual([...y], [0, 0, 0, 0, 0, 4, 3, 0, 0, 2, 1, 0, 0, 0, 0, 0]);
});

test('spike conv kernels equal the dense ones on binary input (stride 2, pad 1, groups 2)', () => {
  const g = convGeom({ n: 2, cin: 4, h: 5, w: 5, cout: 4, kh: 3, kw: 3, stride: 2, pad: 1, groups: 2 });
  const s = Float32Array.from({ length: 2 * 4 * 25 }, (_, i) => ((i * 7) % 5 === 0 ? 1 : 0));
  const w = Float32Array.from({ length: 4 * 2 * 9 }, (_, i) => (i % 11) - 5);
  const ny = 2 * 4 * g.oh * g.ow;
  const y1 = new Float32Array(ny), y2 = new Float32Array(ny);
  spikeConv2dForward(s, w, y1, g);
  conv2dForward(s, w, y2, g);
  assert.deepEqual([...y1], [...y2]);
  const dy = Float32Array.from({ length: ny }, (_, i) => (i % 5) - 2);
  const d1 = new Float32Array(w.length).fill(1), d2 = new Float32Array(w.length).fill(1);
  spikeConv2dBackwardWeight(s, dy, d1, g, 1);
  conv2dBackwardWeight(s, dy, d2, g, 1);
  assert.deepEqual([...d1], [...d2]);
});
