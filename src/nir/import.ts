/**
 * A NIR graph as one of our networks. Nested graphs are flattened (a subgraph's Input and Output become
 * identity nodes named `graph.input`, `graph.output`; its nodes `graph.name`), then ordered by a depth-first
 * walk from the Input that takes each node's successors in name order: the walk's reverse postorder is the
 * step order, and an edge that closes a cycle (to a node still on the walk's stack) becomes a recurrent edge
 * reading the previous step. Every other edge carries the current step, fan-in summed in step order.
 *
 * Nodes map to our ops where those compute the same thing (Affine/Linear → dense, Conv2d → conv, AvgPool2d →
 * pool, Flatten → flatten), else to the NIR ops (graph/nir-ops.ts). A neuron whose parameters are uniform
 * and whose update our fused neuron computes bit for bit becomes a `neuron` node (neurons/nir.ts).
 *
 * A file we wrote carries our graph in its metadata: when the standard fields are still exactly what we
 * would write for that graph, the model is restored bit for bit; otherwise (another tool edited the file)
 * the standard fields are imported and a warning says why.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { checkAttrs, checkGraph, INPUT, nodeOutputShape, nodeTensors, type GraphNode, type ModelGraph } from '../graph/graph.js';
import { NIR_NEURON_PARAMS, spikes, type NirNeuronModel } from '../graph/nir-ops.js';
import { SpikingNet, type NetConfig } from '../layers/net.js';
import { matchNeuron, nirCoefficients } from '../neurons/nir.js';
import { neuronParams, type NeuronParams } from '../neurons/neuron.js';
import { intList, NEURON_TYPES } from './read.js';
import { PRESET_DT, presetNeuron, type ExportPreset, type ImportPreset } from './presets.js';
import { META_FORMAT, netToNir } from './write.js';
import { isArray, isGraph, type NirArray, type NirField, type NirFile, type NirGraph, type NirLeaf } from './types.js';

/** Options of nirToNet. */
export interface ImportOptions {
  /** Whose discretisation to run (default nir). */
  readonly preset?: ImportPreset;
  /** Step in seconds (default: the preset's, 1e-4 for nir). */
  readonly dt?: number;
  /** Euler (default) or the exact exponential. */
  readonly method?: 'euler' | 'exp';
  /** Time steps of the network's runs (default: the model's own when restored, else 10). */
  readonly T?: number;
  /** Map neurons our fused kernels compute bit for bit to `neuron` nodes (default true). */
  readonly fuse?: boolean;
  /** Restore our own models from their metadata (default true). */
  readonly metadata?: boolean;
}

/** An imported network. */
export interface Imported {
  readonly net: SpikingNet;
  /** True when restored from our metadata (bit for bit). */
  readonly restored: boolean;
  /** The model-file metadata our export kept (dataset, class names), when restored. */
  readonly extra: Record<string, unknown>;
  readonly warnings: string[];
  /** The discretisation the neurons run with. */
  readonly semantics: { readonly preset: ImportPreset; readonly dt: number; readonly method: 'euler' | 'exp' };
}

/** Our network of a NIR file. */
export function nirToNet(file: NirFile, o: ImportOptions = {}): Imported {
  const preset = o.preset ?? 'nir', method = o.method ?? 'euler', dt = o.dt ?? PRESET_DT[preset];
  if (!(dt > 0 && Number.isFinite(dt))) throw new EdgespikeError(`NIR import: dt must be a finite number > 0, got ${dt}`);
  if (o.T !== undefined && !(Number.isSafeInteger(o.T) && o.T >= 1)) throw new EdgespikeError(`NIR import: T must be a positive integer, got ${o.T}`);
  const warnings: string[] = [];
  if (o.metadata !== false && file.graph.metadata.edgespike_format !== undefined) {
    const r = restore(file, o.T, warnings);
    if (r) return { ...r, restored: true, warnings, semantics: { preset, dt, method } };
  }
  const built = buildGraph(file.graph, { preset, dt, method, fuse: o.fuse ?? true }, warnings);
  const config: NetConfig = {
    input: built.graph.input, T: o.T ?? 10, encoder: { kind: 'direct' }, readout: built.spikingOutput ? 'count' : 'mean', readoutBeta: 0.9, seed: 0,
  };
  return { net: new SpikingNet(built.graph, config, built.values), restored: false, extra: {}, warnings, semantics: { preset, dt, method } };
}

