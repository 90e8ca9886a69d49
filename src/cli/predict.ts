/** `edgespike predict`: classify one image file (PNG or PGM) with a model file. */
import { defineCommand } from 'citty';
import { EdgespikeError } from '../util/errors.js';
import { loadNet } from '../train/model-file.js';
import { predictImage } from '../train/predict.js';
import { checkFlags, printJson } from './_args.js';

const args = {
  model: { type: 'positional', description: 'model file (.es), or a pretrained model\'s name (edgespike pretrained list)', required: true },
  image: { type: 'positional', description: 'image file (PNG or PGM)', required: true },
  invert: { type: 'string', description: 'match the training images\' polarity: auto (invert a light-background image for a dark-background data set), yes or no', default: 'auto' },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

export const predictCommand = defineCommand({
  meta: { name: 'predict', description: 'Classify an image with a model file' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('predict', rawArgs, args);
    const mode = String(a.invert);
    if (mode !== 'auto' && mode !== 'yes' && mode !== 'no') throw new EdgespikeError(`--invert: expected auto, yes or no, got "${mode}"`);
    const r = predictImage(loadNet(String(a.model)), String(a.image), { invert: mode });
    const best = r.class, second = r.ranking[1], p = r.probabilities, low = r.low_confidence, inverted = r.inverted;
    const names = r.names;
    if (a.json) { printJson({ class: best, name: r.name, probability: r.probability, low_confidence: low, inverted, probabilities: p }); return; }
    let line = `${names[best]} (class ${best}, p = ${p[best]!.toFixed(3)})`;
    if (low && second !== undefined) line += ` — low confidence; next: ${names[second]} (p = ${p[second]!.toFixed(3)})`;
    if (inverted) line += mode === 'auto' ? ' [input inverted to light-on-dark like the training images; --invert no keeps it]' : ' [input inverted]';
    process.stdout.write(line + '\n');
  },
});
