// Classify an image with a pretrained model (or any model file):
//   node examples/predict.mjs digit.png [lenet-mnist | model.es]
import { loadNet, predictImage } from 'edgespike';

const [image, model = 'lenet-mnist'] = process.argv.slice(2);
if (!image) { console.error('usage: node predict.mjs IMAGE [MODEL]'); process.exit(2); }
const r = predictImage(loadNet(model), image);
console.log(`${image}: ${r.name} (p = ${r.probability.toFixed(3)})${r.low_confidence ? `, low confidence; next ${r.names[r.ranking[1]]}` : ''}`);
console.log('probabilities', r.probabilities.map((p) => p.toFixed(3)).join(' '));
