/**
 * A whole network as model-file bytes and back (this module runs in a browser too; model-file.ts reads
 * and writes files): its graph, its tensors (float32 or another storage dtype each),
 * and everything eval needs (input shape, T, encoder, readout, normalisation, class names, a training
 * summary) in one edgespike model file (safetensors + JSON metadata with checksums, written atomically).
 * Version-1 files (a spec instead of a graph) still load: their graph is built from the spec and their
 * tensor names are mapped to the graph's.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { MODEL_FORMAT, parseModel, quantizeTensor, serializeTagged, type FloatTensor, type StoreDtype, type TaggedFile } from '../io/model-codec.js';
import { formatSpec } from '../notation/format.js';
import type { ModelSpec } from '../notation/spec.js';
import { neuronParams, type NeuronParams } from '../neurons/neuron.js';
import { checkGraph, tensorsOf, sameGraph, type GraphNode, type ModelGraph } from '../graph/graph.js';
import { graphFromSpec } from '../graph/build.js';
import { SpikingNet, READOUTS, type NetConfig } from '../layers/net.js';
import { frozenCodes } from '../layers/quantize.js';
import { ENCODERS } from '../layers/encode.js';

/** Metadata stored with a model. */
export interface ModelMeta {
  readonly graph: ModelGraph;
  readonly config: Omit<NetConfig, 'input'>;
  /** The notation it was built from, while the graph still is that spec's. */
  readonly spec?: ModelSpec;
  readonly specText?: string;
  readonly dataset?: string;
  readonly normalize?: unknown;
  readonly classNames?: readonly string[];
  readonly training?: unknown;
  readonly [key: string]: unknown;
}

/** Named float arrays of a network: parameters and buffers, with their shapes. */
export function netArrays(net: SpikingNet): Record<string, FloatTensor> {
  const out: Record<string, FloatTensor> = {};
  for (const [n, t] of net.namedParameters()) out[n] = { shape: [...t.shape], data: t.data };
  for (const l of net.layers) {
    const shapes = new Map(tensorsOf(l.node, net.info).map((t) => [t.name, t.shape]));
    for (const [n, b] of l.buffers()) out[`${l.name}.${n}`] = { shape: shapes.get(`${l.name}.${n}`) ?? [b.length], data: b };
  }
  return out;
}

/** Copies stored arrays into a network; every parameter and buffer must be present with its size. */
export function loadNetArrays(net: SpikingNet, arrays: Record<string, FloatTensor>, file: string): void {
  const put = (name: string, dst: Float32Array) => {
    const src = arrays[net.legacyNames.get(name) ?? name] ?? arrays[name];
    if (!src) throw new EdgespikeError(`model file ${file}: tensor "${name}" is missing`);
    if (src.data.length !== dst.length) throw new EdgespikeError(`model file ${file}: tensor "${name}" has ${src.data.length} values, the network needs ${dst.length}`);
    dst.set(src.data);
  };
  for (const [n, t] of net.namedParameters()) put(n, t.data);
  for (const [n, b] of net.namedBuffers()) put(n, b);
}

/** Options of saveNet. */
export interface SaveOptions {
  /** Storage dtype per tensor name (default F32); integer dtypes quantize with one scale per output channel when `perChannel`. */
  readonly dtype?: (name: string, shape: readonly number[]) => StoreDtype | undefined;
  readonly perChannel?: boolean;
}

/** The settings stored beside the graph (the input shape is the graph's). */
function storedConfig(c: NetConfig): Omit<NetConfig, 'input'> {
  const { input: _input, ...rest } = c;
  void _input;
  return rest;
}

