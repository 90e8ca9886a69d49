/**
 * `npm run bench -- quant-kernels`: the integer kernels of quantized models (src/kernels/quant.ts) beside the
 * float spike kernels on the same spikes, in the same run: LeNet's spiking layers (16C5 on 12×12, 256→256,
 * 256→10) and VGG-sized 3×3 layers (64 channels on 32×32, 256 on 12×12), at spike rates 10, 20 and 30 %, for
 * ternary, 4- and 8-bit codes. Every line gives the float spike kernel's time, the dense float kernel's (what
 * the float path uses where spikes are dense), the quantized kernel's, and the speedup as the median over
 * turns of the ratio within a turn (turnTimes). `items` is the rows of one call: batch × T, as a net folds time. Activations live in lent wasm memory as in evaluation; weights
 * and codes are plain arrays as parameters are. One thread unless --threads N.
 */
import { backendInfo, kernels, quantKernels, setBackend, setThreads } from '../src/backends/index.js';
import { outSize, type ConvGeom } from '../src/kernels/contract.js';
import type { QuantBits } from '../src/kernels/quant.js';
import { floatsFor, workspace } from '../src/tensor/storage.js';
import { emit, turnTimes } from './engine.js';

const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const round = (v: number, d = 3): number => Number(v.toFixed(d));
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};

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
        const ts = turnTimes(fns, heavy ? 7 : 15);
        const shape: Record<string, number> = isConv ? { items: layer.conv.n, cin: layer.conv.cin, hw: layer.conv.h, cout: layer.conv.cout, k: layer.conv.kh }
          : { items: layer.linear.m, k: layer.linear.k, n: layer.linear.n };
        for (let j = 2; j < fns.length; j++) {
          emit({
            bench: 'quant-kernels', case: layer.case, ...shape, density, weights: names[j]!, threads: info.threads, body: info.body,
            ms: round(median(ts[j]!), 4), float_spike_ms: round(median(ts[0]!), 4), float_dense_ms: round(median(ts[1]!), 4),
            speedup_vs_float_spike: round(median(ts[j]!.map((t, r) => ts[0]![r]! / t)), 2),
            speedup_vs_float_best: round(median(ts[j]!.map((t, r) => Math.min(ts[0]![r]!, ts[1]![r]!) / t)), 2),
          });
        }
      }
    }
  });
}
