// The quantized kernels (src/kernels/quant.ts): the wasm bodies (1 and 2 threads, plain and relaxed) equal the
// reference bit for bit, and both equal a plain computation with the float weights w = scale·q on the same spikes.
//
// Why exact equality with the plain computation holds: scale is a float32 (24-bit significand) and q an integer
// with |q| ≤ 128, so every product scale·q is exact in a double, and so is their sum over at most a few thousand
// active inputs (< 2^53). That double is scale·(Σ q) exactly; the kernels round Σ q (an integer below 2^24 here,
// so exactly) and multiply once in float32, i.e. they return the exact value rounded once — fround(double sum).
// Against the float spike kernel (float32 sums of fround(scale·q), summed in its own order) the usual parity
// tolerance applies: 1e-5 of Σ|terms| per output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeom } from '../../src/kernels/contract.js';
import { packedBytes, type QuantBits, type QuantKernels } from '../../src/kernels/quant.js';
import { refKernels } from '../../src/backends/ref/index.js';
import { refQuantKernels } from '../../src/backends/ref/quant.js';
import { WASM_BODIES, wasmBackendSync } from '../../src/backends/wasm/index.js';
import { wasmQuantKernels } from '../../src/backends/wasm/quant.js';
import { PLAN_PATHS, writePlan } from '../../src/backends/wasm/plan.js';
import { qlifPatternTable, qlifStepTable } from '../../src/backends/wasm/quant.js';
import { convGeom, convSizes, rng } from './geom.js';
import { CONVS, label } from './shapes.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { membraneGrid, qlifRun, zeroLevel } from '../../src/neurons/qlif.js';

const BITS: QuantBits[] = [2, 4, 8];
const maxCode = (bits: QuantBits): number => (bits === 2 ? 1 : bits === 4 ? 8 : 128);

/** Codes in the promised range of `bits`, both extremes included (−max … max, clamped to int8). */
function codes(n: number, bits: QuantBits, seed: number): Int8Array {
  const r = rng(seed), m = maxCode(bits);
  return Int8Array.from({ length: n }, () => Math.max(-128, Math.min(127, Math.round(r() * (m + 0.49)))));
}
const scales = (n: number, seed: number): Float32Array => { const r = rng(seed); return Float32Array.from({ length: n }, () => 0.01 + Math.abs(r())); };
const spikes = (n: number, seed: number, density: number): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 0.5 + 0.5 < density ? 1 : 0));
};
const nanFilled = (n: number): Float32Array => new Float32Array(n).fill(NaN);
const gateOf = (n: number, seed: number, open: number): Uint8Array => { const r = rng(seed); return Uint8Array.from({ length: n }, () => (r() * 0.5 + 0.5 < open ? 1 : 0)); };

/** y = fround(Σ_active scale·q) in doubles (exact, see the head comment). */
function plainLinear(s: Float32Array, q: Int8Array, scale: Float32Array, m: number, n: number, k: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += s[i * k + p]! * (scale[j]! * q[j * k + p]!);
      y[i * n + j] = acc;
    }
  }
  return y;
}

/** The convolution in doubles by scattering each active input through the kernel (another order than the reference's). */
function plainConv(s: Float32Array, q: Int8Array, scale: Float32Array, g: ConvGeom, gate?: Uint8Array): Float32Array {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, acc = new Float64Array(g.n * g.cout * g.oh * g.ow);
  for (let b = 0; b < g.n; b++) {
    for (let c = 0; c < g.cin; c++) {
      const grp = Math.floor(c / cinG), cl = c - grp * cinG;
      for (let iy = 0; iy < g.h; iy++) {
        for (let ix = 0; ix < g.w; ix++) {
          if (s[((b * g.cin + c) * g.h + iy) * g.w + ix] === 0) continue;
          for (let ky = 0; ky < g.kh; ky++) {
            const ty = iy + g.padH - ky;
            if (ty < 0 || ty % g.strideH !== 0 || ty / g.strideH >= g.oh) continue;
            for (let kx = 0; kx < g.kw; kx++) {
              const tx = ix + g.padW - kx;
              if (tx < 0 || tx % g.strideW !== 0 || tx / g.strideW >= g.ow) continue;
              for (let co = grp * coutG; co < (grp + 1) * coutG; co++) {
                acc[((b * g.cout + co) * g.oh + ty / g.strideH) * g.ow + tx / g.strideW] += scale[co]! * q[((co * cinG + cl) * g.kh + ky) * g.kw + kx]!;
              }
            }
          }
        }
      }
    }
  }
  const y = Float32Array.from(acc), ohw = g.oh * g.ow;
  if (gate) for (let i = 0; i < g.n * g.cout; i++) if (gate[i] === 0) y.fill(0, i * ohw, (i + 1) * ohw);
  return y;
}

