/**
 * `npm run demo`: trains lenet (16C5-P2-16C5-P2-256-10, LIF, T = 4, direct input) on the embedded
 * MNIST with the default recipe, evaluates it, and prints a short table. Outputs go to demo-out/.
 * `npm run demo -- --quick` trains on 6,000 samples for one epoch.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setThreads, backendInfo } from '../src/backends/index.js';
import { zoo } from '../src/models/zoo.js';
import { SpikingNet } from '../src/layers/net.js';
import { neuronParams } from '../src/neurons/neuron.js';
import { mnist } from '../src/data/mnist.js';
import { limit } from '../src/data/dataset.js';
import { train, evaluate } from '../src/train/trainer.js';
import { saveNet } from '../src/train/model-file.js';
import { RECIPE } from '../src/cli/train.js';
import { availableParallelism } from 'node:os';
import { writeRunReport } from '../src/cli/report.js';

const quick = process.argv.includes('--quick');
const outDir = resolve('demo-out');
mkdirSync(outDir, { recursive: true });
rmSync(join(outDir, 'lenet.es.log.jsonl'), { force: true });
setThreads(Math.min(2, availableParallelism()));

const z = zoo('lenet');
const T = 4;
const net = new SpikingNet(z.spec, {
  input: z.input, neuron: neuronParams(RECIPE.neuron, { surrogate: RECIPE.surrogate }), T,
  encoder: { kind: 'direct' }, readout: RECIPE.readout, readoutBeta: 0.9, seed: 1,
});
const trainSet = quick ? limit(mnist('train'), 6000) : mnist('train');
const testSet = mnist('test');
const epochs = quick ? 1 : RECIPE.epochs;
const info = backendInfo();
process.stdout.write(`edgespike demo: lenet ${'16C5-P2-16C5-P2-256-10'}, T = ${T}, ${trainSet.length} training samples, ` +
  `${epochs} epoch(s), kernels ${info.name === 'wasm' ? `wasm ${info.body === 'relaxed' ? 'relaxed SIMD' : 'SIMD128'}` : info.name} on ${info.threads} thread(s)\n\n`);
const t0 = performance.now();
const history = train(net, trainSet, testSet, {
  epochs, batchSize: RECIPE.batchSize, optim: { kind: RECIPE.optimizer, lr: RECIPE.lr }, schedule: { kind: RECIPE.schedule, epochs },
  loss: { kind: 'ce', labelSmoothing: RECIPE.labelSmoothing }, seed: 1, progress: true, logPath: join(outDir, 'lenet.es.log.jsonl'),
});
const model = join(outDir, 'lenet.es');
saveNet(model, net, { dataset: 'mnist', classNames: testSet.classNames, training: { epochs: history, samples: trainSet.length } });
const ev = evaluate(net, testSet);

const row = (cells: (string | number)[]) => cells.map((c, i) => String(c).padStart(i === 0 ? 5 : 14)).join('') + '\n';
process.stdout.write(row(['epoch', 'loss', 'train acc', 'test acc', 'samples/s', 'seconds']));
for (const h of history) {
  process.stdout.write(row([h.epoch, h.loss.toFixed(4), `${(100 * h.train_accuracy).toFixed(2)}%`, `${(100 * (h.test_accuracy ?? 0)).toFixed(2)}%`,
    Math.round(h.train_samples_per_s), h.seconds.toFixed(1)]));
}
process.stdout.write(`\ntest accuracy ${(100 * ev.accuracy).toFixed(2)}% on ${ev.samples} images, inference ${Math.round(ev.samplesPerSecond)} samples/s\n`);
const report = await writeRunReport(outDir, join(outDir, 'report.html'), { limit: 1000 });
process.stdout.write(`model written to ${model} (total ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
process.stdout.write(`report: ${report}\n`);
