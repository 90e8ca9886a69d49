/** `edgespike train`: trains a model from the zoo or a spec on a data set and writes a model file. */
import { defineCommand } from 'citty';
import { EdgespikeError } from '../util/errors.js';
import { zooNames } from '../models/zoo.js';
import { withClasses } from '../notation/spec.js';
import { resolveModel } from './_model.js';
import { NEURON_PRESETS, neuronParams, type NeuronPreset } from '../neurons/neuron.js';
import { SURROGATES, type SurrogateName } from '../neurons/surrogate.js';
import { SpikingNet, READOUTS } from '../layers/net.js';
import { ENCODERS, type EncoderSpec } from '../layers/encode.js';
import { evaluate, train, type EpochRecord } from '../train/trainer.js';
import { saveNet } from '../train/model-file.js';
import { LOSSES, type LossSpec } from '../train/loss.js';
import type { Schedule } from '../train/optim.js';
import type { AugmentOptions } from '../data/augment.js';
import { checkFlags, choice, num, optNum, printJson } from './_args.js';
import { gatesOpen, QUANT_ARGS, quantizeOptionsOf } from './_quant.js';
import { freezeQuant, quantizeNet } from '../layers/quantize.js';
import { fitGates } from '../layers/gate-fit.js';
import { checkOutputFile, removeStaleTemps } from '../util/fsx.js';
import { resolve } from 'node:path';
import { DATASET_NAMES, isEventDataset, loadDataset } from './_data.js';

/** The default recipe (lenet on MNIST, T = 4): what `train` does without flags. */
export const RECIPE = { epochs: 3, batchSize: 64, lr: 3e-3, labelSmoothing: 0.1, optimizer: 'adam', schedule: 'cosine', neuron: 'lif', surrogate: 'atan', readout: 'leaky' } as const;

const args = {
  model: { type: 'string', description: `zoo name (${zooNames().join(', ')}) or a spec such as 16C5-P2-16C5-P2-256-10`, default: 'lenet' },
  dataset: { type: 'string', description: `data set (${DATASET_NAMES.join(', ')})`, default: 'mnist' },
  'data-dir': { type: 'string', description: 'folder with the data set files (optional for mnist and fashion-mnist)' },
  epochs: { type: 'string', description: 'training epochs', default: String(RECIPE.epochs) },
  timesteps: { type: 'string', alias: 'T', description: 'time steps T', default: '4' },
  'batch-size': { type: 'string', description: 'batch size', default: String(RECIPE.batchSize) },
  lr: { type: 'string', description: 'learning rate', default: String(RECIPE.lr) },
  optimizer: { type: 'string', description: 'adam, adamw or sgd', default: RECIPE.optimizer },
  momentum: { type: 'string', description: 'SGD momentum', default: '0.9' },
  nesterov: { type: 'boolean', description: 'Nesterov momentum (SGD)' },
  'weight-decay': { type: 'string', description: 'weight decay', default: '0' },
  schedule: { type: 'string', description: 'cosine, step or none', default: RECIPE.schedule },
  'step-size': { type: 'string', description: 'epochs per step of the step schedule', default: '30' },
  gamma: { type: 'string', description: 'factor of the step schedule', default: '0.7' },
  clip: { type: 'string', description: 'clip the gradient norm to this value' },
  loss: { type: 'string', description: `loss (${LOSSES.join(', ')})`, default: 'ce' },
  'tet-lambda': { type: 'string', description: 'TET: weight λ of the MSE regulariser', default: '0.05' },
  'tet-phi': { type: 'string', description: 'TET: target φ of the regulariser', default: '1' },
  'label-smoothing': { type: 'string', description: 'label smoothing ε', default: String(RECIPE.labelSmoothing) },
  neuron: { type: 'string', description: `neuron preset (${Object.keys(NEURON_PRESETS).join(', ')})`, default: RECIPE.neuron },
  beta: { type: 'string', description: 'leak β of the multiplicative LIF' },
  tau: { type: 'string', description: 'time constant τ of the decay-input LIF' },
  threshold: { type: 'string', description: 'firing threshold' },
  surrogate: { type: 'string', description: `surrogate (${Object.keys(SURROGATES).join(', ')})`, default: RECIPE.surrogate },
  alpha: { type: 'string', description: 'surrogate sharpness' },
  'learn-threshold': { type: 'boolean', description: 'LT-SNN: learn one threshold per layer' },
  'avg-threshold': { type: 'boolean', description: 'LT-SNN averaged-threshold variant (TET φ = mean threshold)' },
  act: { type: 'string', description: 'snn (spiking neurons) or ann (the same topology with ReLU, max pooling and biases; use -T 1)', default: 'snn' },
  'act-levels': { type: 'string', description: 'k{k}B{B}: Scatter-and-Gather\'s quantized ANN, activations on steps of 1/2^k up to B, ternary hidden weights (then edgespike convert)' },
  encoder: { type: 'string', description: `input encoder (${ENCODERS.join(', ')})`, default: 'direct' },
  readout: { type: 'string', description: `readout (${READOUTS.join(', ')})`, default: RECIPE.readout },
  augment: { type: 'string', description: 'none, crop (random crop with padding 2) or crop-flip (padding 4 and horizontal flip; the CIFAR default)' },
  limit: { type: 'string', description: 'use the first N training samples (event sets: N spread over the set)' },
  'test-limit': { type: 'string', description: 'use the first N test samples' },
  seed: { type: 'string', description: 'random seed', default: '1' },
  out: { type: 'string', description: 'model file to write', required: true },
  log: { type: 'string', description: 'JSON-lines log, one line per epoch (default: OUT.log.jsonl)' },
  checkpoint: { type: 'string', description: 'checkpoint written every epoch (default: OUT.ckpt)' },
  resume: { type: 'boolean', description: 'continue from the checkpoint' },
  ...QUANT_ARGS,
  json: { type: 'boolean', description: 'print a final JSON object' },
} as const;

