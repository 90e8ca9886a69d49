// The step path of the wasm qlifForward (grids of up to QLIF_STEP_LEVELS levels, assembly/qlif.ts): the next level of
// a neuron that does not fire is the number of breakpoints at or below its charge h. These tests find the breakpoints
// from the reference body alone (bisection over float32 values in their order, then a scan of the floats next to
// each), check the glue's table against them, and run both bodies on charges placed exactly at every breakpoint and
// one float32 step either side, at θ, at ±0, subnormals, ±∞ and NaN, over several steps (the per-level charge
// table) and in static-input mode, on 1 and 2 threads, with blocks of 16, of 4 and a tail.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { QlifParams, QuantKernels } from '../../src/kernels/quant.js';
import { refQuantKernels } from '../../src/backends/ref/quant.js';
import { WASM_BODIES, wasmBackendSync } from '../../src/backends/wasm/index.js';
import { QLIF_STEP_LEVELS, qlifStepTable, wasmQuantKernels } from '../../src/backends/wasm/quant.js';
import { rng } from './geom.js';

const f = Math.fround;

/** Float32 values as unsigned keys in the order of their values (−0 just below +0); NaN has none. */
const u32 = new Uint32Array(1), f32 = new Float32Array(u32.buffer);
function keyOf(v: number): number {
  f32[0] = v;
  const b = u32[0]!;
  return b >= 0x80000000 ? 0xffffffff - b : b + 0x80000000;
}
function valueOf(key: number): number {
  u32[0] = key >= 0x80000000 ? key - 0x80000000 : 0xffffffff - key;
  return f32[0]!;
}
const KEY_NEG_INF = keyOf(-Infinity);
const up = (v: number, by = 1): number => valueOf(keyOf(v) + by);

/** One step of the reference body for one neuron at level l with input x: its spike and next level. */
function refStep(p: QlifParams, l: number, x: number): { spike: number; level: number } {
  const level = Int8Array.of(l), s = new Float32Array(1);
  refQuantKernels.qlifForward(Float32Array.of(x), level, s, 1, 1, false, p);
  return { spike: s[0]!, level: level[0]! };
}

/**
 * The breakpoints of p found with the reference alone: with τ = 0 the charge is the input itself (±0 aside, which
 * give the same level), so b_j is the least input h ≤ θ (no spike) whose level is ≥ j, or NaN where θ's level is
 * below j. The floats next to each are scanned to show the level really changes there.
 */
function refBreakpoints(p: QlifParams): number[] {
  const q = { ...p, tau: 0 }, th = f(p.thresh), level = (key: number): number => refStep(q, 0, valueOf(key)).level;
  const keyTh = keyOf(th), out: number[] = [];
  assert.equal(refStep(q, 0, th).spike, 0, 'h = θ does not fire');
  assert.equal(refStep(q, 0, up(th)).spike, 1, 'one step above θ fires');
  for (let j = 1; j < p.levels; j++) {
    if (level(keyTh) < j) { out.push(NaN); continue; }
    let below = KEY_NEG_INF - 1, at = keyTh;
    while (at - below > 1) {
      const mid = Math.floor((below + at) / 2);
      if (level(mid) >= j) at = mid; else below = mid;
    }
    for (let d = 1; d <= 6 && at - d >= KEY_NEG_INF; d++) assert.ok(level(at - d) < j, `level of ${valueOf(at - d)} is below ${j}`);
    for (let d = 0; d <= 6 && at + d <= keyTh; d++) assert.ok(level(at + d) >= j, `level of ${valueOf(at + d)} is ${j} or more`);
    out.push(valueOf(at));
  }
  return out;
}

/** The charge τ·(lb + l·interval) of level l, rounded as the reference rounds it. */
const chargeOf = (p: QlifParams, l: number): number => f(f(p.tau) * f(f(p.lb) + f(l * f(p.interval))));

