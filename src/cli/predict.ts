/** `edgespike predict`: classify one image file (PNG or PGM) with a model file. */
import { defineCommand } from 'citty';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../tensor/tape.js';
import { softmax } from '../ops/loss.js';
import { EdgespikeError } from '../util/errors.js';
import { readImage, toModelInput } from '../data/image.js';
import { resolveNormalization, normalize, type NormalizeOption } from '../data/augment.js';
import { loadNet } from '../train/model-file.js';
import { checkFlags, printJson } from './_args.js';

const args = {
  model: { type: 'positional', description: 'model file (.es)', required: true },
  image: { type: 'positional', description: 'image file (PNG or PGM)', required: true },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

export const predictCommand = defineCommand({
  meta: { name: 'predict', description: 'Classify an image with a model file' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('predict', rawArgs, args);
    const { net, meta } = loadNet(String(a.model));
    const input = net.config.input;
    if (input.length !== 3) throw new EdgespikeError(`predict: model ${a.model} takes input [${input.join(', ')}], not an image`);
    const x = toModelInput(readImage(String(a.image)), input);
    if (meta.normalize) {
      const n = resolveNormalization(meta.normalize as NormalizeOption, 'mnist', input[0]!, 'predict');
      if (n) normalize(x, input[0]!, input[1]!, input[2]!, n);
    }
    const logits = noGrad(() => net.forward(new Tensor(x, [1, ...input]), { training: false }).logits);
    const p = softmax(logits).toArray();
    const best = p.indexOf(Math.max(...p));
    const names = meta.classNames ?? p.map((_, i) => String(i));
    if (a.json) printJson({ class: best, name: names[best], probabilities: p });
    else process.stdout.write(`${names[best]} (class ${best}, p = ${p[best]!.toFixed(3)})\n`);
  },
});
