/**
 * Classifying one image with a loaded model, as `edgespike predict` does: the image resized to the model's
 * input, its polarity matched to the training images', normalised as the model's data were, one forward run.
 */
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../tensor/tape.js';
import { softmax } from '../ops/loss.js';
import { EdgespikeError } from '../util/errors.js';
import { readImage, toModelInput, matchPolarity, type Image, type InvertMode } from '../data/image.js';
import { resolveNormalization, normalize, type NormalizeOption } from '../data/augment.js';
import type { LoadedNet } from './net-codec.js';

/** Below this top probability an answer is a low-confidence guess. */
export const LOW_CONFIDENCE = 0.5;

/** What predictImage returns: the answer, its probability, and every class's. */
export interface Prediction {
  readonly class: number;
  readonly name: string;
  readonly probability: number;
  readonly low_confidence: boolean;
  /** Whether the image was inverted to match the training images' polarity. */
  readonly inverted: boolean;
  readonly probabilities: number[];
  /** Classes by falling probability. */
  readonly ranking: number[];
  /** Every class's name (the model's class names, or the class numbers). */
  readonly names: readonly string[];
}

/** Classifies `image` (a PNG/PGM path or a decoded image) with `model` (what loadNet returns). */
export function predictImage(model: LoadedNet, image: string | Image, o: { invert?: InvertMode } = {}): Prediction {
  const { net, meta } = model;
  const input = net.config.input;
  if (input.length !== 3) throw new EdgespikeError(`predict: the model takes input [${input.join(', ')}], not an image`);
  const x = toModelInput(typeof image === 'string' ? readImage(image) : image, input);
  const inverted = matchPolarity(x, input, o.invert ?? 'auto', meta.dataset);
  if (meta.normalize) {
    const n = resolveNormalization(meta.normalize as NormalizeOption, 'mnist', input[0]!, 'predict');
    if (n) normalize(x, input[0]!, input[1]!, input[2]!, n);
  }
  const logits = noGrad(() => net.forward(new Tensor(x, [1, ...input]), { training: false }).logits);
  const p = softmax(logits).toArray();
  const ranking = p.map((_, i) => i).sort((i, j) => p[j]! - p[i]!);
  const best = ranking[0]!;
  const names = meta.classNames ?? p.map((_, i) => String(i));
  return { class: best, name: names[best]!, probability: p[best]!, low_confidence: p[best]! < LOW_CONFIDENCE, inverted, probabilities: p, ranking, names };
}
