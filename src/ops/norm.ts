/**
 * Batch normalisation over the channel axis 1 of [N, C], [N, C, L] or [N, C, H, W]. Training uses
 * batch statistics (biased variance to normalise, unbiased for the running estimate, as PyTorch);
 * evaluation uses the running statistics.
 */
import { Tensor } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import { floatsFor } from '../tensor/storage.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';

/** Running statistics a batch-norm layer owns (updated in place during training). */
export interface BatchNormState {
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
}

/** Options of batchNorm. */
export interface BatchNormOptions {
  readonly training: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  readonly momentum?: number;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/** y = γ·(x − μ)/√(σ² + ε) + β per channel; γ and β [C] are optional (no affine). */
export function batchNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, st: BatchNormState, opts: BatchNormOptions): Tensor {
  if (x.rank < 2 || x.rank > 4) throw new EdgespikeError(`batchNorm: input must be [N, C], [N, C, L] or [N, C, H, W], got ${fmtShape(x.shape)}`);
  const n = x.shape[0]!, c = x.shape[1]!, inner = x.size / (n * c), m = n * inner;
  for (const [name, t] of [['weight', gamma], ['bias', beta]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) throw new EdgespikeError(`batchNorm: ${name} must be [${c}], got ${fmtShape(t.shape)}`);
  }
  if (st.runningMean.length !== c || st.runningVar.length !== c) throw new EdgespikeError(`batchNorm: running statistics have ${st.runningMean.length} channels, input has ${c}`);
  const eps = opts.eps ?? 1e-5, mom = opts.momentum ?? 0.1;
  const X = x.data;
  const mu = new Float64Array(c), invStd = new Float64Array(c);
  if (opts.training) {
    if (m < 2) throw new EdgespikeError(`batchNorm: training needs more than one value per channel, got input ${fmtShape(x.shape)}`);
    for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
      const o = (b * c + ch) * inner; let s = 0;
      for (let i = 0; i < inner; i++) s += X[o + i]!;
      mu[ch]! += s;
    }
    for (let ch = 0; ch < c; ch++) mu[ch]! /= m;
    const v = new Float64Array(c);
    for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
      const o = (b * c + ch) * inner, mc = mu[ch]!; let s = 0;
      for (let i = 0; i < inner; i++) { const d = X[o + i]! - mc; s += d * d; }
      v[ch]! += s;
    }
    for (let ch = 0; ch < c; ch++) {
      const biased = v[ch]! / m;
      invStd[ch] = 1 / Math.sqrt(biased + eps);
      st.runningMean[ch] = (1 - mom) * st.runningMean[ch]! + mom * mu[ch]!;
      st.runningVar[ch] = (1 - mom) * st.runningVar[ch]! + mom * (v[ch]! / (m - 1));
    }
  } else {
    for (let ch = 0; ch < c; ch++) { mu[ch] = st.runningMean[ch]!; invStd[ch] = 1 / Math.sqrt(st.runningVar[ch]! + eps); }
  }
  const xhat = floatsFor(x.size), y = floatsFor(x.size);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
    const o = (b * c + ch) * inner, mc = mu[ch]!, is = invStd[ch]!;
    const gm = gamma ? gamma.data[ch]! : 1, bt = beta ? beta.data[ch]! : 0;
    for (let i = 0; i < inner; i++) { const h = (X[o + i]! - mc) * is; xhat[o + i] = h; y[o + i] = gm * h + bt; }
  }
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  return record(new Tensor(y, x.shape), 'batchNorm', inputs, (g) => {
    const sg = new Float64Array(c), sgx = new Float64Array(c);
    for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
      const o = (b * c + ch) * inner; let s1 = 0, s2 = 0;
      for (let i = 0; i < inner; i++) { s1 += g[o + i]!; s2 += g[o + i]! * xhat[o + i]!; }
      sg[ch]! += s1; sgx[ch]! += s2;
    }
    if (gamma?.requiresGrad) accumulateOwned(gamma, Float32Array.from(sgx));
    if (beta?.requiresGrad) accumulateOwned(beta, Float32Array.from(sg));
    if (!x.requiresGrad) return;
    const gx = floatsFor(x.size);
    for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
      const o = (b * c + ch) * inner, gm = gamma ? gamma.data[ch]! : 1, is = invStd[ch]!;
      if (opts.training) {
        const a = sg[ch]! / m, bb = sgx[ch]! / m;
        for (let i = 0; i < inner; i++) gx[o + i] = gm * is * (g[o + i]! - a - xhat[o + i]! * bb);
      } else {
        for (let i = 0; i < inner; i++) gx[o + i] = gm * is * g[o + i]!;
      }
    }
    accumulateOwned(x, gx);
  });
}
