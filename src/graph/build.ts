/**
 * Builds a model graph from the papers' notation (a ModelSpec). What the notation leaves implicit
 * becomes explicit nodes: a neuron after every hidden conv/dense layer, moved after the max pools that
 * directly follow a conv (conv → pool → neuron, as the reference networks run), a conv bias moved after
 * those pools (a `bias` node whose `of` names the conv), residual blocks as sub-graphs whose two branches
 * are summed into the node after them. Node ids are the layer's position and role ("0.conv", "1.pool",
 * "0.lif"), so tensor names read like the layers they belong to.
 *
 * `act: 'ann'` builds the ANN of the same topology (EC-SNN's `-act ann`): ReLU instead of every neuron,
 * max instead of average pooling, biases on every conv and dense layer.
 */
import type { LayerSpec, ModelSpec } from '../notation/spec.js';
import type { NeuronParams } from '../neurons/neuron.js';
import { EdgespikeError } from '../util/errors.js';
import { checkGraph, tensorsOf, INPUT, type ConvAttrs, type GraphNode, type ModelGraph } from './graph.js';

/** Options of graphFromSpec. */
export interface BuildOptions {
  /** One input sample's shape, [C, H, W]. */
  readonly input: readonly number[];
  /** The neuron of every spiking node (each node gets its own copy). */
  readonly neuron: NeuronParams;
  /**
   * snn (default); ann: the same topology with ReLU, max pooling and biases; sg: Scatter-and-Gather's
   * quantized ANN, ReLU and the activation quantizer of `levels` after every hidden layer, ternary (TWN)
   * weights in every weighted layer but the first and the last, the spec's biases and pools as written.
   */
  readonly act?: 'snn' | 'ann' | 'sg';
  /** sg: activation step 1/2^k and bound B. */
  readonly levels?: { readonly k: number; readonly B: number };
  /** A spiking readout ('count', 'rate') adds a neuron after the readout layer. */
  readonly spikingReadout?: boolean;
}

/** A built graph, and the tensor names the version-1 model files used for the same tensors. */
export interface BuiltGraph {
  readonly graph: ModelGraph;
  /** New tensor name → the name version-1 files stored it under (only where they differ). */
  readonly legacyNames: ReadonlyMap<string, string>;
}

/** Batch-norm attributes of the notation's layers (PyTorch's defaults). */
export const BN_DEFAULTS = { eps: 1e-5, momentum: 0.1 } as const;

interface Ctx {
  readonly nodes: GraphNode[];
  readonly neuron: NeuronParams;
  readonly ann: boolean;
  readonly sg?: { readonly k: number; readonly B: number };
  /** Legacy tensor-name prefix per node id, for nodes inside residual blocks (version-1 files). */
  readonly legacy: Map<string, string>;
}

/**
 * The graph of `spec` on `input`. Throws EdgespikeError (naming the node) when a layer does not fit.
 * @example graphFromSpec(parseSpec('16C5-P2-10'), { input: [1, 28, 28], neuron: neuronParams('lif') }).graph.nodes.map((n) => n.id)
 *   // ['0.conv', '1.pool', '0.lif', '2.dense']
 */
export function graphFromSpec(spec: ModelSpec, o: BuildOptions): BuiltGraph {
  if (o.act === 'sg' && !o.levels) throw new EdgespikeError('graphFromSpec: act sg needs levels {k, B}');
  const ctx: Ctx = { nodes: [], neuron: o.neuron, ann: o.act === 'ann', ...(o.act === 'sg' ? { sg: o.levels } : {}), legacy: new Map() };
  let last = chain(spec.layers, INPUT, '', '', undefined, ctx);
  if (ctx.sg) markTernary(ctx.nodes);
  if (o.spikingReadout) last = add(ctx, neuronNode('readout', [last], ctx));
  const graph: ModelGraph = { input: [...o.input], nodes: ctx.nodes, output: last };
  const info = checkGraph(graph);
  const legacyNames = new Map<string, string>();
  for (const node of graph.nodes) {
    for (const t of tensorsOf(node, info)) {
      const old = legacyName(node, t.name.slice(node.id.length + 1), ctx.legacy, graph);
      if (old !== t.name) legacyNames.set(t.name, old);
    }
  }
  return { graph, legacyNames };
}

/**
 * The version-1 name of tensor `t` of `node`: top-level layers used the node id (a moved conv bias
 * stayed with its conv); residual blocks named their layers by position inside the block.
 */
function legacyName(node: GraphNode, t: string, legacy: Map<string, string>, g: ModelGraph): string {
  if (node.op === 'bias' && node.attrs.of) {
    const conv = g.nodes.find((n) => n.id === node.attrs.of)!;
    return legacyName(conv, 'bias', legacy, g);
  }
  const prefix = legacy.get(node.id);
  return prefix ? `${prefix}.${t}` : `${node.id}.${t}`;
}

function add(ctx: Ctx, node: GraphNode): string {
  ctx.nodes.push(node);
  return node.id;
}

/** Scatter-and-Gather: every weighted layer but the first and the last gets unscaled ternary weights. */
function markTernary(nodes: GraphNode[]): void {
  const w = nodes.map((n, i) => [n, i] as const).filter(([n]) => n.op === 'conv' || n.op === 'dense');
  for (const [n, i] of w.slice(1, -1)) {
    if (n.op === 'conv' || n.op === 'dense') nodes[i] = { ...n, attrs: { ...n.attrs, quant: { kind: 'twn', bits: 2 } } } as GraphNode;
  }
}

