import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limit, spread, type Dataset } from '../../src/data/dataset.js';

const sorted: Dataset = { name: 's', length: 100, shape: [1], temporal: false, numClasses: 4, label: (i) => Math.floor(i / 25), read: (i, o, off) => { o[off] = i; } };

test('limit takes the first n; spread takes n samples evenly over a class-sorted set', () => {
  const l = limit(sorted, 8);
  assert.deepEqual(Array.from({ length: l.length }, (_, i) => l.label(i)), [0, 0, 0, 0, 0, 0, 0, 0]);
  const s = spread(sorted, 8);
  assert.deepEqual(Array.from({ length: s.length }, (_, i) => s.label(i)), [0, 0, 1, 1, 2, 2, 3, 3]);
  const out = new Float32Array(1); s.read(3, out, 0);
  assert.equal(out[0], 37); // floor(3·100/8)
  assert.equal(spread(sorted, 1000).length, 100);
});