/** An input x that brings a neuron at level l to charge h exactly where a float32 near h − tv does; else the nearest try. */
function inputFor(p: QlifParams, l: number, h: number): { x: number; exact: boolean } {
  const tv = chargeOf(p, l);
  if (!Number.isFinite(h)) return { x: h, exact: true };
  const x0 = f(h - tv);
  if (!Number.isFinite(x0)) return { x: x0, exact: false };
  for (const d of [0, 1, -1, 2, -2, 3, -3]) {
    const x = up(x0, d);
    if (Object.is(f(tv + x), h) || (h === 0 && f(tv + x) === 0)) return { x, exact: true };
  }
  return { x: x0, exact: false };
}

/** Charges to place: every breakpoint and its neighbours, θ and its neighbours, lb, zeros, subnormals, ±∞, NaN, random. */
function charges(p: QlifParams, breaks: number[], seed: number): number[] {
  const th = f(p.thresh), lb = f(p.lb), r = rng(seed), out: number[] = [];
  for (const b of breaks) {
    if (Number.isNaN(b)) continue;
    out.push(b, up(b));
    if (b !== -Infinity) out.push(up(b, -1));
  }
  out.push(th, up(th), up(th, -1), lb, up(lb, -1), up(lb), 0, -0, 1e-45, -1e-45, 1e-40, -1e-40, Infinity, -Infinity, NaN);
  const span = Math.max(Math.abs(th - lb), f(p.interval));
  for (let i = 0; i < 6; i++) out.push(f(lb + (r() * 0.75 + 0.5) * span));
  for (let i = 0; i < 3; i++) { u32[0] = Math.floor((r() * 0.5 + 0.5) * 2 ** 32); out.push(f32[0]!); }
  return out;
}

interface Case { what: string; p: QlifParams; T: number; m: number; stat: boolean; x: Float32Array; level: Int8Array }

/**
 * Inputs for m neurons over T steps (or static): each neuron starts at a level (every level, and two outside the
 * grid), and at each step gets the input that brings it exactly to the next of the charges in turn that it can reach so, its level followed with the
 * reference step by step. With everyBreak, asserts that every breakpoint was reached exactly (with τ = 0 every
 * float32 charge is; otherwise one may be out of reach of every level's charge).
 */
function makeCase(p: QlifParams, breaks: number[], seed: number, T: number, m: number, stat: boolean, everyBreak = false): Case {
  const hs = charges(p, breaks, seed), x = new Float32Array(stat ? m : T * m), start = new Int8Array(m);
  const starts = [...Array.from({ length: p.levels }, (_, l) => l), -2, p.levels + 1];
  const exactHits = new Set<number>();
  let next = seed;
  for (let i = 0; i < m; i++) {
    let l = starts[i % starts.length]!;
    start[i] = l;
    for (let t = 0; t < (stat ? 1 : T); t++) {
      // the next charge in turn that this level reaches exactly (if any does)
      let h = hs[next++ % hs.length]!, { x: xi, exact } = inputFor(p, l, h);
      for (let tries = 1; !exact && tries < hs.length; tries++) ({ x: xi, exact } = inputFor(p, l, h = hs[next++ % hs.length]!));
      x[t * m + i] = xi;
      if (exact) exactHits.add(h);
      l = refStep(p, l, xi).level;
    }
  }
  if (everyBreak) {
    for (const b of breaks) if (!Number.isNaN(b) && b !== -Infinity) assert.ok(exactHits.has(b), `breakpoint ${b} reached exactly (${JSON.stringify(p)})`);
  }
  return { what: `${JSON.stringify(p)} T ${T} m ${m}${stat ? ' static' : ''}`, p, T, m, stat, x, level: start };
}

/**
 * Grids: LeNet's ternary one, 2-bit, intervals that are not powers of two, unreachable top levels, 0 below the grid,
 * θ below lb, subnormal steps, negative τ, the most levels the step path takes (breakpoints past the third read
 * from the table) and more (the general path), then random ones.
 */