/** Σ|scale·q| over each output's active inputs with the float spike kernel, and that kernel's result itself. */
function floatSpikeConv(s: Float32Array, q: Int8Array, scale: Float32Array, g: ConvGeom): { y: Float32Array; abs: Float32Array } {
  const per = q.length / g.cout, w = Float32Array.from(q, (c, i) => scale[Math.floor(i / per)]! * c);
  const y = new Float32Array(convSizes(g).y), abs = new Float32Array(y.length);
  refKernels.spikeConv2dForward(s, w, y, g);
  refKernels.spikeConv2dForward(s, w.map(Math.abs), abs, g);
  return { y, abs };
}

/** The float32 next to v in direction dir (±1). */
function nextFloat(v: number, dir: 1 | -1): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer);
  if (v === 0) { u[0] = dir > 0 ? 1 : 0x80000001; return f[0]!; }
  u[0]! += (v > 0) === (dir > 0) ? 1 : -1;
  return f[0]!;
}

const sameBits = (got: Float32Array, want: Float32Array, what: string): void => {
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}[${i}] = ${got[i]}, expected ${want[i]}`);
};

/** Linear shapes [m, n, k]: odd widths, more than one segment of ternary (k > 127) and 8-bit (k > 255) rows. */
const LINEARS: [number, number, number][] = [[1, 1, 1], [5, 7, 9], [37, 45, 130], [64, 33, 17], [9, 260, 70], [3, 16, 700], [4, 10, 256]];
const DENSITIES = [0.1, 0.3, 1];
/**
 * Extra conv shapes: lenet- and vgg-like layers (the tables, the windows and the channel lists); 24 channels of
 * 5×5 8-bit codes carry their table sums into i32 twice (10 channels per segment), in two channel blocks.
 */
const LIST_CONVS = [{ n: 2, cin: 70, h: 6, w: 19, cout: 36, kh: 3, kw: 3, stride: 2, pad: 2 },
  { n: 2, cin: 8, h: 7, w: 40, cout: 12, kh: 3, kw: 3, pad: 1, groups: 2 }, { n: 1, cin: 130, h: 5, w: 18, cout: 17, kh: 2, kw: 3, pad: 1 },
  { n: 2, cin: 40, h: 3, w: 20, cout: 24, kh: 1, kw: 1 }, { n: 2, cin: 160, h: 4, w: 20, cout: 20, kh: 3, kw: 3, pad: 1, groups: 2 }];
const QCONVS = [...CONVS, { n: 2, cin: 6, h: 12, w: 12, cout: 16, kh: 5, kw: 5 }, { n: 2, cin: 64, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1 },
  { n: 1, cin: 150, h: 4, w: 4, cout: 20, kh: 3, kw: 3, pad: 1 }, { n: 2, cin: 24, h: 8, w: 8, cout: 20, kh: 5, kw: 5, pad: 2 },
  // channel lists over rows too wide for the windows: strided spans over 70 channels (two mask words), two
  // groups, 130 channels (channel blocks past the last word's 64), 1×1 taps (a list per position), and two
  // groups of 80 channels (two mask words per group, three for the layer)
  ...LIST_CONVS];

describe('reference quantized kernels equal the plain computation with w = scale·q', () => {
  test('spikeLinearQ', () => {
    for (const [i, [m, n, k]] of LINEARS.entries()) {
      for (const bits of BITS) {
        for (const d of DENSITIES) {
          const s = spikes(m * k, i + 1, d), q = codes(n * k, bits, i + 2), sc = scales(n, i + 3), y = nanFilled(m * n);
          refQuantKernels.spikeLinearQ(s, q, sc, y, m, n, k, bits);
          sameBits(y, plainLinear(s, q, sc, m, n, k), `${m}x${n}x${k} bits ${bits} density ${d}`);
        }
      }
    }
  });
  test('spikeConv2dQ, with and without a gate; within 1e-5·Σ|terms| of the float spike kernel', () => {
    // every other shape (the reference is slow; the wasm suites take them all) and the three quantized-layer shapes
    for (const [i, o] of QCONVS.entries()) {
      if (i % 2 === 1 && i < CONVS.length) continue;
      const g = convGeom(o), z = convSizes(g);
      for (const bits of BITS) {
        const s = spikes(z.x, i + 5, 0.25), q = codes(z.w, bits, i + 6), sc = scales(g.cout, i + 7), y = nanFilled(z.y);
        refQuantKernels.spikeConv2dQ(s, q, sc, y, g, bits);
        sameBits(y, plainConv(s, q, sc, g), `${label(o)} bits ${bits}`);
        const f = floatSpikeConv(s, q, sc, g);
        for (let j = 0; j < y.length; j++) assert.ok(Math.abs(y[j]! - f.y[j]!) <= 1e-5 * f.abs[j]!, `${label(o)} float kernel [${j}]`);
        const gate = gateOf(g.n * g.cout, i + 8, 0.6), yg = nanFilled(z.y);
        refQuantKernels.spikeConv2dQ(s, q, sc, yg, g, bits, gate);
        sameBits(yg, plainConv(s, q, sc, g, gate), `${label(o)} bits ${bits} gated`);
      }
    }
  });
});

/** qlifForward cases: [T, m, staticInput, grid]. Grids: ternary, 2-, 4- and 7-bit (128 levels) with θ 1. */
const GRIDS = [
  { tau: 0.5, thresh: 1, lb: -1, interval: 1, levels: 3 },
  { tau: 0.9, thresh: 1, lb: -2, interval: 1, levels: 4 },
  { tau: 0.75, thresh: 1, lb: -3.5, interval: 0.25, levels: 16 },
  { tau: 0.95, thresh: 1, lb: -30.75, interval: 0.25, levels: 128 },
  // an interval that is not a power of two (the SIMD body divides instead of multiplying by its reciprocal)
  { tau: 0.8, thresh: 0.7, lb: -1.4, interval: 0.3, levels: 8 },
];
const QLIFS: [number, number, boolean][] = [[1, 1, false], [4, 7, false], [10, 37, true], [6, 130, false], [3, 1000, true]];

test('qlifForward (reference body) equals the QLIF neuron of src/neurons/qlif.ts: spikes and final levels', () => {
  for (const [bits, vth] of [[1.58, 1], [4, 0.75], [7, 1.5], [2, 1.5]] as const) {
    const mq = membraneGrid(bits, vth), p = neuronParams('lif', { vth, beta: 0.85, fire: '>', reset: 'hard', vReset: 0, membrane: mq });
    for (const stat of [false, true]) {
      const T = 6, m = 50, x = qlifInput(stat ? m : T * m, 31, { thresh: vth, lb: mq.lb, interval: mq.interval });
      const run = qlifRun(new Tensor(x, stat ? [m] : [T, m]), p as typeof p & { membrane: typeof mq }, { T, staticInput: stat });
      const level = new Int8Array(m).fill(zeroLevel(mq)), s = nanFilled(T * m);
      const count = refQuantKernels.qlifForward(x, level, s, T, m, stat, { tau: 0.85, thresh: vth, lb: mq.lb, interval: mq.interval, levels: mq.levels });
      sameBits(s, run.spikes.data, `${bits} bits, θ ${vth}${stat ? ', static' : ''}: spikes`);
      assert.deepEqual(Int16Array.from(level), run.level, `${bits} bits, θ ${vth}: levels`);
      assert.equal(count, s.reduce((a, v) => a + v, 0));
      assert.ok(count > 0 && count < T * m, `${bits} bits: ${count} spikes (the comparison must see both)`);
    }
  }
});

/** Inputs that reach ties and both clamps: multiples of interval/2 mixed with random values over the grid's range. */
function qlifInput(n: number, seed: number, p: { thresh: number; lb: number; interval: number }): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? Math.round(r() * 8) * p.interval / 2 : r() * 2 * (p.thresh - p.lb) / 2));
}
const startLevels = (m: number, seed: number, levels: number): Int8Array => { const r = rng(seed); return Int8Array.from({ length: m }, () => Math.floor((r() * 0.5 + 0.5) * levels)); };

/** One spikeConv2dQ case with the reference's result, made once and shared by every body and thread count. */
interface ConvCase { what: string; s: Float32Array; q: Int8Array; sc: Float32Array; g: ConvGeom; bits: QuantBits; gate?: Uint8Array; want: Float32Array }
let convMemo: ConvCase[] | undefined;
function convCases(): ConvCase[] {
  if (convMemo) return convMemo;
  convMemo = [];
  for (const [i, o] of QCONVS.entries()) {
    const g = convGeom(o), z = convSizes(g);
    for (const bits of BITS) {
      for (const d of [0.1, 0.5]) {
        const s = spikes(z.x, i + 11, d), q = codes(z.w, bits, i + 12 + bits), sc = scales(g.cout, i + 13);
        const mixed = gateOf(g.n * g.cout, i + 15, 0.5);
        mixed.fill(0, 0, g.cout);
        if (g.n > 1) mixed.fill(1, g.cout, 2 * g.cout);
        for (const gate of [undefined, gateOf(g.n * g.cout, i + 14, 0.5), mixed]) {
          const want = nanFilled(z.y);
          refQuantKernels.spikeConv2dQ(s, q, sc, want, g, bits, gate);
          convMemo.push({ what: `${label(o)} bits ${bits} density ${d}${gate ? ' gated' : ''}`, s, q, sc, g, bits, gate, want });
        }
      }
    }
  }
  return convMemo;
}

test('spikeConv2dQ plans: tables for small images and kernels at every bit width, the windows past the table size, lists for wide ones', () => {
  const backend = wasmBackendSync(1, WASM_BODIES[0]);
  assert.ok(backend, 'the wasm body is missing');
  const path = (o: Parameters<typeof convGeom>[0], bits: QuantBits): string => {
    const mark = backend.arena.mark();
    try { return PLAN_PATHS[writePlan(backend.wasm.exports, backend.arena, 'planSpikeConvQ', convGeom(o), [bits, 0]).path]!; } finally { backend.arena.release(mark); }
  };
  const lenet2 = { n: 4, cin: 16, h: 12, w: 12, cout: 16, kh: 5, kw: 5 };
  for (const bits of BITS) assert.equal(path(lenet2, bits), 'tables', `lenet's second conv, bits ${bits}`);
  // 64 channels of 5×5 8-bit tables: 64·5·32 rows of 16 i16 lanes, 4 blocks = 1.3 MB
  assert.equal(path({ n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 5, kw: 5, pad: 2 }, 8), 'windows');
  assert.equal(path({ n: 1, cin: 3, h: 12, w: 12, cout: 16, kh: 3, kw: 7 }, 2), 'windows', 'kw = 7');
  assert.equal(path({ n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1 }, 2), 'lists');
  assert.equal(path({ n: 1, cin: 4, h: 32, w: 32, cout: 8, kh: 3, kw: 3, pad: 1 }, 2), 'lists', 'rows wider than 16');
  for (const o of LIST_CONVS) for (const bits of BITS) assert.equal(path(o, bits), 'lists', `${label(o)} bits ${bits}`);
  // every QCONVS shape the table path takes is in the parity cases below; at least these do
  assert.ok(QCONVS.filter((o) => path(o, 8) === 'tables').length >= 8);
});