// ---------------------------------------------------------------- restoring our own models

/** The model our metadata describes, if the standard fields are still exactly what we would write for it. */
function restore(file: NirFile, T: number | undefined, warnings: string[]): { net: SpikingNet; extra: Record<string, unknown> } | null {
  const m = file.graph.metadata;
  const give = (why: string): null => { warnings.push(`the file's edgespike metadata ${why}; imported from the standard NIR fields`); return null; };
  if (m.edgespike_format !== META_FORMAT) return give(`has format ${JSON.stringify(typeof m.edgespike_format === 'string' ? m.edgespike_format : '?')}, not "${META_FORMAT}"`);
  let model: { graph: ModelGraph; config: Omit<NetConfig, 'input'>; spec?: unknown; [k: string]: unknown };
  let exp: { preset: ExportPreset; dt: number };
  let index: ({ name: string; shape: number[]; node: string; field: string } | { name: string; shape: number[]; offset: number })[];
  try {
    model = JSON.parse(text(m.edgespike_model));
    exp = JSON.parse(text(m.edgespike_export));
    index = JSON.parse(text(m.edgespike_tensors));
    if (!model?.graph || !model.config || !Array.isArray(index)) throw new Error('incomplete');
  } catch {
    return give('cannot be parsed');
  }
  const data = m.edgespike_tensor_data;
  const values: Record<string, Float32Array> = {};
  for (const t of index) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    let src: ArrayLike<number> | undefined;
    if ('offset' in t) src = isArray(data) && t.offset + n <= data.data.length ? data.data.subarray(t.offset, t.offset + n) : undefined;
    else {
      const node = file.graph.nodes[t.node];
      const f = node && !isGraph(node) ? node.fields[t.field] : undefined;
      src = isArray(f) && f.data.length === n ? f.data : undefined;
    }
    if (!src) return give(`lists tensor "${t.name}", which the file does not hold`);
    values[t.name] = new Float32Array(src);
  }
  let net: SpikingNet;
  try {
    const { spec: _spec, graph, config, ...extra } = model;
    void _spec;
    const checked = { ...graph, nodes: graph.nodes.map((n) => (n.op === 'neuron' ? { ...n, neuron: neuronParams('default', n.neuron as Partial<NeuronParams>) } : n)) };
    checkGraph(checked);
    net = new SpikingNet(checked, { ...(config as NetConfig), input: checked.input, ...(T ? { T } : {}) }, values);
    const again = netToNir(net, { preset: exp.preset, dt: exp.dt }).file.graph;
    const diff = standardDifference(again, file.graph);
    if (diff) return give(`no longer matches the standard fields (${diff})`);
    return { net, extra };
  } catch (e) {
    if (e instanceof EdgespikeError) return give(`describes a model that cannot be built (${e.message})`);
    throw e;
  }
}

function text(v: unknown): string {
  if (typeof v !== 'string') throw new Error('not a string');
  return v;
}

/** Where two graphs' standard fields differ (nodes, types, field values, edges), or null. Metadata is ignored. */
function standardDifference(want: NirGraph, got: NirGraph): string | null {
  const gotNodes = Object.keys(got.nodes), wantNodes = Object.keys(want.nodes);
  if (gotNodes.length !== wantNodes.length) return `${gotNodes.length} nodes, expected ${wantNodes.length}`;
  for (const [name, w] of Object.entries(want.nodes)) {
    const g = got.nodes[name];
    if (!g || g.type !== w.type || isGraph(g) || isGraph(w)) return `node "${name}"`;
    for (const [k, v] of Object.entries(w.fields)) {
      if (!sameField(v, g.fields[k])) return `node "${name}", field "${k}"`;
    }
  }
  const key = (e: readonly [string, string]): string => `${e[0]}\u0000${e[1]}`;
  const edges = new Set(got.edges.map(key));
  if (edges.size !== want.edges.length || !want.edges.every((e) => edges.has(key(e)))) return 'edges';
  return null;
}

