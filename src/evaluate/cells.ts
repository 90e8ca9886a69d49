/**
 * The evaluation harness's unit of work: a cell is one row of the table — a data set, a model (a file, or
 * the recipe trained first) and which components run (dynamic coding, dynamic correction,
 * co-optimization). runCell does the work of one cell and returns its row; the harness (local worker
 * processes, or workers on a queue) decides where cells run, and keeps finished rows so a repeated
 * evaluation does not redo them.
 */
import { EdgespikeError } from '../util/errors.js';
import { spread, stratumIndex, type Dataset } from '../data/dataset.js';
import { SpikingNet } from '../layers/net.js';
import type { EncoderSpec } from '../layers/encode.js';
import { zoo } from '../models/zoo.js';
import { neuronParams } from '../neurons/neuron.js';
import { withClasses } from '../notation/spec.js';
import { loadNet, saveNet } from '../train/model-file.js';
import { evaluate, train, type TrainConfig } from '../train/trainer.js';
import { latencyReport, runReport } from '../metrics/run.js';
import { calibrateExit, correctThresholds, exitAt, paretoFront, traceSteps, type StepTrace } from './dynamic.js';

/** Which SNN_Eval components a cell runs. */
export interface Components {
  /** Dynamic coding: the input coding chosen per data set, and a per-sample adaptive T. */
  readonly coding: boolean;
  /** Dynamic correction: post-training calibration of thresholds and biases at low T. */
  readonly correction: boolean;
  /** Co-optimization: a spike-count regularizer and a T schedule while training. */
  readonly coopt: boolean;
}

/** The four rows of the ablation, in the seed's order, and the plain baseline. */
export const ABLATION: readonly { readonly name: string; readonly components: Components }[] = [
  { name: 'coding', components: { coding: true, correction: false, coopt: false } },
  { name: 'correction', components: { coding: false, correction: true, coopt: false } },
  { name: 'co-optimization', components: { coding: false, correction: false, coopt: true } },
  { name: 'complete', components: { coding: true, correction: true, coopt: true } },
];

/** A cell: everything that defines one row. Plain JSON, so it can cross process and machine boundaries. */
export interface EvalCell {
  /** Unique within an evaluation, stable across runs (the file name of its result). */
  readonly id: string;
  readonly dataset: string;
  /** A model file to evaluate; absent: train the recipe first. */
  readonly model?: string;
  /** The recipe: zoo name or spec, epochs, T, batch size, learning rate. */
  readonly recipe: { readonly model: string; readonly epochs: number; readonly T: number; readonly batchSize: number; readonly lr: number };
  readonly components: Components;
  /** Ablation row name, or "baseline". */
  readonly label: string;
  readonly dataDir?: string;
  /** Use the first N training / test samples (spread over event sets). */
  readonly limit?: number;
  readonly testLimit?: number;
  readonly seed: number;
}

/**
 * The components' settings (the same for every cell; a change of them is a change of the harness's
 * CELL_FORMAT, so older rows are not reused).
 */
export const SETTINGS = {
  /**
   * Training samples held out of training, one from each stratum of the set (stratumIndex) so sets stored
   * class by class or with their classes in a cycle stay balanced: at most this
   * many, and at most this fraction of the training set. The exit threshold and the corrected T are chosen on them.
   */
  heldOut: 1000,
  heldOutFraction: 0.1,
  /** Accuracy (a fraction) the adaptive exit and the correction's lower T may lose on the held-out samples. */
  exitLoss: 0.001,
  /** Training samples the correction matches firing rates on (spread over the training set). */
  calibSamples: 300,
  /** The lower T the correction's accuracy gain is measured at (those below the trained T). */
  correctionTs: [1, 2, 4],
  /**
   * Co-optimization: the weights of the layers' firing rates in the loss that the search trains a network
   * for, one each; the row's network is the one with the fewest held-out spikes among those whose held-out
   * accuracy is within searchLoss of the most accurate one's.
   */
  spikeCosts: [0.05, 0.2, 0.5],
  /** Held-out accuracy (a fraction) the regularizer search may give up for fewer spikes. */
  searchLoss: 0.002,
  /**
   * Dynamic coding's choice of input coding for images: each of these trains the recipe's network for
   * probeEpochs on probeSamples training samples (spread over the set), and the coding with the best
   * held-out accuracy is the cell's when it beats direct beyond the probe's noise (chooseCoding).
   */
  codings: ['direct', 'rate', 'latency', 'delta'],
  /** Standard errors by which a coding's probe must beat the first coding's to be chosen instead (chooseCoding). */
  codingZ: 2,
  probeSamples: 10_000,
  probeEpochs: 1,
  /**
   * Co-optimization's T schedule (tSchedule: the first epoch at half the T). Off: on MNIST (lenet, 3
   * epochs, T = 4) it cost accuracy at every T, so the rows train at one T.
   */
  tSchedule: false,
  /** Test samples whose SOPs, energy and batch-1 latency are measured (spread over the test set). */
  costSamples: 1000,
  /** Batch-1 runs per latency measurement. */
  latencyRuns: 50,
} as const;

