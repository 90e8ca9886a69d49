/**
 * `npm run bench -- quant-kernels`: the integer kernels of quantized models (src/kernels/quant.ts) beside the
 * float spike kernels on the same spikes, in the same run: LeNet's spiking layers (16C5 on 12×12, 256→256,
 * 256→10) and VGG-sized 3×3 layers (64 channels on 32×32, 256 on 12×12), at spike rates 10, 20 and 30 %, for
 * ternary, 4- and 8-bit codes. Every line gives the float spike kernel's time, the dense float kernel's (what
 * the float path uses where spikes are dense), the quantized kernel's, and the speedup as the median over
 * turns of the ratio within a turn (turnTimes). `items` is the rows of one call: batch × T, as a net folds time. Activations live in lent wasm memory as in evaluation; weights
 * and codes are plain arrays as parameters are. Then the quantized-membrane neuron beside the float one
 * (neuronLines). One thread unless --threads N.
 */
import { backendInfo, kernels, quantKernels, setBackend, setThreads } from '../src/backends/index.js';
import { outSize, type ConvGeom } from '../src/kernels/contract.js';
import type { QuantBits } from '../src/kernels/quant.js';
import { fillBytes, floatsFor, workspace } from '../src/tensor/storage.js';
import { neuronKernels } from '../src/backends/neuron.js';
import { kernelParams, neuronParams } from '../src/neurons/neuron.js';
import { membraneGrid, zeroLevel } from '../src/neurons/qlif.js';
import { emit } from './engine.js';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const round = (v: number, d = 3): number => Number(v.toFixed(d));
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};

/**
 * Like turnTimes, but each timed call is measured twice: wall milliseconds and the process's CPU milliseconds
 * (user + system). On one thread the CPU time is the call's own work, which other processes on a busy machine
 * do not stretch as they stretch the wall time; the ratios are reported from both.
 */
function turnTimesCpu(fs: readonly (() => void)[], reps: number): { wall: number[][]; cpu: number[][] } {
  for (const f of fs) for (let n = 0, t0 = performance.now(); n < 30 && performance.now() - t0 < 300; n++) f();
  const wall = fs.map((): number[] => []), cpu = fs.map((): number[] => []);
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < fs.length; j++) {
      const i = r % 2 ? fs.length - 1 - j : j;
      fs[i]!();
      // with --gc, a full collection before each timed call, so that no call pays for another's garbage
      if (fullGc) collect();
      const c0 = process.cpuUsage(), t0 = performance.now();
      fs[i]!();
      const t1 = performance.now(), c = process.cpuUsage(c0);
      wall[i]!.push(t1 - t0);
      cpu[i]!.push((c.user + c.system) / 1000);
    }
  }
  return { wall, cpu };
}

v8.setFlagsFromString('--expose-gc');
/** A full garbage collection (V8's gc, exposed above). */
const collect = runInNewContext('gc') as () => void;
const fullGc = process.argv.includes('--gc');

/** Median of the per-turn ratios a[r] / b[r]. */
const ratio = (a: number[], b: number[]): number => round(median(a.map((x, r) => x / b[r]!)), 2);

/** Weight formats: ternary (2-bit codes, |q| ≤ 1), 4- and 8-bit. */
const FORMATS: { weights: string; bits: QuantBits; max: number }[] = [
  { weights: 'ternary', bits: 2, max: 1 }, { weights: '4bit', bits: 4, max: 7 }, { weights: '8bit', bits: 8, max: 127 },
];

/** A benchmarked layer: a convolution (geometry) or a linear one (m×k → n). */
type Layer = { case: string; conv: ConvGeom } | { case: string; linear: { m: number; n: number; k: number } };

function conv(name: string, n: number, cin: number, hw: number, cout: number, k: number, pad: number): Layer {
  const o = outSize(hw, k, 1, pad);
  return { case: name, conv: { n, cin, h: hw, w: hw, cout, kh: k, kw: k, strideH: 1, strideW: 1, padH: pad, padW: pad, groups: 1, oh: o, ow: o } };
}