function sameField(a: NirField, b: NirField | undefined): boolean {
  if (b === undefined) return false;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return fmtShape(a.shape) === fmtShape(b.shape) && a.data.every((v, i) => Object.is(v, b.data[i]) || (v === 0 && b.data[i] === 0));
}

// ---------------------------------------------------------------- flattening and ordering

/** A node of the flattened graph: a leaf of some (sub)graph, or an identity port of a subgraph. */
interface Flat { readonly id: string; readonly path: string; readonly leaf: NirLeaf | null }

interface Flattened {
  readonly nodes: Map<string, Flat>;
  readonly edges: [string, string][];
  readonly input: string;
  readonly output: string;
}

/** Flattens nested graphs; ids join names with '.' (a clash gets "#2", "#3"). */
function flatten(top: NirGraph): Flattened {
  const nodes = new Map<string, Flat>(), edges: [string, string][] = [];
  const taken = new Set<string>([INPUT]);
  const fresh = (want: string): string => {
    let id = want, k = 2;
    while (taken.has(id)) id = `${want}#${k++}`;
    taken.add(id);
    return id;
  };
  let input = '', output = '';
  /** Adds graph g's nodes; returns the ids its Input and Output became (ports of a subgraph). */
  const add = (g: NirGraph, prefix: string, path: string, isTop: boolean): { inPort: string; outPort: string } => {
    const ins = Object.entries(g.nodes).filter(([, n]) => n.type === 'Input'), outs = Object.entries(g.nodes).filter(([, n]) => n.type === 'Output');
    const where = isTop ? 'the top-level graph' : `subgraph "${path}"`;
    if (ins.length !== 1) throw new EdgespikeError(`NIR import: ${where} has ${ins.length} Input nodes${ins.length ? ` (${ins.map(([k]) => k).join(', ')})` : ''}; one is needed${isTop ? '' : ' (edges reach a subgraph by its name, so it has one port in)'}`);
    if (outs.length !== 1) throw new EdgespikeError(`NIR import: ${where} has ${outs.length} Output nodes${outs.length ? ` (${outs.map(([k]) => k).join(', ')})` : ''}; one is needed`);
    const idOf = new Map<string, { in: string; out: string }>();
    for (const [name, n] of Object.entries(g.nodes)) {
      const full = prefix ? `${prefix}.${name}` : name, p = path ? `${path}/${name}` : name;
      if (isGraph(n)) {
        const ports = add(n, full, p, false);
        idOf.set(name, { in: ports.inPort, out: ports.outPort });
      } else if (isTop && n.type === 'Input') {
        idOf.set(name, { in: INPUT, out: INPUT });
        input = p;
      } else {
        const id = fresh(full);
        nodes.set(id, { id, path: p, leaf: n.type === 'Input' || (n.type === 'Output' && !isTop) ? null : n });
        if (isTop && n.type === 'Output') output = id;
        idOf.set(name, { in: id, out: id });
      }
    }
    for (const [a, b] of g.edges) {
      const from = idOf.get(a)!, to = idOf.get(b)!;
      if (to.in === INPUT) throw new EdgespikeError(`NIR import: edge "${a}" → "${b}" leads into the Input node`);
      if (isTop && g.nodes[a]!.type === 'Output') throw new EdgespikeError(`NIR import: edge "${a}" → "${b}" leaves the Output node`);
      edges.push([from.out, to.in]);
    }
    return { inPort: idOf.get(ins[0]![0])!.in, outPort: idOf.get(outs[0]![0])!.out };
  };
  add(top, '', '', true);
  void input;
  return { nodes, edges, input: INPUT, output };
}

