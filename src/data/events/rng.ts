/**
 * The random source of the event transforms and the emulator: the shared seeded generator
 * (src/data/rng.ts) behind a small interface with uniform and normal draws.
 */
import { Rng as Generator } from '../rng.js';

/** A seeded random source. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
}

/** Creates a generator from an integer seed (the shared xoshiro128** generator); equal seeds give equal sequences. */
export function createRng(seed: number): Rng {
  const g = new Generator(seed);
  const next = (): number => g.float();
  return {
    next,
    int: (n) => Math.floor(next() * n),
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => {
      const u = 1 - next(), v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

/** A value or a [lo, hi) range to draw from. */
export type RangeOr = number | readonly [number, number];

/** Draws from a range (or returns the fixed value). */
export function draw(v: RangeOr, rng: Rng): number {
  return typeof v === 'number' ? v : rng.uniform(v[0], v[1]);
}
