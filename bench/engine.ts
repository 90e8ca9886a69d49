/**
 * Kernel speed: GEMM, convolutions and spike kernels of the wasm backend on 1 and 2 threads (GEMM and
 * convolutions for both compiled bodies, relaxed SIMD and SIMD128), the anchors
 * (tfjs WebAssembly backend in this process, PyTorch in a child process) and ratio lines, as JSON lines.
 * Each figure is the median of several timed calls after a warm-up; figures that are compared (ours and
 * tfjs's, spike and dense kernels) come from calls made in turns, and their ratio is the median over turns of
 * the ratio within a turn.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kernels, setBackend, setThreads, backendInfo } from '../src/backends/index.js';
import { outSize, type ConvGeom, type Kernels } from '../src/kernels/contract.js';
import { wasmBackendSync, type WasmBackend, type WasmBody } from '../src/backends/wasm/index.js';
import { floatsFor, workspace } from '../src/tensor/storage.js';

type Row = Record<string, string | number | boolean>;

/** Prints one JSON line. */
export const emit = (row: Row): void => { process.stdout.write(`${JSON.stringify(row)}\n`); };

/** The median of xs (the upper one for an even count). */
const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

/**
 * Milliseconds of each function in each of `reps` turns: the functions are called in turns (the order
 * reversed every other turn) after a warm-up, so a change in the machine's load hits all of them alike. In
 * each turn a function runs once untimed, then once timed: worker threads that slept through another
 * function's turn are awake again, as they are when kernels follow each other in training.
 */
export function turnTimes(fs: readonly (() => void)[], reps = 9): number[][] {
  // warm-up: each function until 30 calls or 300 ms, so every engine's code has reached its optimizing tier
  for (const f of fs) for (let n = 0, t0 = performance.now(); n < 30 && performance.now() - t0 < 300; n++) f();
  const ts = fs.map((): number[] => []);
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < fs.length; j++) {
      const i = r % 2 ? fs.length - 1 - j : j;
      fs[i]!();
      const t0 = performance.now();
      fs[i]!();
      ts[i]!.push(performance.now() - t0);
    }
  }
  return ts;
}

const round = (v: number, d = 3): number => Number(v.toFixed(d));
const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/** A convolution shape of the benchmark: [batch, cin, hw, hw] → cout, k×k, stride 1, padding pad. */
interface ConvShape { batch: number; cin: number; cout: number; hw: number; k: number; pad: number }

/** The two convolution shapes: LeNet's second layer and a VGG-like 3×3 layer. */
const CONV_SHAPES: ConvShape[] = [
  { batch: 128, cin: 16, cout: 16, hw: 12, k: 5, pad: 0 },
  { batch: 32, cin: 64, cout: 64, hw: 32, k: 3, pad: 1 },
];
/** The GEMM shape m×k·k×n. */
const GEMM = { m: 1024, k: 400, n: 1024 };

/** ConvGeom of a benchmark shape. */
function geomOf(s: ConvShape): ConvGeom {
  const o = outSize(s.hw, s.k, 1, s.pad);
  return { n: s.batch, cin: s.cin, h: s.hw, w: s.hw, cout: s.cout, kh: s.k, kw: s.k, strideH: 1, strideW: 1,
    padH: s.pad, padW: s.pad, groups: 1, oh: o, ow: o };
}

/** Forward flops of a convolution. */
const convFlops = (g: ConvGeom): number => 2 * g.n * g.cout * g.oh * g.ow * g.cin * g.kh * g.kw;

/** The anchor's calls on the bench shapes, by key ('gemm', 'fwd <shape>'); empty when tfjs is unavailable. */
type AnchorCalls = Map<string, () => void>;

/**
 * One of our compiled bodies, as the dense benchmark runs it. `resident(a)` copies a into that body's wasm
 * memory, as tfjs keeps its input tensors in its own.
 */
interface Body { readonly body: WasmBody; readonly kernels: Kernels; setThreads(n: number): void; resident(a: Float32Array): Float32Array }

/** A copy of a in lent memory of the current workspace (the active body's). */
function lentCopy(a: Float32Array): Float32Array {
  const c = floatsFor(a.length);
  c.set(a);
  return c;
}

let otherBody: WasmBackend | undefined | null;

/**
 * The bodies the dense benchmark times: the active one first (SIMD128 unless EDGESPIKE_WASM chooses the
 * relaxed one), then the other compiled body if this runtime loads it.
 */
