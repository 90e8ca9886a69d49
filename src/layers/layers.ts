/**
 * The runtime of each graph node: it holds the node's tensors and calls the ops. Activations flow in one
 * of two forms, tracked by the run context: static [N, …] (a direct input before the first neuron, so the
 * first layers run once, not T times) or time-folded [T·N, …] (time outer).
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import * as op from '../ops/index.js';
import type { Rng } from '../data/rng.js';
import { EdgespikeError } from '../util/errors.js';
import type { GraphNode } from '../graph/graph.js';
import type { NeuronParams } from '../neurons/neuron.js';
import { neuronRun } from '../neurons/run.js';
import { neuronStep } from '../neurons/step.js';

/** What a forward pass knows besides its input. */
export interface RunContext {
  /** Steps of this call: the model's T, or 1 when the graph runs one step at a time. */
  readonly T: number;
  readonly N: number;
  readonly training: boolean;
  readonly rng: Rng;
  /** True while activations are static [N, …]; false once folded [T·N, …]. Set by the runner per node. */
  static: boolean;
  /** Called by every neuron layer with its spikes [T·N, …] and membrane (before reset) [T, N·…]. */
  readonly monitor?: (layer: string, spikes: Tensor, h: Float32Array) => void;
  /** Dropout masks drawn in this forward pass, by node, reused at every step. */
  readonly masks: Map<string, Tensor>;
}

/** A node's runtime: forward over the current activation form, plus its tensors by local name. */
export interface Layer {
  /** The node id. */
  readonly name: string;
  readonly node: GraphNode;
  forward(x: Tensor, ctx: RunContext): Tensor;
  /** Learned tensors, local names ("weight"). */
  params(): [string, Tensor][];
  /** Stored state (running statistics, fixed per-channel constants), local names. */
  buffers(): [string, Float32Array][];
}

/** The tensors a node's runtime is built with, by local name, and which of them are learned. */
export interface NodeTensorMap {
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** Local names of the learned ones (the rest are buffers). */
  readonly learned: ReadonlySet<string>;
}

/** Repeats a static [N, …] activation T times into the folded form [T·N, …]. */
export function expandTime(x: Tensor, T: number): Tensor {
  return op.concat(Array.from({ length: T }, () => x), 0);
}

abstract class Base implements Layer {
  protected readonly t: ReadonlyMap<string, Tensor>;
  constructor(readonly node: GraphNode, private readonly m: NodeTensorMap) { this.t = m.tensors; }
  get name(): string { return this.node.id; }
  abstract forward(x: Tensor, ctx: RunContext): Tensor;
  params(): [string, Tensor][] { return [...this.t].filter(([k]) => this.m.learned.has(k)); }
  buffers(): [string, Float32Array][] { return [...this.t].filter(([k]) => !this.m.learned.has(k)).map(([k, v]) => [k, v.data]); }
  protected get(name: string): Tensor {
    const v = this.t.get(name);
    if (!v) throw new EdgespikeError(`graph: node "${this.node.id}" has no tensor "${name}"`);
    return v;
  }
}

/** 2-d convolution, optional bias. */
export class Conv extends Base {
  declare readonly node: Extract<GraphNode, { op: 'conv' }>;
  get weight(): Tensor { return this.get('weight'); }
  get bias(): Tensor | null { return this.t.get('bias') ?? null; }
  forward(x: Tensor): Tensor {
    const a = this.node.attrs;
    return op.conv2d(x, this.weight, this.bias, { stride: a.stride, padding: a.pad, groups: a.groups });
  }
}

/** Fully connected layer on the flattened activation, optional bias. */
export class Dense extends Base {
  declare readonly node: Extract<GraphNode, { op: 'dense' }>;
  get weight(): Tensor { return this.get('weight'); }
  get bias(): Tensor | null { return this.t.get('bias') ?? null; }
  /** Inputs per sample. */
  get nIn(): number { return this.weight.shape[1]!; }
  forward(x: Tensor): Tensor {
    return op.linear(x.rank === 2 ? x : op.flatten(x, 1), this.weight, this.bias);
  }
}

/** Batch norm over channels (statistics over the folded T·N batch, as multi-step SNN libraries do). */
export class BatchNorm extends Base {
  declare readonly node: Extract<GraphNode, { op: 'bn' }>;
  forward(x: Tensor, ctx: RunContext): Tensor {
    const st = { runningMean: this.get('running_mean').data, runningVar: this.get('running_var').data };
    const { eps, momentum } = this.node.attrs;
    return op.batchNorm(x, this.get('weight'), this.get('bias'), st, { training: ctx.training, eps, momentum });
  }
}

/** A bias per channel (a conv's bias moved after its max pools: max(x + b) = max(x) + b, exactly). */
export class ChannelBias extends Base {
  forward(x: Tensor): Tensor { return op.channelBias(x, this.get('bias')); }
}

