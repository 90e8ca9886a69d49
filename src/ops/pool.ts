/**
 * Pooling over NCHW tensors: max and average (kernels), adaptive average (bins as PyTorch:
 * start = floor(i·H/OH), end = ceil((i+1)·H/OH)). Max pooling keeps spikes binary.
 */
import { Tensor } from '../tensor/tensor.js';
import { accumulateOwned, needsGrad, record } from '../tensor/tape.js';
import { floatsFor, intsFor } from '../tensor/storage.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { kernels } from '../backends/index.js';
import { outSize, type PoolGeom } from '../kernels/contract.js';

/** Pooling window options; stride defaults to the kernel size. */
export interface PoolOptions { readonly stride?: number; readonly padding?: number }

function poolGeom(op: string, x: Tensor, k: number, opts: PoolOptions): PoolGeom {
  if (x.rank !== 4) throw new EdgespikeError(`${op}: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const stride = opts.stride ?? k, pad = opts.padding ?? 0;
  if (!Number.isInteger(k) || k < 1 || stride < 1 || pad < 0 || pad > k / 2) {
    throw new EdgespikeError(`${op}: invalid window ${k}, stride ${stride}, padding ${pad} (padding must be ≤ half the window)`);
  }
  const oh = outSize(h, k, stride, pad), ow = outSize(w, k, stride, pad);
  if (oh < 1 || ow < 1) throw new EdgespikeError(`${op}: window ${k} does not fit input ${h}×${w}`);
  return { n, c, h, w, kh: k, kw: k, strideH: stride, strideW: stride, padH: pad, padW: pad, oh, ow };
}

/** Max pooling with a k×k window. */
export function maxPool2d(x: Tensor, k: number, opts: PoolOptions = {}): Tensor {
  const g = poolGeom('maxPool2d', x, k, opts);
  const K = kernels();
  const n = g.n * g.c * g.oh * g.ow;
  // the argmax only when a gradient may be routed through it
  const y = floatsFor(n), arg = needsGrad(x) ? intsFor(n) : null;
  K.maxPool2dForward(x.data, y, arg, g);
  const out = new Tensor(y, [g.n, g.c, g.oh, g.ow]);
  out.binary = x.binary;
  return record(out, 'maxPool2d', [x], (gy) => {
    const gx = floatsFor(x.size);
    K.maxPool2dBackward(gy, arg!, gx, g);
    accumulateOwned(x, gx);
  });
}

/** Average pooling with a k×k window (padded cells count as zeros). */
export function avgPool2d(x: Tensor, k: number, opts: PoolOptions = {}): Tensor {
  const g = poolGeom('avgPool2d', x, k, opts);
  const K = kernels();
  const y = floatsFor(g.n * g.c * g.oh * g.ow);
  K.avgPool2dForward(x.data, y, g);
  return record(new Tensor(y, [g.n, g.c, g.oh, g.ow]), 'avgPool2d', [x], (gy) => {
    const gx = floatsFor(x.size);
    K.avgPool2dBackward(gy, gx, g);
    accumulateOwned(x, gx);
  });
}

/** Adaptive average pooling to an oh×ow output (oh = ow = 1: global average pooling). */
export function adaptiveAvgPool2d(x: Tensor, oh: number, ow = oh): Tensor {
  if (x.rank !== 4) throw new EdgespikeError(`adaptiveAvgPool2d: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (!Number.isInteger(oh) || !Number.isInteger(ow) || oh < 1 || ow < 1) throw new EdgespikeError(`adaptiveAvgPool2d: output size must be positive integers, got ${oh}×${ow}`);
  const bins = (size: number, o: number) => Array.from({ length: o }, (_, i) => [Math.floor((i * size) / o), Math.ceil(((i + 1) * size) / o)] as const);
  const by = bins(h, oh), bx = bins(w, ow);
  const y = new Float32Array(n * c * oh * ow);
  const X = x.data;
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < oh; i++) {
      const [y0, y1] = by[i]!;
      for (let j = 0; j < ow; j++) {
        const [x0, x1] = bx[j]!;
        let s = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += X[(p * h + yy) * w + xx]!;
        y[(p * oh + i) * ow + j] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return record(new Tensor(y, [n, c, oh, ow]), 'adaptiveAvgPool2d', [x], (gy) => {
    const gx = new Float32Array(x.size);
    for (let p = 0; p < n * c; p++) {
      for (let i = 0; i < oh; i++) {
        const [y0, y1] = by[i]!;
        for (let j = 0; j < ow; j++) {
          const [x0, x1] = bx[j]!;
          const v = gy[(p * oh + i) * ow + j]! / ((y1 - y0) * (x1 - x0));
          for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) gx[(p * h + yy) * w + xx]! += v;
        }
      }
    }
    accumulateOwned(x, gx);
  });
}
