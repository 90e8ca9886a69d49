/**
 * Our networks as NIR files. The standard fields say what NIR can: convolutions and dense layers (batch
 * norm folded into the conv or dense before it, a conv bias moved after its pools put back on the conv),
 * pools, flatten, neurons as LIF/IF (presets.ts: snnTorch's convention by default, dt 1e-4), the NIR ops of
 * imported models as their own types; dropout and identity nodes vanish into the edges. What NIR cannot say
 * (soft reset, max pooling, firing on equality) is written as the nearest standard node and reported. The
 * top graph's metadata then holds our graph, settings and every tensor the standard fields do not hold
 * exactly, so that our reader restores the model bit for bit (import.ts); the reference `nir` package reads
 * the standard fields with its shape checks on.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { ancestors, INPUT, tensorsOf, type GraphNode } from '../graph/graph.js';
import type { SpikingNet } from '../layers/net.js';
import type { ModelMeta } from '../train/net-codec.js';
import { Tensor } from '../tensor/tensor.js';
import { fakeQuantWeights } from '../quant/weights.js';
import { exportNeuron, type ExportPreset } from './presets.js';
import { writeH5Tree, type H5Tree } from './h5.js';
import { f32, f64, i64, isArray, isGraph, type NirArray, type NirField, type NirFile, type NirGraph, type NirLeaf, type NirMeta, type NirNode } from './types.js';

/** The format tag our metadata carries. */
export const META_FORMAT = 'edgespike-nir 1';

/** Options of netToNir. */
export interface ExportOptions {
  /** How neurons are written (default snntorch). */
  readonly preset?: ExportPreset;
  /** The step the neurons' time constants assume (default: 1e-4, norse 1e-3). */
  readonly dt?: number;
  /** Model-file metadata to keep in the file (dataset, class names, normalisation). */
  readonly extra?: Omit<ModelMeta, 'graph' | 'config'>;
}

/** An exported network: the file and what its standard fields lose. */
export interface Exported { readonly file: NirFile; readonly warnings: string[] }

/** The nir package version whose layout we write. */
const NIR_VERSION = '1.0.0';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Where a tensor's exact values are in the file: a node's field, or the metadata's tensor data. */
type Source = { readonly node: string; readonly field: string };

interface Emit {
  readonly nodes: Map<string, NirLeaf>;
  readonly edges: [string, string][];
  /** Our node id → the NIR nodes whose outputs stand for its output. */
  readonly outputs: Map<string, string[]>;
  /** Candidate sources of our tensors (checked for exact equality before use). */
  readonly sources: Map<string, Source>;
  /** Lossy notes: what → our node ids. */
  readonly lost: Map<string, string[]>;
  readonly names: Set<string>;
}