function denseBodies(): Body[] {
  const active = backendInfo().body as WasmBody;
  const other: WasmBody = active === 'relaxed' ? 'simd128' : 'relaxed';
  if (otherBody === undefined) {
    try { otherBody = wasmBackendSync(1, other) ?? null; } catch { otherBody = null; }
  }
  const bodies: Body[] = [{ body: active, kernels: kernels(), setThreads, resident: lentCopy }];
  if (otherBody !== null) {
    const b = otherBody;
    b.heap.begin(); // never ended: the benchmark's inputs stay resident until the process exits
    const resident = (a: Float32Array): Float32Array => { const c = b.heap.take(a.length, false) ?? new Float32Array(a.length); c.set(a); return c; };
    bodies.push({ body: b.wasm.body, kernels: b.kernels, setThreads: (n) => { b.settings.threads = n; }, resident });
  }
  return bodies;
}

/** Gflops by key: '<body> gemm', '<body> fwd <shape>', '<body> fwdbwd <shape>' for ours, 'gemm', 'fwd <shape>' for the anchor. */
type Gflops = Map<string, number>;

/**
 * GEMM and convolutions on each of our bodies at `threads`, each timed in turns with the anchor's call of
 * the same shape. Inputs are resident in each side's wasm memory (tfjs's tensors, our
 * workspace arrays) and outputs are copied to JavaScript arrays on both sides (tfjs's dataSync). Returns
 * gflops from median times, and by key '<body> <key>' our speed over the anchor's as the median of the
 * ratios within each turn (a change in the machine's load between turns then cancels). `single`: the
 * one-thread gflops, for each row's speedup over one thread.
 */
