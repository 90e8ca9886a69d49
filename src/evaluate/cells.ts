/**
 * The evaluation harness's unit of work: a cell is one row of the table — a data set, a model (a file, or
 * the recipe trained first) and which components run (dynamic coding, dynamic correction,
 * co-optimization). runCell does the work of one cell and returns its row; the harness (local worker
 * processes, or workers on a queue) decides where cells run, and keeps finished rows so a repeated
 * evaluation does not redo them.
 */
import { EdgespikeError } from '../util/errors.js';
import type { Dataset } from '../data/dataset.js';
import { SpikingNet } from '../layers/net.js';
import { zoo } from '../models/zoo.js';
import { neuronParams } from '../neurons/neuron.js';
import { withClasses } from '../notation/spec.js';
import { loadNet, saveNet } from '../train/model-file.js';
import { evaluate, train } from '../train/trainer.js';
import { latencyReport, runReport } from '../metrics/run.js';

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

/** A finished row of the table. */
export interface EvalRow {
  readonly id: string;
  readonly dataset: string;
  readonly label: string;
  readonly accuracy: number;
  readonly epochs: number;
  /** Time steps: the mean T actually used per sample when T is adaptive. */
  readonly T: number;
  /** Spikes per sample: every hidden neuron's spikes over all steps, averaged over test samples. */
  readonly spikes_per_sample: number;
  readonly sops: number;
  readonly energy_uj: number;
  readonly latency_ms_batch1: number;
  readonly test_samples: number;
  readonly seconds: number;
}

/** Where a cell finds its data: the caller's loader (the command line's, which knows --data-dir and emulated sets). */
export type DataLoader = (name: string, split: 'train' | 'test', o: { dataDir?: string; T: number; limit?: number }) => Promise<Dataset>;

/** Runs one cell: train (or load) its model, apply its components, measure the row. */
export async function runCell(cell: EvalCell, load: DataLoader, o: { modelOut?: string; progress?: boolean } = {}): Promise<EvalRow> {
  const t0 = performance.now();
  const T = cell.recipe.T;
  const test = await load(cell.dataset, 'test', { dataDir: cell.dataDir, T, limit: cell.testLimit });
  let net: SpikingNet, epochs = 0;
  if (cell.model) {
    net = loadNet(cell.model).net;
  } else {
    const trainSet = await load(cell.dataset, 'train', { dataDir: cell.dataDir, T, limit: cell.limit });
    net = recipeNet(cell, trainSet);
    const hist = train(net, trainSet, null, {
      epochs: cell.recipe.epochs, batchSize: cell.recipe.batchSize, optim: { kind: 'adam', lr: cell.recipe.lr },
      schedule: { kind: 'cosine', epochs: cell.recipe.epochs }, loss: { kind: 'ce', labelSmoothing: 0.1 }, seed: cell.seed, progress: o.progress,
    });
    epochs = hist.length;
    if (o.modelOut) saveNet(o.modelOut, net, { dataset: cell.dataset, training: { epochs: hist } });
  }
  const acc = evaluate(net, test);
  const run = runReport(net, test, { limit: Math.min(test.length, 1000) });
  const lat = latencyReport(net, test, 50);
  return {
    id: cell.id, dataset: cell.dataset, label: cell.label, accuracy: acc.accuracy, epochs, T: net.config.T,
    spikes_per_sample: run.spikesPerSample, sops: run.sopsEcSnn, energy_uj: run.energyUj, latency_ms_batch1: lat.p50,
    test_samples: test.length, seconds: (performance.now() - t0) / 1000,
  };
}

/** The recipe's network for a data set (the zoo model or spec, sized to the data's input and classes). */
function recipeNet(cell: EvalCell, d: Dataset): SpikingNet {
  const input = d.temporal ? d.shape.slice(1) : d.shape;
  let spec;
  try { spec = zoo(cell.recipe.model).spec; } catch { throw new EdgespikeError(`evaluate: recipe model "${cell.recipe.model}" is not a zoo name`); }
  return new SpikingNet(withClasses(spec, d.numClasses), {
    input, neuron: neuronParams('lif'), T: cell.recipe.T, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: cell.seed,
  });
}