const FIXED: QlifParams[] = [
  { tau: 0.9, thresh: 1, lb: -1, interval: 1, levels: 3 },
  { tau: 0.9, thresh: 1, lb: -2, interval: 1, levels: 4 },
  { tau: 0.8, thresh: 0.7, lb: -1.4, interval: 0.3, levels: 8 },
  { tau: 0.5, thresh: 0.3, lb: -1, interval: 0.5, levels: 4 },
  { tau: 0.7, thresh: 2, lb: 0.5, interval: 0.5, levels: 3 },
  { tau: 0.9, thresh: -2, lb: -1, interval: 1, levels: 3 },
  { tau: 1.1, thresh: 0.6, lb: -0.45, interval: 0.9, levels: 2 },
  { tau: -0.6, thresh: 1.2, lb: -1.1, interval: 0.7, levels: 4 },
  { tau: 0.9, thresh: 1e-44, lb: -2e-44, interval: 1e-44, levels: 4 },
  { tau: 0.95, thresh: 1, lb: -1.1, interval: 0.31, levels: QLIF_STEP_LEVELS },
  { tau: 0.85, thresh: 1, lb: -2.75, interval: 0.25, levels: 16 },
  { tau: 0.9, thresh: 1.3, lb: -2.2, interval: 0.3, levels: 12 },
  { tau: 0.9, thresh: 0.8, lb: -1.2, interval: 0.2, levels: 9 },
];
function grids(): QlifParams[] {
  const r = rng(77), out = [...FIXED], counts = [2, 3, 4, 5, 6, 7, 8, 9, 12, 16].filter((l) => l <= QLIF_STEP_LEVELS);
  for (let i = 0; i < 20; i++) {
    const levels = counts[i % counts.length]!, interval = f(0.05 + (r() * 0.5 + 0.5) * 1.5), lb = f(-(r() * 0.5 + 0.5) * (levels - 1) * interval);
    const top = lb + (levels - 1) * interval;
    // θ from inside the grid (some top levels unreachable) to above it
    const thresh = f(lb + (0.2 + (r() * 0.5 + 0.5)) * (top - lb));
    out.push({ tau: f(0.3 + (r() * 0.5 + 0.5) * 0.8), thresh, lb, interval, levels });
  }
  return out;
}

/** A grid where the level is not a step function of h (θ so far above the grid that c − hi and c − lo round alike). */
const NOT_STEPS: QlifParams = { tau: 0.9, thresh: 1e30, lb: 0, interval: 1, levels: 3 };

let memo: { p: QlifParams; breaks: number[]; cases: Case[] }[] | undefined;
function allCases(): NonNullable<typeof memo> {
  if (memo) return memo;
  memo = grids().map((p, i) => {
    const breaks = refBreakpoints(p);
    // 87 neurons: five blocks of 16, one of 4 and a tail of 3; 2 neurons: the tail alone. τ = 0 (the breakpoints do not
    // depend on τ) reaches each exactly; τ ≠ 0 takes the charges of the next step from the table per level.
    const cases = [makeCase({ ...p, tau: 0 }, breaks, 100 + i, 3, 87, false, true), makeCase(p, breaks, 200 + i, 3, 87, false),
      makeCase(p, breaks, 300 + i, 4, 87, true), makeCase(p, breaks, 400 + i, 2, 2, false)];
    return { p, breaks, cases };
  });
  return memo;
}

test('qlifStepTable: breakpoints equal those found with the reference body, charges per level, the level of 0', () => {
  for (const { p, breaks } of allCases()) {
    const table = qlifStepTable(p), what = JSON.stringify(p);
    if (p.levels > QLIF_STEP_LEVELS) { assert.equal(table, undefined, `${what}: more levels than the step path takes`); continue; }
    assert.ok(table, `${what}: the step path takes this grid`);
    for (let j = 1; j < p.levels; j++) {
      const got = table[j - 1]!, want = breaks[j - 1]!;
      assert.ok(Number.isNaN(want) ? Number.isNaN(got) : got === want, `${what}: b_${j} = ${got}, expected ${want}`);
    }
    // the charge of level k is the bits of tv_0 plus the differences up to k; a spike moves from θ's level to the level of 0
    const word = new Int32Array(table.buffer), bitsOf = (v: number): number => { f32[0] = v; return u32[0]! | 0; };
    let sum = word[16]!;
    assert.equal(sum, bitsOf(chargeOf(p, 0)), `${what}: charge of level 0`);
    for (let k = 1; k < p.levels; k++) {
      sum = (sum + word[16 + k]!) | 0;
      assert.equal(sum, bitsOf(chargeOf(p, k)), `${what}: charge of level ${k}`);
    }
    const zero = refStep(p, 0, Infinity).level, atTh = refStep({ ...p, tau: 0 }, 0, f(p.thresh)).level;
    assert.equal(atTh, breaks.filter((b) => !Number.isNaN(b)).length, `${what}: θ's level is the number of breakpoints reached`);
    assert.equal(atTh + word[33]!, zero, `${what}: level after a spike`);
    assert.equal((bitsOf(chargeOf(p, atTh)) + word[32]!) | 0, bitsOf(chargeOf(p, zero)), `${what}: charge after a spike`);
    assert.equal(word[34], p.levels - 1, `${what}: number of breakpoints`);
  }
  assert.equal(qlifStepTable({ ...FIXED[0]!, levels: QLIF_STEP_LEVELS + 1 }), undefined, 'more levels than the step path takes');
  assert.equal(qlifStepTable({ ...FIXED[0]!, interval: 0 }), undefined, 'interval 0');
  assert.equal(qlifStepTable({ ...FIXED[0]!, thresh: NaN }), undefined, 'NaN threshold');
  assert.equal(qlifStepTable(NOT_STEPS), undefined, 'a grid where the level is not a step function of h');
});