for (const body of WASM_BODIES) {
  const backend = wasmBackendSync(1, body);
  if (backend === undefined) throw new Error(`quant parity: the ${body} body is missing (run node scripts/build-wasm.mjs)`);
  const wasm: QuantKernels = wasmQuantKernels(backend.wasm.exports, backend.arena, backend);
  for (const threads of [1, 2]) {
    describe(`${body} body, ${threads} thread(s): wasm = ref bit for bit`, () => {
      const setup = (): void => {
        backend.settings.threads = threads;
        backend.settings.minParallelWork = 0;
        if (threads === 2) assert.equal(backend.usableThreads(), 2, 'the worker thread did not start');
      };
      test('spikeLinearQ', () => {
        setup();
        for (const [i, [m, n, k]] of LINEARS.entries()) {
          for (const bits of BITS) {
            for (const d of [0, ...DENSITIES]) {
              const s = spikes(m * k, i + 1, d), q = codes(n * k, bits, i + 2), sc = scales(n, i + 3);
              const want = nanFilled(m * n), got = nanFilled(m * n);
              refQuantKernels.spikeLinearQ(s, q, sc, want, m, n, k, bits);
              wasm.spikeLinearQ(s, q, sc, got, m, n, k, bits);
              sameBits(got, want, `${m}x${n}x${k} bits ${bits} density ${d}`);
            }
          }
        }
      });
      test('spikeConv2dQ, ungated and gated (some items all closed, some all open)', () => {
        setup();
        for (const c of convCases()) {
          const got = nanFilled(c.want.length);
          wasm.spikeConv2dQ(c.s, c.q, c.sc, got, c.g, c.bits, c.gate);
          sameBits(got, c.want, c.what);
        }
      });
      test('re-laid codes are kept per q array: the same arrays again, then new codes in new arrays and another batch', () => {
        setup();
        const g = convGeom({ n: 3, cin: 6, h: 12, w: 12, cout: 16, kh: 5, kw: 5 }), z = convSizes(g), sc = scales(g.cout, 3);
        const s = spikes(z.x, 1, 0.2), q1 = codes(z.w, 4, 2), q2 = codes(z.w, 4, 5);
        for (const [q, b, what] of [[q1, 3, 'first'], [q1, 3, 'again'], [q1, 3, 'in memory of their own'], [q2, 3, 'new codes'], [q2, 1, 'one item']] as const) {
          const gb = { ...g, n: b }, want = nanFilled(gb.n * g.cout * g.oh * g.ow), got = nanFilled(want.length);
          refQuantKernels.spikeConv2dQ(s, q, sc, want, gb, 4);
          wasm.spikeConv2dQ(s, q, sc, got, gb, 4);
          sameBits(got, want, `conv, ${what}`);
        }
        const [m, n, k] = [5, 40, 70], sl = spikes(m * k, 7, 0.3), s2 = scales(n, 8), l1 = codes(n * k, 2, 9), l2 = codes(n * k, 2, 10);
        for (const [q, sc2, what] of [[l1, s2, 'first'], [l1, s2, 'again'], [l1, s2, 'in memory of their own'], [l2, s2, 'new codes'], [l2, scales(n, 11), 'new scales']] as const) {
          const want = nanFilled(m * n), got = nanFilled(m * n);
          refQuantKernels.spikeLinearQ(sl, q, sc2, want, m, n, k, 2);
          wasm.spikeLinearQ(sl, q, sc2, got, m, n, k, 2);
          sameBits(got, want, `linear, ${what}`);
        }
      });
      test('qlifForward: spikes, levels and the spike count', () => {
        setup();
        for (const [i, [T, m, stat]] of QLIFS.entries()) {
          for (const p of GRIDS) {
            const x = qlifInput(stat ? m : T * m, i + 21, p), l0 = startLevels(m, i + 22, p.levels);
            // NaN and infinite inputs where there are enough neurons: no spike from NaN, level 0 after it, as the reference says
            if (x.length > 40) { x[5] = NaN; x[17] = Infinity; x[29] = -Infinity; x[x.length - 1] = NaN; }
            const lw = Int8Array.from(l0), lg = Int8Array.from(l0), sw = nanFilled(T * m), sg = nanFilled(T * m);
            const cw = refQuantKernels.qlifForward(x, lw, sw, T, m, stat, p);
            const cg = wasm.qlifForward(x, lg, sg, T, m, stat, p);
            const what = `T ${T} m ${m}${stat ? ' static' : ''} levels ${p.levels}`;
            sameBits(sg, sw, `${what} spikes`);
            assert.deepEqual(lg, lw, `${what} levels`);
            assert.equal(cg, cw, `${what} count`);
            assert.equal(cw, sw.reduce((a, v) => a + v, 0), `${what} count = Σ spikes`);
          }
        }
      });
      test('qlifForward pattern path (static input from the level of 0): at, just below and above every breakpoint, NaN, ±∞, ±0; blocks not at the level of 0 and tails take the step path', () => {
        setup();
        const grids = [GRIDS[0]!, { tau: 0.85, thresh: 1, lb: -1, interval: 1, levels: 3 }, { tau: 0.85, thresh: 1.5, lb: -1.5, interval: 1.5, levels: 3 }, { tau: 0.9, thresh: 0.5, lb: -0.5, interval: 0.5, levels: 3 }];
        for (const p of grids) {
          const steps = qlifStepTable(p)!, table = qlifPatternTable(p, 4, steps);
          assert.ok(table, `a ternary grid has a pattern table (θ ${p.thresh})`);
          const K = new Int32Array(table.buffer, 96, 1)[0]!, X = Array.from(new Float32Array(table.buffer, 0, K));
          // each breakpoint, its float32 neighbours, and the specials
          const near = X.flatMap((v) => [v, nextFloat(v, -1), nextFloat(v, 1)]);
          // and values spread over the charges' range, which fall between breakpoints the table merged away
          const r0 = rng(7), spread = Array.from({ length: 96 }, (_, i) => Math.fround(r0() * (i < 80 ? 3 * (p.thresh - p.lb) : 1e3)));
          const values = [...near, NaN, Infinity, -Infinity, 0, -0, p.thresh, -p.thresh, 1e-40, -1e-40, ...spread];
          for (const T of [1, 4, 8]) {
            for (const m of [16 * 12, 16 * 12 + 5, 37]) {
              const r = rng(T * 1000 + m), x = Float32Array.from({ length: m }, (_, i) => (i < values.length ? values[i]! : values[Math.floor((r() * 0.5 + 0.5) * values.length)]!));
              const zl = zeroLevel({ lb: p.lb, interval: p.interval, levels: p.levels } as never);
              const l0 = new Int8Array(m).fill(zl);
              // one block of 16 not at the level of 0 (its neurons go to the step path)
              if (m >= 48) for (let i = 32; i < 48; i += 3) l0[i] = (zl + 1) % p.levels;
              const lw = Int8Array.from(l0), lg = Int8Array.from(l0), sw = nanFilled(T * m), sg = nanFilled(T * m);
              const pw = new Uint8Array(packedBytes(T * m)), pg = new Uint8Array(packedBytes(T * m));
              const cw = refQuantKernels.qlifForward(x, lw, sw, T, m, true, p, pw), cg = wasm.qlifForward(x, lg, sg, T, m, true, p, pg);
              const what = `θ ${p.thresh} T ${T} m ${m}`;
              sameBits(sg, sw, `${what} spikes`);
              assert.deepEqual(lg, lw, `${what} levels`);
              assert.equal(cg, cw, `${what} count`);
              assert.deepEqual(pg, pw, `${what} packed`);
            }
          }
        }
      });
      test('packed spikes: qlifForward packs the spikes it writes (any m; 16-neuron blocks per thread), spikeLinearQ and spikeConv2dQ reading them give the bits of the floats', () => {
        setup();
        // m = 48 and 1024 are whole 16-neuron blocks (split over the threads), the others one thread's unaligned rows
        const cases: [number, number, boolean][] = [...QLIFS, [3, 48, false], [5, 1024, true]];
        for (const [i, [T, m, stat]] of cases.entries()) {
          for (const p of GRIDS) {
            const x = qlifInput(stat ? m : T * m, i + 41, p), l0 = startLevels(m, i + 42, p.levels), n = T * m;
            const lw = Int8Array.from(l0), lg = Int8Array.from(l0), sw = nanFilled(n), sg = nanFilled(n);
            const pw = new Uint8Array(packedBytes(n)), pg = new Uint8Array(packedBytes(n));
            refQuantKernels.qlifForward(x, lw, sw, T, m, stat, p, pw);
            wasm.qlifForward(x, lg, sg, T, m, stat, p, pg);
            const what = `T ${T} m ${m} levels ${p.levels}`;
            sameBits(sg, sw, `${what} spikes`);
            for (let k = 0; k < n; k++) assert.equal((pw[k >> 3]! >> (k & 7)) & 1, sw[k]! !== 0 ? 1 : 0, `${what}: reference bit ${k}`);
            assert.deepEqual(pg, pw, `${what}: packed bytes`);
          }
        }
        assert.throws(() => wasm.qlifForward(new Float32Array(64), new Int8Array(64), new Float32Array(64), 1, 64, false, GRIDS[0]!, new Uint8Array(8)), /packed spikes need 16 bytes/);
        for (const [i, [m, n, k]] of LINEARS.entries()) {
          for (const bits of [2, 8] as const) {
            const s = spikes(m * k, i + 51, 0.3), q = codes(n * k, bits, i + 52), sc = scales(n, i + 53);
            const packed = new Uint8Array(packedBytes(s.length));
            s.forEach((v, j) => { if (v !== 0) packed[j >> 3]! |= 1 << (j & 7); });
            const want = nanFilled(m * n), got = nanFilled(m * n), blind = nanFilled(m * n);
            refQuantKernels.spikeLinearQ(s, q, sc, want, m, n, k, bits);
            wasm.spikeLinearQ(s, q, sc, got, m, n, k, bits, packed);
            sameBits(got, want, `linear ${m}x${n}x${k} bits ${bits}, packed`);
            wasm.spikeLinearQ(new Float32Array(s.length), q, sc, blind, m, n, k, bits, packed);
            sameBits(blind, want, `linear ${m}x${n}x${k} bits ${bits}, packed bits only`);
          }
        }
        for (const c of convCases()) {
          if (c.bits === 4) continue;
          const packed = new Uint8Array(packedBytes(c.s.length));
          c.s.forEach((v, k) => { if (v !== 0) packed[k >> 3]! |= 1 << (k & 7); });
          const got = nanFilled(c.want.length);
          wasm.spikeConv2dQ(c.s, c.q, c.sc, got, c.g, c.bits, c.gate, packed);
          sameBits(got, c.want, `${c.what}, packed`);
          // the floats are not read where the packed bits are (the windows and the tables; the lists when a plane
          // is a whole number of bytes): zeroed floats with the same bits give the same sums
          if ((c.g.w + 2 * c.g.padW <= 16 && c.g.cin < 32) || (c.g.h * c.g.w) % 8 === 0) {
            const blind = nanFilled(c.want.length);
            wasm.spikeConv2dQ(new Float32Array(c.s.length), c.q, c.sc, blind, c.g, c.bits, c.gate, packed);
            sameBits(blind, c.want, `${c.what}, packed bits only`);
          }
        }
      });
    });
  }
}
