/**
 * Training by backpropagation through time: seeded shuffling, augmentation, the optimizer and its
 * schedule, gradient clipping, a progress bar, one JSON line per epoch in a log, a checkpoint every
 * epoch, and resume that gives exactly the weights of an uninterrupted run.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { noGrad } from '../tensor/tape.js';
import { workspace } from '../tensor/storage.js';
import { argmaxRows } from '../ops/reduce.js';
import { Rng } from '../data/rng.js';
import type { Dataset } from '../data/dataset.js';
import type { AugmentOptions } from '../data/augment.js';
import { makeBatch } from '../data/batch.js';
import { EdgespikeError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { fsError } from '../util/fsx.js';
import { canonicalJson } from '../graph/graph.js';
import { loadCheckpoint, saveCheckpoint, type FloatTensor } from '../io/model-file.js';
import type { SpikingNet } from '../layers/net.js';
import { Optimizer, clipGradNorm, scheduledLr, type OptimConfig, type Schedule } from './optim.js';
import { lossOf, type LossSpec } from './loss.js';
import { netArrays, loadNetArrays } from './model-file.js';
import { Progress } from './progress.js';

/** Everything that defines a training run. */
export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optim: OptimConfig;
  readonly schedule: Schedule;
  readonly loss: LossSpec;
  /** LT-SNN averaged-threshold variant: TET's φ follows the mean learnable threshold after every batch. */
  readonly phiFromThreshold?: boolean;
  readonly clip?: number;
  readonly seed: number;
  readonly augment?: AugmentOptions;
  /** Append one JSON line per epoch here. */
  readonly logPath?: string;
  /** Write a checkpoint here after every epoch. */
  readonly checkpointPath?: string;
  /** Continue from checkpointPath if it exists. */
  readonly resume?: boolean;
  /** Show a progress bar on stderr. */
  readonly progress?: boolean;
  /** Stop after this many epochs of this call (the run continues on resume); for tests of resume. */
  readonly stopAfter?: number;
  /** Called after every epoch with its record (the command line prints it at once). */
  readonly onEpoch?: (rec: EpochRecord) => void;
  /** The weight of every neuron layer's firing rate in the loss (a spike-count regularizer). */
  readonly spikeCost?: number;
  /** T per epoch (the last one for the epochs after); the network's own T when absent. */
  readonly timesteps?: readonly number[];
  /**
   * What makes this run this run (model, data, seed, settings): stored in every checkpoint, and a resume
   * from a checkpoint of another run is refused.
   */
  readonly identity?: Readonly<Record<string, unknown>>;
}

/** One epoch's summary, as logged. */
export interface EpochRecord {
  readonly epoch: number;
  readonly lr: number;
  readonly loss: number;
  readonly train_accuracy: number;
  readonly test_accuracy?: number;
  readonly train_samples_per_s: number;
  readonly seconds: number;
}

/** Result of evaluate(). */
export interface EvalResult { readonly accuracy: number; readonly samples: number; readonly seconds: number; readonly samplesPerSecond: number }

/** Accuracy of the net on a data set (no gradients, batches of `batchSize`). */
export function evaluate(net: SpikingNet, d: Dataset, batchSize = 256): EvalResult {
  net.checkMemory(Math.min(batchSize, Math.max(1, d.length)), { training: false, temporal: d.temporal, fix: 'lower --batch-size or --timesteps' });
  let correct = 0;
  // samples/s is the steady rate: one untimed batch first (a fresh process compiles and sizes its memory)
  if (d.length > batchSize) noGrad(() => { const { x } = makeBatch(d, null, 0, batchSize); workspace(() => net.forward(x, { training: false })); });
  const t0 = performance.now();
  noGrad(() => {
    for (let b = 0; b < d.length; b += batchSize) {
      const { x, y } = makeBatch(d, null, b, Math.min(d.length, b + batchSize));
      const pred = workspace(() => argmaxRows(net.forward(x, { training: false }).logits));
      for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) correct++;
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  return { accuracy: d.length ? correct / d.length : 0, samples: d.length, seconds, samplesPerSecond: d.length / Math.max(seconds, 1e-9) };
}

/** Stops training with one line when a step left a parameter NaN or infinite (naming it). */
function checkFinite(net: SpikingNet, epoch: number, batch: number): void {
  for (const [name, t] of net.namedParameters()) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) throw new EdgespikeError(`train: parameter ${name} became ${d[i]} at epoch ${epoch + 1}, batch ${batch} (try a lower learning rate or --clip)`);
    }
  }
}

