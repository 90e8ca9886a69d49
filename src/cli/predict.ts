/** `edgespike predict`: classify one image file (PNG or PGM) with a model file. */
import { defineCommand } from 'citty';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../tensor/tape.js';
import { softmax } from '../ops/loss.js';
import { EdgespikeError } from '../util/errors.js';
import { readImage, toModelInput, matchPolarity, type InvertMode } from '../data/image.js';
import { resolveNormalization, normalize, type NormalizeOption } from '../data/augment.js';
import { loadNet } from '../train/model-file.js';
import { checkFlags, printJson } from './_args.js';

const args = {
  model: { type: 'positional', description: 'model file (.es)', required: true },
  image: { type: 'positional', description: 'image file (PNG or PGM)', required: true },
  invert: { type: 'string', description: 'match the training images\' polarity: auto (invert a light-background image for a dark-background data set), yes or no', default: 'auto' },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

/** Below this top probability the answer is printed as a low-confidence guess, with the runner-up. */
export const LOW_CONFIDENCE = 0.5;

export const predictCommand = defineCommand({
  meta: { name: 'predict', description: 'Classify an image with a model file' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('predict', rawArgs, args);
    const mode = String(a.invert);
    if (mode !== 'auto' && mode !== 'yes' && mode !== 'no') throw new EdgespikeError(`--invert: expected auto, yes or no, got "${mode}"`);
    const { net, meta } = loadNet(String(a.model));
    const input = net.config.input;
    if (input.length !== 3) throw new EdgespikeError(`predict: model ${a.model} takes input [${input.join(', ')}], not an image`);
    const x = toModelInput(readImage(String(a.image)), input);
    const inverted = matchPolarity(x, input, mode as InvertMode, meta.dataset);
    if (meta.normalize) {
      const n = resolveNormalization(meta.normalize as NormalizeOption, 'mnist', input[0]!, 'predict');
      if (n) normalize(x, input[0]!, input[1]!, input[2]!, n);
    }
    const logits = noGrad(() => net.forward(new Tensor(x, [1, ...input]), { training: false }).logits);
    const p = softmax(logits).toArray();
    const order = p.map((_, i) => i).sort((i, j) => p[j]! - p[i]!);
    const best = order[0]!, second = order[1];
    const names = meta.classNames ?? p.map((_, i) => String(i));
    const low = p[best]! < LOW_CONFIDENCE;
    if (a.json) { printJson({ class: best, name: names[best], probability: p[best], low_confidence: low, inverted, probabilities: p }); return; }
    let line = `${names[best]} (class ${best}, p = ${p[best]!.toFixed(3)})`;
    if (low && second !== undefined) line += ` — low confidence; next: ${names[second]} (p = ${p[second]!.toFixed(3)})`;
    if (inverted) line += mode === 'auto' ? ' [input inverted to light-on-dark like the training images; --invert no keeps it]' : ' [input inverted]';
    process.stdout.write(line + '\n');
  },
});