/** Step order (reverse postorder of the walk from INPUT) and the edges that close cycles. */
function order(f: Flattened, warnings: string[]): { order: string[]; back: Set<string>; reached: Set<string> } {
  const succ = new Map<string, string[]>();
  for (const [a, b] of f.edges) succ.set(a, [...(succ.get(a) ?? []), b]);
  for (const list of succ.values()) list.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const color = new Map<string, 1 | 2>(), post: string[] = [], back = new Set<string>();
  const stack: [string, number][] = [[INPUT, 0]];
  color.set(INPUT, 1);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const next = (succ.get(top[0]) ?? [])[top[1]++];
    if (next === undefined) { color.set(top[0], 2); post.push(top[0]); stack.pop(); continue; }
    const c = color.get(next);
    if (c === 1) back.add(`${top[0]}\u0000${next}`);
    else if (c === undefined) { color.set(next, 1); stack.push([next, 0]); }
  }
  const reached = new Set(post);
  const lost = [...f.nodes.values()].filter((n) => !reached.has(n.id));
  if (!reached.has(f.output)) throw new EdgespikeError(`NIR import: the Output node "${f.nodes.get(f.output)?.path}" cannot be reached from the Input`);
  if (lost.length) warnings.push(`${lost.map((n) => n.path).join(', ')}: not reachable from the Input; left out`);
  return { order: post.reverse().filter((id) => id !== INPUT), back, reached };
}

// ---------------------------------------------------------------- mapping nodes

interface MapOptions { readonly preset: ImportPreset; readonly dt: number; readonly method: 'euler' | 'exp'; readonly fuse: boolean }

/** The graph and tensor values of a flattened NIR graph. */
function buildGraph(top: NirGraph, o: MapOptions, warnings: string[]): { graph: ModelGraph; values: Record<string, Float32Array>; spikingOutput: boolean } {
  const inputNode = Object.values(top.nodes).find((n) => n.type === 'Input') as NirLeaf | undefined;
  const f = flatten(top);
  const inShape = Array.from((inputNode!.fields.shape as NirArray).data);
  const { order: steps, back, reached } = order(f, warnings);
  const pos = new Map(steps.map((id, i) => [id, i]));
  pos.set(INPUT, -1);
  const shapes = new Map<string, number[]>([[INPUT, inShape]]);
  const nodes: GraphNode[] = [], values: Record<string, Float32Array> = {};
  const spiking = new Set<string>();
  for (const id of steps) {
    const flat = f.nodes.get(id)!;
    const ins = f.edges.filter(([a, b]) => b === id && reached.has(a));
    const fwd = ins.filter(([a]) => !back.has(`${a}\u0000${id}`)).map(([a]) => a).sort((a, b) => pos.get(a)! - pos.get(b)!);
    const rec = ins.filter(([a]) => back.has(`${a}\u0000${id}`)).map(([a]) => a).sort((a, b) => pos.get(a)! - pos.get(b)!);
    if (fwd.length === 0) throw new EdgespikeError(`NIR import: node "${flat.path}" is reached only through a cycle; nothing feeds it from the Input`);
    const x = shapes.get(fwd[0]!)!;
    for (const s of fwd.slice(1)) {
      if (fmtShape(shapes.get(s)!) !== fmtShape(x)) throw new EdgespikeError(`NIR import: node "${flat.path}" sums inputs of shapes ${fmtShape(x)} ("${f.nodes.get(fwd[0]!)?.path ?? 'input'}") and ${fmtShape(shapes.get(s)!)} ("${f.nodes.get(s)?.path ?? 'input'}")`);
    }
    const base = { inputs: fwd, ...(rec.length ? { recurrent: rec } : {}) };
    const made = mapNode(flat, x, base, o, warnings);
    let out = x;
    for (const n of made.nodes) { checkAttrs(n); out = nodeOutputShape(n, out); nodes.push(n); }
    Object.assign(values, made.values);
    const last = made.nodes[made.nodes.length - 1]!;
    shapes.set(id, out);
    if (made.spiking || (last.op === 'identity' && fwd.every((s) => spiking.has(s)))) spiking.add(id);
  }
  const graph: ModelGraph = { input: inShape, nodes, output: f.output };
  checkGraph(graph);
  const declared = f.nodes.get(f.output)?.leaf?.fields.shape;
  const got = shapes.get(f.output)!;
  if (isArray(declared) && fmtShape(Array.from(declared.data)) !== fmtShape(got)) warnings.push(`${f.nodes.get(f.output)!.path} (Output): declares shape ${fmtShape(Array.from(declared.data))}, receives ${fmtShape(got)}`);
  return { graph, values, spikingOutput: spiking.has(f.output) };
}

