/**
 * EC-SNN's fusion (seed §1.3, §1.5 D): the sub-models, frozen and cut at their features (the head's
 * flatten), feed their spikes, concatenated, to an MLP without activations (no biases in the SNN):
 *   Linear(D, 384·P) → Dropout .5 → Linear(384·P, 192·P) → Dropout .5 → Linear(192·P, 10·P) → Linear(10·P, classes)
 * run per step; trained on the full data set with the per-step cross-entropy, the prediction the mean of
 * the per-step logits. Optionally whole sub-models' features are dropped at random while it trains, so
 * that it answers sensibly when a device is missing.
 */
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../tensor/tape.js';
import { workspace } from '../tensor/storage.js';
import * as op from '../ops/index.js';
import { argmaxRows } from '../ops/reduce.js';
import { Rng } from '../data/rng.js';
import { makeBatch } from '../data/batch.js';
import type { Dataset } from '../data/dataset.js';
import { parseSpec } from '../notation/parse.js';
import type { ModelSpec } from '../notation/spec.js';
import { SpikingNet } from '../layers/net.js';
import { Optimizer, scheduledLr } from '../train/optim.js';
import { lossOf } from '../train/loss.js';
import { Progress } from '../train/progress.js';
import { EdgespikeError } from '../util/errors.js';

/** A sub-model as the fusion sees it: the network and the node whose output is its features. */
export interface FeatureSource {
  readonly net: SpikingNet;
  readonly featureNode: string;
}

/** The fusion MLP for P sub-models (check number #8: D·384P + 384P·192P + 192P·10P + 10P·classes weights). */
export function fusionSpec(P: number, classes: number): ModelSpec {
  return parseSpec(`${384 * P}l-D0.5-${192 * P}l-D0.5-${10 * P}l-${classes}`);
}

/** The fusion network on D features per step, T steps (features arrive over time), no biases. */
export function buildFusion(P: number, D: number, classes: number, T: number, seed: number): SpikingNet {
  return new SpikingNet(fusionSpec(P, classes), { input: [D], T, encoder: { kind: 'direct' }, readout: 'mean', readoutBeta: 0.9, seed });
}

/** Features per step of each sub-model, [T, N, F_i] (spikes), for a batch of data x. */
export function subFeatures(subs: readonly FeatureSource[], x: Tensor): Tensor[] {
  return noGrad(() => subs.map((s) => {
    const r = s.net.run(x, { training: false, to: s.featureNode });
    if (r.form !== 'time') throw new EdgespikeError(`fusion: the features of "${s.featureNode}" do not vary over time (no neuron before them)`);
    const [T, N] = r.x.shape as [number, number];
    return op.reshape(r.x, [T, N, r.x.size / (T * N)]);
  }));
}

/** Concatenates per-sub-model features [T, N, F_i] into [T, N, D]; `missing` sub-models give zeros. */
export function concatFeatures(parts: readonly Tensor[], missing: ReadonlySet<number> = new Set()): Tensor {
  const ts = parts.map((p, i) => (missing.has(i) ? new Tensor(new Float32Array(p.size), p.shape) : p));
  const out = op.concat(ts, 2);
  out.binary = ts.every((t) => t.binary || missing.has(ts.indexOf(t)));
  return out;
}

/** Options of trainFusion. */
export interface FusionOptions {
  readonly epochs: number;
  readonly lr: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Probability that one sub-model's features are dropped (zeroed) for a batch while training. */
  readonly dropDevices?: number;
  readonly progress?: boolean;
}

/**
 * Trains the fusion on `data` (the full data set, all classes) with frozen sub-models: Adam, cosine
 * schedule, the mean over steps of the per-step cross-entropy. Returns the test accuracy after each epoch.
 */
export function trainFusion(fusion: SpikingNet, subs: readonly FeatureSource[], data: Dataset, test: Dataset | null, o: FusionOptions): number[] {
  const opt = new Optimizer(fusion.parameters(), { kind: 'adam', lr: o.lr });
  const rng = new Rng(o.seed), schedule = { kind: 'cosine', epochs: o.epochs } as const;
  const history: number[] = [];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = rng.permutation(data.length);
    const bar = o.progress ? new Progress(`fusion ${epoch + 1}/${o.epochs}`, data.length) : null;
    const t0 = performance.now();
    let lossSum = 0, correct = 0, seen = 0;
    for (let b = 0; b < data.length; b += o.batchSize) {
      opt.lr = scheduledLr(schedule, o.lr, epoch + b / data.length);
      const { x, y } = makeBatch(data, order, b, Math.min(data.length, b + o.batchSize));
      const r = workspace(() => {
        const parts = subFeatures(subs, x);
        const missing = new Set<number>();
        if (o.dropDevices && subs.length > 1 && rng.float() < o.dropDevices) missing.add(Math.floor(rng.float() * subs.length));
        const out = fusion.forward(concatFeatures(parts, missing), { training: true, rng, form: 'time' });
        const loss = lossOf(out, y, { kind: 'tet', lambda: 0 });
        opt.zeroGrad();
        loss.backward();
        return { loss: loss.item(), pred: argmaxRows(out.logits) };
      });
      opt.step();
      lossSum += r.loss * y.length; seen += y.length;
      for (let i = 0; i < y.length; i++) if (r.pred[i] === y[i]) correct++;
      bar?.update(seen, { loss: lossSum / seen, acc: correct / seen, rate: seen / ((performance.now() - t0) / 1000) });
    }
    bar?.stop();
    if (test) history.push(fusedAccuracy(fusion, subs, test));
  }
  return history;
}

/** Accuracy of the fused network on `data`, with the sub-models in `missing` answering zeros. */
export function fusedAccuracy(fusion: SpikingNet, subs: readonly FeatureSource[], data: Dataset, missing: ReadonlySet<number> = new Set(), batchSize = 250): number {
  let correct = 0;
  noGrad(() => {
    for (let b = 0; b < data.length; b += batchSize) {
      const { x, y } = makeBatch(data, null, b, Math.min(data.length, b + batchSize));
      const pred = workspace(() => argmaxRows(fusion.forward(concatFeatures(subFeatures(subs, x), missing), { training: false, form: 'time' }).logits));
      for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) correct++;
    }
  });
  return data.length ? correct / data.length : 0;
}

/** The fusion's weight count for P sub-models with D features in total (check number #8). */
export function fusionWeights(P: number, D: number, classes: number): number {
  return D * 384 * P + 384 * P * 192 * P + 192 * P * 10 * P + 10 * P * classes;
}