/** The accuracy at a lower T without and with the correction (test set). */
export interface CorrectionGain {
  readonly T: number;
  readonly plain: number;
  readonly corrected: number;
}

/** A point of the accuracy / T / spikes trade-off of a cell's network (test set). */
export interface TradeOff {
  readonly T: number;
  readonly accuracy: number;
  readonly spikes_per_sample: number;
  /** True for the adaptive exit's point (T is then its mean). */
  readonly adaptive?: boolean;
  /** The regularizer weight of the point's network (co-optimization). */
  readonly spike_cost?: number;
}

/** A network of the regularizer search, measured on the held-out samples at its full T. */
export interface SearchPoint {
  readonly spike_cost: number;
  readonly accuracy: number;
  readonly spikes_per_sample: number;
  /** The row's network. */
  readonly chosen?: boolean;
}

/** An input coding tried by dynamic coding's probe, measured on the held-out samples. */
export interface CodingProbe {
  readonly coding: 'direct' | 'rate' | 'latency' | 'delta';
  readonly accuracy: number;
  readonly spikes_per_sample: number;
  /** The cell's coding. */
  readonly chosen?: boolean;
}

/** A finished row of the table. */
export interface EvalRow {
  readonly id: string;
  readonly dataset: string;
  readonly label: string;
  readonly accuracy: number;
  readonly epochs: number;
  /** Time steps: the mean T actually used per sample when T is adaptive. */
  readonly T: number;
  /** Spikes per sample: every hidden neuron's spikes over the steps run, averaged over test samples. */
  readonly spikes_per_sample: number;
  readonly sops: number;
  readonly energy_uj: number;
  readonly latency_ms_batch1: number;
  readonly test_samples: number;
  readonly seconds: number;
  /** The input coding: direct (analog frames), rate (Poisson spikes) or the data's event frames. */
  readonly coding?: string;
  /** The T the network was trained at, and the T it runs at most (lower after the correction). */
  readonly T_trained?: number;
  readonly T_max?: number;
  /** The adaptive exit's margin threshold (absent: every sample runs T_max steps). */
  readonly exit_theta?: number;
  /** Spikes per sample at T_max without an early exit. */
  readonly spikes_full_T?: number;
  /** Accuracy at lower T without and with the correction. */
  readonly correction?: readonly CorrectionGain[];
  /**
   * The Pareto front of accuracy, T and spikes (test set) over the fixed T ≤ T_max and the adaptive exit, and
   * with the regularizer search the fixed T of every weight's network.
   */
  readonly pareto?: readonly TradeOff[];
  /** Dynamic coding's measured choice of input coding (images, a trained recipe). */
  readonly coding_probes?: readonly CodingProbe[];
  /**
   * Epochs over the training set of every network the cell trained: the row's, the search's other weights and
   * the coding probes (a probe epoch on part of the set counted as that fraction of an epoch).
   */
  readonly trained_epochs?: number;
  /** Co-optimization: the regularizer weight of the row's network, and every weight the search trained. */
  readonly spike_cost?: number;
  readonly spike_costs?: readonly SearchPoint[];
}

/** Where a cell finds its data: the caller's loader (the command line's, which knows --data-dir and emulated sets). */
export type DataLoader = (name: string, split: 'train' | 'test', o: { dataDir?: string; T: number; limit?: number }) => Promise<Dataset>;