/** A mapped node: our graph nodes (the last one's id is the NIR node's), their tensor values, whether it spikes. */
interface Mapped { readonly nodes: GraphNode[]; readonly values: Record<string, Float32Array>; readonly spiking: boolean }

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function mapNode(flat: Flat, x: number[], base: { inputs: string[]; recurrent?: string[] }, o: MapOptions, warnings: string[]): Mapped {
  const id = flat.id, n = flat.leaf;
  const one = (node: GraphNode, values: Record<string, ArrayLike<number>> = {}, spiking = false): Mapped => ({
    nodes: [node], spiking, values: Object.fromEntries(Object.entries(values).map(([k, v]) => [`${node.id}.${k}`, new Float32Array(v)])),
  });
  if (!n) return one({ id, op: 'identity', attrs: {}, ...base });
  const at = `NIR import: node "${flat.path}" (${n.type})`;
  const warn = (why: string): void => { warnings.push(`${flat.path} (${n.type}): ${why}`); };
  const arr = (name: string): NirArray => n.fields[name] as NirArray;
  switch (n.type) {
    case 'Output': return one({ id, op: 'identity', attrs: {}, ...base });
    case 'Affine': case 'Linear': {
      const w = arr('weight'), [out, inp] = w.shape as [number, number];
      if (size(x) !== inp) throw new EdgespikeError(`${at}: its weight ${fmtShape(w.shape)} takes ${inp} inputs, it receives ${fmtShape(x)} = ${size(x)} values`);
      if (x.length > 1) warn(`receives ${fmtShape(x)}, flattened to [${inp}]`);
      const bias = n.type === 'Affine';
      return one({ id, op: 'dense', attrs: { out, bias }, ...base }, { weight: w.data, ...(bias ? { bias: arr('bias').data } : {}) });
    }
    case 'Scale': case 'Threshold': case 'Delay': {
      const field = n.type.toLowerCase() as 'scale' | 'threshold' | 'delay';
      const v = perNeuron(arr(field), x, field, at, warn);
      if (field === 'delay') {
        const bad = v.findIndex((d) => !(Math.round(d / o.dt) >= 0));
        if (bad >= 0) throw new EdgespikeError(`${at}: delay ${v[bad]} at index ${bad} is negative`);
        return one({ id, op: 'delay', attrs: { dt: o.dt }, ...base }, { delay: v });
      }
      return one({ id, op: field, attrs: {}, ...base } as GraphNode, { [field]: v }, field === 'threshold');
    }
    case 'Conv2d': case 'Conv1d': return mapConv(n, flat, x, base, at, warn);
    case 'SumPool2d': case 'AvgPool2d': {
      if (x.length !== 3) throw new EdgespikeError(`${at}: pools a [C, H, W] map, it receives ${fmtShape(x)}`);
      const k = intList(n.fields, 'kernel_size', 2, 1, at), s = intList(n.fields, 'stride', 2, 1, at), p = intList(n.fields, 'padding', 2, 0, at);
      if (n.type === 'AvgPool2d' && k[0] === k[1] && s[0] === s[1] && p[0] === 0 && p[1] === 0) {
        return one({ id, op: 'pool', attrs: { kind: 'avg', k: k[0]!, stride: s[0]! }, ...base });
      }
      return one({ id, op: 'nir-pool', attrs: { kind: n.type === 'SumPool2d' ? 'sum' : 'avg', kernel: [k[0]!, k[1]!], stride: [s[0]!, s[1]!], pad: [p[0]!, p[1]!] }, ...base });
    }
    case 'Flatten': {
      const r = x.length, norm = (d: number): number => (d < 0 ? d + r : d);
      const s = norm(arr('start_dim').data[0]!), e = norm(arr('end_dim').data[0]!);
      if (!(s >= 0 && e < r && s <= e)) throw new EdgespikeError(`${at}: start_dim ${arr('start_dim').data[0]} and end_dim ${arr('end_dim').data[0]} do not name axes of its input ${fmtShape(x)} (in order)`);
      const it = n.fields.input_type;
      if (isArray(it) && fmtShape(Array.from(it.data)) !== fmtShape(x)) warn(`declares input_type ${fmtShape(Array.from(it.data))}, receives ${fmtShape(x)}`);
      if (s === 0 && e === r - 1) return one({ id, op: 'flatten', attrs: {}, ...base });
      return one({ id, op: 'reshape', attrs: { shape: [...x.slice(0, s), size(x.slice(s, e + 1)), ...x.slice(e + 1)] }, ...base });
    }
    default:
      if (NEURON_TYPES.includes(n.type)) return mapNeuron(n, flat, x, base, o, at, warn);
      throw new EdgespikeError(`${at}: cannot be imported`);
  }
}