/** The layers, with the items per call (batch × time steps flattened, as the nets call them). */
function layers(): Layer[] {
  return [
    conv('lenet-conv2', 256, 16, 12, 16, 5, 0), conv('lenet-conv2', 1, 16, 12, 16, 5, 0),
    { case: 'lenet-fc1', linear: { m: 256, n: 256, k: 256 } }, { case: 'lenet-fc1', linear: { m: 1, n: 256, k: 256 } },
    { case: 'lenet-fc2', linear: { m: 256, n: 10, k: 256 } },
    conv('vgg-64c3', 16, 64, 32, 64, 3, 1), conv('vgg-64c3', 1, 64, 32, 64, 3, 1),
    conv('vgg-256c3', 16, 256, 12, 256, 3, 1),
  ];
}

/** Runs the kernel comparison. */
export async function runQuantKernelsBench(): Promise<void> {
  setBackend('wasm');
  setThreads(Number(arg('threads', '1')));
  const K = kernels(), Q = quantKernels(), info = backendInfo();
  workspace(() => {
    for (const layer of layers()) {
      for (const density of [0.1, 0.2, 0.3]) {
        const isConv = 'conv' in layer;
        const [nx, nw, ny, cout] = isConv
          ? [layer.conv.n * layer.conv.cin * layer.conv.h * layer.conv.w, layer.conv.cout * layer.conv.cin * layer.conv.kh * layer.conv.kw,
            layer.conv.n * layer.conv.cout * layer.conv.oh * layer.conv.ow, layer.conv.cout]
          : [layer.linear.m * layer.linear.k, layer.linear.n * layer.linear.k, layer.linear.m * layer.linear.n, layer.linear.n];
        const s = floatsFor(nx), y = floatsFor(ny);
        for (let i = 0; i < nx; i++) s[i] = Math.random() < density ? 1 : 0;
        const scale = Float32Array.from({ length: cout }, () => 0.01 + Math.random() * 0.1);
        const fns: (() => void)[] = [], names: string[] = [];
        for (const f of FORMATS) {
          const q = Int8Array.from({ length: nw }, () => Math.round((Math.random() * 2 - 1) * f.max));
          const per = nw / cout, w = Float32Array.from(q, (c, i) => c * scale[Math.floor(i / per)]!);
          if (names.length === 0) {
            // the float kernels on the same layer (weights scale·q of the first format; their speed does not depend on the values)
            if (isConv) { fns.push(() => K.spikeConv2dForward(s, w, y, layer.conv), () => K.conv2dForward(s, w, y, layer.conv)); }
            else { const { m, n, k } = layer.linear; fns.push(() => K.spikeLinear(s, w, y, m, n, k), () => K.gemm(s, w, y, m, n, k, false, true, 0)); }
            names.push('float_spike', 'float_dense');
          }
          if (isConv) fns.push(() => Q.spikeConv2dQ(s, q, scale, y, layer.conv, f.bits));
          else { const { m, n, k } = layer.linear; fns.push(() => Q.spikeLinearQ(s, q, scale, y, m, n, k, f.bits)); }
          names.push(f.weights);
        }
        const heavy = isConv && layer.conv.n * layer.conv.cin * layer.conv.h * layer.conv.w > 1e6;
        const { wall: ts, cpu } = turnTimesCpu(fns, heavy ? 7 : 15);
        const shape: Record<string, number> = isConv ? { items: layer.conv.n, cin: layer.conv.cin, hw: layer.conv.h, cout: layer.conv.cout, k: layer.conv.kh }
          : { items: layer.linear.m, k: layer.linear.k, n: layer.linear.n };
        for (let j = 2; j < fns.length; j++) {
          emit({
            bench: 'quant-kernels', case: layer.case, ...shape, density, weights: names[j]!, threads: info.threads, body: info.body,
            ms: round(median(ts[j]!), 4), float_spike_ms: round(median(ts[0]!), 4), float_dense_ms: round(median(ts[1]!), 4),
            speedup_vs_float_spike: round(median(ts[j]!.map((t, r) => ts[0]![r]! / t)), 2),
            speedup_vs_float_best: round(median(ts[j]!.map((t, r) => Math.min(ts[0]![r]!, ts[1]![r]!) / t)), 2),
            cpu_ms: round(median(cpu[j]!), 4), cpu_speedup_vs_float_spike: ratio(cpu[0]!, cpu[j]!),
          });
        }
      }
    }
    neuronLines(info);
  });
}

