/**
 * Structural edits: plain functions that take a network and return a new one, with a new graph and the
 * tensors carried over. A tensor keeps its values when its name and shape are unchanged; pruned tensors
 * keep the rows and columns of the kept channels; new tensors are initialised (PyTorch's defaults, from the
 * network's seed). The original network is never changed. A wrong edit (a channel out of range, shapes
 * that no longer chain) is a one-line error naming the node.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import type { ModelSpec } from '../notation/spec.js';
import { neuronParams, type NeuronParams } from '../neurons/neuron.js';
import { ancestors, checkGraph, INPUT, nodeError, tensorsOf, type GraphNode, type ModelGraph } from '../graph/graph.js';
import { graphFromSpec } from '../graph/build.js';
import { SpikingNet, type NetConfig } from './net.js';

type Values = Record<string, Float32Array>;

/** The net with a new graph: tensors whose name and shape are unchanged keep their values, and `extra` is added. */
function rebuild(net: SpikingNet, graph: ModelGraph, extra: Values = {}, config: Partial<NetConfig> = {}): SpikingNet {
  const info = checkGraph(graph);
  const old = net.tensorValues();
  const oldShapes = new Map<string, string>();
  for (const n of net.graph.nodes) for (const t of tensorsOf(n, net.info)) oldShapes.set(t.name, fmtShape(t.shape));
  const values: Values = {};
  for (const n of graph.nodes) {
    for (const t of tensorsOf(n, info)) {
      if (extra[t.name]) values[t.name] = extra[t.name]!;
      else if (old[t.name] && oldShapes.get(t.name) === fmtShape(t.shape)) values[t.name] = old[t.name]!.slice();
    }
  }
  return new SpikingNet(graph, { ...net.config, ...config, input: graph.input }, values);
}

/** The node `id` of `net`'s graph, or a one-line error listing the nodes. */
function node(net: SpikingNet, id: string): GraphNode {
  const n = net.info.byId.get(id);
  if (!n) throw new EdgespikeError(`graph: no node "${id}" (nodes: ${net.graph.nodes.map((x) => x.id).join(', ')})`);
  return n;
}

/** Replaces `id` by `by` in every node's inputs and recurrent inputs. */
function repoint(nodes: readonly GraphNode[], id: string, by: string): GraphNode[] {
  return nodes.map((n) => {
    const inputs = n.inputs.map((s) => (s === id ? by : s));
    const recurrent = n.recurrent?.map((s) => (s === id ? by : s));
    return { ...n, inputs, ...(recurrent ? { recurrent } : {}) } as GraphNode;
  });
}

/**
 * Cuts `net` after node `id` into a feature extractor (the input up to `id`) and a head (the rest, whose
 * input is `id`'s output). `features.run(x)` chained into `head.run(a.x, { form: a.form })` gives the bits
 * of `net.run(x)`. Fails unless every path from the input to the output passes through `id`.
 */
export function cut(net: SpikingNet, id: string): { features: SpikingNet; head: SpikingNet } {
  const at = node(net, id);
  if (id === net.graph.output) nodeError(at, 'is the output; there is no head after it');
  const front = ancestors(net.graph, id);
  if (!ancestors(net.graph, net.graph.output).has(id)) nodeError(at, `is not on the way to the output "${net.graph.output}"`);
  const rest = net.graph.nodes.filter((n) => !front.has(n.id));
  for (const n of rest) {
    for (const s of [...n.inputs, ...(n.recurrent ?? [])]) {
      if ((s === INPUT || front.has(s)) && s !== id) nodeError(n, `reads "${s}", which lies before the cut at "${id}"; cut where every path passes`);
    }
  }
  for (const n of net.graph.nodes) {
    if (front.has(n.id)) for (const s of n.recurrent ?? []) if (!front.has(s)) nodeError(n, `reads "${s}" of the previous step, which lies after the cut at "${id}"`);
  }
  const featureGraph: ModelGraph = { input: net.graph.input, nodes: net.graph.nodes.filter((n) => front.has(n.id)), output: id };
  const headGraph: ModelGraph = { input: net.info.shapes.get(id)!, nodes: repoint(rest, id, INPUT), output: net.graph.output };
  const values = net.tensorValues();
  const pick = (g: ModelGraph): Values => {
    const info = checkGraph(g), out: Values = {};
    for (const n of g.nodes) for (const t of tensorsOf(n, info)) out[t.name] = values[t.name]!.slice();
    return out;
  };
  return {
    features: new SpikingNet(featureGraph, { ...net.config, input: featureGraph.input }, pick(featureGraph)),
    head: new SpikingNet(headGraph, { ...net.config, input: headGraph.input, encoder: { kind: 'direct' } }, pick(headGraph)),
  };
}

/** Ops a kept-channel set passes through unchanged (per-channel tensors are sliced). */
const CHANNELWISE = new Set(['bn', 'bias', 'pool', 'gap', 'neuron', 'relu', 'clamp', 'identity', 'quant', 'dropout']);