/** A view of the samples of `d` at `idx`. */
function pick(d: Dataset, idx: Int32Array | number[]): Dataset {
  return {
    name: d.name, length: idx.length, shape: d.shape, temporal: d.temporal, numClasses: d.numClasses, classNames: d.classNames,
    label: (i) => d.label(idx[i]!),
    read: (i, out, off) => d.read(idx[i]!, out, off),
  };
}

/**
 * Splits a training set into the samples it trains on and the held-out ones: one sample of each of h strata
 * is held out (stratumIndex; h is SETTINGS.heldOut at most, and at most SETTINGS.heldOutFraction of the set).
 */
export function holdOut(d: Dataset): { train: Dataset; heldOut: Dataset } {
  const h = Math.min(SETTINGS.heldOut, Math.floor(d.length * SETTINGS.heldOutFraction));
  if (h < 1) throw new EdgespikeError(`evaluate: ${d.name} has ${d.length} training samples; at least ${Math.ceil(1 / SETTINGS.heldOutFraction)} are needed (some are held out)`);
  const held = new Set<number>();
  for (let k = 0; k < h; k++) held.add(stratumIndex(k, h, d.length));
  const rest: number[] = [];
  for (let i = 0; i < d.length; i++) if (!held.has(i)) rest.push(i);
  return { train: pick(d, rest), heldOut: pick(d, [...held].sort((a, b) => a - b)) };
}

/** A view of a temporal set's first `t` frames (what a runtime that stops after `t` steps has seen). */
export function firstFrames(d: Dataset, t: number): Dataset {
  if (!d.temporal || d.shape[0] === t) return d;
  const frame = d.shape.slice(1).reduce((a, b) => a * b, 1), full = new Float32Array(d.shape[0]! * frame);
  return {
    ...pick(d, Array.from({ length: d.length }, (_, i) => i)), shape: [t, ...d.shape.slice(1)],
    read: (i, out, off) => { d.read(i, full, 0); out.set(full.subarray(0, t * frame), off); },
  };
}

/** The step (1 … T) each sample of a trace exits at with threshold θ: the first whose margin reaches θ. */
export function exitSteps(trace: StepTrace, theta: number): Int32Array {
  const n = trace.labels.length, steps = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    while (t < trace.T - 1 && !(trace.margin[t]![i]! >= theta)) t++;
    steps[i] = t + 1;
  }
  return steps;
}

/**
 * SOPs, energy and batch-1 latency per sample when sample i runs `steps[i]` steps: the network is causal,
 * so a sample that exits at step t costs what the network run for t steps costs. Measured on up to
 * SETTINGS.costSamples test samples, grouped by exit step.
 */
export function exitCost(net: SpikingNet, test: Dataset, steps: Int32Array): { sops: number; energyUj: number; latencyMs: number } {
  const m = Math.min(test.length, SETTINGS.costSamples);
  const idx = Array.from({ length: m }, (_, k) => stratumIndex(k, m, test.length));
  let sops = 0, energy = 0, latency = 0;
  for (let t = 1; t <= net.config.T; t++) {
    const group = idx.filter((i) => steps[i] === t);
    if (group.length === 0) continue;
    const at = t === net.config.T ? net : net.withConfig({ T: t });
    const d = firstFrames(pick(test, group), t);
    const r = runReport(at, d);
    sops += r.sopsEcSnn * group.length;
    energy += r.energyUj * group.length;
    latency += latencyReport(at, d, SETTINGS.latencyRuns).p50 * group.length;
  }
  return { sops: sops / m, energyUj: energy / m, latencyMs: latency / m };
}

/**
 * The input coding of a cell's network when it is not probed: the data's event frames (event sets are spikes
 * already), or rate (Poisson) spikes for images, the coding of the rows without dynamic coding.
 */
function inputCoding(d: Dataset): { encoder: EncoderSpec; name: string } {
  if (d.temporal) return { encoder: { kind: 'direct' }, name: 'event frames' };
  return { encoder: { kind: 'rate' }, name: 'rate' };
}

/** What an encoder is called in a row. */
function codingName(e: EncoderSpec, temporal: boolean): string {
  return temporal ? 'event frames' : e.kind;
}

/** The co-optimization's T schedule: the first epoch at half the T (when there are more), the others at T. */
export function tSchedule(T: number, epochs: number): number[] {
  return Array.from({ length: epochs }, (_, e) => (e === 0 && epochs > 1 ? Math.max(1, Math.ceil(T / 2)) : T));
}