/**
 * qlifForward beside the float LIF kernel (neuronForward, hard reset, no membranes kept) on LeNet's neuron layers
 * (T = 4; the first fed one static frame): membranes of 3 (ternary), 4 and 8 levels (the step path of the wasm
 * body) and 16 (its general path).
 */
function neuronLines(info: ReturnType<typeof backendInfo>): void {
  const K = neuronKernels(), Q = quantKernels(), T = 4, p = neuronParams('lif', { vth: 1, beta: 0.9, fire: '>', reset: 'hard', vReset: 0 });
  const kp = kernelParams(p), grids = [1.58, 2, 3, 4].map((bits) => ({ bits, mq: membraneGrid(bits, 1) }));
  for (const [name, items, perItem, stat] of [['lenet-lif1', 256, 2304, true], ['lenet-lif2', 256, 256, false], ['lenet-lif1', 1, 2304, true],
    ['lenet-lif2', 1, 256, false]] as const) {
    const m = items * perItem, x = floatsFor(stat ? m : T * m), s = floatsFor(T * m), v = floatsFor(m), none = new Float32Array(0);
    for (let i = 0; i < x.length; i++) x[i] = Math.random() * 3 - 1.5;
    // each call starts from a fresh state, as a forward pass does (both reset natively, in lent memory)
    const levels = grids.map(() => { const room = floatsFor(Math.ceil(m / 4)); return new Int8Array(room.buffer, room.byteOffset, m); });
    const fns = [() => { fillBytes(v, 0); K.neuronForward(x, v, s, none, T, m, stat, kp); },
      ...grids.map(({ mq }, g) => () => {
        fillBytes(levels[g]!, zeroLevel(mq) & 0xff);
        Q.qlifForward(x, levels[g]!, s, T, m, stat, { tau: 0.9, thresh: 1, lb: mq.lb, interval: mq.interval, levels: mq.levels });
      })];
    const { wall: ts } = turnTimesCpu(fns, items > 1 ? 15 : 41);
    for (const [g, { bits, mq }] of grids.entries()) {
      emit({
        bench: 'quant-kernels', case: name, items, T, static: stat, membrane_bits: bits, levels: mq.levels, threads: info.threads, body: info.body,
        ms: round(median(ts[g + 1]!), 4), float_neuron_ms: round(median(ts[0]!), 4), speedup_vs_float_neuron: ratio(ts[0]!, ts[g + 1]!),
      });
    }
  }
}

/**
 * `npm run bench -- quant`: end-to-end inference of LeNet on MNIST test images, float against quantized, in the
 * same run. A float LeNet (--model, or one trained here for --train-epochs on --limit images) is quantized
 * with `edgespike quantize` to ternary, 4- and 8-bit weights (first and last layers float, as the papers keep
 * them) with --membrane-bits membranes (default 1.58, ternary) and fine-tuned for --finetune-epochs. For batch
 * 1 and 256, each line gives samples per second of the float model, of the quantized model on the integer
 * runtime, and of the same quantized model on its float path (integer: false), timed in turns, the speedups as
 * medians of the per-turn ratios, and how many of the test images the two paths of the quantized model
 * classify alike. One thread unless --threads N.
 */
