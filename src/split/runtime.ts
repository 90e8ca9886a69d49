/**
 * The computations of a served split, shared by the device and the coordinator: which sub-models each
 * device runs, a sub-model's features ([T, F] spikes of its feature node for one input), and the fusion
 * over the devices' features concatenated in manifest order ([T, 1, D], zeros for a missing device).
 */
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../tensor/tape.js';
import { softmax } from '../ops/loss.js';
import { expandTime } from '../layers/layers.js';
import type { SpikingNet } from '../layers/net.js';
import { loadNet } from '../train/model-file.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import type { SplitManifest, SubModelEntry } from './manifest.js';
import type { FeatureBlock } from './protocol.js';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** A device of the split and the sub-models it runs, in manifest order. */
export interface DevicePlan {
  readonly name: string;
  readonly submodels: readonly SubModelEntry[];
}

/** The devices that run at least one sub-model, in the order of their first sub-model. */
export function devicePlans(m: SplitManifest): DevicePlan[] {
  const out: { name: string; submodels: SubModelEntry[] }[] = [];
  for (const s of m.submodels) {
    const d = out.find((p) => p.name === s.device);
    if (d) d.submodels.push(s); else out.push({ name: s.device, submodels: [s] });
  }
  return out;
}

/** Where each sub-model's features start in the fusion's input, and D, the total. */
export function featureOffsets(m: SplitManifest): { offsets: Map<string, number>; D: number } {
  const offsets = new Map<string, number>();
  let D = 0;
  for (const s of m.submodels) { offsets.set(s.name, D); D += s.feature_size; }
  return { offsets, D };
}

/** A sub-model loaded for a device. */
export interface LoadedSubModel {
  readonly entry: SubModelEntry;
  readonly net: SpikingNet;
}

/**
 * Loads the sub-models device `name` runs, checking what the manifest says about them: the feature node
 * exists, gives feature_size values per step, and the model runs T steps on the split's input.
 */
export function loadSubModels(dir: string, m: SplitManifest, name: string): LoadedSubModel[] {
  const plan = devicePlans(m).find((p) => p.name === name);
  if (!plan) throw new EdgespikeError(`--name: "${name}" runs no sub-model of the split in ${dir} (devices: ${devicePlans(m).map((p) => p.name).join(', ')})`);
  return plan.submodels.map((entry) => {
    const file = join(dir, entry.file);
    const { net } = loadNet(file);
    const bad = (why: string): never => { throw new EdgespikeError(`${file}: ${why}`); };
    if (fmtShape(net.config.input) !== fmtShape(m.input)) bad(`takes input ${fmtShape(net.config.input)}, the split's input is ${fmtShape(m.input)}`);
    if (net.config.T !== m.T) bad(`runs T = ${net.config.T} steps, the split runs ${m.T}`);
    const shape = net.info.shapes.get(entry.feature_node);
    if (!shape) bad(`has no feature node "${entry.feature_node}" (nodes: ${net.graph.nodes.map((n) => n.id).join(', ')})`);
    if (size(shape!) !== entry.feature_size) bad(`feature node "${entry.feature_node}" gives ${size(shape!)} values per step, the manifest says ${entry.feature_size}`);
    return { entry, net };
  });
}

/** One sub-model's features for one input sample x (shaped as the split's input): [T, F]. */
export function subModelFeatures(s: LoadedSubModel, x: Float32Array): FeatureBlock {
  const { net, entry } = s, T = net.config.T;
  const data = noGrad(() => {
    const a = net.run(new Tensor(x, [1, ...net.config.input]), { training: false, to: entry.feature_node });
    // a feature node before the first neuron is static: the same values at every step
    const y = a.form === 'static' ? expandTime(a.x, T) : a.x;
    return Float32Array.from(y.data);
  });
  return { T, F: entry.feature_size, data };
}

/** Loads the fusion model and checks it takes [D] features over the split's T steps. */
export function loadFusion(dir: string, m: SplitManifest): SpikingNet {
  const file = join(dir, m.fusion.file);
  const { net } = loadNet(file);
  const { D } = featureOffsets(m);
  if (fmtShape(net.config.input) !== fmtShape([D])) throw new EdgespikeError(`${file}: the fusion takes input ${fmtShape(net.config.input)}, the sub-models give [${D}] features`);
  if (net.config.T !== m.T) throw new EdgespikeError(`${file}: the fusion runs T = ${net.config.T} steps, the split runs ${m.T}`);
  if (net.classes !== m.classes) throw new EdgespikeError(`${file}: the fusion gives ${net.classes} outputs, the split has ${m.classes} classes`);
  return net;
}

/**
 * Runs the fusion on the features of the sub-models that answered (by sub-model name); the features of
 * the others are zeros. Returns the logits (the fusion's readout over T) and their softmax.
 */
export function runFusion(fusion: SpikingNet, m: SplitManifest, blocks: ReadonlyMap<string, FeatureBlock>): { logits: Float32Array; probabilities: Float32Array } {
  const { offsets, D } = featureOffsets(m), T = m.T;
  const x = new Float32Array(T * D);
  for (const s of m.submodels) {
    const b = blocks.get(s.name);
    if (!b) continue;
    const o = offsets.get(s.name)!;
    for (let t = 0; t < T; t++) x.set(b.data.subarray(t * b.F, (t + 1) * b.F), t * D + o);
  }
  return noGrad(() => {
    const logits = fusion.forward(new Tensor(x, [T, 1, D]), { training: false, form: 'time' }).logits;
    return { logits: Float32Array.from(logits.data), probabilities: Float32Array.from(softmax(logits).data) };
  });
}
