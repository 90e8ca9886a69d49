/** Shape inference: hand-computed shapes (working shown) and one-line errors when a layer does not fit. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/notation/parse.js';
import { inferShapes } from '../../src/notation/shapes.js';
import { conv, dense, residual, type ModelSpec } from '../../src/notation/spec.js';
import { EdgespikeError } from '../../src/util/errors.js';

test('LeNet 16C5-P2-16C5-P2-256-10 on 1×28×28: 28 → 24 → 12 → 8 → 4 → 256 → 10', () => {
  // valid 5×5: 28 − 5 + 1 = 24; pool 2: 12; 12 − 5 + 1 = 8; pool 2: 4; dense flattens 16·4·4 = 256 → 256
  assert.deepEqual(inferShapes(parseSpec('16C5-P2-16C5-P2-256-10'), [1, 28, 28]),
    [[16, 24, 24], [16, 12, 12], [16, 8, 8], [16, 4, 4], [256], [10]]);
});

test('stride, padding, overlapping pool, odd sizes floor, GAP, flatten, dropout', () => {
  // conv k3 s2 p1: height ⌊(7 + 2 − 3)/2⌋ + 1 = 4, width ⌊(9 + 2 − 3)/2⌋ + 1 = 5; flatten 8·4·5 = 160
  const spec = parseSpec('8C3s2p1-F-D0.5-10');
  assert.deepEqual(inferShapes(spec, [3, 7, 9]), [[8, 4, 5], [160], [160], [10]]);
  // 3P2: height ⌊(5 − 3)/2⌋ + 1 = 2, width ⌊(9 − 3)/2⌋ + 1 = 4; AP2 on 7: ⌊(7 − 2)/2⌋ + 1 = 3
  assert.deepEqual(inferShapes(parseSpec('4C1-3P2-GAP-10'), [2, 5, 9]), [[4, 5, 9], [4, 2, 4], [4, 1, 1], [10]]);
  assert.deepEqual(inferShapes(parseSpec('AP2-10'), [1, 7, 7]), [[1, 3, 3], [10]]);
});

test('a residual block returns the shape body and shortcut agree on', () => {
  const spec: ModelSpec = {
    layers: [residual([conv(8, 3, { stride: 2, pad: 1 }), conv(8, 3, { pad: 1, spike: false })], [conv(8, 1, { stride: 2 })]), dense(10, { spike: false })],
  };
  // body: ⌊(6 + 2 − 3)/2⌋ + 1 = 3, then 3 → 3; shortcut 1×1 s2: ⌊(6 − 1)/2⌋ + 1 = 3
  assert.deepEqual(inferShapes(spec, [4, 6, 6]), [[8, 3, 3], [10]]);
});

describe('errors name the layer, what was needed and the input seen', () => {
  const bad: [ModelSpec, readonly number[], string][] = [
    [parseSpec('16C5-P2-16C5-P2-16C5-10'), [1, 28, 28],
      'inferShapes: layer 5 "16C5" needs a map of at least 5×5 (kernel 5, padding 0), got input [16, 4, 4]'],
    [parseSpec('P2-10'), [1, 1, 5], 'inferShapes: layer 1 "P2" needs a map of at least 2×2 (pool window 2), got input [1, 1, 5]'],
    [parseSpec('256-16C3-10'), [1, 8, 8], 'inferShapes: layer 2 "16C3" needs a [C, H, W] feature map, got input [256]'],
    [parseSpec('16C3g4-10'), [6, 8, 8], 'inferShapes: layer 1 "16C3g4" has groups 4, which do not divide the 6 input channels, got input [6, 8, 8]'],
    [{ layers: [residual([conv(8, 3, { pad: 1 })])] }, [4, 6, 6],
      'inferShapes: layer 1 "residual" adds body [8, 6, 6] to shortcut [4, 6, 6], which differ, got input [4, 6, 6]'],
    [{ layers: [residual([conv(8, 9)], [conv(8, 1)])] }, [4, 6, 6],
      'inferShapes: layer 1.body.1 "8C9" needs a map of at least 9×9 (kernel 9, padding 0), got input [4, 6, 6]'],
    [parseSpec('10'), [28, 28], 'inferShapes: input shape must be [C, H, W] of positive integers, got [28, 28]'],
    [parseSpec('10'), [1, 0, 28], 'inferShapes: input shape must be [C, H, W] of positive integers, got [1, 0, 28]'],
  ];
  for (const [spec, input, message] of bad) {
    test(message, () => assert.throws(() => inferShapes(spec, input), (e: unknown) => e instanceof EdgespikeError && e.message === message));
  }
});
