// Every contract kernel: each wasm body (1 and 2 threads) equals the reference body. Floats agree within
// 1e-5 of the sum of absolute terms (the reference run on |inputs|); integer outputs (argmax) exactly. The
// Winograd weight gradient is held to the largest sum of its kernel's 9 taps (winogradScale).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeom, KernelName, Kernels } from '../../src/kernels/contract.js';
import { refKernels } from '../../src/backends/ref/index.js';
import { winogradShape } from '../../src/backends/index.js';
import { WASM_BODIES, wasmBackendSync, type WasmBackend } from '../../src/backends/wasm/index.js';
import { convGeom, convSizes, poolGeom, rng, type ConvOpts } from './geom.js';
import { CONVS, label } from './shapes.js';

/** One case: a label and a maker of fresh, deterministic arguments. */
interface Case<K extends KernelName> { label: string; args: () => Parameters<Kernels[K]> }

const rand = (n: number, seed: number): Float32Array => { const r = rng(seed); return Float32Array.from({ length: n }, r); };
const spikes = (n: number, seed: number, density = 0.2): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 0.5 + 0.5 < density ? 1 : 0));
};
const nanFilled = (n: number): Float32Array => new Float32Array(n).fill(NaN);

const gemmCase = (m: number, n: number, k: number, tA: boolean, tB: boolean, beta: 0 | 1): Case<'gemm'> => ({
  label: `${m}x${n}x${k}${tA ? ' transA' : ''}${tB ? ' transB' : ''} beta ${beta}`,
  args: () => [rand(m * k, m + 3 * k), rand(k * n, n + 7), beta ? rand(m * n, 5) : nanFilled(m * n), m, n, k, tA, tB, beta],
});

const convCases = <K extends KernelName>(make: (o: ConvOpts, i: number) => Parameters<Kernels[K]>): Case<K>[] =>
  CONVS.map((o, i) => ({ label: label(o), args: () => make(o, i) }));
const sz = (o: ConvOpts) => convSizes(convGeom(o));

const POOLS: [number, number, number, number, number, number, number][] = [
  [2, 3, 7, 7, 3, 2, 1], [1, 2, 6, 6, 2, 2, 0], [2, 1, 5, 8, 3, 1, 1], [1, 1, 9, 9, 3, 3, 0],
  // 2×2 windows of stride 2: whole groups of four outputs, a group and a tail, odd heights and widths
  [2, 3, 12, 16, 2, 2, 0], [1, 2, 10, 14, 2, 2, 0], [1, 1, 9, 11, 2, 2, 0],
];
const poolCases = <K extends KernelName>(make: (p: (typeof POOLS)[number], i: number) => Parameters<Kernels[K]>): Case<K>[] =>
  POOLS.map((p, i) => ({ label: `pool ${p.join(',')}`, args: () => make(p, i) }));
const tiesInput = (n: number, seed: number): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => Math.floor((r() + 1) * 1.5));
};
const argsOfMax = (p: (typeof POOLS)[number], seed: number): Int32Array => {
  const g = poolGeom(...p), ny = g.n * g.c * g.oh * g.ow, arg = new Int32Array(ny);
  refKernels.maxPool2dForward(rand(g.n * g.c * g.h * g.w, seed), new Float32Array(ny), arg, g);
  return arg;
};

/** Bias shapes [n, c, plane]: linear rows (plane 1) with odd widths, tiny planes, conv planes with tails, many items. */
const BIAS: [number, number, number][] = [[1, 1, 1], [5, 7, 1], [9, 256, 1], [3, 5, 2], [2, 3, 3], [4, 16, 16], [3, 6, 25], [2, 5, 7], [512, 16, 16]];