function denseBench(threads: number, anchor: AnchorCalls, single?: Gflops): { ours: Gflops; tf: Gflops; vsAnchor: Map<string, number>; bodies: WasmBody[] } {
  return workspace(() => {
    const bodies = denseBodies();
    for (const b of bodies) b.setThreads(threads);
    const ours: Gflops = new Map(), tf: Gflops = new Map(), vsAnchor = new Map<string, number>(), t = backendInfo().threads;
    /**
     * Times each body's call in turns with the anchor's call under `key` (if any), one body at a time: each
     * body has its own worker, which must not compete for the second core with the other body's. Returns
     * our ms by body; the anchor's gflops come from its turns beside the first (the active) body.
     */
    const time = (key: string, flops: number, f: (b: number) => void, reps: number): number[] => {
      const other = anchor.get(key);
      return bodies.map((b, i) => {
        const turns = turnTimes([() => f(i), ...(other ? [other] : [])], reps);
        ours.set(`${b.body} ${key}`, flops / median(turns[0]!) / 1e6);
        if (other) {
          vsAnchor.set(`${b.body} ${key}`, median(turns[0]!.map((ms, r) => turns[1]![r]! / ms)));
          if (i === 0) tf.set(key, flops / median(turns[1]!) / 1e6);
        }
        return median(turns[0]!);
      });
    };
    // on more threads, each row also gives its speed over the same body's on one thread (a figure well under
    // the thread count means another process held a core during those turns)
    const row = (bench: string, extra: Row, key: string, ms: number[]): void => bodies.forEach((b, i) => {
      const gf = ours.get(`${b.body} ${key}`)!, one = single?.get(`${b.body} ${key}`);
      emit({ bench, ...extra, backend: 'wasm', body: b.body, threads: t, ms: round(ms[i]!), gflops: round(gf, 2), ...(one ? { vs_1_thread: round(gf / one, 2) } : {}) });
    });
    const { m, k, n } = GEMM, a = random(m * k), b = random(k * n), c = new Float32Array(m * n);
    const ab = bodies.map((body) => [body.resident(a), body.resident(b)] as const);
    row('gemm', { m, k, n }, 'gemm', time('gemm', 2 * m * n * k, (i) => bodies[i]!.kernels.gemm(ab[i]![0], ab[i]![1], c, m, n, k, false, false, 0), 15));
    for (const s of CONV_SHAPES) {
      const g = geomOf(s), x = random(g.n * g.cin * g.h * g.w), w = random(g.cout * g.cin * g.kh * g.kw);
      const y = new Float32Array(g.n * g.cout * g.oh * g.ow), dy = random(y.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
      const xs = bodies.map((body) => [body.resident(x), body.resident(dy)] as const);
      const key = `${s.batch},${s.cin},${s.hw},${s.k}`, reps = s.cin > 16 ? 9 : 31;
      const fwd = time(`fwd ${key}`, convFlops(g), (i) => bodies[i]!.kernels.conv2dForward(xs[i]![0], w, y, g), reps);
      const all = time(`fwdbwd ${key}`, 3 * convFlops(g), (i) => {
        const K = bodies[i]!.kernels, [rx, rdy] = xs[i]!;
        K.conv2dForward(rx, w, y, g); K.conv2dBackwardInput(rdy, w, dx, g); K.conv2dBackwardWeight(rx, rdy, dw, g, 0);
      }, 5);
      row('conv2d_fwd', { ...s }, `fwd ${key}`, fwd);
      row('conv2d_fwd_bwd', { ...s }, `fwdbwd ${key}`, all);
    }
    for (const [key, gf] of tf) emit({ anchor: 'tfjs-wasm', bench: key === 'gemm' ? 'gemm' : 'conv2d_fwd', shape: key, threads: 1, timed_with_threads: t, gflops: round(gf, 2) });
    setThreads(1);
    return { ours, tf, vsAnchor, bodies: bodies.map((b) => b.body) };
  });
}

/**
 * Spike kernels beside the dense kernel of the same shape, at several densities. `arrays`: 'workspace' puts
 * activations and gradients in lent wasm memory as training and evaluation do (weights stay plain arrays, as
 * parameters are); 'plain' passes JavaScript arrays, so every call also copies them in and out.
 */
function spikeBench(threads: number, arrays: 'workspace' | 'plain'): void {
  setThreads(threads);
  const alloc = arrays === 'workspace' ? floatsFor : (n: number) => new Float32Array(n);
  const fill = (n: number, f: () => number): Float32Array => { const a = alloc(n); for (let i = 0; i < n; i++) a[i] = f(); return a; };
  const K = kernels(), t = backendInfo().threads, [m, k, n] = [512, 256, 256];
  const w = random(n * k), y = alloc(m * n), dy = fill(m * n, () => Math.random() * 2 - 1), dw = new Float32Array(n * k);
  // the convolution shapes: LeNet's second layer always; the 64-channel layer with workspace arrays only (slow)
  const convs = CONV_SHAPES.filter((_, i) => i === 0 || arrays === 'workspace').map((shape) => {
    const g = geomOf(shape), wc = random(g.cout * g.cin * g.kh * g.kw), yc = alloc(g.n * g.cout * g.oh * g.ow);
    return { shape, g, wc, yc, dyc: fill(yc.length, () => Math.random() * 2 - 1), dwc: new Float32Array(wc.length) };
  });
  // spike and dense kernel timed in turns: median times, and the speedup as the median of the turns' ratios
  const pair = (spike: () => void, dense: () => void, reps = 21): [number, number, number] => {
    const [sp, de] = turnTimes([spike, dense], reps) as [number[], number[]];
    return [median(sp), median(de), median(sp.map((ms, r) => de[r]! / ms))];
  };
  for (const density of [0.05, 0.1, 0.2, 0.3, 0.5]) {
    const bit = (): number => (Math.random() < density ? 1 : 0);
    const s = fill(m * k, bit);
    const rows: [string, [number, number, number], Row][] = [
      ['spike_linear', pair(() => K.spikeLinear(s, w, y, m, n, k), () => K.gemm(s, w, y, m, n, k, false, true, 0)), { m, k, n }],
      ['spike_linear_bwd_weight', pair(() => K.spikeLinearBackwardWeight(s, dy, dw, m, n, k, 0),
        () => K.gemm(dy, s, dw, n, k, m, true, false, 0)), { m, k, n }],
    ];
    for (const { shape, g, wc, yc, dyc, dwc } of convs) {
      const sc = fill(g.n * g.cin * g.h * g.w, bit), reps = shape.cin > 16 ? 7 : 21;
      rows.push(['spike_conv2d', pair(() => K.spikeConv2dForward(sc, wc, yc, g), () => K.conv2dForward(sc, wc, yc, g), reps), { ...shape }]);
      rows.push(['spike_conv2d_bwd_weight', pair(() => K.spikeConv2dBackwardWeight(sc, dyc, dwc, g, 0),
        () => K.conv2dBackwardWeight(sc, dyc, dwc, g, 0), reps), { ...shape }]);
    }
    for (const [bench, [ms, dense, speedup], shape] of rows) {
      emit({ bench, ...shape, backend: 'wasm', body: backendInfo().body, threads: t, arrays, density, ms: round(ms), dense_ms: round(dense), speedup_vs_dense: round(speedup, 2) });
    }
  }
}

/**
 * tfjs's WebAssembly backend (XNNPACK, SIMD, one thread in Node) on the same shapes, in this process: one
 * call per bench key, timed by denseBench in turns with ours. Returns the calls, or a skipped line.
 */
async function tfjsAnchor(): Promise<AnchorCalls | Row> {
  const calls: AnchorCalls = new Map();
  let tf: typeof import('@tensorflow/tfjs-core');
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
    await tf.ready();
  } catch (e) {
    return { anchor: 'tfjs-wasm', skipped: String((e as Error).message ?? e).split('\n')[0]! };
  }
  const { m, k, n } = GEMM, a = tf.randomUniform([m, k]), b = tf.randomUniform([k, n]);
  // (tf.tidy around dataSync made each call much slower, so tensors are disposed by hand)
  calls.set('gemm', () => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); });
  for (const s of CONV_SHAPES) {
    const x = tf.randomUniform([s.batch, s.hw, s.hw, s.cin]) as import('@tensorflow/tfjs-core').Tensor4D;
    const w = tf.randomUniform([s.k, s.k, s.cin, s.cout]) as import('@tensorflow/tfjs-core').Tensor4D;
    calls.set(`fwd ${s.batch},${s.cin},${s.hw},${s.k}`, () => { const y = tf.conv2d(x, w, 1, s.pad ? 'same' : 'valid'); y.dataSync(); y.dispose(); });
  }
  return calls;
}