/** Our network as a NIR file in memory. */
export function netToNir(net: SpikingNet, o: ExportOptions = {}): Exported {
  const preset = o.preset ?? 'snntorch';
  const dt = o.dt ?? (preset === 'norse' ? 1e-3 : 1e-4);
  if (!(dt > 0 && Number.isFinite(dt))) throw new EdgespikeError(`NIR export: dt must be a finite number > 0, got ${dt}`);
  const g = net.graph, info = net.info, values = net.tensorValues();
  const keep = ancestors(g, g.output);
  const nodes = g.nodes.filter((n) => keep.has(n.id));
  const e: Emit = { nodes: new Map(), edges: [], outputs: new Map(), sources: new Map(), lost: new Map(), names: new Set() };
  const fresh = (name: string): string => {
    const base = name.replace(/\//g, '_');
    let n = base, k = 2;
    while (e.names.has(n) || n === '.' || n === '') n = `${base}#${k++}`;
    e.names.add(n);
    return n;
  };
  const inputName = fresh('input');
  e.nodes.set(inputName, leaf('Input', { shape: i64(g.input) }, {}));
  e.outputs.set(INPUT, [inputName]);
  const consumers = (id: string): string[] => (info.consumers.get(id) ?? []).filter((c) => keep.has(c));
  const plan = absorptions(nodes, consumers);
  const skipped = (n: GraphNode): boolean => n.op === 'dropout' || n.op === 'identity' || plan.into.has(n.id);
  const first = new Map<string, string>();
  const ctx: EmitCtx = { net, tensor: (id, name) => values[`${id}.${name}`], plan, preset, dt, fresh, e };
  for (const n of nodes) {
    if (skipped(n)) continue;
    const emitted = emitNode(n, info.inShapes.get(n.id)!, info.shapes.get(n.id)!, ctx);
    e.outputs.set(n.id, [emitted.out]);
    first.set(n.id, emitted.first);
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const visiting = new Set<string>();
  /** The NIR nodes whose outputs (summed) stand for our node's output. */
  const outs = (id: string): string[] => {
    const known = e.outputs.get(id);
    if (known) return known;
    const n = byId.get(id)!;
    if (visiting.has(id)) throw new EdgespikeError(`NIR export: node "${id}" (${n.op}) is in a loop of identity nodes, which NIR cannot express`);
    visiting.add(id);
    const into = plan.into.get(id);
    const r = into !== undefined && n.op === 'bn' ? outs(into) : into !== undefined ? outs(n.inputs[0]!) : [...n.inputs, ...(n.recurrent ?? [])].flatMap(outs);
    visiting.delete(id);
    e.outputs.set(id, r);
    return r;
  };
  for (const n of nodes) {
    if (skipped(n)) continue;
    for (const s of [...n.inputs, ...(n.recurrent ?? [])].flatMap(outs)) e.edges.push([s, first.get(n.id)!]);
  }
  const outputName = fresh('output');
  e.nodes.set(outputName, leaf('Output', { shape: i64(info.shapes.get(g.output)!) }, {}));
  for (const s of outs(g.output)) e.edges.push([s, outputName]);
  const meta = modelMetadata(net, e, { preset, dt }, o.extra ?? {});
  const warnings = [...e.lost].map(([what, ids]) => `${ids.join(', ')}: ${what}`);
  const graph: NirGraph = { type: 'NIRGraph', nodes: Object.fromEntries(e.nodes), edges: e.edges, metadata: meta };
  return { file: { version: NIR_VERSION, graph }, warnings };
}

function leaf(type: string, fields: Record<string, NirField>, metadata: NirMeta): NirLeaf {
  return { type, fields, metadata };
}

/** Which batch norms and moved biases fold into the conv or dense before them. */
interface Absorptions {
  /** bn or bias id → the conv/dense it folds into. */
  readonly into: Map<string, string>;
  /** conv/dense id → its folded bn, its moved biases. */
  readonly bn: Map<string, GraphNode>;
  readonly bias: Map<string, GraphNode[]>;
}

function absorptions(nodes: readonly GraphNode[], consumers: (id: string) => string[]): Absorptions {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const a: Absorptions = { into: new Map(), bn: new Map(), bias: new Map() };
  for (const n of nodes) {
    const src = byId.get(n.inputs[0]!);
    if (n.op === 'bn' && n.inputs.length === 1 && !n.recurrent?.length && src && (src.op === 'conv' || src.op === 'dense') && consumers(src.id).length === 1) {
      a.into.set(n.id, src.id); a.bn.set(src.id, n);
    }
    if (n.op === 'bias' && n.attrs.of && n.inputs.length === 1 && !n.recurrent?.length) {
      // the path back to its conv: pools only, each read by the next alone
      let at = src;
      while (at && at.op === 'pool' && at.inputs.length === 1 && consumers(at.id).length === 1) at = byId.get(at.inputs[0]!);
      if (at && at.id === n.attrs.of && at.op === 'conv' && consumers(at.id).length === 1 && !a.bn.has(at.id)) {
        a.into.set(n.id, at.id);
        a.bias.set(at.id, [...(a.bias.get(at.id) ?? []), n]);
      }
    }
  }
  return a;
}

interface EmitCtx {
  readonly net: SpikingNet;
  readonly tensor: (id: string, name: string) => Float32Array | undefined;
  readonly plan: Absorptions;
  readonly preset: ExportPreset;
  readonly dt: number;
  readonly fresh: (name: string) => string;
  readonly e: Emit;
}

/** Emits the NIR node(s) of `n`; returns the first (edges in) and the last (its output). */
function emitNode(n: GraphNode, x: readonly number[], y: readonly number[], c: EmitCtx): { first: string; out: string } {
  const { e } = c;
  const note = (what: string): void => { e.lost.set(what, [...(e.lost.get(what) ?? []), n.id]); };
  const get = (name: string): Float32Array => {
    const v = c.tensor(n.id, name);
    if (!v) throw new EdgespikeError(`NIR export: node "${n.id}" has no tensor "${name}"`);
    return v;
  };
  const put = (type: string, fields: Record<string, NirField>, from: string[] = [n.id], extraMeta: NirMeta = {}): string => {
    const name = c.fresh(n.id);
    e.nodes.set(name, leaf(type, fields, { edgespike_node: from.join('+'), ...extraMeta }));
    return name;
  };
  /** Registers a field that holds tensor `t` of node `id` unchanged. */
  const same = (name: string, field: string, id = n.id, t = field): void => { e.sources.set(`${id}.${t}`, { node: name, field }); };
  switch (n.op) {
    case 'conv': case 'dense': {
      const out = n.attrs.out, quant = n.attrs.quant;
      // a layer training quantized computes with its fake-quantized weight: that is the weight NIR gets
      const latent = quant && !quant.frozen;
      const W = latent ? fakeQuantWeights(new Tensor(get('weight'), [get('weight').length]), quant, false, c.tensor(n.id, 'alpha')?.[0] ?? 1).wq.data : get('weight');
      const bias = n.attrs.bias ? get('bias') : null;
      const bn = c.plan.bn.get(n.id), moved = c.plan.bias.get(n.id) ?? [];
      const { w, b } = fold(W, bias, out, bn ? bnTensors(c, bn.id, (bn.attrs as { eps: number }).eps) : null, moved.map((m) => c.tensor(m.id, 'bias')!));
      const from = [n.id, ...(bn ? [bn.id] : []), ...moved.map((m) => m.id)];
      if (n.op === 'conv') {
        const a = n.attrs;
        const fields: Record<string, NirField> = {
          weight: f32(w, [out, x[0]! / a.groups, a.kernel[0], a.kernel[1]]), bias: f32(b ?? new Float32Array(out)),
          stride: i64(a.stride), padding: i64(a.pad), dilation: i64([1, 1]), groups: i64(a.groups),
          // the nir package types a grouped conv's input as weight.shape[1] channels, so those go without input_shape
          ...(a.groups === 1 ? { input_shape: i64(x.slice(1)) } : {}),
        };
        const name = put('Conv2d', fields, from);
        if (!bn && !latent) same(name, 'weight');
        if (!bn && bias && !moved.length) same(name, 'bias');
        return { first: name, out: name };
      }
      let first: string | undefined;
      if (x.length > 1) first = put('Flatten', { start_dim: i64(0), end_dim: i64(-1), input_type: i64(x) }, [n.id], { edgespike_role: 'flatten before a dense layer' });
      const name = b ? put('Affine', { weight: f32(w, [out, size(x)]), bias: f32(b) }, from) : put('Linear', { weight: f32(w, [out, size(x)]) }, from);
      if (first) e.edges.push([first, name]);
      if (!bn && !latent) same(name, 'weight');
      if (!bn && bias) same(name, 'bias');
      return { first: first ?? name, out: name };
    }
    case 'bn': {
      // a batch norm with nothing to fold into: a per-channel affine map (a depthwise 1×1 conv, or a diagonal Affine)
      const { scale, shift } = bnTensors(c, n.id, n.attrs.eps);
      return perChannel(n.id, x, scale, shift, put);
    }
    case 'bias': {
      const C = x[0] ?? 1;
      return perChannel(n.id, x, new Float64Array(C).fill(1), new Float64Array(get('bias')), put);
    }
    case 'pool': {
      const { kind, k, stride } = n.attrs;
      if (kind === 'max') note('max pooling, which NIR lacks (written as AvgPool2d)');
      const name = put('AvgPool2d', { kernel_size: i64([k, k]), stride: i64([stride, stride]), padding: i64([0, 0]) });
      return { first: name, out: name };
    }
    case 'gap': {
      const name = put('AvgPool2d', { kernel_size: i64(x.slice(1)), stride: i64(x.slice(1)), padding: i64([0, 0]) });
      return { first: name, out: name };
    }
    case 'flatten': {
      const name = put('Flatten', { start_dim: i64(0), end_dim: i64(-1), input_type: i64(x) });
      return { first: name, out: name };
    }
    case 'reshape': {
      const dims = mergedDims(x, y);
      if (!dims) throw new EdgespikeError(`NIR export: node "${n.id}" (reshape) turns ${fmtShape(x)} into ${fmtShape(y)}, which NIR's Flatten cannot express (it only merges adjacent axes)`);
      const name = put('Flatten', { start_dim: i64(dims[0]), end_dim: i64(dims[1]), input_type: i64(x) });
      return { first: name, out: name };
    }
    case 'neuron': {
      const vthT = c.tensor(n.id, 'vth'), decay = c.tensor(n.id, 'decay')?.[0];
      const m = size(x), per = m / (n.attrs.threshold === 'channel' ? x[0]! : 1);
      const vth = new Float32Array(m).map((_, i) => (vthT ? vthT[vthT.length === 1 ? 0 : Math.floor(i / per)]! : n.neuron.vth));
      const ex = exportNeuron(n.neuron, decay, vth, c.preset, c.dt);
      for (const what of ex.lost) note(what);
      const fields = Object.fromEntries(Object.entries(ex.fields).map(([k, v]) => [k, f64(v, x)]));
      const name = put(ex.type, fields, [n.id], { edgespike_reset: n.neuron.reset, edgespike_fire: n.neuron.fire });
      return { first: name, out: name };
    }
    case 'nir-neuron': {
      const a = n.attrs;
      if (a.fire === '>=') note('fires on v ≥ θ (NIR fires on v > θ)');
      const params = Object.fromEntries(c.net.layer(n.id).buffers());
      const fields = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, f32(v, x)]));
      const name = put(a.model, fields, [n.id], { edgespike_dt: f64([a.dt], []), edgespike_method: a.method });
      for (const k of Object.keys(params)) same(name, k);
      return { first: name, out: name };
    }
    case 'scale': case 'threshold': case 'delay': {
      const field = n.op;
      const name = put(n.op === 'scale' ? 'Scale' : n.op === 'threshold' ? 'Threshold' : 'Delay', { [field]: f32(get(field), x) });
      same(name, field);
      return { first: name, out: name };
    }
    case 'nir-conv': {
      const a = n.attrs, w = get('weight');
      const bias = a.bias ? get('bias') : new Float32Array(a.out);
      const d = a.dims;
      const padding = convPadding(a, n.id);
      const pick = (p: readonly [number, number]): NirArray => i64(d === 1 ? [p[1]] : p);
      const fields: Record<string, NirField> = {
        weight: f32(w, d === 1 ? [a.out, x[0]! / a.groups, a.kernel[1]] : [a.out, x[0]! / a.groups, a.kernel[0], a.kernel[1]]),
        bias: f32(bias), stride: pick(a.stride), padding: typeof padding === 'string' ? padding : pick(padding), dilation: pick(a.dilation), groups: i64(a.groups),
        ...(a.groups === 1 ? { input_shape: i64(x.slice(1)) } : {}),
      };
      const name = put(d === 1 ? 'Conv1d' : 'Conv2d', fields);
      same(name, 'weight');
      if (a.bias) same(name, 'bias');
      return { first: name, out: name };
    }
    case 'nir-pool': {
      const a = n.attrs;
      const name = put(a.kind === 'sum' ? 'SumPool2d' : 'AvgPool2d', { kernel_size: i64(a.kernel), stride: i64(a.stride), padding: i64(a.pad) });
      return { first: name, out: name };
    }
    default:
      throw new EdgespikeError(`NIR export: node "${n.id}" (${n.op}) has no NIR equivalent; NIR holds spiking networks of convolutions, dense layers, pools and neurons`);
  }
}