/** A per-neuron field of the input's size (a single value broadcast), checked. */
function perNeuron(a: NirArray, x: number[], name: string, at: string, warn: (why: string) => void): Float32Array {
  const m = size(x);
  if (a.data.length === 1) return new Float32Array(m).fill(a.data[0]!);
  if (a.data.length !== m) throw new EdgespikeError(`${at}: "${name}" has shape ${fmtShape(a.shape)}, its input ${fmtShape(x)}: the shapes cannot chain`);
  if (fmtShape(a.shape) !== fmtShape(x)) warn(`"${name}" has shape ${fmtShape(a.shape)}, its input ${fmtShape(x)}; read in the input's order`);
  return new Float32Array(a.data);
}

function mapConv(n: NirLeaf, flat: Flat, x: number[], base: { inputs: string[]; recurrent?: string[] }, at: string, warn: (why: string) => void): Mapped {
  const dims = n.type === 'Conv1d' ? 1 : 2;
  const w = n.fields.weight as NirArray, bias = (n.fields.bias as NirArray).data;
  const [out, cpg] = w.shape as [number, number];
  const k = w.shape.slice(2) as number[];
  const groups = intList(n.fields, 'groups', 1, 1, at)[0]!;
  const stride = intList(n.fields, 'stride', dims, 1, at), dilation = intList(n.fields, 'dilation', dims, 1, at);
  const nodes: GraphNode[] = [];
  let inputs = base;
  if (x.length !== dims + 1) {
    // a flat input with input_shape given: read it as [C, …input_shape]
    const is = n.fields.input_shape !== undefined ? intList(n.fields, 'input_shape', dims, 1, at) : null;
    const want = is ? [cpg * groups, ...is] : null;
    if (!want || size(want) !== size(x)) throw new EdgespikeError(`${at}: convolves a ${dims === 1 ? '[C, L]' : '[C, H, W]'} input, it receives ${fmtShape(x)}`);
    warn(`receives ${fmtShape(x)}, read as ${fmtShape(want)}`);
    nodes.push({ id: `${flat.id}:in`, op: 'reshape', attrs: { shape: want }, ...base });
    inputs = { inputs: [`${flat.id}:in`] };
    x = want;
  }
  if (x[0] !== cpg * groups) throw new EdgespikeError(`${at}: its weight ${fmtShape(w.shape)} with groups ${groups} takes ${cpg * groups} channels, it receives ${fmtShape(x)}`);
  const is = n.fields.input_shape;
  if (isArray(is) && fmtShape(intList(n.fields, 'input_shape', dims, 1, at)) !== fmtShape(x.slice(1))) warn(`declares input_shape ${fmtShape(Array.from(is.data))}, receives ${fmtShape(x)}`);
  // padding per axis as [before, after]: numbers, "valid" (none) or "same" (PyTorch: the extra cell after)
  const p = n.fields.padding!;
  const pads: [number, number][] = [];
  for (let d = 0; d < dims; d++) {
    if (p === 'same') {
      if (stride[d] !== 1) throw new EdgespikeError(`${at}: padding "same" needs stride 1, got stride ${stride.join('×')}`);
      const total = dilation[d]! * (k[d]! - 1);
      pads.push([Math.floor(total / 2), total - Math.floor(total / 2)]);
    } else if (p === 'valid') pads.push([0, 0]);
    else { const v = intList(n.fields, 'padding', dims, 0, at)[d]!; pads.push([v, v]); }
  }
  const useBias = bias.some((b) => b !== 0);
  const values = { weight: new Float32Array(w.data), ...(useBias ? { bias: new Float32Array(bias) } : {}) };
  const plain = dims === 2 && dilation.every((d) => d === 1) && pads.every(([a, b]) => a === b);
  const conv: GraphNode = plain
    ? { id: flat.id, op: 'conv', attrs: { out, kernel: [k[0]!, k[1]!], stride: [stride[0]!, stride[1]!], pad: [pads[0]![0], pads[1]![0]], groups, bias: useBias }, ...inputs }
    : {
      id: flat.id, op: 'nir-conv', ...inputs, attrs: {
        dims: dims as 1 | 2, out, groups, bias: useBias,
        kernel: dims === 1 ? [1, k[0]!] : [k[0]!, k[1]!], stride: dims === 1 ? [1, stride[0]!] : [stride[0]!, stride[1]!],
        dilation: dims === 1 ? [1, dilation[0]!] : [dilation[0]!, dilation[1]!],
        pad: dims === 1 ? [0, 0, pads[0]![0], pads[0]![1]] : [pads[0]![0], pads[0]![1], pads[1]![0], pads[1]![1]],
      },
    };
  nodes.push(conv);
  return { nodes, spiking: false, values: Object.fromEntries(Object.entries(values).map(([kk, v]) => [`${flat.id}.${kk}`, v])) };
}

