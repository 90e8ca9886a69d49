/**
 * Stateful layers: they own parameters and buffers and call the ops. Activations flow in one of two
 * forms, tracked by the run context: static [N, …] (a direct input before the first neuron, so the
 * first layers run once, not T times) or time-folded [T·N, …] (time outer).
 */
import { Tensor, parameter, type Shape } from '../tensor/tensor.js';
import * as op from '../ops/index.js';
import type { Rng } from '../data/rng.js';
import type { NeuronParams } from '../neurons/neuron.js';
import { decayInit } from '../neurons/neuron.js';
import { neuronRun } from '../neurons/run.js';

/** What a forward pass knows besides its input. */
export interface RunContext {
  readonly T: number;
  readonly N: number;
  readonly training: boolean;
  readonly rng: Rng;
  /** True while activations are static [N, …]; false once folded [T·N, …]. */
  static: boolean;
  /** Called by every neuron layer with its spikes [T·N, …] and membrane (before reset) [T, N·…]. */
  readonly monitor?: (layer: string, spikes: Tensor, h: Float32Array) => void;
}

/** A layer: forward over the current activation form, plus its named parameters and buffers. */
export interface Layer {
  readonly name: string;
  forward(x: Tensor, ctx: RunContext): Tensor;
  params(): [string, Tensor][];
  buffers(): [string, Float32Array][];
}

/** PyTorch's default initialisation: U(−1/√fan_in, 1/√fan_in) for weights and biases. */
function uniformInit(n: number, fanIn: number, rng: Rng): Float32Array {
  const b = 1 / Math.sqrt(fanIn), d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (rng.float() * 2 - 1) * b;
  return d;
}

/** Repeats a static [N, …] activation T times into the folded form [T·N, …]. */
export function expandTime(x: Tensor, T: number): Tensor {
  return op.concat(Array.from({ length: T }, () => x), 0);
}

/** 2-d convolution, optional bias. */
export class Conv implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly name: string, cin: number, cout: number, readonly k: number,
    readonly stride: number, readonly pad: number, readonly groups: number, bias: boolean, rng: Rng) {
    const fanIn = (cin / groups) * k * k;
    this.weight = parameter(uniformInit(cout * fanIn, fanIn, rng), [cout, cin / groups, k, k], `${name}.weight`);
    this.bias = bias ? parameter(uniformInit(cout, fanIn, rng), [cout], `${name}.bias`) : null;
  }
  /** Set by the builder when a max pool follows: the bias is then added after the pool (see DeferredBias). */
  deferBias = false;
  forward(x: Tensor): Tensor {
    return op.conv2d(x, this.weight, this.deferBias ? null : this.bias, { stride: this.stride, padding: this.pad, groups: this.groups });
  }
  params(): [string, Tensor][] { return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]]; }
  buffers(): [string, Float32Array][] { return []; }
}

/** Fully connected layer on the flattened activation, optional bias. */
export class Dense implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly name: string, readonly nIn: number, nOut: number, bias: boolean, rng: Rng) {
    this.weight = parameter(uniformInit(nOut * nIn, nIn, rng), [nOut, nIn], `${name}.weight`);
    this.bias = bias ? parameter(uniformInit(nOut, nIn, rng), [nOut], `${name}.bias`) : null;
  }
  forward(x: Tensor): Tensor {
    return op.linear(x.rank === 2 ? x : op.flatten(x, 1), this.weight, this.bias);
  }
  params(): [string, Tensor][] { return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]]; }
  buffers(): [string, Float32Array][] { return []; }
}

/** Batch norm over channels (statistics over the folded T·N batch, as multi-step SNN libraries do). */
export class BatchNorm implements Layer {
  readonly gamma: Tensor;
  readonly beta: Tensor;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  constructor(readonly name: string, c: number) {
    this.gamma = parameter(new Float32Array(c).fill(1), [c], `${name}.weight`);
    this.beta = parameter(new Float32Array(c), [c], `${name}.bias`);
    this.runningMean = new Float32Array(c);
    this.runningVar = new Float32Array(c).fill(1);
  }
  forward(x: Tensor, ctx: RunContext): Tensor {
    return op.batchNorm(x, this.gamma, this.beta, this, { training: ctx.training });
  }
  params(): [string, Tensor][] { return [['weight', this.gamma], ['bias', this.beta]]; }
  buffers(): [string, Float32Array][] { return [['running_mean', this.runningMean], ['running_var', this.runningVar]]; }
}

/**
 * A conv's bias added after the max pool(s) that follow it: max(x + b) = max(x) + b per channel
 * (exactly, as rounding is monotonic), on a quarter of the values. Owns no parameter: the conv does.
 */
export class DeferredBias implements Layer {
  constructor(readonly name: string, readonly conv: Conv) {}
  forward(x: Tensor): Tensor { return op.channelBias(x, this.conv.bias!); }
  params(): [string, Tensor][] { return []; }
  buffers(): [string, Float32Array][] { return []; }
}