/** A per-channel y = s·x + t as NIR: a depthwise 1×1 Conv2d over [C, H, W], a diagonal Affine over [F]. */
function perChannel(id: string, x: readonly number[], s: Float64Array, t: Float64Array, put: (type: string, f: Record<string, NirField>) => string): { first: string; out: string } {
  const C = x[0]!;
  if (x.length === 3) {
    const name = put('Conv2d', { weight: f32(s, [C, 1, 1, 1]), bias: f32(t), stride: i64([1, 1]), padding: i64([0, 0]), dilation: i64([1, 1]), groups: i64(C) });
    return { first: name, out: name };
  }
  if (x.length !== 1) throw new EdgespikeError(`NIR export: node "${id}" scales channels of a ${fmtShape(x)} input, which NIR can express for [C, H, W] and [F] only`);
  const w = new Float64Array(C * C);
  for (let i = 0; i < C; i++) w[i * C + i] = s[i]!;
  const name = put('Affine', { weight: f32(w, [C, C]), bias: f32(t) });
  return { first: name, out: name };
}

/** A batch norm in evaluation as y = scale·x + shift per channel (double precision). */
function bnTensors(c: EmitCtx, id: string, eps: number): { scale: Float64Array; shift: Float64Array } {
  const g = c.tensor(id, 'weight')!, b = c.tensor(id, 'bias')!, mu = c.tensor(id, 'running_mean')!, v = c.tensor(id, 'running_var')!;
  const scale = Float64Array.from(g, (gi, i) => gi / Math.sqrt(v[i]! + eps));
  const shift = Float64Array.from(b, (bi, i) => bi - mu[i]! * scale[i]!);
  return { scale, shift };
}

