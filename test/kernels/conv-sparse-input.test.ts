// The wasm input gradient chooses per batch item between the dense body and the sparse one that skips the
// zeros of dy (assembly/conv-sparse-input.ts). Both must equal the reference body within 1e-5 of the sum of
// absolute terms (the reference run on |dy|, |w|), as in parity.test.ts; each case also checks which items
// took the sparse path, so a case cannot pass on the dense body alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeom } from '../../src/kernels/contract.js';
import { refKernels } from '../../src/backends/ref/index.js';
import { wasmBackendSync } from '../../src/backends/wasm/index.js';
import { writePlan } from '../../src/backends/wasm/plan.js';
import { convGeom, convSizes, rng, type ConvOpts } from './geom.js';

const backend = wasmBackendSync();
if (backend === undefined) throw new Error('conv-sparse-input: build/edgespike.wasm is missing (run node scripts/build-wasm.mjs)');
/** The export that tells which path conv2dBackwardInput takes for one item (not part of the JS binding). */
const pathOf = backend.wasm.exports as unknown as {
  convInputSparse(dy: number, pa: number, plan: number, b: number): number;
};

/** Non-zero values in [0.1, 1) with a random sign. */
const value = (r: () => number): number => { const u = r(); return Math.sign(u || 1) * (0.1 + 0.9 * Math.abs(u)); };
const rand = (n: number, seed: number): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => value(r));
};

/** How one item's dy plane values are drawn. */
type Fill = 'pooled' | 'dense' | 'zero' | 'sparse5';

/** Fills item b of dy: one non-zero per 2×2 window and channel (max-pool backward), all, none, or ~5 %. */
function fillItem(dy: Float32Array, g: ConvGeom, b: number, fill: Fill, r: () => number): void {
  const plane = g.oh * g.ow;
  for (let c = 0; c < g.cout; c++) {
    const base = (b * g.cout + c) * plane;
    if (fill === 'pooled') {
      for (let y = 0; y < g.oh; y += 2) {
        for (let x = 0; x < g.ow; x += 2) {
          const dy0 = Math.min(1, g.oh - 1 - y), dx0 = Math.min(1, g.ow - 1 - x), k = Math.floor((r() + 1) * 2);
          dy[base + (y + ((k >> 1) & dy0)) * g.ow + x + (k & dx0)] = value(r);
        }
      }
      continue;
    }
    for (let i = 0; i < plane; i++) {
      if (fill === 'dense' || (fill === 'sparse5' && r() < -0.9)) dy[base + i] = value(r);
    }
  }
}

/** dy for g with item b filled as fills[b % fills.length]. */
function makeDy(g: ConvGeom, fills: Fill[], seed: number): Float32Array {
  const dy = new Float32Array(convSizes(g).y), r = rng(seed);
  for (let b = 0; b < g.n; b++) fillItem(dy, g, b, fills[b % fills.length]!, r);
  return dy;
}

/** For every item, whether the wasm body takes the sparse path (planned and packed as the kernel does). */
function sparseItems(dy: Float32Array, w: Float32Array, g: ConvGeom): boolean[] {
  const exp = backend!.wasm.exports, arena = backend!.arena, mark = arena.mark();
  try {
    const plan = writePlan(exp, arena, 'planConvBackwardInput', g);
    const pa = arena.alloc(plan.weightBytes), pdy = arena.put(dy);
    exp.convPackWeights(arena.put(w), pa, plan.at);
    return Array.from({ length: g.n }, (_, b) => pathOf.convInputSparse(pdy, pa, plan.at, b) !== 0);
  } finally { arena.release(mark); }
}

