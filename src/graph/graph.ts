/**
 * A model as a graph of named nodes: plain data (no tensors) that code can walk, edit, cut and save.
 * Each node has an id, an op with its attributes, the ids of the nodes it reads (fan-in is summed), and
 * optionally recurrent inputs (another node's output of the previous time step). Parameters are tensors
 * named `${id}.${name}` (weights, biases, batch-norm statistics, learned neuron constants); their shapes
 * follow from the attributes and the node's input shape (nodeTensors).
 *
 * The network runs its nodes in the order of `nodes`, which must be topological for the feed-forward
 * edges; recurrent edges may point anywhere. `input` names the model input.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import type { NeuronParams } from '../neurons/neuron.js';
import { checkWeightQuant, type WeightQuant } from '../quant/weights.js';
import { checkNirAttrs, nirOutputShape, nirTensors, NIR_OPS, type NirOp, type NirOpAttrs } from './nir-ops.js';

/** The id that names the model input in `inputs`. */
export const INPUT = 'input';

/** Convolution: `out` filters of kernel kh×kw, stride, zero padding, channel groups. */
export interface ConvAttrs {
  readonly out: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pad: readonly [number, number];
  readonly groups: number;
  readonly bias: boolean;
  /** Quantized weights (see WeightQuantAttr). */
  readonly quant?: WeightQuantAttr;
}

/**
 * A layer's weight quantization: trained with fake quantization (straight-through), or `frozen` once its
 * weights hold the quantized values themselves, w = wscale·q with integer codes q.
 */
export interface WeightQuantAttr extends WeightQuant {
  readonly frozen?: boolean;
}

/** One node of every op, discriminated on `op`. */
export type GraphNode =
  | NodeOf<'conv', ConvAttrs>
  /** Fully connected on the flattened input. */
  | NodeOf<'dense', { readonly out: number; readonly bias: boolean; readonly quant?: WeightQuantAttr }>
  /** Batch norm over channels (axis 1), affine, with running statistics. */
  | NodeOf<'bn', { readonly eps: number; readonly momentum: number }>
  /**
   * A bias per channel. `of` names the convolution whose bias this is when it was moved after that
   * convolution's max pools (max(x + b) = max(x) + b, on fewer values).
   */
  | NodeOf<'bias', { readonly of?: string }>
  /** Max or average pooling, window k, no padding, floor mode. */
  | NodeOf<'pool', { readonly kind: 'max' | 'avg'; readonly k: number; readonly stride: number }>
  /** Global average pool [C, H, W] → [C, 1, 1]. */
  | NodeOf<'gap', Empty>
  /** [C, H, W] → [C·H·W]. */
  | NodeOf<'flatten', Empty>
  /** Dropout whose mask is drawn once per sample and reused at every step. */
  | NodeOf<'dropout', { readonly p: number }>
  /** Spiking neurons over time; `threshold: 'channel'` gives one threshold per channel. */
  | NodeOf<'neuron', { readonly threshold: 'scalar' | 'channel' }> & { readonly neuron: NeuronParams }
  /** max(x, 0). */
  | NodeOf<'relu', Empty>
  /** min(max(x, lo), hi). */
  | NodeOf<'clamp', { readonly lo: number; readonly hi: number }>
  /** The (summed) input unchanged: a named sum, or a placeholder. */
  | NodeOf<'identity', Empty>
  /**
   * Activation quantizer: round(clip(x, −B, B)·2^k + 1e−5) / 2^k, levels 1/2^k apart; straight-through
   * gradient inside [−B, B].
   */
  | NodeOf<'quant', { readonly k: number; readonly B: number }>
  /**
   * A channel gate (SpQuant-SNN's sparse activations): a predictor reads its side input (the gated conv's
   * input) — global average pool, softmax over channels, a 1×1 conv (weight [C, C_side], bias) — and
   * channels whose sigmoid stays at or below 0.5 are zeroed, per sample and step. Trained with a BCE loss
   * (× `lossWeight`) against the channels that carry `ratio` of each row's max-activation mass.
   */
  | NodeOf<'gate', { readonly ratio: number; readonly lossWeight: number }>
  /**
   * Scatter-and-Gather's multi-threshold neuron, one step and stateless: per channel c it counts the
   * thresholds the input passes, Σ_i [x ≥ θ[c, i]] (or [x ≤ θ[c, i]] where direction[c] is −1), 0 … levels
   * spikes; the next layer sums them (gather).
   */
  | NodeOf<'scatter', { readonly levels: number }>
  /** The ops that run NIR's nodes (graph/nir-ops.ts): continuous-time neurons, scale, threshold, delay, reshape, conv and pooling variants. */
  | { [K in NirOp]: NodeOf<K, NirOpAttrs[K]> }[NirOp];