function augmentFor(kind: 'none' | 'crop' | 'crop-flip', dataset: string): AugmentOptions | undefined {
  if (kind === 'none') return undefined;
  if (isEventDataset(dataset)) throw new EdgespikeError(`--augment ${kind}: applies to image data sets, not to ${dataset}`);
  return kind === 'crop' ? { pad: 2 } : { pad: 4, flip: 0.5 };
}

/** One epoch's line, printed as the epoch ends. */
function epochLine(h: EpochRecord): string {
  return `epoch ${h.epoch}: loss ${h.loss.toFixed(4)}  train ${(100 * h.train_accuracy).toFixed(2)}%  test ${h.test_accuracy === undefined ? '-' : (100 * h.test_accuracy).toFixed(2) + '%'}  ${Math.round(h.train_samples_per_s)} samples/s\n`;
}

/** "k1B2" → { k: 1, B: 2 } (k in 0 … 8, B in 1 … 64). */
export function actLevels(s: string): { k: number; B: number } {
  const m = /^k(\d+)B(\d+)$/.exec(s.trim());
  const k = m ? Number(m[1]) : NaN, B = m ? Number(m[2]) : NaN;
  if (!(k >= 0 && k <= 8 && B >= 1 && B <= 64)) throw new EdgespikeError(`--act-levels: expected k{k}B{B} with k in 0 … 8 and B in 1 … 64 (e.g. k0B1, k1B2), got "${s}"`);
  return { k, B };
}

/** Scatter-and-Gather models train by this recipe unless flags say otherwise (the target: ≥ 99 % converted on MNIST). */
export const SG_RECIPE = { epochs: 6, lr: 2e-3, batchSize: 64, T: 1, labelSmoothing: 0 } as const;