/** A layer's weight and bias with a batch norm folded in and moved biases added back (double precision). */
function fold(W: Float32Array, bias: Float32Array | null, out: number, bn: { scale: Float64Array; shift: Float64Array } | null, moved: Float32Array[]): { w: ArrayLike<number>; b: ArrayLike<number> | null } {
  if (!bn && moved.length === 0) return { w: W, b: bias };
  const per = W.length / out;
  let w: ArrayLike<number> = W;
  if (bn) {
    const folded = new Float64Array(W.length);
    for (let i = 0; i < W.length; i++) folded[i] = W[i]! * bn.scale[Math.floor(i / per)]!;
    w = folded;
  }
  const b = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    const b0 = bias ? bias[o]! : 0;
    b[o] = bn ? b0 * bn.scale[o]! + bn.shift[o]! : b0;
    for (const m of moved) b[o]! += m[o]!;
  }
  return { w, b };
}

/** [start, end] of the adjacent axes of `x` that `y` merges into one, or null. */
function mergedDims(x: readonly number[], y: readonly number[]): [number, number] | null {
  let s = 0;
  while (s < x.length && s < y.length && x[s] === y[s]) s++;
  if (s === x.length && s === y.length) return [0, 0];
  let ex = x.length - 1, ey = y.length - 1;
  while (ex > s && ey > s && x[ex] === y[ey]) { ex--; ey--; }
  if (ey !== s || size(x.slice(s, ex + 1)) !== y[s]) return null;
  return [s, ex];
}

