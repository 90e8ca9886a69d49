/**
 * Saving and loading a whole network: weights, batch-norm statistics and everything eval needs
 * (spec, input shape, neuron and encoder settings, T, readout, normalisation, class names, a
 * training summary) in one edgespike model file (safetensors + JSON metadata, written atomically).
 */
import { EdgespikeError } from '../util/errors.js';
import { loadModel, saveModel, type FloatTensor } from '../io/model-file.js';
import { formatSpec } from '../notation/format.js';
import type { ModelSpec } from '../notation/spec.js';
import { neuronParams, type NeuronParams } from '../neurons/neuron.js';
import { SpikingNet, type NetConfig } from '../layers/net.js';

/** Metadata stored with a model. */
export interface ModelMeta {
  readonly spec: ModelSpec;
  readonly specText?: string;
  readonly config: NetConfig;
  readonly dataset?: string;
  readonly normalize?: unknown;
  readonly classNames?: readonly string[];
  readonly training?: unknown;
  readonly [key: string]: unknown;
}

/** Named float arrays of a network: parameters and buffers. */
export function netArrays(net: SpikingNet): Record<string, FloatTensor> {
  const out: Record<string, FloatTensor> = {};
  for (const [n, t] of net.namedParameters()) out[n] = { shape: [...t.shape], data: t.data };
  for (const [n, b] of net.namedBuffers()) out[n] = { shape: [b.length], data: b };
  return out;
}

/** Copies stored arrays into a network; every parameter and buffer must be present with its size. */
export function loadNetArrays(net: SpikingNet, arrays: Record<string, FloatTensor>, file: string): void {
  const put = (name: string, dst: Float32Array) => {
    const src = arrays[name];
    if (!src) throw new EdgespikeError(`model file ${file}: tensor "${name}" is missing`);
    if (src.data.length !== dst.length) throw new EdgespikeError(`model file ${file}: tensor "${name}" has ${src.data.length} values, the network needs ${dst.length}`);
    dst.set(src.data);
  };
  for (const [n, t] of net.namedParameters()) put(n, t.data);
  for (const [n, b] of net.namedBuffers()) put(n, b);
}

/** Writes a network and its metadata to `path` (atomically). */
export function saveNet(path: string, net: SpikingNet, extra: Omit<ModelMeta, 'spec' | 'config'> = {}): void {
  if (typeof net.config.neuron.surrogate !== 'string') throw new EdgespikeError(`saveNet ${path}: a custom surrogate function cannot be stored in a model file`);
  let specText: string | undefined;
  try { specText = formatSpec(net.spec); } catch { specText = undefined; }
  saveModel(path, netArrays(net), { ...extra, spec: net.spec, specText, config: net.config });
}

/** Reads a model file and rebuilds the network with its weights. */
export function loadNet(path: string): { net: SpikingNet; meta: ModelMeta } {
  const { tensors, meta } = loadModel(path);
  const m = meta as unknown as ModelMeta;
  if (!m.spec || !Array.isArray((m.spec as ModelSpec).layers) || !m.config || !Array.isArray(m.config.input)) {
    throw new EdgespikeError(`model file ${path}: metadata has no network spec and config`);
  }
  let net: SpikingNet;
  try {
    const neuron: NeuronParams = neuronParams('default', m.config.neuron);
    net = new SpikingNet(m.spec, { ...m.config, neuron });
  } catch (e) {
    if (e instanceof EdgespikeError) throw new EdgespikeError(`model file ${path}: ${e.message}`);
    throw e;
  }
  loadNetArrays(net, tensors, path);
  return { net, meta: m };
}