/** Every flag of `train`, parsed and range-checked whatever the others say, before any work. */
function parseArgs(a: Record<string, unknown>) {
  const T = num('timesteps', a.timesteps, { int: true, min: 1, max: 1000 });
  const epochs = num('epochs', a.epochs, { int: true, min: 1, max: 100_000 });
  const lossKind = choice('loss', a.loss, LOSSES);
  const labelSmoothing = num('label-smoothing', a['label-smoothing'], { min: 0, max: 0.99 });
  const tetLambda = num('tet-lambda', a['tet-lambda'], { min: 0, max: 1 }), tetPhi = num('tet-phi', a['tet-phi'], { min: -1e6, max: 1e6 });
  const loss: LossSpec = lossKind === 'tet' ? { kind: lossKind, lambda: tetLambda, phi: tetPhi, labelSmoothing }
    : lossKind === 'mse-count' ? { kind: lossKind } : { kind: lossKind, labelSmoothing };
  const schedKind = choice('schedule', a.schedule, ['cosine', 'step', 'none'] as const);
  const stepSize = num('step-size', a['step-size'], { int: true, min: 1, max: 1_000_000 }), gamma = num('gamma', a.gamma, { min: 0, max: 10 });
  const schedule: Schedule = schedKind === 'cosine' ? { kind: 'cosine', epochs } : schedKind === 'step' ? { kind: 'step', every: stepSize, gamma } : { kind: 'none' };
  const preset = choice('neuron', a.neuron, Object.keys(NEURON_PRESETS) as NeuronPreset[]);
  const neuron = neuronParams(preset, {
    surrogate: choice('surrogate', a.surrogate, Object.keys(SURROGATES) as SurrogateName[]),
    ...(a.beta !== undefined ? { beta: num('beta', a.beta, { min: 0, max: 1 }) } : {}),
    ...(a.tau !== undefined ? { tau: num('tau', a.tau, { min: 1, max: 1e6 }) } : {}),
    ...(a.threshold !== undefined ? { vth: num('threshold', a.threshold, { min: -1e6, max: 1e6 }) } : {}),
    ...(a.alpha !== undefined ? { alpha: num('alpha', a.alpha, { min: 1e-6, max: 1e6 }) } : {}),
    ...(a['learn-threshold'] || a['avg-threshold'] ? { learnThreshold: true } : {}),
  });
  const out = String(a.out);
  const levels = a['act-levels'] === undefined ? undefined : actLevels(String(a['act-levels']));
  return {
    levels,
    T, epochs, loss, schedule, neuron, out,
    dataset: String(a.dataset),
    limit: optNum('limit', a.limit, { int: true, min: 1, max: 1e9 }), testLimit: optNum('test-limit', a['test-limit'], { int: true, min: 1, max: 1e9 }),
    batchSize: num('batch-size', a['batch-size'], { int: true, min: 1, max: 65_536 }),
    optim: { kind: choice('optimizer', a.optimizer, ['adam', 'adamw', 'sgd'] as const), lr: num('lr', a.lr, { min: 1e-12, max: 10 }),
      momentum: num('momentum', a.momentum, { min: 0, max: 1 }), nesterov: !!a.nesterov, weightDecay: num('weight-decay', a['weight-decay'], { min: 0, max: 1 }) },
    clip: optNum('clip', a.clip, { min: 1e-12, max: 1e12 }), seed: num('seed', a.seed, { int: true, min: 0, max: 2 ** 32 - 1 }),
    encoder: { kind: choice('encoder', a.encoder, ENCODERS) } as EncoderSpec,
    readout: choice('readout', a.readout, READOUTS), act: choice('act', a.act, ['snn', 'ann'] as const),
    augment: a.augment === undefined ? undefined : choice('augment', a.augment, ['none', 'crop', 'crop-flip'] as const),
    log: a.log === undefined ? `${out}.log.jsonl` : String(a.log), checkpoint: a.checkpoint === undefined ? `${out}.ckpt` : String(a.checkpoint),
  };
}