function neuronNode(name: string, inputs: string[], ctx: Ctx): GraphNode {
  if (ctx.ann) return { id: `${name}.relu`, op: 'relu', attrs: {}, inputs };
  return { id: `${name}.lif`, op: 'neuron', attrs: { threshold: 'scalar' }, neuron: { ...ctx.neuron }, inputs };
}

/**
 * Adds the nodes of `layers` reading `from`; returns the id of the last one. `prefix` starts node ids
 * ("4.body."), `path` the 1-based layer paths of tables ("5.body").
 */
function chain(layers: readonly LayerSpec[], from: string, prefix: string, path: string, block: string | undefined, ctx: Ctx): string {
  let last = from;
  let tag = {};
  const push = (node: GraphNode): void => { last = add(ctx, { ...(block ? { block } : {}), ...node, ...tag }); };
  for (let i = 0; i < layers.length; i++) {
    const s = layers[i]!, name = `${prefix}${i}`;
    const layerPath = (j: number): { layer: string } => ({ layer: path ? `${path}.${j + 1}` : `${j + 1}` });
    tag = layerPath(i);
    /** The activation after a hidden layer: a neuron, a ReLU, or ReLU and the activation quantizer (sg). */
    const activate = (inputs: string[]): void => {
      if (!ctx.sg) { push(neuronNode(name, inputs, ctx)); return; }
      push({ id: `${name}.relu`, op: 'relu', attrs: {}, inputs });
      push({ id: `${name}.q`, op: 'quant', attrs: { k: ctx.sg.k, B: ctx.sg.B }, inputs: [last] });
    };
    switch (s.kind) {
      case 'conv': {
        const bias = s.bias || ctx.ann;
        // A max pool that directly follows a spiking conv runs before its neuron; without batch norm
        // between them, the conv's bias moves after the pools too.
        const pools: Extract<LayerSpec, { kind: 'pool' }>[] = [];
        if (s.spike) while (layers[i + 1]?.kind === 'pool' && (layers[i + 1] as { op: string }).op === 'max') pools.push(layers[++i] as never);
        const defer = pools.length > 0 && bias && !s.bn;
        const attrs: ConvAttrs = { out: s.out, kernel: [s.k, s.k], stride: [s.stride, s.stride], pad: [s.pad, s.pad], groups: s.groups, bias: bias && !defer };
        push({ id: `${name}.conv`, op: 'conv', attrs, inputs: [last] });
        if (s.bn) push({ id: `${name}.bn`, op: 'bn', attrs: { ...BN_DEFAULTS }, inputs: [last] });
        const first = i - pools.length;
        pools.forEach((p, j) => { tag = layerPath(first + 1 + j); push({ id: `${prefix}${first + 1 + j}.pool`, op: 'pool', attrs: { kind: 'max', k: p.k, stride: p.stride }, inputs: [last] }); });
        tag = layerPath(first);
        if (defer) push({ id: `${name}.bias`, op: 'bias', attrs: { of: `${name}.conv` }, inputs: [last] });
        if (s.spike) activate([last]);
        break;
      }
      case 'dense':
        push({ id: `${name}.dense`, op: 'dense', attrs: { out: s.out, bias: s.bias || ctx.ann }, inputs: [last] });
        if (s.bn) push({ id: `${name}.bn`, op: 'bn', attrs: { ...BN_DEFAULTS }, inputs: [last] });
        if (s.spike) activate([last]);
        break;
      case 'pool':
        push({ id: `${name}.pool`, op: 'pool', attrs: { kind: ctx.ann ? 'max' : s.op, k: s.k, stride: s.stride }, inputs: [last] });
        break;
      case 'dropout': push({ id: `${name}.dropout`, op: 'dropout', attrs: { p: s.p }, inputs: [last] }); break;
      case 'flatten': push({ id: `${name}.flatten`, op: 'flatten', attrs: {}, inputs: [last] }); break;
      case 'gap': push({ id: `${name}.gap`, op: 'gap', attrs: {}, inputs: [last] }); break;
      case 'residual': {
        const first = ctx.nodes.length, here = layerPath(i).layer;
        const body = chain(s.body, last, `${name}.body.`, `${here}.body`, name, ctx);
        const mid = ctx.nodes.length;
        const short = chain(s.shortcut, last, `${name}.shortcut.`, `${here}.shortcut`, `${name}.shortcut`, ctx);
        // version-1 files named block layers by their position inside the body or shortcut list
        ctx.nodes.slice(first, mid).forEach((n, j) => ctx.legacy.set(n.id, `${name}.res.body.${j}`));
        ctx.nodes.slice(mid).forEach((n, j) => ctx.legacy.set(n.id, `${name}.res.shortcut.${j}`));
        const sum = [body, short];
        if (s.spike) {
          const n = neuronNode(name, sum, ctx);
          ctx.legacy.set(n.id, `${name}.res.neuron`);
          push({ ...n, block: name });
        } else {
          push({ id: `${name}.sum`, op: 'identity', attrs: {}, inputs: sum, block: name });
        }
        break;
      }
    }
  }
  return last;
}