type Empty = Readonly<Record<string, never>>;

/** Fields every node has. */
export interface NodeOf<Op extends string, A> {
  readonly id: string;
  readonly op: Op;
  readonly attrs: A;
  /** Nodes (or INPUT) whose outputs are summed into this node's input. */
  readonly inputs: readonly string[];
  /** Nodes whose outputs the op reads besides its input, not summed into it (a gate's predictor input). */
  readonly side?: readonly string[];
  /** Nodes whose output of the previous step is added to this node's input (zeros at step 0). */
  readonly recurrent?: readonly string[];
  /** The sub-graph this node belongs to (a residual block "5", or its shortcut branch "5.shortcut"). */
  readonly block?: string;
  /** The notation layer it was built from, as tables number them ("3", "5.body.1"); rows group nodes by it. */
  readonly layer?: string;
}

/** Name of a node op. */
export type NodeOp = GraphNode['op'];

/** Every op, in the order the docs list them. */
export const NODE_OPS: readonly NodeOp[] = ['conv', 'dense', 'bn', 'bias', 'pool', 'gap', 'flatten', 'dropout', 'neuron', 'relu', 'clamp', 'identity', 'quant', 'gate', 'scatter', ...NIR_OPS];

/** A whole model graph. */
export interface ModelGraph {
  /** Shape of one input sample, [C, H, W] or [F]. */
  readonly input: readonly number[];
  /** Nodes, feed-forward edges in topological order. */
  readonly nodes: readonly GraphNode[];
  /** The node whose output is the model's output (the readout). */
  readonly output: string;
}

/** A tensor a node owns: `${node.id}.${name}`, its shape, and whether training changes it by gradient. */
export interface NodeTensor {
  readonly name: string;
  readonly shape: number[];
  /** param: learned by gradient; buffer: stored state (running statistics, fixed per-channel constants). */
  readonly kind: 'param' | 'buffer';
}

