/**
 * A small seeded pseudo-random generator (xoshiro128**, Blackman & Vigna 2018) for shuffling and
 * augmentation. Its whole state is four uint32 words, so a checkpoint can store and restore it.
 */
import { EdgespikeError } from '../util/errors.js';

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** splitmix32 step: spreads one 32-bit seed over the four state words. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Seeded generator; `new Rng(42)` gives the same sequence on every platform. */
export class Rng {
  private s: Uint32Array;

  /** Seeds the four state words from `seed` (an integer) with splitmix32. */
  constructor(seed = 0) {
    const sm = splitmix32(seed);
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
  }

  /** A generator resuming from a state saved with `state()` (four uint32 words, not all zero). */
  static fromState(state: readonly number[]): Rng {
    const ok = state.length === 4 && state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
    if (!ok || state.every((v) => v === 0)) {
      throw new EdgespikeError(`Rng.fromState: expected 4 uint32 words, not all zero, got [${state.join(', ')}]`);
    }
    const r = new Rng();
    r.s = Uint32Array.from(state);
    return r;
  }

  /** The current state as four uint32 words (a copy). */
  state(): number[] {
    return Array.from(this.s);
  }

  /** Next uint32 in [0, 2^32). */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32 (rejection sampling, so without bias). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new EdgespikeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }

  /** A permutation of 0 … n − 1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}