/** Runs the wasm body on dy and w with `threads` and compares it with the reference; returns the path per item. */
function check(label: string, g: ConvGeom, dy: Float32Array, w: Float32Array, threads: number): boolean[] {
  backend!.settings.threads = threads;
  backend!.settings.minParallelWork = 0;
  if (threads === 2) assert.equal(backend!.usableThreads(), 2, 'the worker thread did not start');
  const nx = convSizes(g).x, want = new Float32Array(nx), scale = new Float32Array(nx);
  const got = new Float32Array(nx).fill(NaN), dy0 = dy.slice(), w0 = w.slice();
  refKernels.conv2dBackwardInput(dy, w, want, g);
  refKernels.conv2dBackwardInput(dy.map(Math.abs), w.map(Math.abs), scale, g);
  backend!.kernels.conv2dBackwardInput(dy, w, got, g);
  assert.deepEqual(dy, dy0, `${label}: dy changed`);
  assert.deepEqual(w, w0, `${label}: w changed`);
  for (let i = 0; i < nx; i++) {
    if (Object.is(got[i], want[i])) continue;
    const tol = 1e-5 * Math.max(scale[i]!, 1e-30);
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${label}: dx[${i}] = ${got[i]}, reference ${want[i]} (tolerance ${tol})`);
  }
  return sparseItems(dy, w, g);
}

/** One case: a shape, the fills of its items (cycled) and the path each item must take. */
interface Case { label: string; o: ConvOpts; fills: Fill[]; sparse: boolean[] }

/** A case on [n, cin, h = w] → cout k×k (stride, pad, groups); `sparse` for every item or per item. */
function mk(label: string, shape: number[], fills: Fill[], sparse: boolean | boolean[]): Case {
  const [n, cin, h, cout, k, stride = 1, pad = 0, groups = 1] = shape;
  const o = { n: n!, cin: cin!, h: h!, w: h!, cout: cout!, kh: k!, kw: k!, stride, pad, groups };
  return { label, o, fills, sparse: Array.isArray(sparse) ? sparse : Array.from({ length: o.n }, () => sparse) };
}

const T = true, F = false;
const CASES: Case[] = [
  mk('LeNet shape, max-pool pattern (75 % zeros)', [4, 16, 12, 16, 5], ['pooled'], T),
  mk('LeNet shape, dense dy', [3, 16, 12, 16, 5], ['dense'], F),
  mk('LeNet shape, all-zero dy', [2, 16, 12, 16, 5], ['zero'], T),
  mk('3×3 pad 1, ~5 % non-zeros', [3, 16, 9, 8, 3, 1, 1], ['sparse5'], T),
  mk('3×3 pad 1, max-pool pattern', [2, 16, 9, 8, 3, 1, 1], ['pooled'], T),
  mk('5×5 pad 2, max-pool pattern', [2, 8, 10, 6, 5, 1, 2], ['pooled'], T),
  mk('5×5 pad 2, ~5 % non-zeros', [2, 8, 10, 6, 5, 1, 2], ['sparse5'], T),
  mk('stride 2 pad 1, 8 channels', [2, 8, 9, 6, 3, 2, 1], ['pooled'], T),
  mk('stride 2 pad 1, 16 channels', [2, 16, 10, 8, 3, 2, 1], ['sparse5'], T),
  mk('groups 2 (8 channels each)', [2, 16, 8, 12, 3, 1, 1, 2], ['pooled'], T),
  mk('groups 2 (16 channels each)', [2, 32, 6, 8, 3, 1, 1, 2], ['sparse5'], T),
  mk('depthwise (dense body: 3-float kernel rows)', [2, 8, 8, 8, 3, 1, 1, 8], ['pooled'], F),
  mk('odd 7×7, cin 3, cout 5, 3×3 (dense body: 9-float kernel rows)', [3, 3, 7, 5, 3, 1, 1], ['pooled'], F),
  mk('odd 7×7, cin 3, cout 5, 7×7 pad 3', [3, 3, 7, 5, 7, 1, 3], ['sparse5'], T),
  mk('odd 7×7, cin 6, cout 5, 3×3 pad 1', [2, 6, 7, 5, 3, 1, 1], ['sparse5'], T),
  mk('mixed batch, LeNet shape', [7, 16, 12, 16, 5],
    ['pooled', 'dense', 'dense', 'zero', 'sparse5', 'dense', 'pooled'], [T, F, F, T, T, F, T]),
  mk('mixed batch, 3×3 pad 1', [5, 16, 9, 8, 3, 1, 1], ['dense', 'pooled', 'dense', 'sparse5', 'pooled'], [F, T, F, T, T]),
  mk('mixed batch, stride 2 groups 2', [4, 32, 16, 8, 3, 2, 1, 2], ['pooled', 'dense', 'sparse5', 'dense'], [T, F, T, F]),
];

for (const threads of [1, 2]) {
  describe(`sparse-aware conv2dBackwardInput = ref, ${threads} thread(s)`, () => {
    CASES.forEach((c, i) => {
      test(c.label, () => {
        const g = convGeom(c.o), dy = makeDy(g, c.fills, 10 + i), w = rand(convSizes(g).w, 50 + i);
        assert.deepEqual(check(c.label, g, dy, w, threads), c.sparse, `${c.label}: items on the sparse path`);
      });
    });
  });
}

describe('sparse-path choice', () => {
  const g = convGeom({ n: 2, cin: 16, h: 12, w: 12, cout: 16, kh: 5, kw: 5 });
  const n = g.cout * g.oh * g.ow; // 1024 values per item

  test('a 5×5 kernel over 16 channels crosses over between 30 % and 40 % non-zeros', () => {
    // kernel rows are 80 floats read as three 32-float runs (96 floats): crossover 0.42 · 80/96 = 0.35
    const dy = new Float32Array(2 * n), r = rng(3);
    for (let i = 0; i < n; i++) dy[i] = i % 10 < 3 ? value(r) : 0; // item 0: 30 %
    for (let i = 0; i < n; i++) dy[n + i] = i % 10 < 4 ? value(r) : 0; // item 1: 40 %
    assert.deepEqual(check('30 % / 40 %', g, dy, rand(convSizes(g).w, 4), 1), [true, false]);
  });

  test('a NaN in dy sends its item to the dense body, which keeps the NaN inside its window', () => {
    const dy = makeDy(g, ['pooled'], 5), i = dy.findIndex((v, k) => k >= n + 3 * g.ow && v !== 0);
    dy[i] = NaN;
    const w = rand(convSizes(g).w, 6);
    assert.deepEqual(check('NaN in item 1', g, dy, w, 1), [true, false]);
  });

  test('an infinite weight sends every item to the dense body (0 · ∞ is NaN in the reference too)', () => {
    const dy = makeDy(g, ['pooled'], 7), w = rand(convSizes(g).w, 8);
    w[37] = Infinity;
    assert.deepEqual(check('∞ weight', g, dy, w, 1), [false, false]);
  });
});