/** A nir-conv's padding as NIR writes it: one number per axis, or "same" for PyTorch's uneven split. */
function convPadding(a: Extract<GraphNode, { op: 'nir-conv' }>['attrs'], id: string): readonly [number, number] | 'same' {
  const [t, b, l, r] = a.pad;
  if (t === b && l === r) return [t, l];
  const same = (before: number, after: number, k: number, d: number, s: number): boolean => s === 1 && before + after === d * (k - 1) && before === Math.floor((before + after) / 2);
  if (same(t, b, a.kernel[0], a.dilation[0], a.stride[0]) && same(l, r, a.kernel[1], a.dilation[1], a.stride[1])) return 'same';
  throw new EdgespikeError(`NIR export: node "${id}" (nir-conv) pads unevenly (${a.pad.join(', ')}), which NIR's convolutions cannot express`);
}

/**
 * The top graph's metadata: our graph and settings (JSON), where each of our tensors is (a node's field
 * holding it exactly, or the concatenated tensor data), and the discrete semantics in words.
 */
function modelMetadata(net: SpikingNet, e: Emit, exp: { preset: ExportPreset; dt: number }, extra: object): NirMeta {
  const index: ({ name: string; shape: number[]; node: string; field: string } | { name: string; shape: number[]; offset: number })[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  const shapes = new Map(net.graph.nodes.flatMap((n) => tensorsOf(n, net.info).map((t): [string, number[]] => [t.name, t.shape])));
  for (const [name, data] of Object.entries(net.tensorValues())) {
    const shape = shapes.get(name) ?? [data.length];
    const src = e.sources.get(name);
    const field = src ? (e.nodes.get(src.node)?.fields[src.field]) : undefined;
    if (src && isArray(field) && field.data.length === data.length && field.data.every((v, i) => Object.is(v, data[i]))) {
      index.push({ name, shape, node: src.node, field: src.field });
    } else {
      index.push({ name, shape, offset });
      chunks.push(data);
      offset += data.length;
    }
  }
  const all = new Float32Array(offset);
  let o = 0;
  for (const c of chunks) { all.set(c, o); o += c.length; }
  const { input: _input, ...config } = net.config;
  void _input;
  const model = { ...extra, graph: net.graph, config, ...(net.spec ? { spec: net.spec } : {}) };
  const meta: Record<string, NirMeta[string]> = {
    edgespike_format: META_FORMAT,
    edgespike_model: JSON.stringify(model),
    edgespike_export: JSON.stringify(exp),
    edgespike_tensors: JSON.stringify(index),
    edgespike_semantics: [
      `dt ${exp.dt} s per step (${exp.preset} convention); each step runs the nodes in the order of edgespike_model's graph,`,
      'fan-in summed, no delay on feed-forward edges, recurrent edges read the previous step; an input is held for the step;',
      'neurons update h = a·v + b·x + c, fire, then reset as edgespike_model says (soft reset subtracts the threshold).',
    ].join(' '),
  };
  if (all.length) meta.edgespike_tensor_data = f32(all);
  return meta;
}

/** A NIR file as an HDF5 tree (nodes and metadata as groups, fields as datasets). */
export function nirToTree(file: NirFile): H5Tree {
  const metaTree = (m: NirMeta): H5Tree => ({
    group: new Map(Object.entries(m).map(([k, v]): [string, H5Tree] => {
      if (typeof v === 'string' || isArray(v)) return [k, { value: v }];
      if (Array.isArray(v)) return [k, { value: { shape: [v.length], data: v as string[] } }];
      return [k, metaTree(v as NirMeta)];
    })),
  });
  const nodeTree = (n: NirNode): H5Tree => {
    const items: [string, H5Tree][] = [['type', { value: n.type }]];
    if (isGraph(n)) {
      items.push(['nodes', { group: new Map(Object.entries(n.nodes).map(([k, v]) => [k, nodeTree(v)])) }]);
      items.push(['edges', { value: { shape: [n.edges.length, 2], data: n.edges.flat() } }]);
    } else {
      for (const [k, v] of Object.entries(n.fields)) items.push([k, { value: v }]);
    }
    if (Object.keys(n.metadata).length) items.push(['metadata', metaTree(n.metadata)]);
    return { group: new Map(items) };
  };
  return { group: new Map<string, H5Tree>([['version', { value: file.version ?? NIR_VERSION }], ['node', nodeTree(file.graph)]]) };
}

/**
 * Writes a NIR file (atomically). Datasets are contiguous, as every nir release reads them; `compress`
 * chunks and gzips arrays (the nir package's own default since 2026), which is several times slower to write.
 */
export async function writeNir(path: string, file: NirFile, o: { compress?: boolean } = {}): Promise<void> {
  await writeH5Tree(path, nirToTree(file), { compress: o.compress ?? false });
}
