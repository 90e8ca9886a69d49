// Hand-computed 3x3 cases for the reference convolution: stride, padding, groups, both gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from '../../../src/backends/ref/conv.js';
import { convGeom } from '../../kernels/geom.js';

const f = (v: number[]): Float32Array => Float32Array.from(v);
const x9 = f([1, 2, 3, 4, 5, 6, 7, 8, 9]);   // x = [[1,2,3],[4,5,6],[7,8,9]]
const wDiag = f([1, 0, 0, -1]);             // w = [[1,0],[0,-1]]: y[i,j] = x[i,j] − x[i+1,j+1]

test('conv forward 3x3 * 2x2, stride 1, no padding: every output is x[i,j] − x[i+1,j+1] = −4', () => {
  const y = f([0, 0, 0, 0]);
  conv2dForward(x9, wDiag, y, convGeom({ n: 1, cin: 1, h: 3, w: 3, cout: 1, kh: 2, kw: 2 }));
  assert.deepEqual([...y], [-4, -4, -4, -4]);
});

test('conv forward stride 2, pad 1: windows start at (−1,−1), (−1,1), (1,−1), (1,1)', () => {
  // y00 = −x00 = −1; y01 = 0·x01 − x02 = −3; y10 = 0·x10 − x20 = −7; y11 = x11 − x22 = 5 − 9 = −4
  const g = convGeom({ n: 1, cin: 1, h: 3, w: 3, cout: 1, kh: 2, kw: 2, stride: 2, pad: 1 });
  assert.equal(g.oh, 2);
  const y = f([0, 0, 0, 0]);
  conv2dForward(x9, wDiag, y, g);
  assert.deepEqual([...y], [-1, -3, -7, -4]);
});

test('conv forward depthwise (groups = cin = 2, 1x1): channels scale separately and never mix', () => {
  // batch 2: channel 0 × 2, channel 1 × 3
  const x = f([1, 2, 10, 20, 3, 4, 30, 40]);
  const y = new Float32Array(8);
  conv2dForward(x, f([2, 3]), y, convGeom({ n: 2, cin: 2, h: 1, w: 2, cout: 2, kh: 1, kw: 1, groups: 2 }));
  assert.deepEqual([...y], [2, 4, 30, 60, 6, 8, 90, 120]);
});

test('conv forward grouped 2→4 channels: group 1 outputs read channel 1 only', () => {
  // 1x1 kernels; weight [4, 1]: out0 = 1·c0, out1 = 2·c0, out2 = 3·c1, out3 = 4·c1; c0 = 5, c1 = 7
  const y = new Float32Array(4);
  conv2dForward(f([5, 7]), f([1, 2, 3, 4]), y, convGeom({ n: 1, cin: 2, h: 1, w: 1, cout: 4, kh: 1, kw: 1, groups: 2 }));
  assert.deepEqual([...y], [5, 10, 21, 28]);
});

test('conv backward input: dy = ones spreads w over each window', () => {
  // dx[i,j] = Σ_{windows covering (i,j)} w[i−oy, j−ox] = [[1,1,0],[1,0,−1],[0,−1,−1]]
  const dx = new Float32Array(9).fill(NaN);
  conv2dBackwardInput(f([1, 1, 1, 1]), wDiag, dx, convGeom({ n: 1, cin: 1, h: 3, w: 3, cout: 1, kh: 2, kw: 2 }));
  assert.deepEqual([...dx], [1, 1, 0, 1, 0, -1, 0, -1, -1]);
});

test('conv backward weight: dy = ones gives the 2x2 block sums of x; beta 1 adds', () => {
  // dw00 = 1+2+4+5 = 12, dw01 = 2+3+5+6 = 16, dw10 = 4+5+7+8 = 24, dw11 = 5+6+8+9 = 28
  const g = convGeom({ n: 1, cin: 1, h: 3, w: 3, cout: 1, kh: 2, kw: 2 });
  const dw = f([NaN, NaN, NaN, NaN]);
  conv2dBackwardWeight(x9, f([1, 1, 1, 1]), dw, g, 0);
  assert.deepEqual([...dw], [12, 16, 24, 28]);
  conv2dBackwardWeight(x9, f([1, 1, 1, 1]), dw, g, 1);
  assert.deepEqual([...dw], [24, 32, 48, 56]);
});

test('conv gradients are the adjoints of the forward: <y(x), dy> = <x, dx(dy)> = <w, dw(x,dy)>', () => {
  // small integers keep every sum exact in float32; stride 2, pad 1, groups 2 exercise every index path
  const g = convGeom({ n: 2, cin: 4, h: 5, w: 4, cout: 2, kh: 3, kw: 2, stride: 2, pad: 1, groups: 2 });
  const ints = (len: number, seed: number): Float32Array => Float32Array.from({ length: len }, (_, i) => ((i * seed + 3) % 7) - 3);
  const x = ints(2 * 4 * 5 * 4, 5), w = ints(2 * 2 * 3 * 2, 3), dy = ints(2 * 2 * g.oh * g.ow, 11);
  const y = new Float32Array(dy.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
  conv2dForward(x, w, y, g);
  conv2dBackwardInput(dy, w, dx, g);
  conv2dBackwardWeight(x, dy, dw, g, 0);
  const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i], 0);
  const yDy = dot(y, dy);
  assert.notEqual(yDy, 0);
  assert.equal(dot(x, dx), yDy);
  assert.equal(dot(w, dw), yDy);
});