/** Appends one line to a log; a failure names the file. */
function appendLine(path: string, line: string): void {
  try { appendFileSync(path, line + '\n'); } catch (e) { throw fsError(path, 'append to the log', e); }
}

/** Mean of the learnable thresholds (LT-SNN φ), or undefined when there are none. */
function meanThreshold(net: SpikingNet): number | undefined {
  const th = net.namedParameters().filter(([n]) => n.endsWith('.vth')).map(([, t]) => t.data[0]!);
  return th.length ? th.reduce((a, b) => a + b, 0) / th.length : undefined;
}

interface RunState { epoch: number; rng: Rng; history: EpochRecord[] }

/** The first field in which two run identities differ, for the message. */
function firstDifference(a: Record<string, unknown>, b: Record<string, unknown>): string {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (canonicalJson(a[k]) !== canonicalJson(b[k])) return `${k} ${canonicalJson(a[k])?.slice(0, 60)}, not ${canonicalJson(b[k])?.slice(0, 60)}`;
  }
  return '';
}

function restore(net: SpikingNet, opt: Optimizer, cfg: TrainConfig): RunState | null {
  if (!cfg.resume || !cfg.checkpointPath || !existsSync(cfg.checkpointPath)) return null;
  const { arrays, state } = loadCheckpoint(cfg.checkpointPath);
  if (cfg.identity) {
    const stored = state.identity as Record<string, unknown> | undefined;
    if (!stored) throw new EdgespikeError(`checkpoint ${cfg.checkpointPath}: it does not say which run wrote it; remove it or train without --resume`);
    if (canonicalJson(stored) !== canonicalJson(cfg.identity)) {
      throw new EdgespikeError(`checkpoint ${cfg.checkpointPath}: written by another run (${firstDifference(stored, cfg.identity as Record<string, unknown>)}); remove it or train without --resume`);
    }
  }
  const weights: Record<string, FloatTensor> = {}, moments: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(arrays)) {
    if (k.startsWith('optim.')) moments[k.slice(6)] = v.data; else weights[k] = v;
  }
  loadNetArrays(net, weights, cfg.checkpointPath);
  opt.load(Number(state.step ?? 0), moments);
  if (!Array.isArray(state.rng)) throw new EdgespikeError(`checkpoint ${cfg.checkpointPath}: no generator state`);
  return { epoch: Number(state.epoch), rng: Rng.fromState(state.rng as number[]), history: (state.history as EpochRecord[]) ?? [] };
}

function checkpoint(net: SpikingNet, opt: Optimizer, cfg: TrainConfig, st: RunState): void {
  if (!cfg.checkpointPath) return;
  const arrays = netArrays(net);
  const os = opt.state();
  for (const [k, v] of Object.entries(os.arrays)) arrays[`optim.${k}`] = { shape: [v.length], data: v };
  saveCheckpoint(cfg.checkpointPath, arrays, { epoch: st.epoch, step: os.step, rng: st.rng.state(), history: st.history, ...(cfg.identity ? { identity: cfg.identity } : {}) });
}

