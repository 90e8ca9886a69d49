/**
 * Seeded generator: xoshiro128** outputs worked by hand from a known state, state save/restore,
 * unbiased ranges and shuffles that are permutations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng.js';
import { EdgespikeError } from '../../src/util/errors.js';

test('xoshiro128** from state [1, 2, 3, 4]: outputs 11520, 0, 5927040', () => {
  // out = rotl(s1·5, 7)·9. Step 1: rotl(10, 7) = 1280, ·9 = 11520; the state becomes
  // t = 2<<9 = 1024, s2 = 3^1 = 2, s3 = 4^2 = 6, s1 = 2^2 = 0, s0 = 1^6 = 7, s2 = 2^1024 = 1026,
  // s3 = rotl(6, 11) = 12288 → [7, 0, 1026, 12288]. Step 2: s1 = 0 → 0; the state becomes
  // [7^12288 = 12295, 1029, 1029, rotl(12288, 11) = 25165824]. Step 3: rotl(5145, 7) = 658560, ·9 = 5927040.
  const r = Rng.fromState([1, 2, 3, 4]);
  assert.equal(r.nextUint32(), 11520);
  assert.deepEqual(r.state(), [7, 0, 1026, 12288]);
  assert.equal(r.nextUint32(), 0);
  assert.deepEqual(r.state(), [12295, 1029, 1029, 25165824]);
  assert.equal(r.nextUint32(), 5927040);
});

test('same seed, same sequence; a saved state resumes exactly; different seeds differ', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const seqA = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(Array.from({ length: 5 }, () => b.nextUint32()), seqA);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.nextUint32()), seqA);
  const saved = a.state();
  const next = [a.nextUint32(), a.nextUint32()];
  const r = Rng.fromState(saved);
  assert.deepEqual([r.nextUint32(), r.nextUint32()], next);
});

test('float in [0, 1) is nextUint32 / 2^32; int(n) stays in range and hits every value', () => {
  const a = new Rng(5), b = new Rng(5);
  assert.equal(a.float(), b.nextUint32() / 4294967296);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const v = a.int(9);
    assert.ok(Number.isInteger(v) && v >= 0 && v < 9);
    seen.add(v);
  }
  assert.equal(seen.size, 9);
});

test('shuffle and permutation give permutations', () => {
  const p = new Rng(1).permutation(50);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual([...p], Array.from({ length: 50 }, (_, i) => i));
  const arr = ['a', 'b', 'c', 'd'];
  new Rng(2).shuffle(arr);
  assert.deepEqual([...arr].sort(), ['a', 'b', 'c', 'd']);
});

test('bad state and bad n give one-line errors', () => {
  assert.throws(() => Rng.fromState([0, 0, 0, 0]),
    new EdgespikeError('Rng.fromState: expected 4 uint32 words, not all zero, got [0, 0, 0, 0]'));
  assert.throws(() => new Rng(1).int(0), new EdgespikeError('Rng.int: n must be an integer in [1, 2^32], got 0'));
});
