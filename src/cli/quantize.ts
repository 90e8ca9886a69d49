/**
 * `edgespike quantize m.es --weight-bits … --membrane-bits … [--gate] [--finetune-epochs N] --out q.es`:
 * post-training quantization, then quantization-aware fine-tuning on the model's data set, then the
 * quantized weights frozen into packed integer codes.
 */
import { defineCommand } from 'citty';
import { EdgespikeError } from '../util/errors.js';
import { checkOutputFile, removeStaleTemps } from '../util/fsx.js';
import { loadNet, saveNet } from '../train/model-file.js';
import { evaluate, train } from '../train/trainer.js';
import { freezeQuant, quantizeNet } from '../layers/quantize.js';
import { fitGates } from '../layers/gate-fit.js';
import { checkFlags, given, num, optNum, printJson } from './_args.js';
import { loadDataset } from './_data.js';
import { gatesOpen, QUANT_ARGS, quantizeOptionsOf } from './_quant.js';

const args = {
  model: { type: 'positional', description: 'model file (.es)', required: true },
  ...QUANT_ARGS,
  'finetune-epochs': { type: 'string', description: 'quantization-aware fine-tuning epochs on the model\'s data set', default: '0' },
  lr: { type: 'string', description: 'fine-tuning learning rate (Adam, cosine schedule)', default: '0.001' },
  'batch-size': { type: 'string', description: 'fine-tuning batch size', default: '64' },
  dataset: { type: 'string', description: 'data set (default: the one the model was trained on)' },
  'data-dir': { type: 'string', description: 'folder with the data set files' },
  limit: { type: 'string', description: 'use the first N training samples' },
  'test-limit': { type: 'string', description: 'use the first N test samples' },
  seed: { type: 'string', description: 'random seed of the fine-tuning', default: '1' },
  out: { type: 'string', description: 'quantized model file to write', required: true },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

export const quantizeCommand = defineCommand({
  meta: { name: 'quantize', description: 'Quantize a model: low-bit weights and membranes, channel gates; fine-tune; write packed codes' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('quantize', rawArgs, args);
    const opts = quantizeOptionsOf(a);
    if (!opts) throw new EdgespikeError('quantize: give --weight-bits, --membrane-bits below 32, or --gate');
    const epochs = num('finetune-epochs', a['finetune-epochs'], { int: true, min: 0, max: 1000 });
    const lr = num('lr', a.lr, { min: 1e-12, max: 10 }), batchSize = num('batch-size', a['batch-size'], { int: true, min: 1, max: 65_536 });
    const limit = optNum('limit', a.limit, { int: true, min: 1, max: 1e9 }), testLimit = optNum('test-limit', a['test-limit'], { int: true, min: 1, max: 1e9 });
    const seed = num('seed', a.seed, { int: true, min: 0, max: 2 ** 32 - 1 });
    // the fine-tuning flags mean nothing without fine-tuning (the training samples also feed the gates' fit)
    if (epochs === 0) {
      for (const f of ['lr', 'batch-size', 'seed', ...(opts.gate ? [] : ['limit'])]) {
        if (given(rawArgs, args, f)) throw new EdgespikeError(`--${f}: applies with --finetune-epochs above 0${f === 'limit' ? ' (or --gate)' : ''}`);
      }
    }
    const out = String(a.out);
    checkOutputFile('--out', out);
    const { net: float, meta } = loadNet(String(a.model));
    const q = quantizeNet(float, opts);
    const dataset = String(a.dataset ?? meta.dataset ?? 'mnist');
    if (a.dataset !== undefined && meta.dataset !== undefined && a.dataset !== meta.dataset) {
      process.stderr.write(`quantize: note: ${String(a.model)} was trained on ${String(meta.dataset)}; testing${epochs > 0 ? ' and fine-tuning' : ''} on ${dataset}\n`);
    }
    const T = float.config.T;
    const test = await loadDataset(dataset, 'test', { dataDir: a['data-dir'], T, limit: testLimit });
    const before = evaluate(float, test).accuracy;
    const trainSet = epochs > 0 || opts.gate ? await loadDataset(dataset, 'train', { dataDir: a['data-dir'], T, limit }) : undefined;
    // the gates' predictors fitted to their targets before fine-tuning (so that it adapts to the closed
    // channels) and again after it (so that they match the final weights)
    let gates = trainSet ? fitGates(q, trainSet) : [];
    const ptq = evaluate(freezeQuant(q), test).accuracy;
    let history: unknown[] = [];
    if (epochs > 0 && trainSet) {
      removeStaleTemps(out);
      history = train(q, trainSet, test, {
        epochs, batchSize, optim: { kind: 'adam', lr }, schedule: { kind: 'cosine', epochs }, loss: { kind: 'ce', labelSmoothing: 0.1 }, seed, progress: !a.json,
      });
      if (opts.gate) gates = fitGates(q, trainSet);
    }
    const frozen = freezeQuant(q);
    const after = evaluate(frozen, test).accuracy;
    const training = meta.training as { epochs?: unknown[] } | undefined;
    saveNet(out, frozen, { ...meta, training: { ...(training ?? {}), quantization: { ...opts, finetune_epochs: epochs, history, float_accuracy: before, ptq_accuracy: ptq, accuracy: after, test_samples: test.length } } });
    const gateOpen = gates.map((g) => ({ gate: g.gate, open: g.openAfter }));
    const summary = { model: out, dataset, float_accuracy: before, ptq_accuracy: ptq, finetune_epochs: epochs, test_accuracy: after, test_samples: test.length, ...(opts.gate ? { gates: gateOpen } : {}) };
    if (a.json) printJson(summary);
    else {
      process.stdout.write(`${out}: ${(100 * after).toFixed(2)}% on ${test.length} test samples (float ${(100 * before).toFixed(2)}%, before fine-tuning ${(100 * ptq).toFixed(2)}%)\n`);
      if (opts.gate) process.stdout.write(`gates (channels left open on the training samples): ${gatesOpen(gateOpen)}\n`);
    }
  },
});