/** A network and its metadata as model-file bytes; `who` names it in errors ("saveNet m.es"). */
export function netToBytes(net: SpikingNet, extra: Omit<ModelMeta, 'graph' | 'config'> = {}, o: SaveOptions = {}, who = 'netToBytes'): Uint8Array {
  if (net.config.neuron && typeof net.config.neuron.surrogate !== 'string') throw new EdgespikeError(`${who}: a custom surrogate function cannot be stored in a model file`);
  for (const n of net.graph.nodes) {
    if (n.op === 'neuron' && typeof n.neuron.surrogate !== 'string') throw new EdgespikeError(`${who}: node "${n.id}" has a custom surrogate function, which cannot be stored in a model file`);
  }
  let specText: string | undefined;
  if (net.spec) { try { specText = formatSpec(net.spec); } catch { specText = undefined; } }
  const arrays = netArrays(net);
  // frozen quantized layers store their integer codes, packed to their bits, with their scale
  for (const n of net.graph.nodes) {
    if ((n.op !== 'conv' && n.op !== 'dense') || !n.attrs.quant?.frozen) continue;
    const w = arrays[`${n.id}.weight`]!, scale = arrays[`${n.id}.wscale`]!.data[0]!;
    const dtype: StoreDtype = n.attrs.quant.bits === 2 ? 'Q2' : n.attrs.quant.bits === 4 ? 'Q4' : 'I8';
    arrays[`${n.id}.weight`] = { shape: w.shape, data: w.data, dtype, scale, codes: Int16Array.from(frozenCodes(w.data, scale)) };
  }
  if (o.dtype) {
    for (const [name, t] of Object.entries(arrays)) {
      const d = o.dtype(name, t.shape);
      if (d && d !== 'F32' && !t.dtype) arrays[name] = quantizeTensor(t, d, o.perChannel ?? false);
    }
  }
  return serializeTagged(MODEL_FORMAT, arrays, { ...extra, graph: net.graph, config: storedConfig(net.config), ...(net.spec ? { spec: net.spec, specText } : {}) }, who);
}

/** A loaded network: the network, the file's metadata, each tensor as stored, and the format version. */
export interface LoadedNet { readonly net: SpikingNet; readonly meta: ModelMeta; readonly stored: Record<string, FloatTensor>; readonly version: string }

/** Rebuilds a network from model-file bytes (read from disk or fetched by a page); `path` names them in errors. */
export function netFromBytes(bytes: Uint8Array, path: string): LoadedNet {
  const file = parseModel(bytes, path);
  try {
    return { ...netFromFile(file, path), stored: file.tensors, version: file.version };
  } catch (e) {
    if (e instanceof EdgespikeError && !e.message.startsWith(`model file ${path}`)) throw new EdgespikeError(`model file ${path}: ${e.message}`);
    throw e;
  }
}

/** Checks the run settings a file states (one line naming the field on failure). */
function checkConfig(c: Record<string, unknown>): void {
  const bad = (why: string): never => { throw new EdgespikeError(`config ${why}`); };
  if (!Number.isSafeInteger(c.T) || (c.T as number) < 1 || (c.T as number) > 10_000) bad(`T must be an integer in [1, 10000], got ${JSON.stringify(c.T)}`);
  if (!READOUTS.includes(c.readout as never)) bad(`readout must be one of ${READOUTS.join(', ')}, got ${JSON.stringify(c.readout)}`);
  if (typeof c.readoutBeta !== 'number' || !(c.readoutBeta >= 0 && c.readoutBeta <= 1)) bad(`readoutBeta must be a number in [0, 1], got ${JSON.stringify(c.readoutBeta)}`);
  const enc = c.encoder as { kind?: unknown } | null;
  if (!enc || typeof enc !== 'object' || !ENCODERS.includes(enc.kind as never)) bad(`encoder.kind must be one of ${ENCODERS.join(', ')}, got ${JSON.stringify(enc?.kind ?? enc)}`);
  if (!Number.isSafeInteger(c.seed)) bad(`seed must be an integer, got ${JSON.stringify(c.seed)}`);
  if (c.act !== undefined && c.act !== 'snn' && c.act !== 'ann' && c.act !== 'sg') bad(`act must be "snn", "ann" or "sg", got ${JSON.stringify(c.act)}`);
  const lv = c.levels as { k?: unknown; B?: unknown } | undefined;
  if (lv !== undefined && !(lv && Number.isInteger(lv.k) && (lv.k as number) >= 0 && (lv.k as number) <= 8 && Number.isInteger(lv.B) && (lv.B as number) >= 1 && (lv.B as number) <= 64)) bad(`levels must be {k: 0 … 8, B: 1 … 64}, got ${JSON.stringify(lv)}`);
}