/**
 * Runs one cell: train (or load) its model, apply its components, measure the row.
 *
 * - Every cell holds some training samples out of training (holdOut).
 * - Co-optimization trains one network per regularizer weight of SETTINGS.spikeCosts (with the T schedule
 *   when SETTINGS.tSchedule is on: static data; event data is framed for one T) and keeps the one
 *   chooseWeight picks on the held-out samples; every weight's network adds its points to the Pareto front.
 * - Correction tries the lower T (1, 2, 4, … below the trained T, lowest first), corrects the thresholds
 *   for each on SETTINGS.calibSamples training samples and runs at the lowest whose held-out accuracy is
 *   within SETTINGS.exitLoss of the trained T's; the gain at SETTINGS.correctionTs is measured on the test set.
 * - Coding chooses the input coding of images by measurement (probeCodings; event sets keep their frames,
 *   rows without it use rate spikes for images) and lets each sample
 *   exit at the first step whose readout margin reaches the threshold calibrated on the held-out samples,
 *   against the trained network's held-out accuracy (the correction and the exit share one budget).
 */
export async function runCell(cell: EvalCell, load: DataLoader, o: { modelOut?: string; progress?: boolean } = {}): Promise<EvalRow> {
  const t0 = performance.now();
  const c = cell.components;
  const cache = new Map<string, Promise<Dataset>>();
  let temporal = true;
  // event sets are framed for a T: each T has its own load; images are loaded once
  const data = (split: 'train' | 'test', T: number): Promise<Dataset> => {
    const key = temporal ? `${split}:${T}` : split;
    if (!cache.has(key)) cache.set(key, load(cell.dataset, split, { dataDir: cell.dataDir, T, limit: split === 'train' ? cell.limit : cell.testLimit }));
    return cache.get(key)!;
  };
  const splitAt = async (T: number) => holdOut(await data('train', T));
  const T0 = cell.recipe.T;
  const test0 = await data('test', T0);
  if (!test0.temporal) { temporal = false; cache.set('test', Promise.resolve(test0)); }
  let net: SpikingNet, epochs = 0, coding: string;
  let probes: CodingProbe[] | undefined, search: SearchPoint[] | undefined, spikeCost: number | undefined, trainedEpochs = 0;
  const candidates: { net: SpikingNet; hist: ReturnType<typeof train> }[] = [];
  if (cell.model) {
    net = loadNet(cell.model).net;
    coding = codingName(net.config.encoder, test0.temporal);
  } else {
    const { train: trainSet, heldOut } = await splitAt(T0);
    let encoder: EncoderSpec;
    if (c.coding && !trainSet.temporal) {
      probes = probeCodings(cell, trainSet, heldOut, o.progress);
      trainedEpochs += SETTINGS.codings.length * SETTINGS.probeEpochs * Math.min(1, SETTINGS.probeSamples / trainSet.length);
      encoder = { kind: probes.find((p) => p.chosen)!.coding };
      coding = encoder.kind;
    } else {
      ({ encoder, name: coding } = inputCoding(trainSet));
    }
    // co-optimization: one network per regularizer weight, measured on the held-out samples; otherwise one
    // network without the regularizer
    const weights = c.coopt ? SETTINGS.spikeCosts : [0], measured: SearchPoint[] = [];
    for (const w of weights) {
      const n = recipeNet(cell, trainSet, encoder);
      const hist = train(n, trainSet, null, trainConfig(cell, trainSet, w, o.progress));
      epochs = hist.length;
      trainedEpochs += hist.length;
      candidates.push({ net: n, hist });
      if (c.coopt) {
        const full = exitAt(traceSteps(n, heldOut), Infinity);
        measured.push({ spike_cost: w, accuracy: full.accuracy, spikes_per_sample: full.spikesPerSample });
      }
    }
    const pick = c.coopt ? chooseWeight(measured) : 0;
    net = candidates[pick]!.net;
    if (c.coopt) {
      spikeCost = weights[pick]!;
      search = measured.map((p, i) => (i === pick ? { ...p, chosen: true } : p));
    }
    if (o.modelOut) saveNet(o.modelOut, net, { dataset: cell.dataset, training: { epochs: candidates[pick]!.hist } });
  }
  const T = net.config.T;
  let run = net, runT = T;
  let correction: CorrectionGain[] | undefined;
  // the held-out accuracy of the trained network at its T: the correction and the exit together lose at most SETTINGS.exitLoss of it
  const reference = c.correction || c.coding ? evaluate(net, (await splitAt(T)).heldOut).accuracy : NaN;
  if (c.correction) {
    const calibOf = async (t: number) => spread((await splitAt(t)).train, SETTINGS.calibSamples);
    const calib = await calibOf(T);
    const corrected = async (t: number) => correctThresholds(net, calib, t, { lowCalib: await calibOf(t) });
    for (let t = 1; t < T; t *= 2) {
      const low = await corrected(t);
      if (evaluate(low, (await splitAt(t)).heldOut).accuracy >= reference - SETTINGS.exitLoss) { run = low; runT = t; break; }
    }
    correction = [];
    for (const t of SETTINGS.correctionTs.filter((x) => x < T)) {
      const test = await data('test', t);
      correction.push({ T: t, plain: evaluate(net.withConfig({ T: t }), test).accuracy, corrected: evaluate(await corrected(t), test).accuracy });
    }
  }
  const test = await data('test', runT);
  const trace = traceSteps(run, test);
  const theta = c.coding ? calibrateExit(traceSteps(run, (await splitAt(runT)).heldOut), SETTINGS.exitLoss, reference) : Infinity;
  const exit = exitAt(trace, theta), full = exitAt(trace, Infinity);
  const cost = exitCost(run, test, exitSteps(trace, theta));
  // fixed T = 1 … T_max from the same trace (the readout after t steps is what a t-step run gives), and the
  // exit; with the regularizer search, also the fixed T of the networks of the other weights
  const w = spikeCost === undefined ? {} : { spike_cost: spikeCost };
  const points: TradeOff[] = fixedPoints(trace, runT).map((p) => ({ ...p, ...w }));
  // the exit's point, unless every sample ran the same steps (then it is one of the fixed points)
  if (c.coding && !points.some((p) => p.T === exit.meanT)) points.push({ T: exit.meanT, accuracy: exit.accuracy, spikes_per_sample: exit.spikesPerSample, adaptive: true, ...w });
  if (search) {
    const testT = await data('test', T);
    search.forEach((s, i) => {
      if (!s.chosen) points.push(...fixedPoints(traceSteps(candidates[i]!.net, testT), T).map((p) => ({ ...p, spike_cost: s.spike_cost })));
    });
  }
  const front = paretoFront(points.map((p, i) => ({ T: p.T, accuracy: p.accuracy, spikesPerSample: p.spikes_per_sample, i }))).map((f) => points[f.i]!);
  return {
    id: cell.id, dataset: cell.dataset, label: cell.label, accuracy: exit.accuracy, epochs, T: exit.meanT,
    spikes_per_sample: exit.spikesPerSample, sops: cost.sops, energy_uj: cost.energyUj, latency_ms_batch1: cost.latencyMs,
    test_samples: test.length, seconds: (performance.now() - t0) / 1000,
    coding, T_trained: T, T_max: runT, ...(Number.isFinite(theta) ? { exit_theta: theta } : {}), spikes_full_T: full.spikesPerSample,
    ...(correction ? { correction } : {}), pareto: front,
    ...(probes ? { coding_probes: probes } : {}), ...(search ? { spike_cost: spikeCost, spike_costs: search } : {}),
    ...(cell.model ? {} : { trained_epochs: trainedEpochs }),
  };
}

