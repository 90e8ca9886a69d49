/**
 * The runtime of each graph node: it holds the node's tensors and calls the ops. Activations flow in one
 * of two forms, tracked by the run context: static [N, …] (a direct input before the first neuron, so the
 * first layers run once, not T times) or time-folded [T·N, …] (time outer).
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import * as op from '../ops/index.js';
import type { Rng } from '../data/rng.js';
import { EdgespikeError } from '../util/errors.js';
import type { GraphNode, WeightQuantAttr } from '../graph/graph.js';
import { fakeQuantWeights } from '../quant/weights.js';
import { needsGrad } from '../tensor/tape.js';
import type { NeuronParams } from '../neurons/neuron.js';
import { neuronRun } from '../neurons/run.js';
import { neuronStep } from '../neurons/step.js';
import { makeNirLayer } from './nir-nodes.js';
import { kernels, quantKernels } from '../backends/index.js';
import { convGeom } from '../ops/conv.js';
import { floatsFor } from '../tensor/storage.js';
import { integerInput, layerCodes, qlifIntegerRun, qlifParams, type IntegerRun } from './integer.js';

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
  /** Losses nodes add to the training loss (a gate predictor's BCE), summed by the caller. */
  readonly aux: Tensor[];
  /** While training: the weight of every neuron layer's firing rate in the loss (pushed to aux). */
  readonly spikeCost?: number;
  /** Scatter-and-Gather's robustness study: each spike of scatter node `node` is dropped with probability `ratio`. */
  readonly dropSpikes?: { readonly node: string; readonly ratio: number };
  /** Called by every gate with its mask [rows, C] (0/1) and whether its rows are static [N] or folded [T·N]. */
  readonly onGate?: (node: string, mask: Uint8Array, rows: number, channels: number, isStatic: boolean) => void;
  /** Called by every gate with its predictor's inputs [rows, C_side] and its BCE targets [rows, C] (fitGates). */
  readonly onGateFit?: (node: string, features: Tensor, targets: Tensor) => void;
  /** Inference of frozen quantized layers on the integer kernels (src/layers/integer.ts); absent: the float path. */
  readonly integer?: IntegerRun;
}

/** A node's runtime: forward over the current activation form, plus its tensors by local name. */
export interface Layer {
  /** The node id. */
  readonly name: string;
  readonly node: GraphNode;
  /** x: the (summed) input; side: the side inputs' values (a gate's predictor input) with their forms. */
  forward(x: Tensor, ctx: RunContext, side?: readonly { t: Tensor; static: boolean }[]): Tensor;
  /** Learned tensors, local names ("weight"). */
  params(): [string, Tensor][];
  /** Stored state (running statistics, fixed per-channel constants), local names. */
  buffers(): [string, Float32Array][];
  /**
   * One step on [N, …] from the state it returned the step before (null at step 0), for graphs that run
   * one step at a time; layers without it keep no state between steps (neurons: Spiking.step).
   */
  runStep?(x: Tensor, state: unknown, ctx: RunContext): StepResult;
}

/** A step of a stateful layer: its output, its next state and, for spiking ones, the membrane before reset. */
export interface StepResult {
  readonly y: Tensor;
  readonly state: unknown;
  readonly h?: Float32Array;
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
  abstract forward(x: Tensor, ctx: RunContext, side?: readonly { t: Tensor; static: boolean }[]): Tensor;
  params(): [string, Tensor][] { return [...this.t].filter(([k]) => this.m.learned.has(k)); }
  buffers(): [string, Float32Array][] { return [...this.t].filter(([k]) => !this.m.learned.has(k)).map(([k, v]) => [k, v.data]); }
  /** Tensor `name` of this node, or undefined. */
  tensor(name: string): Tensor | undefined { return this.t.get(name); }
  protected get(name: string): Tensor {
    const v = this.t.get(name);
    if (!v) throw new EdgespikeError(`graph: node "${this.node.id}" has no tensor "${name}"`);
    return v;
  }
}