export async function runQuantBench(): Promise<void> {
  const { existsSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { runCli } = await import('../src/cli/main.js');
  const { loadNet } = await import('../src/train/model-file.js');
  const { staticDataset } = await import('../src/data/registry.js');
  const { makeBatch } = await import('../src/data/batch.js');
  const { noGrad } = await import('../src/tensor/tape.js');
  const { argmaxRows } = await import('../src/ops/reduce.js');
  setBackend('wasm');
  setThreads(Number(arg('threads', '1')));
  // --dir: where the models go (quantized models already there are reused); default a new temporary folder
  const dir = arg('dir', '') || mkdtempSync(join(tmpdir(), 'edgespike-quant-bench-'));
  const quiet = async (argv: string[]): Promise<void> => {
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    let code: number;
    try { code = await runCli([...argv, '--json']); } finally { process.stdout.write = write; }
    if (code !== 0) throw new Error(`bench quant: edgespike ${argv.join(' ')} exited ${code}`);
  };
  const limit = arg('limit', '6000'), membrane = arg('membrane-bits', '1.58');
  let floatPath = arg('model', '');
  if (!floatPath) {
    floatPath = join(dir, 'lenet.es');
    if (!existsSync(floatPath)) await quiet(['train', '--model', 'lenet', '--dataset', 'mnist', '--epochs', arg('train-epochs', '1'), '--limit', limit, '--test-limit', '500', '--out', floatPath]);
  }
  const float = loadNet(floatPath).net;
  const test = staticDataset('mnist', 'test', {});
  const samples = Number(arg('samples', '512'));
  const { x: all } = makeBatch(test, null, 0, samples);
  const batchOf = (from: number, n: number) => makeBatch(test, null, from, from + n).x;
  const formats = arg('weights', 'ternary,4,8').split(',');
  for (const [weights, bits] of ([['ternary', 'ternary'], ['4bit', '4'], ['8bit', '8']] as const).filter(([, b]) => formats.includes(b))) {
    const qPath = join(dir, `lenet-${bits}.es`);
    if (!existsSync(qPath)) await quiet(['quantize', floatPath, '--weight-bits', bits, '--membrane-bits', membrane, '--finetune-epochs', arg('finetune-epochs', '1'),
      '--limit', limit, '--test-limit', '500', '--out', qPath]);
    const q = loadNet(qPath).net;
    // the two paths of the quantized model on the same images
    const predict = (integer: boolean): Int32Array => noGrad(() => workspace(() => argmaxRows(q.forward(all, { training: false, integer }).logits)));
    const pi = predict(true), pf = predict(false);
    let agree = 0, correct = 0;
    for (let i = 0; i < samples; i++) { if (pi[i] === pf[i]) agree++; if (pi[i] === test.label(i)) correct++; }
    for (const batch of [1, 256]) {
      // each timed call runs `per` batches, so that one call takes long enough to time
      const per = batch === 1 ? 64 : 2, xs = Array.from({ length: per }, (_, i) => batchOf((i * batch) % (test.length - batch), batch));
      const run = (net: typeof q, integer: boolean) => (): void => {
        noGrad(() => { for (const x of xs) workspace(() => { net.forward(x, { training: false, integer }).logits.data[0]; }); });
      };
      setThreads(Number(arg('threads', '1')));
      const reps = Number(arg('reps', '15'));
      const { wall: ts, cpu } = turnTimesCpu([run(float, true), run(q, true)], reps);
      // the quantized model's float path (its membranes in JavaScript, much slower) timed in turns of its own with the integer runtime
      const own = turnTimesCpu([run(q, true), run(q, false)], Math.max(3, reps >> 2));
      ts.push(own.wall[1]!);
      const sps = (t: number[]): number => round((per * batch) / (median(t) / 1000), 1);
      emit({
        bench: 'quant', case: 'lenet', weights, membrane_bits: Number(membrane === 'ternary' ? 1.58 : membrane), batch, T: q.config.T, threads: backendInfo().threads, body: backendInfo().body,
        float_samples_per_s: sps(ts[0]!), quant_samples_per_s: sps(ts[1]!), quant_float_path_samples_per_s: sps(ts[2]!),
        speedup_vs_float: round(median(ts[1]!.map((t, r) => ts[0]![r]! / t)), 2),
        speedup_vs_own_float_path: ratio(own.wall[1]!, own.wall[0]!),
        cpu_float_samples_per_s: sps(cpu[0]!), cpu_quant_samples_per_s: sps(cpu[1]!), cpu_speedup_vs_float: ratio(cpu[0]!, cpu[1]!),
        paths_agree: `${agree}/${samples}`, accuracy: round(correct / samples, 4),
      });
    }
  }
}