/** Max or average pooling. */
export class Pool implements Layer {
  constructor(readonly name: string, readonly kind: 'max' | 'avg', readonly k: number, readonly stride: number) {}
  forward(x: Tensor): Tensor {
    return this.kind === 'max' ? op.maxPool2d(x, this.k, { stride: this.stride }) : op.avgPool2d(x, this.k, { stride: this.stride });
  }
  params(): [string, Tensor][] { return []; }
  buffers(): [string, Float32Array][] { return []; }
}

/** Global average pooling [·, C, H, W] → [·, C, 1, 1]. */
export class GlobalAvgPool implements Layer {
  constructor(readonly name: string) {}
  forward(x: Tensor): Tensor { return op.adaptiveAvgPool2d(x, 1); }
  params(): [string, Tensor][] { return []; }
  buffers(): [string, Float32Array][] { return []; }
}

/** Flatten to [·, features]. */
export class Flatten implements Layer {
  constructor(readonly name: string) {}
  forward(x: Tensor): Tensor { return op.flatten(x, 1); }
  params(): [string, Tensor][] { return []; }
  buffers(): [string, Float32Array][] { return []; }
}

/** Dropout whose mask is drawn once per sample and reused at every time step. */
export class Dropout implements Layer {
  constructor(readonly name: string, readonly p: number) {}
  forward(x: Tensor, ctx: RunContext): Tensor {
    if (!ctx.training || this.p === 0) return x;
    const perSample: Shape = ctx.static ? x.shape : [ctx.N, ...x.shape.slice(1)];
    const mask = op.dropoutMask(perSample, this.p, ctx.rng);
    if (ctx.static) return op.dropout(x, mask);
    const folded = op.reshape(x, [ctx.T, mask.size]);
    return op.reshape(op.dropout(folded, op.reshape(mask, [mask.size])), x.shape);
  }
  params(): [string, Tensor][] { return []; }
  buffers(): [string, Float32Array][] { return []; }
}

/** A layer of spiking neurons, run over all T steps by the fused kernel. */
export class Spiking implements Layer {
  readonly decay: Tensor | null;
  readonly vth: Tensor | null;
  constructor(readonly name: string, readonly p: NeuronParams) {
    this.decay = p.learnDecay ? parameter(Float32Array.of(decayInit(p)), [1], `${name}.decay`) : null;
    this.vth = p.learnThreshold ? parameter(Float32Array.of(p.vth), [1], `${name}.vth`) : null;
  }
  forward(x: Tensor, ctx: RunContext): Tensor {
    const lp = { decay: this.decay ?? undefined, vth: this.vth ?? undefined };
    const perStep = ctx.static ? x.shape : [x.shape[0]! / ctx.T, ...x.shape.slice(1)];
    const xs = ctx.static ? x : op.reshape(x, [ctx.T, x.size / ctx.T]);
    const r = neuronRun(xs, this.p, lp, { T: ctx.T, staticInput: ctx.static, keepMembrane: ctx.monitor !== undefined });
    ctx.static = false;
    const out = op.reshape(r.spikes, [ctx.T * perStep[0]!, ...perStep.slice(1)]);
    ctx.monitor?.(this.name, out, r.h);
    return out;
  }
  params(): [string, Tensor][] {
    const r: [string, Tensor][] = [];
    if (this.decay) r.push(['decay', this.decay]);
    if (this.vth) r.push(['vth', this.vth]);
    return r;
  }
  buffers(): [string, Float32Array][] { return []; }
}

/** Residual block: body(x) + shortcut(x) (identity when empty), then optionally a neuron layer. */
export class Residual implements Layer {
  constructor(readonly name: string, readonly body: Layer[], readonly shortcut: Layer[], readonly neuron: Spiking | null) {}
  forward(x: Tensor, ctx: RunContext): Tensor {
    const wasStatic = ctx.static;
    let a = x;
    for (const l of this.body) a = l.forward(a, ctx);
    const bodyStatic = ctx.static;
    ctx.static = wasStatic;
    let b = x;
    for (const l of this.shortcut) b = l.forward(b, ctx);
    if (ctx.static && !bodyStatic) b = expandTime(b, ctx.T);
    if (bodyStatic && !ctx.static) a = expandTime(a, ctx.T);
    ctx.static = ctx.static && bodyStatic;
    const sum = op.add(a, b);
    return this.neuron ? this.neuron.forward(sum, ctx) : sum;
  }
  params(): [string, Tensor][] {
    return [...prefixed('body', this.body, (l) => l.params()), ...prefixed('shortcut', this.shortcut, (l) => l.params()),
      ...(this.neuron ? this.neuron.params().map(([n, t]): [string, Tensor] => [`neuron.${n}`, t]) : [])];
  }
  buffers(): [string, Float32Array][] {
    return [...prefixed('body', this.body, (l) => l.buffers()), ...prefixed('shortcut', this.shortcut, (l) => l.buffers())];
  }
}

/** Names of nested layers' entries, prefixed by group and index. */
function prefixed<T>(group: string, layers: Layer[], get: (l: Layer) => [string, T][]): [string, T][] {
  return layers.flatMap((l, i) => get(l).map(([n, t]): [string, T] => [`${group}.${i}.${n}`, t]));
}