/**
 * Keeps output channels `channels` of conv (or output units of dense) node `id`, and carries the choice
 * downstream: through batch norm, biases, pools, neurons (per-channel thresholds) and activations, into
 * the next conv's input channels, and through a flatten into a dense layer's columns. Keeping every
 * channel gives the same network; channels whose outgoing weights are all zero can be removed without
 * changing any output.
 */
export function keepChannels(net: SpikingNet, id: string, channels: readonly number[]): SpikingNet {
  const at = node(net, id);
  if (at.op !== 'conv' && at.op !== 'dense') nodeError(at, 'is not a conv or dense layer; channels are kept at the layer that makes them');
  const out = at.attrs.out;
  const keep = [...channels];
  if (keep.length === 0) nodeError(at, 'must keep at least one channel');
  keep.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= out) nodeError(at, `has ${out} channels; channel ${c} is out of range`);
    if (i > 0 && c <= keep[i - 1]!) nodeError(at, `channels to keep must be in increasing order without repeats, got ${keep.slice(Math.max(0, i - 1), i + 1).join(', ')}`);
  });
  const values = net.tensorValues();
  const extra: Values = {};
  const nodes = new Map(net.graph.nodes.map((n) => [n.id, n]));
  // the layer itself: weight rows and bias
  const wShape = net.layer(id).params().find(([n]) => n === 'weight')?.[1].shape ?? [];
  extra[`${id}.weight`] = takeAxis(values[`${id}.weight`]!, wShape, 0, keep);
  if (values[`${id}.bias`]) extra[`${id}.bias`] = takeAxis(values[`${id}.bias`]!, [out], 0, keep);
  nodes.set(id, { ...at, attrs: { ...at.attrs, out: keep.length } } as GraphNode);
  // downstream: (node, kept indices along axis 0 of its input, elements per index)
  const queue: { from: string; keep: number[]; inner: number }[] = [{ from: id, keep, inner: innerOf(net.info.shapes.get(id)!) }];
  const done = new Set<string>();
  while (queue.length) {
    const { from, keep: k, inner } = queue.shift()!;
    for (const cid of net.info.consumers.get(from) ?? []) {
      const c = nodes.get(cid)!;
      if (c.recurrent?.includes(from)) nodeError(c, `reads "${from}" of the previous step; its channels cannot change alone`);
      if (c.inputs.length > 1) nodeError(c, `sums "${c.inputs.join('" and "')}"; keeping channels of "${id}" changes only one of them`);
      if (done.has(cid)) continue;
      done.add(cid);
      const x = net.info.inShapes.get(cid)!;
      if (c.op === 'conv') {
        if (c.attrs.groups !== 1) nodeError(c, `has groups ${c.attrs.groups}; its input channels cannot be kept selectively`);
        const w = [c.attrs.out, x[0]!, c.attrs.kernel[0], c.attrs.kernel[1]];
        extra[`${cid}.weight`] = takeAxis(values[`${cid}.weight`]!, w, 1, k);
      } else if (c.op === 'dense') {
        const cols = expand(k, inner);
        extra[`${cid}.weight`] = takeAxis(values[`${cid}.weight`]!, [c.attrs.out, x.reduce((a, b) => a * b, 1)], 1, cols);
      } else if (c.op === 'flatten') {
        queue.push({ from: cid, keep: expand(k, inner), inner: 1 });
      } else if (CHANNELWISE.has(c.op)) {
        for (const t of tensorsOf(c, net.info)) {
          if (t.shape.length === 1 && t.shape[0] === x[0] && x[0]! > 1) extra[t.name] = takeAxis(values[t.name]!, t.shape, 0, k);
        }
        queue.push({ from: cid, keep: k, inner: c.op === 'gap' ? 1 : innerOf(net.info.shapes.get(cid)!) });
      } else {
        nodeError(c, `reads "${from}"; keeping channels through a ${c.op} node is not supported`);
      }
    }
  }
  const graph = { ...net.graph, nodes: net.graph.nodes.map((n) => nodes.get(n.id)!) };
  return rebuild(net, graph, extra);
}

/** Elements per index along axis 0 of a per-sample shape. */
function innerOf(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** Each kept index c as the block c·inner … c·inner + inner − 1. */
function expand(keep: readonly number[], inner: number): number[] {
  const out: number[] = [];
  for (const c of keep) for (let j = 0; j < inner; j++) out.push(c * inner + j);
  return out;
}

/** The slices `keep` of `data` (shape `shape`) along `axis`. */
function takeAxis(data: Float32Array, shape: readonly number[], axis: number, keep: readonly number[]): Float32Array {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1), n = shape[axis]!, inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(outer * keep.length * inner);
  for (let o = 0; o < outer; o++) {
    keep.forEach((c, j) => out.set(data.subarray((o * n + c) * inner, (o * n + c + 1) * inner), (o * keep.length + j) * inner));
  }
  return out;
}

