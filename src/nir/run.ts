/**
 * Running an imported NIR graph on one input sequence: X [T, …input] is fed step by step (each step's
 * value held for that step), and the output node's value at every step is returned, with spike counts
 * and spike steps per output neuron when the output spikes.
 */
import { Tensor } from '../tensor/tensor.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import type { SpikingNet } from '../layers/net.js';

/** The output of one run. */
export interface NirRun {
  readonly T: number;
  readonly outputShape: readonly number[];
  /** The output at each step, [T, …outputShape] flattened. */
  readonly steps: Float32Array;
  /** Whether every output value is 0 or 1 at every step (a spiking output). */
  readonly spiking: boolean;
  /** Spikes per output neuron (the sum over steps), when spiking. */
  readonly counts?: number[];
  /** The steps at which each output neuron spiked, when spiking. */
  readonly spikeSteps?: number[][];
}

/** Runs `net` on x: [T, …input] (T ≥ 1). */
export function runSequence(net: SpikingNet, x: Float32Array, shape: readonly number[]): NirRun {
  const input = net.config.input;
  if (shape.length !== input.length + 1 || fmtShape(shape.slice(1)) !== fmtShape(input) || !(shape[0]! >= 1)) {
    throw new EdgespikeError(`nir run: the input must be [T, ${input.join(', ')}] (T ≥ 1: one value per step), got ${fmtShape(shape)}`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new EdgespikeError(`nir run: the input holds ${x[i]} at index ${i}; values must be finite`);
  }
  const T = shape[0]!;
  const run = net.withConfig({ T }).run(new Tensor(x, [T, 1, ...input]), { training: false, form: 'time' });
  const outShape = run.x.shape.slice(run.form === 'time' ? 2 : 1);
  const m = outShape.reduce((a, b) => a * b, 1);
  const steps = new Float32Array(T * m);
  if (run.form === 'time') steps.set(run.x.data);
  else for (let t = 0; t < T; t++) steps.set(run.x.data, t * m);
  const spiking = steps.every((v) => v === 0 || v === 1);
  if (!spiking) return { T, outputShape: outShape, steps, spiking };
  const counts = new Array<number>(m).fill(0), spikeSteps: number[][] = Array.from({ length: m }, () => []);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < m; i++) if (steps[t * m + i] === 1) { counts[i]!++; spikeSteps[i]!.push(t); }
  }
  return { T, outputShape: outShape, steps, spiking, counts, spikeSteps };
}