export const trainCommand = defineCommand({
  meta: { name: 'train', description: 'Train a spiking network with BPTT and surrogate gradients' },
  args,
  async run({ args: given0, rawArgs }) {
    checkFlags('train', rawArgs, args);
    const a: Record<string, unknown> = { ...given0 };
    // sg-* models and --act-levels take the Scatter-and-Gather recipe for flags not given
    const sg = a['act-levels'] !== undefined || String(a.model).startsWith('sg-');
    if (sg) {
      const given = (f: string): boolean => rawArgs.some((r) => r === `--${f}` || r.startsWith(`--${f}=`) || (f === 'timesteps' && (r === '-T' || r.startsWith('-T='))));
      if (!given('epochs')) a.epochs = String(SG_RECIPE.epochs);
      if (!given('lr')) a.lr = String(SG_RECIPE.lr);
      if (!given('batch-size')) a['batch-size'] = String(SG_RECIPE.batchSize);
      if (!given('timesteps')) a.timesteps = String(SG_RECIPE.T);
      if (!given('label-smoothing')) a['label-smoothing'] = String(SG_RECIPE.labelSmoothing);
      if (!given('readout')) a.readout = 'mean';
    }
    const o = parseArgs(a);
    if (o.levels && a.act !== 'snn') throw new EdgespikeError('--act-levels: builds the quantized ANN itself; drop --act');
    if (o.levels && o.T !== 1) throw new EdgespikeError(`--act-levels: a quantized ANN runs one step; give -T 1, not ${o.T}`);
    const qopts = quantizeOptionsOf(a);
    const model = resolveModel(String(a.model));
    for (const [flag, path] of [['--out', o.out], ['--log', o.log], ['--checkpoint', o.checkpoint]] as const) checkOutputFile(flag, path);
    if (new Set([o.out, o.log, o.checkpoint].map((p) => resolve(p))).size < 3) throw new EdgespikeError('train: --out, --log and --checkpoint must be three different files');
    const { T, epochs, dataset, out } = o;
    const dOpts = { dataDir: a['data-dir'] as string | undefined, T };
    const trainSet = await loadDataset(dataset, 'train', { ...dOpts, limit: o.limit });
    const testSet = await loadDataset(dataset, 'test', { ...dOpts, limit: o.testLimit });
    const spec = withClasses(model.spec, trainSet.numClasses), zooInput = model.input;
    const input = trainSet.temporal ? trainSet.shape.slice(1) : trainSet.shape;
    if (zooInput && zooInput.join() !== input.join() && !(zooInput[1] === input[1] && zooInput[2] === input[2])) {
      process.stderr.write(`note: ${a.model} was designed for input [${zooInput.join(', ')}]; building it for [${input.join(', ')}]\n`);
    }
    if (trainSet.temporal && o.encoder.kind !== 'direct') throw new EdgespikeError(`--encoder ${o.encoder.kind}: ${dataset} is already a spike sequence; use direct`);
    const base = new SpikingNet(spec, { input, neuron: o.neuron, act: o.levels ? 'sg' : o.act, ...(o.levels ? { levels: o.levels } : {}), T, encoder: o.encoder, readout: o.readout, readoutBeta: 0.9, seed: o.seed });
    // quantized from the start: fake quantization while training, frozen into integer codes at the end
    const net = qopts ? quantizeNet(base, qopts) : base;
    const isCifar = dataset.startsWith('cifar');
    for (const p of [out, o.log, o.checkpoint]) removeStaleTemps(p);
    const history = train(net, trainSet, testSet, {
      epochs, batchSize: o.batchSize, optim: o.optim, schedule: o.schedule, loss: o.loss, phiFromThreshold: !!a['avg-threshold'], clip: o.clip, seed: o.seed,
      augment: augmentFor(o.augment ?? (isCifar ? 'crop-flip' : 'none'), dataset),
      logPath: o.log, checkpointPath: o.checkpoint, resume: !!a.resume, progress: !a.json,
      onEpoch: a.json ? undefined : (h) => process.stdout.write(epochLine(h)),
      identity: { model: String(a.model), dataset, train_samples: trainSet.length, limit: o.limit ?? null, T, seed: o.seed, act: o.act, neuron: o.neuron, encoder: o.encoder, readout: o.readout, batch_size: o.batchSize, optim: o.optim, schedule: o.schedule, loss: o.loss, clip: o.clip ?? null, augment: o.augment ?? null, quantize: qopts, levels: o.levels ?? null },
    });
    const last = history[history.length - 1]!;
    // gates trained at the model's rate from open stay open: their predictors are fitted alone to their
    // targets, and the model is tested again with them (quantize does the same)
    const gates = qopts?.gate ? fitGates(net, trainSet).map((g) => ({ gate: g.gate, open: g.openAfter })) : [];
    const frozen = qopts ? freezeQuant(net) : net, gated = gates.length > 0 && testSet ? evaluate(frozen, testSet).accuracy : undefined;
    saveNet(out, frozen, { dataset, classNames: trainSet.classNames, training: { epochs: history, samples: trainSet.length, ...(testSet ? { test_samples: testSet.length } : {}), ...(gates.length ? { gates, gated_test_accuracy: gated ?? null } : {}) } });
    const summary = { model: out, dataset, epochs: history.length, timesteps: T, train_samples: trainSet.length,
      test_accuracy: last.test_accuracy, train_samples_per_s: last.train_samples_per_s, history, ...(gates.length ? { gates, gated_test_accuracy: gated ?? null } : {}) };
    if (a.json) printJson(summary);
    else {
      if (gates.length) {
        process.stdout.write(`gates fitted (channels left open on the training samples: ${gatesOpen(gates)})`
          + `${gated === undefined ? '' : `, test accuracy with them ${(100 * gated).toFixed(2)}%`}\n`);
      }
      process.stdout.write(`model written to ${out} (training log ${o.log}, checkpoint ${o.checkpoint})\n`);
    }
  },
});