/** Every neuron node's parameters completed with the defaults and checked. */
function checkedNeurons(g: ModelGraph): ModelGraph {
  const nodes = g.nodes.map((n): GraphNode => {
    if (n?.op !== 'neuron') return n;
    try {
      return { ...n, neuron: neuronParams('default', n.neuron as Partial<NeuronParams>) };
    } catch (e) {
      throw new EdgespikeError(`graph: node "${n.id}" ${(e as Error).message}`);
    }
  });
  return { ...g, nodes };
}

function netFromFile(file: TaggedFile, path: string): { net: SpikingNet; meta: ModelMeta } {
  for (const [name, t] of Object.entries(file.tensors)) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) throw new EdgespikeError(`model file ${path}: tensor "${name}" holds ${d[i]} at index ${i}; a model's values must be finite`);
    }
  }
  const m = file.meta as Record<string, unknown>;
  const config = m.config as Record<string, unknown> | undefined;
  if (!config || typeof config !== 'object') throw new EdgespikeError(`model file ${path}: metadata has no config`);
  checkConfig(config);
  if (file.version === '1') {
    const spec = m.spec as ModelSpec | undefined;
    if (!spec || !Array.isArray(spec.layers) || !Array.isArray(config.input)) throw new EdgespikeError(`model file ${path}: metadata has no network spec and config`);
    const neuron = neuronParams('default', config.neuron as Partial<NeuronParams>);
    const cfg = { ...(config as unknown as NetConfig), neuron };
    const net = new SpikingNet(spec, cfg);
    loadNetArrays(net, file.tensors, path);
    const used = new Set(Object.keys(net.tensorValues()).map((n) => net.legacyNames.get(n) ?? n));
    for (const name of Object.keys(file.tensors)) if (!used.has(name)) throw new EdgespikeError(`model file ${path}: tensor "${name}" belongs to no layer of the network`);
    const built = graphFromSpec(spec, { input: cfg.input, neuron, spikingReadout: cfg.readout === 'count' || cfg.readout === 'rate' });
    return { net, meta: { ...(m as object), graph: built.graph, config: storedConfig(cfg) } as ModelMeta };
  }
  const raw = m.graph as ModelGraph | undefined;
  if (!raw || typeof raw !== 'object' || !Array.isArray(raw.nodes)) throw new EdgespikeError(`model file ${path}: metadata has no graph`);
  const graph = checkedNeurons(raw);
  const info = checkGraph(graph);
  // every tensor the graph needs, with its exact shape, and no other
  const want = new Map<string, number[]>();
  for (const n of graph.nodes) for (const t of tensorsOf(n, info)) want.set(t.name, t.shape);
  const values: Record<string, Float32Array> = {};
  for (const [name, shape] of want) {
    const t = file.tensors[name];
    if (!t) throw new EdgespikeError(`model file ${path}: tensor "${name}" is missing`);
    if (fmtShape(t.shape) !== fmtShape(shape)) throw new EdgespikeError(`model file ${path}: tensor "${name}" has shape ${fmtShape(t.shape)}, node "${name.slice(0, name.lastIndexOf('.'))}" needs ${fmtShape(shape)}`);
    values[name] = t.data;
  }
  for (const name of Object.keys(file.tensors)) if (!want.has(name)) throw new EdgespikeError(`model file ${path}: tensor "${name}" belongs to no node of the graph`);
  const neuron = config.neuron === undefined ? undefined : neuronParams('default', config.neuron as Partial<NeuronParams>);
  const cfg = { ...(config as unknown as NetConfig), input: graph.input, ...(neuron ? { neuron } : {}) };
  // a graph that is still its spec's is built from the spec, so the net knows its notation
  const spec = m.spec as ModelSpec | undefined;
  const net = new SpikingNet(graph, cfg, values, spec && specGraph(spec, cfg, graph) ? spec : undefined);
  return { net, meta: m as unknown as ModelMeta };
}

/** True when `spec` built with `cfg` gives exactly `graph`. */
function specGraph(spec: ModelSpec, cfg: NetConfig, graph: ModelGraph): boolean {
  try {
    const built = graphFromSpec(spec, { input: cfg.input, neuron: cfg.neuron ?? neuronParams(), act: cfg.act, ...(cfg.levels ? { levels: cfg.levels } : {}), spikingReadout: cfg.readout === 'count' || cfg.readout === 'rate' });
    return sameGraph(built.graph, graph);
  } catch {
    return false;
  }
}