/** The table: a kernel missing here is a compile error. */
const CASES: { [K in KernelName]: Case<K>[] } = {
  gemm: [
    gemmCase(1, 1, 1, false, false, 0), gemmCase(7, 9, 13, false, false, 0), gemmCase(13, 17, 5, true, false, 1),
    gemmCase(33, 35, 70, false, true, 0), gemmCase(20, 30, 17, true, true, 1), gemmCase(5, 3, 0, false, false, 0),
    gemmCase(5, 3, 0, false, false, 1), gemmCase(14, 19, 800, false, false, 1), gemmCase(7, 500, 300, true, true, 0),
    gemmCase(61, 23, 41, false, false, 0),
  ],
  conv2dForward: convCases((o, i) => [rand(sz(o).x, i + 1), rand(sz(o).w, i + 2), nanFilled(sz(o).y), convGeom(o)]),
  conv2dBackwardInput: convCases((o, i) => [rand(sz(o).y, i + 3), rand(sz(o).w, i + 4), nanFilled(sz(o).x), convGeom(o)]),
  conv2dBackwardWeight: convCases((o, i) => [rand(sz(o).x, i + 5), rand(sz(o).y, i + 6),
    i % 2 ? rand(sz(o).w, i) : nanFilled(sz(o).w), convGeom(o), i % 2 ? 1 : 0]),
  spikeLinear: [[1, 1, 1], [5, 7, 9], [37, 45, 130], [64, 33, 17], [9, 260, 70], [40, 10, 300], [33, 30, 50], [24, 18, 33], [20, 16, 20]].map(([m, n, k], i) => ({
    label: `${m}x${n}x${k}`, args: () => [spikes(m * k, i + 9), rand(n * k, i), nanFilled(m * n), m, n, k],
  })),
  spikeLinearBackwardWeight: [[1, 1, 1], [5, 7, 9], [37, 45, 130], [64, 33, 17], [70, 9, 40], [50, 10, 40], [33, 30, 20], [24, 18, 33]].map(([m, n, k], i) => ({
    label: `${m}x${n}x${k} beta ${i % 2}`,
    args: () => [spikes(m * k, i + 19), rand(m * n, i), i % 2 ? rand(n * k, i + 1) : nanFilled(n * k), m, n, k, i % 2 ? 1 : 0],
  })),
  spikeConv2dForward: convCases((o, i) => [spikes(sz(o).x, i + 11), rand(sz(o).w, i + 12), nanFilled(sz(o).y), convGeom(o)]),
  spikeConv2dBackwardWeight: convCases((o, i) => [spikes(sz(o).x, i + 13), rand(sz(o).y, i + 14),
    i % 2 ? rand(sz(o).w, i) : nanFilled(sz(o).w), convGeom(o), i % 2 ? 1 : 0]),
  maxPool2dForward: [
    ...poolCases<'maxPool2dForward'>((p, i) => {
      const g = poolGeom(...p), ny = g.n * g.c * g.oh * g.ow, nx = g.n * g.c * g.h * g.w;
      return [i % 2 ? tiesInput(nx, i) : rand(nx, i), nanFilled(ny), new Int32Array(ny).fill(-7), g];
    }),
    // inference: no argmax, the same maxima (NaNs placed first and later in windows)
    ...poolCases<'maxPool2dForward'>((p, i) => {
      const g = poolGeom(...p), ny = g.n * g.c * g.oh * g.ow, nx = g.n * g.c * g.h * g.w;
      const x = i % 2 ? tiesInput(nx, i) : rand(nx, i);
      for (let k = 3; k < nx; k += 17) x[k] = NaN;
      return [x, nanFilled(ny), null, g];
    }).map((c) => ({ ...c, label: `${c.label} values only` })),
  ],
  maxPool2dBackward: poolCases((p, i) => {
    const g = poolGeom(...p);
    return [rand(g.n * g.c * g.oh * g.ow, i), argsOfMax(p, i + 1), nanFilled(g.n * g.c * g.h * g.w), g];
  }),
  avgPool2dForward: poolCases((p, i) => {
    const g = poolGeom(...p);
    return [rand(g.n * g.c * g.h * g.w, i), nanFilled(g.n * g.c * g.oh * g.ow), g];
  }),
  avgPool2dBackward: poolCases((p, i) => {
    const g = poolGeom(...p);
    return [rand(g.n * g.c * g.oh * g.ow, i), nanFilled(g.n * g.c * g.h * g.w), g];
  }),
  biasAdd: BIAS.map(([n, c, plane], i) => ({
    label: `[${n},${c},${plane}]`, args: () => [rand(n * c * plane, i + 40), rand(c, i + 41), nanFilled(n * c * plane), n, c, plane],
  })),
  biasGrad: BIAS.map(([n, c, plane], i) => ({
    label: `[${n},${c},${plane}] beta ${i % 2}`,
    args: () => [rand(n * c * plane, i + 50), i % 2 ? rand(c, i) : nanFilled(c), n, c, plane, i % 2 ? 1 : 0],
  })),
};