/**
 * The weight a layer computes with: the stored weight, or its fake-quantized values while the layer
 * trains quantized (SAWB keeps α of the last training call in its `alpha` buffer).
 */
function effectiveWeight(layer: Base & { weight: Tensor }, quant: WeightQuantAttr | undefined, ctx: RunContext): Tensor {
  if (!quant || quant.frozen) return layer.weight;
  const alpha = layer.tensor('alpha');
  const r = fakeQuantWeights(layer.weight, quant, ctx.training, alpha ? alpha.data[0]! : 1);
  if (ctx.training && alpha && r.alpha !== undefined) alpha.data[0] = r.alpha;
  return r.wq;
}

/** 2-d convolution, optional bias, optionally quantized weights. */
export class Conv extends Base {
  declare readonly node: Extract<GraphNode, { op: 'conv' }>;
  get weight(): Tensor { return this.get('weight'); }
  get bias(): Tensor | null { return this.t.get('bias') ?? null; }
  forward(x: Tensor, ctx: RunContext): Tensor {
    const a = this.node.attrs;
    const codes = integerInput(x, ctx.integer, this.weight, this.bias) ? layerCodes(this.node, this.weight.data, this.tensor('wscale')?.data, a.out) : null;
    if (codes) {
      // the integer kernel; a gate that closes this conv's channels decides first, so their sums are skipped
      const g = convGeom(x.shape, this.weight.shape, { stride: a.stride, padding: a.pad, groups: a.groups }), plane = g.oh * g.ow;
      const gate = ctx.integer!.gates.get(this.name);
      const mask = gate?.mask(x);
      if (gate && mask) ctx.integer!.masks.set(gate.gate, mask);
      const y = floatsFor(g.n * g.cout * plane);
      quantKernels().spikeConv2dQ(x.data, codes.q, codes.scale, y, g, codes.bits, mask, x.bits);
      if (this.bias) kernels().biasAdd(y, this.bias.data, y, g.n, g.cout, plane);
      return new Tensor(y, [g.n, g.cout, g.oh, g.ow]);
    }
    return op.conv2d(x, effectiveWeight(this, a.quant, ctx), this.bias, { stride: a.stride, padding: a.pad, groups: a.groups });
  }
}

