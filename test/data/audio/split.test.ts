/** Seeded split: sizes, disjointness, determinism, seed sensitivity, and the mulberry32 stream. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32, seededSplit } from '../../../src/data/audio/split.js';

describe('seededSplit', () => {
  test('mulberry32 is deterministic, in [0, 1), and roughly uniform', () => {
    const a = mulberry32(2023), b = mulberry32(2023);
    const xs = Array.from({ length: 10000 }, () => a());
    assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    // Mean of 10 000 uniforms: σ = √(1/12/10 000) ≈ 0.0029; allow 5σ.
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.0145, `mean ${mean}`);
  });

  test('sizes ⌈0.2·n⌉ / rest, ascending, disjoint, covering 0…n−1', () => {
    for (const [n, nTest] of [[10, 2], [40, 8], [41, 9], [7992, 1599], [1, 1], [0, 0]]) {
      const { train, test: tst } = seededSplit(n, 0.2, 2023);
      assert.equal(tst.length, nTest, `n = ${n}`);
      assert.equal(train.length, n - nTest);
      assert.deepEqual([...tst].sort((x, y) => x - y), tst);
      assert.deepEqual([...train, ...tst].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i));
    }
  });

  test('same seed → same split; other seeds → other splits', () => {
    assert.deepEqual(seededSplit(100, 0.2, 5), seededSplit(100, 0.2, 5));
    const seen = new Set(Array.from({ length: 20 }, (_, s) => seededSplit(100, 0.2, s).test.join(',')));
    assert.equal(seen.size, 20);
  });

  test('fractions 0 and 1; out of range rejected', () => {
    assert.equal(seededSplit(10, 0, 1).test.length, 0);
    assert.equal(seededSplit(10, 1, 1).train.length, 0);
    assert.throws(() => seededSplit(10, 1.5, 1), /testFraction must be in \[0, 1\], got 1.5/);
  });
});