type AnyCall = (...a: unknown[]) => void;
type Arr = Float32Array | Int32Array;
const isArr = (v: unknown): v is Arr => v instanceof Float32Array || v instanceof Int32Array;

/** Runs a kernel on args and returns every array argument afterwards (inputs unchanged, outputs written). */
function runOn(k: Kernels, name: KernelName, args: unknown[]): Arr[] {
  (k[name] as AnyCall)(...args);
  return args.filter(isArr);
}

/** The same args with every float array made absolute: the reference then yields Σ|terms| per output. */
const absArgs = (args: unknown[]): unknown[] => args.map((a) => (a instanceof Float32Array ? a.map(Math.abs) : a));

/**
 * The weight gradient of a Winograd-shaped convolution (winogradShape) forms a kernel's 9 taps from 16 sums
 * over whole 4×4 windows (dw = Gᵀ dU G), so its rounding error is relative to the kernel's largest tap: a tap
 * that reads only padding or zeros gets a few ulps of its neighbours' terms. Its scale is therefore each
 * kernel's largest Σ|terms| (in place; other shapes keep their own).
 */
function winogradScale(dwScale: Float32Array, g: ConvGeom): Float32Array {
  if (!winogradShape(g)) return dwScale;
  for (let k = 0; k < dwScale.length; k += 9) dwScale.fill(Math.max(...dwScale.subarray(k, k + 9)), k, k + 9);
  return dwScale;
}

/** Σ|terms| of each output: the reference run on |inputs| (winogradScale for conv2dBackwardWeight). */
function scaleOf(name: KernelName, args: unknown[]): Arr[] {
  const s = runOn(refKernels, name, absArgs(args));
  if (name === 'conv2dBackwardWeight') winogradScale(s[2] as Float32Array, args[3] as ConvGeom);
  return s;
}

function assertClose(name: string, got: Arr[], want: Arr[], scale: Arr[]): void {
  want.forEach((w, j) => {
    const g = got[j], s = scale[j];
    for (let i = 0; i < w.length; i++) {
      if (w instanceof Int32Array || Object.is(w[i], g[i])) { assert.equal(g[i], w[i], `${name}: array ${j}[${i}]`); continue; }
      const tol = 1e-5 * Math.max(Math.abs(s[i]), 1e-30);
      assert.ok(Math.abs(g[i] - w[i]) <= tol, `${name}: array ${j}[${i}] = ${g[i]}, reference ${w[i]} (tolerance ${tol})`);
    }
  });
}