/** Fully connected layer on the flattened activation, optional bias, optionally quantized weights. */
export class Dense extends Base {
  declare readonly node: Extract<GraphNode, { op: 'dense' }>;
  get weight(): Tensor { return this.get('weight'); }
  get bias(): Tensor | null { return this.t.get('bias') ?? null; }
  /** Inputs per sample. */
  get nIn(): number { return this.weight.shape[1]!; }
  forward(x: Tensor, ctx: RunContext): Tensor {
    const xf = x.rank === 2 ? x : op.flatten(x, 1), nOut = this.node.attrs.out;
    const codes = integerInput(xf, ctx.integer, this.weight, this.bias) ? layerCodes(this.node, this.weight.data, this.tensor('wscale')?.data, nOut) : null;
    if (codes) {
      const rows = xf.shape[0]!, y = floatsFor(rows * nOut);
      quantKernels().spikeLinearQ(xf.data, codes.q, codes.scale, y, rows, nOut, this.nIn, codes.bits, xf.bits);
      if (this.bias) kernels().biasAdd(y, this.bias.data, y, rows, nOut, 1);
      return new Tensor(y, [rows, nOut]);
    }
    return op.linear(xf, effectiveWeight(this, this.node.attrs.quant, ctx), this.bias);
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

/**
 * A channel gate: the predictor (GAP of the side input → softmax over its channels → 1×1 conv → sigmoid)
 * keeps the channels whose probability is above 0.5, per row; the others are zeroed. While training, the
 * predictor learns from a BCE loss against the channels that carry `ratio` of the row's max-activation
 * mass; the predictor's input is detached, so only the predictor learns from it.
 */
export class Gate extends Base {
  declare readonly node: Extract<GraphNode, { op: 'gate' }>;

  /** The predictor's input [rows, C_side]: softmax over the channels of a side input's spatial means, detached from it. */
  features(side: Tensor): Tensor {
    const rows = side.shape[0]!, cs = side.shape[1]!;
    const pooled = side.rank === 4 ? op.adaptiveAvgPool2d(side.detach(), 1) : side.detach();
    return op.softmax(op.reshape(pooled, [rows, cs]));
  }

  /** Predictor logits [rows, C] of a side input [rows, C_side, H, W] (or [rows, C_side]), detached from it. */
  logits(side: Tensor): Tensor {
    return op.linear(this.features(side), this.get('weight'), this.get('bias'));
  }

  /** The channels kept for each row of a side input [rows, C_side, …]: 1 where the predictor's logit is above 0. */
  mask(side: Tensor): Uint8Array {
    const L = this.logits(side).data, mask = new Uint8Array(L.length);
    for (let i = 0; i < L.length; i++) mask[i] = L[i]! > 0 ? 1 : 0;
    return mask;
  }

  forward(x: Tensor, ctx: RunContext, side?: readonly { t: Tensor; static: boolean }[]): Tensor {
    const s = side?.[0];
    if (!s) throw new EdgespikeError(`graph: node "${this.name}" (gate) runs without its side input`);
    const C = x.shape[1]!;
    // the mask the integer convolution before this gate already computed (on the same side input), or the
    // predictor on the side input's rows; a static side serves every step
    const early = ctx.integer?.masks.get(this.name);
    ctx.integer?.masks.delete(this.name);
    let logits: Tensor | undefined, mask: Uint8Array;
    if (early && early.length === x.shape[0]! * C) mask = early;
    else {
      const z = this.logits(s.t);
      logits = s.static && !ctx.static ? expandTime(z, ctx.T) : z;
      const L = logits.data;
      mask = new Uint8Array(L.length);
      for (let i = 0; i < L.length; i++) mask[i] = L[i]! > 0 ? 1 : 0;
    }
    const rows = mask.length / C, m = Float32Array.from(mask);
    ctx.onGate?.(this.name, mask, rows, C, ctx.static);
    if (ctx.onGateFit) {
      const f = this.features(s.t);
      ctx.onGateFit(this.name, s.static && !ctx.static ? expandTime(f, ctx.T) : f, massTarget(x, this.node.attrs.ratio));
    }
    if (ctx.training && this.node.attrs.lossWeight > 0 && logits) {
      const target = massTarget(x, this.node.attrs.ratio);
      ctx.aux.push(op.mul(bceWithLogits(logits, target), this.node.attrs.lossWeight));
    }
    return op.mul(x, new Tensor(m, [rows, C, ...x.shape.slice(2).map(() => 1)]));
  }
}

/**
 * Per row, the channels that carry `ratio` of the mass of max(relu(x)) over each channel's positions:
 * channels sorted by that score, kept while the cumulative share before them is below `ratio`.
 */
export function massTarget(x: Tensor, ratio: number): Tensor {
  const rows = x.shape[0]!, C = x.shape[1]!, plane = x.size / (rows * C), X = x.data;
  const out = new Float32Array(rows * C), score = new Float64Array(C), order = Array.from({ length: C }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    let total = 0;
    for (let c = 0; c < C; c++) {
      let mx = 0;
      for (let p = 0, o = (r * C + c) * plane; p < plane; p++) mx = Math.max(mx, X[o + p]!);
      score[c] = mx;
      total += mx;
    }
    if (total === 0) continue;
    order.sort((a, b) => score[b]! - score[a]! || a - b);
    let acc = 0;
    for (const c of order) {
      if (acc >= ratio * total) break;
      out[r * C + c] = 1;
      acc += score[c]!;
    }
  }
  return new Tensor(out, [rows, C]);
}

/** Mean binary cross-entropy of sigmoid(z) against targets t, computed stably from the logits. */
export function bceWithLogits(z: Tensor, t: Tensor): Tensor {
  // max(z, 0) − z·t + log(1 + e^−|z|)
  return op.mean(op.add(op.sub(op.relu(z), op.mul(z, t)), op.log(op.add(op.exp(op.neg(op.abs(z))), 1))));
}

/**
 * Scatter-and-Gather's multi-threshold neuron: per channel, the number of thresholds the input passes
 * (0 … levels spikes in one step). Not differentiable: it runs converted networks.
 */
export class Scatter extends Base {
  declare readonly node: Extract<GraphNode, { op: 'scatter' }>;
  forward(x: Tensor, ctx: RunContext): Tensor {
    const L = this.node.attrs.levels, C = x.shape[1]!, plane = x.size / (x.shape[0]! * C);
    const th = this.get('thresholds').data, dir = this.get('direction').data, X = x.data;
    const out = new Float32Array(x.size);
    const drop = ctx.dropSpikes?.node === this.name ? ctx.dropSpikes.ratio : 0;
    for (let r = 0; r < x.shape[0]!; r++) {
      for (let c = 0; c < C; c++) {
        const t = th.subarray(c * L, (c + 1) * L), up = dir[c]! >= 0, o = (r * C + c) * plane;
        for (let p = 0; p < plane; p++) {
          const v = X[o + p]!;
          let n = 0;
          for (let i = 0; i < L; i++) if (up ? v >= t[i]! : v <= t[i]!) n++;
          if (drop > 0) { let kept = 0; for (let i = 0; i < n; i++) if (ctx.rng.float() >= drop) kept++; n = kept; }
          out[o + p] = n;
        }
      }
    }
    const y = new Tensor(out, x.shape);
    y.binary = L === 1;
    return y;
  }
}

/** A layer of spiking neurons: all T steps by the fused kernel, or one step with carried state. */
export class Spiking extends Base {
  declare readonly node: Extract<GraphNode, { op: 'neuron' }>;
  get p(): NeuronParams { return this.node.neuron; }
  private lp() { return { decay: this.t.get('decay'), vth: this.t.get('vth') }; }

  forward(x: Tensor, ctx: RunContext): Tensor {
    const perStep = ctx.static ? x.shape : [x.shape[0]! / ctx.T, ...x.shape.slice(1)];
    const xs = ctx.static ? x : op.reshape(x, [ctx.T, x.size / ctx.T]);
    const kp = ctx.integer && !ctx.monitor && !ctx.spikeCost && !needsGrad(xs) ? qlifParams(this.p) : null;
    if (kp) {
      // the membrane as int8 levels between steps (the integer runtime)
      const spikes = qlifIntegerRun(xs, this.p, kp, ctx.T, ctx.static);
      ctx.static = false;
      return op.reshape(spikes, [ctx.T * perStep[0]!, ...perStep.slice(1)]);
    }
    const r = neuronRun(xs, this.p, this.lp(), { T: ctx.T, staticInput: ctx.static, keepMembrane: ctx.monitor !== undefined, channelInner: inner(perStep) });
    ctx.static = false;
    const out = op.reshape(r.spikes, [ctx.T * perStep[0]!, ...perStep.slice(1)]);
    ctx.monitor?.(this.name, out, r.h);
    if (ctx.training && ctx.spikeCost) ctx.aux.push(op.mul(op.sum(r.spikes), ctx.spikeCost / r.spikes.size));
    return out;
  }

  /** One step on [N, …] from state v (zeros when null): the spikes, the next state and the membrane before reset. */
  step(x: Tensor, v: Tensor | null): { s: Tensor; v: Tensor; h: Tensor } {
    if (this.p.membrane) throw new EdgespikeError(`graph: node "${this.name}" has a quantized membrane, which a recurrent graph cannot run step by step yet`);
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
    case 'gate': return new Gate(node, t);
    case 'scatter': return new Scatter(node, t);
    case 'nir-neuron': case 'nir-conv': case 'nir-pool': case 'scale': case 'threshold': case 'delay': case 'reshape':
      return makeNirLayer(node, t);
  }
}
