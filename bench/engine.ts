/**
 * Kernel speed: GEMM, convolutions and spike kernels of the wasm backend on 1 and 2 threads, the anchors
 * (tfjs WebAssembly backend in this process, PyTorch in a child process) and ratio lines, as JSON lines.
 * Each figure is the median of several timed calls after a warm-up call.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kernels, setBackend, setThreads, backendInfo } from '../src/backends/index.js';
import { outSize, type ConvGeom } from '../src/kernels/contract.js';

type Row = Record<string, string | number | boolean>;

/** Prints one JSON line. */
export const emit = (row: Row): void => { process.stdout.write(`${JSON.stringify(row)}\n`); };

/** Median milliseconds of `reps` calls of f after one warm-up call. */
export function medianMs(f: () => void, reps = 7): number {
  f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b);
  return ts[reps >> 1];
}

const round = (v: number, d = 3): number => Number(v.toFixed(d));
const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const binary = (n: number, density: number): Float32Array => Float32Array.from({ length: n }, () => (Math.random() < density ? 1 : 0));

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

/** GEMM and convolutions on the wasm backend at `threads`; returns gflops by bench key. */
function denseBench(threads: number): Map<string, number> {
  setThreads(threads);
  const got = new Map<string, number>(), K = kernels(), t = backendInfo().threads;
  const { m, k, n } = GEMM, a = random(m * k), b = random(k * n), c = new Float32Array(m * n);
  const ms = medianMs(() => K.gemm(a, b, c, m, n, k, false, false, 0));
  got.set('gemm', 2 * m * n * k / ms / 1e6);
  emit({ bench: 'gemm', m, k, n, backend: 'wasm', threads: t, ms: round(ms), gflops: round(got.get('gemm')!, 2) });
  for (const s of CONV_SHAPES) {
    const g = geomOf(s), x = random(g.n * g.cin * g.h * g.w), w = random(g.cout * g.cin * g.kh * g.kw);
    const y = new Float32Array(g.n * g.cout * g.oh * g.ow), dy = random(y.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
    const fwd = medianMs(() => K.conv2dForward(x, w, y, g), 5);
    const all = medianMs(() => { K.conv2dForward(x, w, y, g); K.conv2dBackwardInput(dy, w, dx, g); K.conv2dBackwardWeight(x, dy, dw, g, 0); }, 5);
    const key = `${s.batch},${s.cin},${s.hw},${s.k}`;
    got.set(`fwd ${key}`, convFlops(g) / fwd / 1e6);
    got.set(`fwdbwd ${key}`, 3 * convFlops(g) / all / 1e6);
    emit({ bench: 'conv2d_fwd', ...s, backend: 'wasm', threads: t, ms: round(fwd), gflops: round(got.get(`fwd ${key}`)!, 2) });
    emit({ bench: 'conv2d_fwd_bwd', ...s, backend: 'wasm', threads: t, ms: round(all), gflops: round(got.get(`fwdbwd ${key}`)!, 2) });
  }
  return got;
}

/** Spike kernels beside the dense kernel of the same shape, at several densities. */
function spikeBench(threads: number): void {
  setThreads(threads);
  const K = kernels(), t = backendInfo().threads, [m, k, n] = [512, 256, 256];
  const w = random(n * k), y = new Float32Array(m * n), dy = random(m * n), dw = new Float32Array(n * k);
  const g = geomOf(CONV_SHAPES[0]), wc = random(g.cout * g.cin * g.kh * g.kw), yc = new Float32Array(g.n * g.cout * g.oh * g.ow);
  const dyc = random(yc.length), dwc = new Float32Array(wc.length);
  for (const density of [0.05, 0.1, 0.2, 0.3, 0.5]) {
    const s = binary(m * k, density), sc = binary(g.n * g.cin * g.h * g.w, density);
    const rows: [string, number, number, Row][] = [
      ['spike_linear', medianMs(() => K.spikeLinear(s, w, y, m, n, k)), medianMs(() => K.gemm(s, w, y, m, n, k, false, true, 0)), { m, k, n }],
      ['spike_linear_bwd_weight', medianMs(() => K.spikeLinearBackwardWeight(s, dy, dw, m, n, k, 0)),
        medianMs(() => K.gemm(dy, s, dw, n, k, m, true, false, 0)), { m, k, n }],
      ['spike_conv2d', medianMs(() => K.spikeConv2dForward(sc, wc, yc, g)), medianMs(() => K.conv2dForward(sc, wc, yc, g)), { ...CONV_SHAPES[0] }],
      ['spike_conv2d_bwd_weight', medianMs(() => K.spikeConv2dBackwardWeight(sc, dyc, dwc, g, 0)),
        medianMs(() => K.conv2dBackwardWeight(sc, dyc, dwc, g, 0)), { ...CONV_SHAPES[0] }],
    ];
    for (const [bench, ms, dense, shape] of rows) {
      emit({ bench, ...shape, backend: 'wasm', threads: t, density, ms: round(ms), dense_ms: round(dense), speedup_vs_dense: round(dense / ms, 2) });
    }
  }
}

/** tfjs's WebAssembly backend (XNNPACK, SIMD, one thread in Node) on the same shapes, in this process. */
async function tfjsAnchor(): Promise<{ rows: Row[]; gflops: Map<string, number> }> {
  const gflops = new Map<string, number>(), rows: Row[] = [];
  let tf: typeof import('@tensorflow/tfjs-core');
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
    await tf.ready();
  } catch (e) {
    return { rows: [{ anchor: 'tfjs-wasm', skipped: String((e as Error).message ?? e).split('\n')[0] }], gflops };
  }
  const { m, k, n } = GEMM, a = tf.randomUniform([m, k]), b = tf.randomUniform([k, n]);
  // (tf.tidy around dataSync made each call much slower, so tensors are disposed by hand)
  const ms = medianMs(() => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); });
  gflops.set('gemm', 2 * m * k * n / ms / 1e6);
  rows.push({ anchor: 'tfjs-wasm', bench: 'gemm', m, k, n, threads: 1, ms: round(ms), gflops: round(gflops.get('gemm')!, 2) });
  a.dispose(); b.dispose();
  for (const s of CONV_SHAPES) {
    const x = tf.randomUniform([s.batch, s.hw, s.hw, s.cin]) as import('@tensorflow/tfjs-core').Tensor4D;
    const w = tf.randomUniform([s.k, s.k, s.cin, s.cout]) as import('@tensorflow/tfjs-core').Tensor4D;
    const t = medianMs(() => { const y = tf.conv2d(x, w, 1, s.pad ? 'same' : 'valid'); y.dataSync(); y.dispose(); }, 5);
    const key = `fwd ${s.batch},${s.cin},${s.hw},${s.k}`;
    gflops.set(key, convFlops(geomOf(s)) / t / 1e6);
    rows.push({ anchor: 'tfjs-wasm', bench: 'conv2d_fwd', ...s, layout: 'NHWC', threads: 1, ms: round(t), gflops: round(gflops.get(key)!, 2) });
    x.dispose(); w.dispose();
  }
  return { rows, gflops };
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
  const ours = [denseBench(1), denseBench(2)];
  spikeBench(1);
  spikeBench(2);
  setThreads(1);
  const tf = await tfjsAnchor();
  tf.rows.forEach(emit);
  const torch = torchAnchor();
  const ratio = (name: string, threads: number, value: number | undefined, extra: Row = {}): void => {
    if (value !== undefined && Number.isFinite(value)) emit({ ratio: name, threads, ...extra, value: round(value, 3) });
  };
  const torchGflops = (bench: string, s?: ConvShape): number | undefined =>
    torch.find((r) => r.bench === bench && (s === undefined || (r.batch === s.batch && r.k === s.k)))?.gflops as number | undefined;
  ours.forEach((got, i) => {
    const threads = i + 1;
    ratio('gemm_vs_tfjs_wasm', threads, got.get('gemm')! / (tf.gflops.get('gemm') ?? NaN));
    ratio('gemm_vs_torch', threads, got.get('gemm')! / (torchGflops('gemm') ?? NaN));
    for (const s of CONV_SHAPES) {
      const key = `${s.batch},${s.cin},${s.hw},${s.k}`, shape = { batch: s.batch, cin: s.cin, hw: s.hw, k: s.k };
      ratio('conv2d_fwd_vs_tfjs_wasm', threads, got.get(`fwd ${key}`)! / (tf.gflops.get(`fwd ${key}`) ?? NaN), shape);
      ratio('conv2d_fwd_vs_torch', threads, got.get(`fwd ${key}`)! / (torchGflops('conv2d_fwd', s) ?? NaN), shape);
      ratio('conv2d_fwd_bwd_vs_torch', threads, got.get(`fwdbwd ${key}`)! / (torchGflops('conv2d_fwd_bwd', s) ?? NaN), shape);
    }
  });
}
