import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limit, spread, stratumIndex, type Dataset } from '../../src/data/dataset.js';

const sorted: Dataset = { name: 's', length: 100, shape: [1], temporal: false, numClasses: 4, label: (i) => Math.floor(i / 25), read: (i, o, off) => { o[off] = i; } };

test('limit takes the first n; spread takes n samples evenly over a class-sorted set', () => {
  const l = limit(sorted, 8);
  assert.deepEqual(Array.from({ length: l.length }, (_, i) => l.label(i)), [0, 0, 0, 0, 0, 0, 0, 0]);
  const s = spread(sorted, 8);
  assert.deepEqual(Array.from({ length: s.length }, (_, i) => s.label(i)), [0, 0, 1, 1, 2, 2, 3, 3]);
  // sample i lies in stratum [floor(i·100/8), floor((i+1)·100/8))
  const out = new Float32Array(1);
  for (let i = 0; i < 8; i++) {
    s.read(i, out, 0);
    assert.ok(out[0]! >= Math.floor((i * 100) / 8) && out[0]! < Math.floor(((i + 1) * 100) / 8), `sample ${i} at ${out[0]}`);
  }
  assert.equal(spread(sorted, 1000).length, 100);
  assert.equal(spread(sorted, 100).label(99), 3);
});

test('spread and stratumIndex: distinct, in range, deterministic, and balanced over a set whose classes repeat in a cycle', () => {
  for (const [n, len] of [[1000, 60_000], [1000, 10_000], [7, 10], [300, 59_000], [10, 10]] as const) {
    const idx = Array.from({ length: n }, (_, i) => stratumIndex(i, n, len));
    assert.equal(new Set(idx).size, n, `${n} of ${len}: distinct`);
    assert.ok(idx.every((x, i) => x >= 0 && x < len && (i === 0 || x > idx[i - 1]!)), `${n} of ${len}: increasing, in range`);
    assert.deepEqual(idx, Array.from({ length: n }, (_, i) => stratumIndex(i, n, len)));
  }
  // labels 0, 1, …, 9, 0, 1, …: a stride of 60 (or 10) would pick one class; each class gets 7–13 % here
  const cyclic: Dataset = { ...sorted, length: 60_000, numClasses: 10, label: (i) => i % 10 };
  for (const n of [1000, 6000]) {
    const d = spread(cyclic, n), count = new Array<number>(10).fill(0);
    for (let i = 0; i < d.length; i++) count[d.label(i)]!++;
    assert.ok(count.every((c) => c >= 0.07 * n && c <= 0.13 * n), `${n}: ${count.join(' ')}`);
  }
});