// Both compiled bodies: SIMD128, and relaxed SIMD (fused multiply-adds in the GEMM and convolution tiles).
for (const body of WASM_BODIES) {
  const backend = wasmBackendSync(1, body);
  if (backend === undefined) throw new Error(`parity: the ${body} body is missing (run node scripts/build-wasm.mjs)`);
  describe(`${body} body`, () => {

    test('every contract kernel has its own wasm body (no reference fallback in the wasm table)', () => {
      for (const name of Object.keys(CASES) as KernelName[]) {
        assert.equal(typeof backend.kernels[name], 'function', `${name} missing from the wasm table`);
        assert.notEqual(backend.kernels[name], refKernels[name] as unknown, `${name} falls back to the reference body`);
      }
      assert.equal(Object.keys(backend.kernels).length, Object.keys(CASES).length);
    });

    for (const threads of [1, 2]) {
      describe(`wasm = ref, ${threads} thread(s)`, () => {
        for (const name of Object.keys(CASES) as KernelName[]) {
          test(name, () => {
            backend.settings.threads = threads;
            backend.settings.minParallelWork = 0;
            if (threads === 2) assert.equal(backend.usableThreads(), 2, 'the worker thread did not start');
            for (const c of CASES[name] as Case<KernelName>[]) {
              const want = runOn(refKernels, name, c.args());
              const scale = scaleOf(name, c.args());
              assertClose(`${name} ${c.label}`, runOn(backend.kernels, name, c.args()), want, scale);
            }
          });
        }
      });
    }

    /** The args with every array copied into the backend's lent memory, so the kernels work on it in place. */
    function lentArgs(backend: WasmBackend, args: unknown[]): unknown[] {
      return args.map((a) => {
        if (!isArr(a)) return a;
        const f = backend.heap.take(a.length, false)!;
        const v = a instanceof Float32Array ? f : new Int32Array(f.buffer, f.byteOffset, a.length);
        v.set(a);
        return v;
      });
    }

    describe('wasm = ref with every array in wasm memory (read and written in place, inputs untouched)', () => {
      for (const threads of [1, 2]) {
        test(`${threads} thread(s)`, () => {
          backend.settings.threads = threads;
          backend.settings.minParallelWork = 0;
          for (const name of Object.keys(CASES) as KernelName[]) {
            for (const c of CASES[name] as Case<KernelName>[]) {
              const mark = backend.heap.begin();
              try {
                const args = lentArgs(backend, c.args());
                assert.ok(args.filter(isArr).every((a) => backend.arena.offsetOf(a) >= 0));
                const want = runOn(refKernels, name, c.args());
                assertClose(`${name} ${c.label} (lent)`, runOn(backend.kernels, name, args), want, scaleOf(name, c.args()));
              } finally { backend.heap.end(mark); }
            }
          }
        });
      }
    });

    test('biasAdd in place (x = y) equals biasAdd into a new array, in plain and in wasm memory', () => {
      backend.settings.threads = 1;
      const [n, c, plane] = [6, 5, 9], x = rand(n * c * plane, 60), b = rand(c, 61);
      const want = new Float32Array(x.length);
      refKernels.biasAdd(x, b, want, n, c, plane);
      const inPlace = new Float32Array(x);
      backend.kernels.biasAdd(inPlace, b, inPlace, n, c, plane);
      assert.deepEqual(inPlace, want);
      const mark = backend.heap.begin();
      try {
        const [lx] = lentArgs(backend, [x]) as [Float32Array];
        backend.kernels.biasAdd(lx, b, lx, n, c, plane);
        assert.deepEqual(Array.from(lx), Array.from(want));
      } finally { backend.heap.end(mark); }
    });

    test('wasm spike kernels equal the dense wasm kernels on binary input', () => {
      backend.settings.threads = 1;
      const k = backend.kernels;
      /** a ≈ b within 1e-5 of scale, the dense result on |inputs| (the sum of absolute terms). */
      const close = (a: Float32Array, b: Float32Array, scale: Float32Array, what: string): void => {
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * scale[i] + 1e-30, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
      };
      const abs = (a: Float32Array): Float32Array => a.map(Math.abs);
      const [m, n, kk] = [37, 45, 130];
      const s = spikes(m * kk, 1), w = rand(n * kk, 2), dy = rand(m * n, 3);
      const y1 = new Float32Array(m * n), y2 = new Float32Array(m * n), ys = new Float32Array(m * n);
      k.spikeLinear(s, w, y1, m, n, kk); k.gemm(s, w, y2, m, n, kk, false, true, 0); k.gemm(s, abs(w), ys, m, n, kk, false, true, 0);
      close(y1, y2, ys, 'spikeLinear');
      const d1 = new Float32Array(n * kk), d2 = new Float32Array(n * kk), ds = new Float32Array(n * kk);
      k.spikeLinearBackwardWeight(s, dy, d1, m, n, kk, 0); k.gemm(dy, s, d2, n, kk, m, true, false, 0);
      k.gemm(abs(dy), s, ds, n, kk, m, true, false, 0);
      close(d1, d2, ds, 'spikeLinearBackwardWeight');
      for (const o of CONVS) {
        const g = convGeom(o), z = convSizes(g), sc = spikes(z.x, 4), wc = rand(z.w, 5), dyc = rand(z.y, 6);
        const a = new Float32Array(z.y), b = new Float32Array(z.y), sy = new Float32Array(z.y);
        k.spikeConv2dForward(sc, wc, a, g); k.conv2dForward(sc, wc, b, g); k.conv2dForward(sc, abs(wc), sy, g);
        close(a, b, sy, `spikeConv2dForward ${label(o)}`);
        const da = new Float32Array(z.w), db = new Float32Array(z.w), sw = new Float32Array(z.w);
        k.spikeConv2dBackwardWeight(sc, dyc, da, g, 0); k.conv2dBackwardWeight(sc, dyc, db, g, 0);
        k.conv2dBackwardWeight(sc, abs(dyc), sw, g, 0);
        winogradScale(sw, g);
        close(da, db, sw, `spikeConv2dBackwardWeight ${label(o)}`);
      }
    });
  });
}