/** Accuracy and spikes per sample of a trace's samples had they all run t = 1 … T steps. */
function fixedPoints(trace: StepTrace, T: number): TradeOff[] {
  const n = trace.labels.length, points: TradeOff[] = [];
  for (let t = 1; t <= T; t++) {
    let correct = 0, spikes = 0;
    for (let i = 0; i < n; i++) {
      if (trace.cls[t - 1]![i] === trace.labels[i]) correct++;
      for (let u = 0; u < t; u++) spikes += trace.spikes[u]![i]!;
    }
    points.push({ T: t, accuracy: correct / Math.max(1, n), spikes_per_sample: spikes / Math.max(1, n) });
  }
  return points;
}

/** The training of a cell's network: the recipe, with the spike-count regularizer at weight `spikeCost` when it is not 0. */
function trainConfig(cell: EvalCell, trainSet: Dataset, spikeCost: number, progress?: boolean, epochs = cell.recipe.epochs): TrainConfig {
  return {
    epochs, batchSize: cell.recipe.batchSize, optim: { kind: 'adam', lr: cell.recipe.lr },
    schedule: { kind: 'cosine', epochs }, seed: cell.seed, progress, loss: { kind: 'ce', labelSmoothing: 0.1 },
    ...(spikeCost ? { spikeCost, ...(trainSet.temporal || !SETTINGS.tSchedule ? {} : { timesteps: tSchedule(cell.recipe.T, epochs) }) } : {}),
  };
}