/** Max or average pooling. */
export class Pool extends Base {
  declare readonly node: Extract<GraphNode, { op: 'pool' }>;
  forward(x: Tensor): Tensor {
    const { kind, k, stride } = this.node.attrs;
    return kind === 'max' ? op.maxPool2d(x, k, { stride }) : op.avgPool2d(x, k, { stride });
  }
}

/** Global average pooling [·, C, H, W] → [·, C, 1, 1]. */
export class GlobalAvgPool extends Base {
  forward(x: Tensor): Tensor { return op.adaptiveAvgPool2d(x, 1); }
}

/** Flatten to [·, features]. */
export class Flatten extends Base {
  forward(x: Tensor): Tensor { return op.flatten(x, 1); }
}

/** Dropout whose mask is drawn once per sample and forward pass, and reused at every time step. */
export class Dropout extends Base {
  declare readonly node: Extract<GraphNode, { op: 'dropout' }>;
  forward(x: Tensor, ctx: RunContext): Tensor {
    const p = this.node.attrs.p;
    if (!ctx.training || p === 0) return x;
    const perSample: Shape = ctx.static ? x.shape : [ctx.N, ...x.shape.slice(1)];
    let mask = ctx.masks.get(this.name);
    if (!mask) { mask = op.dropoutMask(perSample, p, ctx.rng); ctx.masks.set(this.name, mask); }
    if (ctx.static) return op.dropout(x, mask);
    const T = x.shape[0]! / ctx.N;
    const folded = op.reshape(x, [T, mask.size]);
    return op.reshape(op.dropout(folded, op.reshape(mask, [mask.size])), x.shape);
  }
}

/** max(x, 0). */
export class Relu extends Base {
  forward(x: Tensor): Tensor { return op.relu(x); }
}

/** Clamp to [lo, hi]. */
export class Clamp extends Base {
  declare readonly node: Extract<GraphNode, { op: 'clamp' }>;
  forward(x: Tensor): Tensor { return op.clamp(x, this.node.attrs.lo, this.node.attrs.hi); }
}

/** The (summed) input unchanged. */
export class Identity extends Base {
  forward(x: Tensor): Tensor { return x; }
}

/** The median activation quantizer with a straight-through gradient. */
export class Quant extends Base {
  declare readonly node: Extract<GraphNode, { op: 'quant' }>;
  forward(x: Tensor): Tensor { return op.quantizeActivation(x, this.node.attrs.k, this.node.attrs.B); }
}

/** A layer of spiking neurons: all T steps by the fused kernel, or one step with carried state. */
export class Spiking extends Base {
  declare readonly node: Extract<GraphNode, { op: 'neuron' }>;
  get p(): NeuronParams { return this.node.neuron; }
  private lp() { return { decay: this.t.get('decay'), vth: this.t.get('vth') }; }

  forward(x: Tensor, ctx: RunContext): Tensor {
    const perStep = ctx.static ? x.shape : [x.shape[0]! / ctx.T, ...x.shape.slice(1)];
    const xs = ctx.static ? x : op.reshape(x, [ctx.T, x.size / ctx.T]);
    const r = neuronRun(xs, this.p, this.lp(), { T: ctx.T, staticInput: ctx.static, keepMembrane: ctx.monitor !== undefined, channelInner: inner(perStep) });
    ctx.static = false;
    const out = op.reshape(r.spikes, [ctx.T * perStep[0]!, ...perStep.slice(1)]);
    ctx.monitor?.(this.name, out, r.h);
    return out;
  }

  /** One step on [N, …] from state v (zeros when null): the spikes, the next state and the membrane before reset. */
  step(x: Tensor, v: Tensor | null): { s: Tensor; v: Tensor; h: Tensor } {
    return neuronStep(x, v ?? new Tensor(new Float32Array(x.size), x.shape), this.p, this.lp());
  }
}

/** Neurons per channel of one sample's activation [N, C, …]: the product of the axes after C. */
function inner(shape: Shape): number {
  return shape.slice(2).reduce((a, b) => a * b, 1);
}

/** The runtime of `node`, over its tensors. */
export function makeLayer(node: GraphNode, t: NodeTensorMap): Layer {
  switch (node.op) {
    case 'conv': return new Conv(node, t);
    case 'dense': return new Dense(node, t);
    case 'bn': return new BatchNorm(node, t);
    case 'bias': return new ChannelBias(node, t);
    case 'pool': return new Pool(node, t);
    case 'gap': return new GlobalAvgPool(node, t);
    case 'flatten': return new Flatten(node, t);
    case 'dropout': return new Dropout(node, t);
    case 'neuron': return new Spiking(node, t);
    case 'relu': return new Relu(node, t);
    case 'clamp': return new Clamp(node, t);
    case 'identity': return new Identity(node, t);
    case 'quant': return new Quant(node, t);
  }
}
