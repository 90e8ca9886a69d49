/**
 * Running an imported NIR graph on one input sequence: X [T, …input] is fed step by step (each step's
 * value held for that step), and the output node's value at every step is returned, with spike counts
 * and spike steps per output neuron when the output node spikes (a neuron or a threshold).
 */
import { Tensor } from '../tensor/tensor.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import type { SpikingNet } from '../layers/net.js';
import { spikes } from '../graph/nir-ops.js';

/** True when the graph's output is a spiking node's (identity nodes passed through). */
export function outputSpikes(net: SpikingNet): boolean {
  const byId = new Map(net.graph.nodes.map((n) => [n.id, n]));
  let n = byId.get(net.graph.output);
  while (n && n.op === 'identity' && n.inputs.length === 1 && !n.recurrent?.length) n = byId.get(n.inputs[0]!);
  if (!n) return false;
  return n.op === 'neuron' || n.op === 'threshold' || (n.op === 'nir-neuron' && spikes(n.attrs.model));
}

/** The output of one run. */
export interface NirRun {
  readonly T: number;
  readonly outputShape: readonly number[];
  /** The output at each step, [T, …outputShape] flattened. */
  readonly steps: Float32Array;
  /** Whether the output node spikes (a neuron or threshold, through identity nodes). */
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
  const spiking = outputSpikes(net);
  if (!spiking) return { T, outputShape: outShape, steps, spiking };
  const counts = new Array<number>(m).fill(0), spikeSteps: number[][] = Array.from({ length: m }, () => []);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < m; i++) if (steps[t * m + i] === 1) { counts[i]!++; spikeSteps[i]!.push(t); }
  }
  return { T, outputShape: outShape, steps, spiking, counts, spikeSteps };
}