test('the grid NOT_STEPS really has a level that falls as h grows (so the step path must not take it)', () => {
  const q = { ...NOT_STEPS, tau: 0 };
  assert.equal(refStep(q, 0, 10).level, 2);
  assert.equal(refStep(q, 0, 1e30).level, 1);
});

for (const body of WASM_BODIES) {
  const backend = wasmBackendSync(1, body);
  if (backend === undefined) throw new Error(`qlif steps: the ${body} body is missing (run node scripts/build-wasm.mjs)`);
  const wasm: QuantKernels = wasmQuantKernels(backend.wasm.exports, backend.arena, backend);
  for (const threads of [1, 2]) {
    describe(`${body} body, ${threads} thread(s): qlifForward's step path = ref bit for bit`, () => {
      const setup = (): void => {
        backend.settings.threads = threads;
        backend.settings.minParallelWork = 0;
        if (threads === 2) assert.equal(backend.usableThreads(), 2, 'the worker thread did not start');
      };
      const check = (c: Case): void => {
        const lw = Int8Array.from(c.level), lg = Int8Array.from(c.level), sw = new Float32Array(c.T * c.m).fill(NaN), sg = new Float32Array(c.T * c.m).fill(NaN);
        const cw = refQuantKernels.qlifForward(c.x, lw, sw, c.T, c.m, c.stat, c.p);
        const cg = wasm.qlifForward(c.x, lg, sg, c.T, c.m, c.stat, c.p);
        for (let i = 0; i < sw.length; i++) if (!Object.is(sg[i], sw[i])) assert.fail(`${c.what}: s[${i}] = ${sg[i]}, expected ${sw[i]}`);
        assert.deepEqual(lg, lw, `${c.what}: levels`);
        assert.equal(cg, cw, `${c.what}: count`);
      };
      test('charges at every breakpoint, one step either side, θ, zeros, subnormals, ±∞ and NaN', () => {
        setup();
        for (const { cases } of allCases()) for (const c of cases) check(c);
      });
      test('a grid the step path does not take keeps the general path', () => {
        setup();
        const hs = [10, 1e30, up(1e30, -1), 1e29, 1e8, 2 ** 25, 1.5, 2.5, 0, NaN], T = 3, m = 23, x = new Float32Array(T * m);
        for (let i = 0; i < x.length; i++) x[i] = hs[(i * 7) % hs.length]!;
        check({ what: 'NOT_STEPS', p: NOT_STEPS, T, m, stat: false, x, level: Int8Array.from({ length: m }, (_, i) => i % 3) });
      });
      test('T = 0 leaves the levels as they are', () => {
        setup();
        const level = Int8Array.from({ length: 9 }, (_, i) => i % 3), got = Int8Array.from(level);
        assert.equal(wasm.qlifForward(new Float32Array(0), got, new Float32Array(0), 0, 9, false, FIXED[0]!), 0);
        assert.deepEqual(got, level);
      });
    });
  }
}