/** Trains `net` on `train` (evaluating on `test` after each epoch if given); returns the epoch history. */
export function train(net: SpikingNet, trainSet: Dataset, testSet: Dataset | null, cfg: TrainConfig): EpochRecord[] {
  if (!(Number.isInteger(cfg.epochs) && cfg.epochs >= 1)) throw new EdgespikeError(`train: epochs must be a positive integer, got ${cfg.epochs}`);
  if (!(Number.isInteger(cfg.batchSize) && cfg.batchSize >= 1)) throw new EdgespikeError(`train: batch size must be a positive integer, got ${cfg.batchSize}`);
  if (trainSet.length === 0) throw new EdgespikeError('train: the training set is empty');
  net.checkMemory(Math.min(cfg.batchSize, trainSet.length), { training: true, temporal: trainSet.temporal, fix: 'lower --batch-size or --timesteps' });
  const params = net.parameters();
  const opt = new Optimizer(params, cfg.optim);
  const restored = restore(net, opt, cfg);
  const st: RunState = restored ?? { epoch: 0, rng: new Rng(cfg.seed), history: [] };
  // The log holds exactly the checkpoint's epochs: rewritten from it on resume (a run killed between
  // the checkpoint and the log line loses no epoch and repeats none), emptied on a fresh start.
  if (cfg.logPath) writeFileAtomic(cfg.logPath, st.history.map((r) => JSON.stringify(r) + '\n').join(''));
  let ran = 0;
  while (st.epoch < cfg.epochs && (cfg.stopAfter === undefined || ran < cfg.stopAfter)) {
    const rec = runEpoch(net, trainSet, testSet, cfg, opt, st);
    st.history.push(rec);
    st.epoch++;
    ran++;
    checkpoint(net, opt, cfg, st);
    if (cfg.logPath) appendLine(cfg.logPath, JSON.stringify(rec));
    cfg.onEpoch?.(rec);
  }
  return st.history;
}

function runEpoch(base: SpikingNet, trainSet: Dataset, testSet: Dataset | null, cfg: TrainConfig, opt: Optimizer, st: RunState): EpochRecord {
  const { rng } = st;
  // a T schedule runs this epoch at its own T, on the same tensors
  const T = cfg.timesteps?.[Math.min(st.epoch, cfg.timesteps.length - 1)];
  const net = T !== undefined && T !== base.config.T ? base.withConfig({ T }) : base;
  opt.lr = scheduledLr(cfg.schedule, cfg.optim.lr, st.epoch);
  const order = rng.permutation(trainSet.length);
  const bs = cfg.batchSize, n = trainSet.length;
  const bar = cfg.progress ? new Progress(`epoch ${st.epoch + 1}/${cfg.epochs}`, n) : null;
  let lossSum = 0, correct = 0, seen = 0;
  let phi: number | undefined;
  const t0 = performance.now();
  for (let b = 0; b < n; b += bs) {
    // Cosine anneals every step (fractional epochs); the step schedule changes at epoch boundaries.
    if (cfg.schedule.kind === 'cosine') opt.lr = scheduledLr(cfg.schedule, cfg.optim.lr, st.epoch + b / n);
    const { x, y } = makeBatch(trainSet, order, b, Math.min(n, b + bs), cfg.augment ? { opts: cfg.augment, rng } : undefined);
    // One workspace per step: activations and their gradients reuse the same memory every step.
    const { lossValue, pred } = workspace(() => {
      const out = net.forward(x, { training: true, rng, ...(cfg.spikeCost ? { spikeCost: cfg.spikeCost } : {}) });
      const loss = lossOf(out, y, cfg.loss, cfg.phiFromThreshold ? phi : undefined);
      const lossValue = loss.item();
      if (!Number.isFinite(lossValue)) throw new EdgespikeError(`train: loss became ${lossValue} at epoch ${st.epoch + 1}, batch ${b / bs + 1} (try a lower learning rate)`);
      opt.zeroGrad();
      loss.backward();
      return { lossValue, pred: argmaxRows(out.logits) };
    });
    if (cfg.clip) clipGradNorm(opt.params, cfg.clip);
    opt.step();
    checkFinite(net, st.epoch, b / bs + 1);
    if (cfg.phiFromThreshold) phi = meanThreshold(net);
    for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) correct++;
    lossSum += lossValue * y.length;
    seen += y.length;
    bar?.update(seen, { loss: lossSum / seen, acc: correct / seen, rate: seen / ((performance.now() - t0) / 1000) });
  }
  const seconds = (performance.now() - t0) / 1000;
  bar?.stop();
  const test = testSet ? evaluate(net, testSet) : null;
  return {
    epoch: st.epoch + 1, lr: scheduledLr(cfg.schedule, cfg.optim.lr, st.epoch), loss: lossSum / seen, train_accuracy: correct / seen,
    ...(test ? { test_accuracy: test.accuracy } : {}), train_samples_per_s: seen / seconds, seconds,
  };
}