/** PyTorch's figures from the anchor script beside the repository, or a skipped line. */
function torchAnchor(): Row[] {
  const script = fileURLToPath(new URL('../../../shared/anchors/torch_kernels.py', import.meta.url));
  const python = '/usr/bin/python3';
  if (!existsSync(script) || !existsSync(python)) {
    emit({ anchor: 'torch', skipped: `${existsSync(script) ? python : script} not found` });
    return [];
  }
  const r = spawnSync(python, [script, '--threads', '2'], { encoding: 'utf8', timeout: 600_000 });
  const rows = r.status === 0 ? r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Row) : [];
  if (rows.length === 0) {
    emit({ anchor: 'torch', skipped: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop() ?? 'no output' });
  }
  rows.forEach(emit);
  return rows;
}

/** Runs the whole engine benchmark. */
export async function runEngineBench(): Promise<void> {
  setBackend('wasm');
  const anchor = await tfjsAnchor();
  if (!(anchor instanceof Map)) emit(anchor);
  const calls: AnchorCalls = anchor instanceof Map ? anchor : new Map();
  const one = denseBench(1, calls), dense = [one, denseBench(2, calls, one.ours)];
  for (const arrays of ['workspace', 'plain'] as const) {
    workspace(() => { spikeBench(1, arrays); spikeBench(2, arrays); });
  }
  setThreads(1);
  const torch = torchAnchor();
  const ratio = (name: string, threads: number, value: number | undefined, extra: Row = {}): void => {
    if (value !== undefined && Number.isFinite(value)) emit({ ratio: name, threads, ...extra, value: round(value, 3) });
  };
  const torchGflops = (bench: string, s?: ConvShape): number | undefined =>
    torch.find((r) => r.bench === bench && (s === undefined || (r.batch === s.batch && r.k === s.k)))?.gflops as number | undefined;
  dense.forEach(({ ours, vsAnchor, bodies }, i) => {
    const threads = i + 1;
    for (const body of bodies) {
      const o = (key: string): number => ours.get(`${body} ${key}`)!;
      ratio('gemm_vs_tfjs_wasm', threads, vsAnchor.get(`${body} gemm`), { body });
      ratio('gemm_vs_torch', threads, o('gemm') / (torchGflops('gemm') ?? NaN), { body });
      for (const s of CONV_SHAPES) {
        const key = `${s.batch},${s.cin},${s.hw},${s.k}`, shape = { body, batch: s.batch, cin: s.cin, hw: s.hw, k: s.k };
        ratio('conv2d_fwd_vs_tfjs_wasm', threads, vsAnchor.get(`${body} fwd ${key}`), shape);
        ratio('conv2d_fwd_vs_torch', threads, o(`fwd ${key}`) / (torchGflops('conv2d_fwd', s) ?? NaN), shape);
        ratio('conv2d_fwd_bwd_vs_torch', threads, o(`fwdbwd ${key}`) / (torchGflops('conv2d_fwd_bwd', s) ?? NaN), shape);
      }
    }
  });
}
