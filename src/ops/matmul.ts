/**
 * Matrix products: matmul (2-d, batched 3-d, or N-d times a 2-d matrix) and linear (x·wᵀ + b).
 * A linear layer fed by spikes (x.binary) uses the spike kernels when the measured density pays.
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import { floatsFor } from '../tensor/storage.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { kernels, preferSpike, spikeDensity } from '../backends/index.js';

const last = (s: Shape, k = 1): number => s[s.length - k]!;

/**
 * a [..., m, k] · b [..., k, n]. b may be 2-d (shared by every leading index of a), or both may
 * be 3-d with the same batch size.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2) throw new EdgespikeError(`matmul: needs rank ≥ 2 operands, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const m = last(a.shape, 2), k = last(a.shape), n = last(b.shape);
  if (last(b.shape, 2) !== k) throw new EdgespikeError(`matmul: inner sizes differ: ${fmtShape(a.shape)} · ${fmtShape(b.shape)}`);
  const K = kernels();
  if (b.rank === 2) {
    const rows = a.size / k;
    const c = new Float32Array(rows * n);
    K.gemm(a.data, b.data, c, rows, n, k, false, false, 0);
    const out = new Tensor(c, [...a.shape.slice(0, -1), n]);
    return record(out, 'matmul', [a, b], (g) => {
      if (a.requiresGrad) { const ga = new Float32Array(a.size); K.gemm(g, b.data, ga, rows, k, n, false, true, 0); accumulateOwned(a, ga); }
      if (b.requiresGrad) { const gb = new Float32Array(b.size); K.gemm(a.data, g, gb, k, n, rows, true, false, 0); accumulateOwned(b, gb); }
    });
  }
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0]) {
    throw new EdgespikeError(`matmul: batched operands must both be [B, m, k] and [B, k, n], got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const B = a.shape[0]!;
  const c = new Float32Array(B * m * n);
  const sa = m * k, sb = k * n, sc = m * n;
  for (let i = 0; i < B; i++) {
    K.gemm(a.data.subarray(i * sa, i * sa + sa), b.data.subarray(i * sb, i * sb + sb), c.subarray(i * sc, i * sc + sc), m, n, k, false, false, 0);
  }
  const out = new Tensor(c, [B, m, n]);
  return record(out, 'matmul', [a, b], (g) => {
    const ga = a.requiresGrad ? new Float32Array(a.size) : null;
    const gb = b.requiresGrad ? new Float32Array(b.size) : null;
    for (let i = 0; i < B; i++) {
      const gi = g.subarray(i * sc, i * sc + sc);
      if (ga) K.gemm(gi, b.data.subarray(i * sb, i * sb + sb), ga.subarray(i * sa, i * sa + sa), m, k, n, false, true, 0);
      if (gb) K.gemm(a.data.subarray(i * sa, i * sa + sa), gi, gb.subarray(i * sb, i * sb + sb), k, n, m, true, false, 0);
    }
    if (ga) accumulateOwned(a, ga);
    if (gb) accumulateOwned(b, gb);
  });
}

/**
 * Fully connected layer: x [..., in] · wᵀ + b with w [out, in] and b [out] (optional).
 * When x is known binary (spikes) and sparse enough, only the weights of active inputs are summed.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  if (w.rank !== 2) throw new EdgespikeError(`linear: weight must be [out, in], got ${fmtShape(w.shape)}`);
  const [nOut, nIn] = w.shape as [number, number];
  if (x.rank < 1 || last(x.shape) !== nIn) throw new EdgespikeError(`linear: input must be [..., ${nIn}], got ${fmtShape(x.shape)}`);
  if (b && (b.rank !== 1 || b.shape[0] !== nOut)) throw new EdgespikeError(`linear: bias must be [${nOut}], got ${fmtShape(b.shape)}`);
  const K = kernels();
  const rows = x.size / nIn;
  const y = floatsFor(rows * nOut);
  const spikes = x.binary && preferSpike('linear', x.density ?? spikeDensity(x.data));
  if (spikes) K.spikeLinear(x.data, w.data, y, rows, nOut, nIn);
  else K.gemm(x.data, w.data, y, rows, nOut, nIn, false, true, 0);
  if (b) K.biasAdd(y, b.data, y, rows, nOut, 1);
  const out = new Tensor(y, [...x.shape.slice(0, -1), nOut]);
  const inputs = b ? [x, w, b] : [x, w];
  return record(out, spikes ? 'linear(spike)' : 'linear', inputs, (g) => {
    if (x.requiresGrad) { const gx = floatsFor(x.size); K.gemm(g, w.data, gx, rows, nIn, nOut, false, false, 0); accumulateOwned(x, gx); }
    if (w.requiresGrad) {
      const gw = new Float32Array(w.size);
      if (spikes) K.spikeLinearBackwardWeight(x.data, g, gw, rows, nOut, nIn, 0);
      else K.gemm(g, x.data, gw, nOut, nIn, rows, true, false, 0);
      accumulateOwned(w, gw);
    }
    if (b && b.requiresGrad) { const gb = new Float32Array(nOut); K.biasGrad(g, gb, rows, nOut, 1, 0); accumulateOwned(b, gb); }
  });
}