/**
 * Replaces node `id` by `replacement` (same id and inputs unless it gives its own). Tensors whose names
 * and shapes still match keep their values; the others are initialised.
 */
export function replaceNode(net: SpikingNet, id: string, replacement: Omit<GraphNode, 'id' | 'inputs'> & Partial<Pick<GraphNode, 'id' | 'inputs'>>): SpikingNet {
  const old = node(net, id);
  const fresh = { ...replacement, id: replacement.id ?? id, inputs: replacement.inputs ?? old.inputs } as GraphNode;
  let nodes = net.graph.nodes.map((n) => (n.id === id ? fresh : n));
  if (fresh.id !== id) nodes = repoint(nodes, id, fresh.id);
  return rebuild(net, { ...net.graph, nodes, output: net.graph.output === id ? fresh.id : net.graph.output });
}

/**
 * Gives neuron node `id` other parameters: a preset's, or overrides of its own (e.g. { beta: 0.5, vth: 0.8 }),
 * and optionally one threshold per channel. Learned values it keeps (a per-channel threshold, a learned
 * leak) stay when they still apply.
 */
export function replaceNeuron(net: SpikingNet, id: string, p: Partial<NeuronParams>, o: { threshold?: 'scalar' | 'channel' } = {}): SpikingNet {
  const n = node(net, id);
  if (n.op !== 'neuron') nodeError(n, 'is not a neuron node');
  let neuron: NeuronParams;
  try {
    neuron = neuronParams('default', { ...n.neuron, ...p });
  } catch (e) {
    return nodeError(n, (e as Error).message);
  }
  return replaceNode(net, id, { ...n, neuron, attrs: { threshold: o.threshold ?? n.attrs.threshold } } as GraphNode);
}

/**
 * Replaces everything after node `id` by `head`: a spec in the notation (built on `id`'s output shape,
 * with the net's neuron, node ids prefixed by `prefix`), or nodes whose first reads `id`. The last new node
 * becomes the output.
 */
export function replaceHead(net: SpikingNet, id: string, head: ModelSpec | readonly GraphNode[], prefix = 'head.'): SpikingNet {
  node(net, id);
  const keep = ancestors(net.graph, id);
  let added: GraphNode[];
  if ('layers' in head) {
    const built = graphFromSpec(head, { input: net.info.shapes.get(id)!, neuron: net.config.neuron ?? neuronParams(), act: net.config.act });
    added = repoint(built.graph.nodes.map((n) => ({ ...n, id: `${prefix}${n.id}`, inputs: n.inputs.map((s) => (s === INPUT ? s : `${prefix}${s}`)) }) as GraphNode), INPUT, id)
      .map((n) => (n.op === 'bias' && n.attrs.of ? { ...n, attrs: { of: `${prefix}${n.attrs.of}` } } : n));
  } else {
    added = [...head];
  }
  if (added.length === 0) throw new EdgespikeError(`replaceHead: the new head after "${id}" has no nodes`);
  for (const n of added) if (keep.has(n.id)) nodeError(n, `is already a node before "${id}"`);
  const graph: ModelGraph = { ...net.graph, nodes: [...net.graph.nodes.filter((n) => keep.has(n.id)), ...added], output: added.at(-1)!.id };
  return rebuild(net, graph);
}

/** Inserts `n` after node `after`: it reads `after`, and every node that read `after` reads `n` instead. */
export function insertNode(net: SpikingNet, after: string, n: Omit<GraphNode, 'inputs'>): SpikingNet {
  if (after !== INPUT) node(net, after);
  if (net.info.byId.has(n.id) || n.id === INPUT) throw new EdgespikeError(`graph: node "${n.id}" already exists`);
  const fresh = { ...n, inputs: [after] } as GraphNode;
  const rest = repoint(net.graph.nodes, after, n.id);
  const at = after === INPUT ? 0 : rest.findIndex((x) => x.id === after) + 1;
  const nodes = [...rest.slice(0, at), fresh, ...rest.slice(at)];
  return rebuild(net, { ...net.graph, nodes, output: net.graph.output === after ? n.id : net.graph.output });
}

/** Removes node `id`, which must read one node; its readers read that node instead. */
export function removeNode(net: SpikingNet, id: string): SpikingNet {
  const n = node(net, id);
  if (n.inputs.length !== 1 || n.recurrent?.length) nodeError(n, 'reads several nodes; only a node with one input can be removed');
  if (net.graph.output === id && n.inputs[0] === INPUT) nodeError(n, 'is the only path from the input to the output');
  const nodes = repoint(net.graph.nodes.filter((x) => x.id !== id), id, n.inputs[0]!);
  return rebuild(net, { ...net.graph, nodes, output: net.graph.output === id ? n.inputs[0]! : net.graph.output });
}