function mapNeuron(n: NirLeaf, flat: Flat, x: number[], base: { inputs: string[]; recurrent?: string[] }, o: MapOptions, at: string, warn: (why: string) => void): Mapped {
  const model = n.type as NirNeuronModel;
  const params: Record<string, Float32Array> = {};
  const m = size(x);
  for (const name of NIR_NEURON_PARAMS[model]) {
    const a = n.fields[name];
    if (a === undefined) params[name] = new Float32Array(m).fill(name === 'w_in' ? 1 : 0);
    else params[name] = perNeuron(a as NirArray, x, name, at, warn);
  }
  const run = presetNeuron(o.preset, model, params, { dt: o.dt, method: o.method }, warn);
  const co = nirCoefficients(run.model, run.params, run.dt, run.method);
  if (co.a.some((a) => a < 0) || co.syn?.a.some((a) => a < 0)) warn(`dt ${run.dt} is longer than a time constant, so the Euler step overshoots (use a smaller --dt or --method exp)`);
  const matched = o.fuse ? matchNeuron(run.model, co, run.fire, x) : null;
  if (matched) {
    const node: GraphNode = { id: flat.id, op: 'neuron', attrs: { threshold: matched.threshold }, neuron: matched.neuron, ...base };
    return { nodes: [node], spiking: true, values: matched.vth ? { [`${flat.id}.vth`]: matched.vth } : {} };
  }
  const node: GraphNode = { id: flat.id, op: 'nir-neuron', attrs: { model: run.model, dt: run.dt, method: run.method, fire: run.fire }, ...base };
  const values = Object.fromEntries(Object.entries(run.params).map(([k, v]) => [`${flat.id}.${k}`, v]));
  // the tensors the node owns, in case a preset changed the model (snnTorch's IF runs as a LIF)
  const own = nodeTensors(node, x).map((t) => t.name);
  return { nodes: [node], spiking: spikes(run.model), values: Object.fromEntries(own.map((k) => [k, values[k]!])) };
}