/**
 * The regularizer search's choice among its networks (held-out accuracy and spikes at the full T): the one
 * with the fewest spikes among those within SETTINGS.searchLoss of the best accuracy (ties: the earlier).
 */
export function chooseWeight(points: readonly { accuracy: number; spikes_per_sample: number }[]): number {
  const best = Math.max(...points.map((p) => p.accuracy));
  let pick = -1;
  points.forEach((p, i) => {
    if (p.accuracy >= best - SETTINGS.searchLoss - 1e-12 && (pick < 0 || p.spikes_per_sample < points[pick]!.spikes_per_sample)) pick = i;
  });
  return pick;
}

/**
 * Dynamic coding's choice of input coding for an image set, by measurement: each of SETTINGS.codings trains
 * the recipe's network for SETTINGS.probeEpochs on SETTINGS.probeSamples training samples, and is measured on
 * the held-out samples at the recipe's T; chooseCoding picks among them.
 */
export function probeCodings(cell: EvalCell, trainSet: Dataset, heldOut: Dataset, progress?: boolean): CodingProbe[] {
  const probeSet = spread(trainSet, SETTINGS.probeSamples);
  const probes = SETTINGS.codings.map((kind): CodingProbe => {
    const net = recipeNet(cell, probeSet, { kind });
    train(net, probeSet, null, trainConfig(cell, probeSet, 0, progress, SETTINGS.probeEpochs));
    const r = exitAt(traceSteps(net, heldOut), Infinity);
    return { coding: kind, accuracy: r.accuracy, spikes_per_sample: r.spikesPerSample };
  });
  const pick = chooseCoding(probes, heldOut.length);
  return probes.map((p, i) => (i === pick ? { ...p, chosen: true } : p));
}

/**
 * The coding chosen from probes measured on n held-out samples: the first (direct: the image as it is, nothing
 * lost in coding) unless another's accuracy beats it by more than SETTINGS.codingZ standard errors of the
 * difference of two accuracies on n samples, in which case the most accurate of those (ties: fewer spikes,
 * then list order). A probe is short, so a difference within its noise does not change the coding.
 */
export function chooseCoding(probes: readonly { accuracy: number; spikes_per_sample: number }[], n: number): number {
  const base = probes[0]!;
  const beats = (p: { accuracy: number }): boolean => {
    const se = Math.sqrt((p.accuracy * (1 - p.accuracy) + base.accuracy * (1 - base.accuracy)) / Math.max(1, n));
    return p.accuracy - base.accuracy > SETTINGS.codingZ * se;
  };
  let pick = 0;
  probes.forEach((p, i) => {
    if (i === 0 || !beats(p)) return;
    const q = probes[pick]!;
    if (pick === 0 || p.accuracy > q.accuracy || (p.accuracy === q.accuracy && p.spikes_per_sample < q.spikes_per_sample)) pick = i;
  });
  return pick;
}

/** The recipe's network for a data set (the zoo model or spec, sized to the data's input and classes). */
function recipeNet(cell: EvalCell, d: Dataset, encoder: EncoderSpec): SpikingNet {
  const input = d.temporal ? d.shape.slice(1) : d.shape;
  let spec;
  try { spec = zoo(cell.recipe.model).spec; } catch { throw new EdgespikeError(`evaluate: recipe model "${cell.recipe.model}" is not a zoo name`); }
  return new SpikingNet(withClasses(spec, d.numClasses), {
    input, neuron: neuronParams('lif'), T: cell.recipe.T, encoder, readout: 'leaky', readoutBeta: 0.9, seed: cell.seed,
  });
}