/** What checkGraph learns about a graph. */
export interface GraphInfo {
  /** Output shape of every node (and of INPUT). */
  readonly shapes: ReadonlyMap<string, number[]>;
  /** The (summed) input shape of every node. */
  readonly inShapes: ReadonlyMap<string, number[]>;
  /** The shapes of every node's side inputs, in order. */
  readonly sideShapes: ReadonlyMap<string, number[][]>;
  /** Nodes that read each node (feed-forward and recurrent), in node order. */
  readonly consumers: ReadonlyMap<string, string[]>;
  /** Node by id. */
  readonly byId: ReadonlyMap<string, GraphNode>;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Fails with one line naming the node. */
export function nodeError(node: { id: string; op?: string }, why: string): never {
  throw new EdgespikeError(`graph: node "${node.id}"${node.op ? ` (${node.op})` : ''} ${why}`);
}

/** Output shape of `node` on input shape `x` (one sample, no batch or time axis). */
export function nodeOutputShape(node: GraphNode, x: readonly number[]): number[] {
  const fail = (why: string): never => nodeError(node, `${why}, got input ${fmtShape(x)}`);
  const map = (): [number, number, number] => {
    if (x.length !== 3) fail('needs a [C, H, W] feature map');
    return x as [number, number, number];
  };
  switch (node.op) {
    case 'conv': {
      const [c, h, w] = map(), a = node.attrs;
      if (c % a.groups !== 0 || a.out % a.groups !== 0) fail(`has groups ${a.groups}, which must divide ${c} input and ${a.out} output channels`);
      const ph = h + 2 * a.pad[0], pw = w + 2 * a.pad[1];
      if (ph < a.kernel[0] || pw < a.kernel[1]) fail(`needs a map of at least ${a.kernel[0]}×${a.kernel[1]} (padding ${a.pad[0]}×${a.pad[1]})`);
      return [a.out, Math.floor((ph - a.kernel[0]) / a.stride[0]) + 1, Math.floor((pw - a.kernel[1]) / a.stride[1]) + 1];
    }
    case 'pool': {
      const [c, h, w] = map(), { k, stride } = node.attrs;
      if (h < k || w < k) fail(`needs a map of at least ${k}×${k}`);
      return [c, Math.floor((h - k) / stride) + 1, Math.floor((w - k) / stride) + 1];
    }
    case 'gap': return [map()[0], 1, 1];
    case 'dense': return [node.attrs.out];
    case 'flatten': return [size(x)];
    case 'bn': case 'bias':
      if (x.length < 1) fail('needs a channel axis');
      return x.slice();
    case 'nir-conv': case 'nir-pool': case 'reshape': return nirOutputShape(node, x);
    default: return x.slice();
  }
}

/** Number of channels of a per-sample shape (axis 0), for per-channel tensors. */
function channels(x: readonly number[]): number {
  return x.length === 0 ? 1 : x[0]!;
}

/**
 * The tensors `node` owns given its input shape (and its side inputs' shapes), in the order their
 * initial values are drawn.
 */
export function nodeTensors(node: GraphNode, x: readonly number[], sides: readonly (readonly number[])[] = []): NodeTensor[] {
  const t = (name: string, shape: number[], kind: NodeTensor['kind'] = 'param'): NodeTensor => ({ name: `${node.id}.${name}`, shape, kind });
  /** A quantized layer keeps SAWB's α of the last training call, or the frozen weights' scale. */
  const quant = (q: WeightQuantAttr | undefined): NodeTensor[] =>
    !q ? [] : q.frozen ? [t('wscale', [1], 'buffer')] : q.kind === 'sawb' || q.kind === 'sawb-symm' ? [t('alpha', [1], 'buffer')] : [];
  switch (node.op) {
    case 'conv': {
      const a = node.attrs;
      const w = t('weight', [a.out, x[0]! / a.groups, a.kernel[0], a.kernel[1]]);
      return [w, ...(a.bias ? [t('bias', [a.out])] : []), ...quant(a.quant)];
    }
    case 'dense': {
      const w = t('weight', [node.attrs.out, size(x)]);
      return [w, ...(node.attrs.bias ? [t('bias', [node.attrs.out])] : []), ...quant(node.attrs.quant)];
    }
    case 'gate': return [t('weight', [channels(x), channels(sides[0] ?? [1])]), t('bias', [channels(x)])];
    case 'scatter': return [t('thresholds', [channels(x), node.attrs.levels], 'buffer'), t('direction', [channels(x)], 'buffer')];
    case 'bn': {
      const c = channels(x);
      return [t('weight', [c]), t('bias', [c]), t('running_mean', [c], 'buffer'), t('running_var', [c], 'buffer')];
    }
    case 'bias': return [t('bias', [channels(x)])];
    case 'neuron': {
      const p = node.neuron, out: NodeTensor[] = [];
      if (p.learnDecay) out.push(t('decay', [1]));
      const perChannel = node.attrs.threshold === 'channel';
      if (p.learnThreshold || perChannel) out.push(t('vth', [perChannel ? channels(x) : 1], p.learnThreshold ? 'param' : 'buffer'));
      return out;
    }
    case 'nir-neuron': case 'nir-conv': case 'scale': case 'threshold': case 'delay':
      return nirTensors(node, x).map(([name, shape, learned]) => t(name, shape, learned ? 'param' : 'buffer'));
    default: return [];
  }
}

/** The tensors of node `id` of a checked graph. */
export function tensorsOf(node: GraphNode, info: GraphInfo): NodeTensor[] {
  return nodeTensors(node, info.inShapes.get(node.id)!, info.sideShapes.get(node.id));
}

const isPosInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
const isNatInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isPair = (v: unknown, ok: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length === 2 && v.every(ok);

function checkQuantAttr(node: GraphNode, q: unknown): void {
  if (q === undefined) return;
  if (q === null || typeof q !== 'object') nodeError(node, `quant must be {kind, bits}, got ${JSON.stringify(q)}`);
  try { checkWeightQuant(q as WeightQuant, 'quant'); } catch (e) { nodeError(node, (e as Error).message); }
  const frozen = (q as { frozen?: unknown }).frozen;
  if (frozen !== undefined && typeof frozen !== 'boolean') nodeError(node, 'quant.frozen must be true or false');
}

/** Checks one node's attributes (types and ranges), naming the node on failure. */
export function checkAttrs(node: GraphNode): void {
  const a = node.attrs as Record<string, unknown>;
  const bad = (why: string): never => nodeError(node, why);
  if (a === null || typeof a !== 'object' || Array.isArray(a)) bad('has no attrs object');
  switch (node.op) {
    case 'conv':
      if (!isPosInt(a.out)) bad(`out must be a positive integer, got ${JSON.stringify(a.out)}`);
      if (!isPair(a.kernel, isPosInt)) bad(`kernel must be [kh, kw] of positive integers, got ${JSON.stringify(a.kernel)}`);
      if (!isPair(a.stride, isPosInt)) bad(`stride must be [sh, sw] of positive integers, got ${JSON.stringify(a.stride)}`);
      if (!isPair(a.pad, isNatInt)) bad(`pad must be [ph, pw] of integers ≥ 0, got ${JSON.stringify(a.pad)}`);
      if (!isPosInt(a.groups)) bad(`groups must be a positive integer, got ${JSON.stringify(a.groups)}`);
      if (typeof a.bias !== 'boolean') bad('bias must be true or false');
      checkQuantAttr(node, a.quant);
      return;
    case 'dense':
      if (!isPosInt(a.out)) bad(`out must be a positive integer, got ${JSON.stringify(a.out)}`);
      if (typeof a.bias !== 'boolean') bad('bias must be true or false');
      checkQuantAttr(node, a.quant);
      return;
    case 'gate':
      if (!(typeof a.ratio === 'number' && a.ratio > 0 && a.ratio <= 1)) bad(`ratio must be in (0, 1], got ${JSON.stringify(a.ratio)}`);
      if (!(typeof a.lossWeight === 'number' && a.lossWeight >= 0 && Number.isFinite(a.lossWeight))) bad(`lossWeight must be a finite number ≥ 0, got ${JSON.stringify(a.lossWeight)}`);
      if (node.side?.length !== 1) bad('needs one side input (the gated conv\'s input)');
      return;
    case 'scatter':
      if (!isPosInt(a.levels) || (a.levels as number) > 256) bad(`levels must be an integer in [1, 256], got ${JSON.stringify(a.levels)}`);
      return;
    case 'bn':
      if (!(typeof a.eps === 'number' && a.eps > 0 && Number.isFinite(a.eps))) bad(`eps must be a finite number > 0, got ${JSON.stringify(a.eps)}`);
      if (!(typeof a.momentum === 'number' && a.momentum >= 0 && a.momentum <= 1)) bad(`momentum must be in [0, 1], got ${JSON.stringify(a.momentum)}`);
      return;
    case 'bias':
      if (a.of !== undefined && typeof a.of !== 'string') bad('of must name a node');
      return;
    case 'pool':
      if (a.kind !== 'max' && a.kind !== 'avg') bad(`kind must be "max" or "avg", got ${JSON.stringify(a.kind)}`);
      if (!isPosInt(a.k) || !isPosInt(a.stride)) bad(`k and stride must be positive integers, got ${JSON.stringify(a.k)} and ${JSON.stringify(a.stride)}`);
      return;
    case 'dropout':
      if (!(typeof a.p === 'number' && a.p >= 0 && a.p < 1)) bad(`p must be in [0, 1), got ${JSON.stringify(a.p)}`);
      return;
    case 'neuron':
      if (a.threshold !== 'scalar' && a.threshold !== 'channel') bad(`threshold must be "scalar" or "channel", got ${JSON.stringify(a.threshold)}`);
      if (node.neuron === null || typeof node.neuron !== 'object') bad('has no neuron parameters');
      return;
    case 'clamp':
      if (typeof a.lo !== 'number' || typeof a.hi !== 'number' || Number.isNaN(a.lo) || Number.isNaN(a.hi) || a.lo > a.hi) {
        bad(`needs numbers lo ≤ hi, got ${JSON.stringify(a.lo)} and ${JSON.stringify(a.hi)}`);
      }
      return;
    case 'quant':
      if (!isNatInt(a.k) || a.k > 16) bad(`k must be an integer in [0, 16], got ${JSON.stringify(a.k)}`);
      if (!(typeof a.B === 'number' && a.B > 0 && Number.isFinite(a.B))) bad(`B must be a finite number > 0, got ${JSON.stringify(a.B)}`);
      return;
    case 'gap': case 'flatten': case 'relu': case 'identity':
      return;
    case 'nir-neuron': case 'nir-conv': case 'nir-pool': case 'scale': case 'threshold': case 'delay': case 'reshape':
      return checkNirAttrs(node);
    default:
      return bad(`has an unknown op (expected one of ${NODE_OPS.join(', ')})`);
  }
}

/**
 * Validates a graph and infers every node's shape: ids unique and not INPUT, every edge names an earlier
 * node (or INPUT), recurrent edges name a node whose output shape equals the reader's input shape, summed
 * inputs agree in shape, the output exists. Errors are one line naming the node.
 */
export function checkGraph(g: ModelGraph): GraphInfo {
  if (!Array.isArray(g.input) || g.input.length < 1 || !g.input.every(isPosInt)) {
    throw new EdgespikeError(`graph: input shape must be positive integers, got ${JSON.stringify(g.input)}`);
  }
  if (!Array.isArray(g.nodes) || g.nodes.length === 0) throw new EdgespikeError('graph: has no nodes');
  const shapes = new Map<string, number[]>([[INPUT, g.input.slice()]]);
  const inShapes = new Map<string, number[]>();
  const sideShapes = new Map<string, number[][]>();
  const byId = new Map<string, GraphNode>();
  const consumers = new Map<string, string[]>([[INPUT, []]]);
  for (const node of g.nodes) {
    if (node === null || typeof node !== 'object' || typeof node.id !== 'string' || node.id === '') {
      throw new EdgespikeError(`graph: every node needs a non-empty string id, got ${JSON.stringify(node)?.slice(0, 80)}`);
    }
    if (node.id === INPUT || byId.has(node.id)) nodeError(node, node.id === INPUT ? `uses the reserved id "${INPUT}"` : 'appears twice');
    if (!Array.isArray(node.inputs) || node.inputs.length === 0 || !node.inputs.every((s: unknown) => typeof s === 'string')) nodeError(node, 'needs a list of one or more input ids');
    if (node.recurrent !== undefined && (!Array.isArray(node.recurrent) || !node.recurrent.every((s: unknown) => typeof s === 'string'))) nodeError(node, 'recurrent must be a list of node ids');
    if (node.side !== undefined && (!Array.isArray(node.side) || !node.side.every((s: unknown) => typeof s === 'string'))) nodeError(node, 'side must be a list of node ids');
    if (node.side?.length && node.op !== 'gate') nodeError(node, 'has side inputs, which only a gate reads');
    checkAttrs(node);
    let x: number[] | undefined;
    for (const src of node.inputs) {
      const s = shapes.get(src);
      if (!s) nodeError(node, byId.has(src) || g.nodes.some((n) => n.id === src) ? `reads "${src}", which comes later (nodes must be in topological order)` : `reads "${src}", which is not a node`);
      if (x && fmtShape(x) !== fmtShape(s)) nodeError(node, `sums inputs of different shapes: ${fmtShape(x)} and ${fmtShape(s)} ("${src}")`);
      x = s;
      consumers.get(src)!.push(node.id);
    }
    const sides: number[][] = [];
    for (const src of node.side ?? []) {
      const sh = shapes.get(src);
      if (!sh) nodeError(node, `reads side input "${src}", which is not an earlier node`);
      sides.push(sh);
      consumers.get(src)!.push(node.id);
    }
    byId.set(node.id, node);
    consumers.set(node.id, []);
    inShapes.set(node.id, x!);
    sideShapes.set(node.id, sides);
    shapes.set(node.id, nodeOutputShape(node, x!));
  }
  for (const node of g.nodes) {
    for (const src of node.recurrent ?? []) {
      const s = shapes.get(src);
      if (!s || src === INPUT) nodeError(node, `has a recurrent edge from "${src}", which is not a node`);
      const x = inShapes.get(node.id)!;
      if (fmtShape(s) !== fmtShape(x)) nodeError(node, `has a recurrent edge from "${src}" of shape ${fmtShape(s)}, but its input is ${fmtShape(x)}`);
      consumers.get(src)!.push(node.id);
    }
  }
  if (!byId.has(g.output)) throw new EdgespikeError(`graph: output "${g.output}" is not a node`);
  return { shapes, inShapes, sideShapes, consumers, byId };
}

/** True when some node reads another node's previous-step output. */
export function isRecurrent(g: ModelGraph): boolean {
  return g.nodes.some((n) => (n.recurrent?.length ?? 0) > 0);
}

/** The output node's shape, flattened: the number of classes of a classifier. */
export function outputSize(g: ModelGraph, info: GraphInfo = checkGraph(g)): number {
  return size(info.shapes.get(g.output)!);
}

/** The ids of `id` and every node it depends on (feed-forward and recurrent edges), INPUT excluded. */
export function ancestors(g: ModelGraph, id: string): Set<string> {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const visit = (x: string): void => {
    if (x === INPUT || seen.has(x)) return;
    const n = byId.get(x);
    if (!n) throw new EdgespikeError(`graph: no node "${x}"`);
    seen.add(x);
    for (const s of n.inputs) visit(s);
    for (const s of n.side ?? []) visit(s);
    for (const s of n.recurrent ?? []) visit(s);
  };
  visit(id);
  return seen;
}

/** The number of spiking neuron nodes. */
export function neuronCount(g: ModelGraph): number {
  return g.nodes.filter((n) => n.op === 'neuron').length;
}

/** JSON with object keys sorted: equal for equal data whatever order its keys were written in. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** True when two graphs hold the same nodes, edges, attributes and neurons. */
export function sameGraph(a: ModelGraph, b: ModelGraph): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
