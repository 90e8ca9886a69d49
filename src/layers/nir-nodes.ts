/**
 * Runtimes of the NIR ops (graph/nir-ops.ts). Each runs all T steps of a folded [T·N, …] activation
 * (or a static [N, …] one held at every step) as a loop over steps written with the differentiable ops,
 * so gradients reach the inputs (a surrogate for the spikes); the stateful ones (nir-neuron, delay) also
 * run one step at a time with carried state (runStep), as graphs with recurrent edges need.
 */
import { Tensor } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import * as op from '../ops/index.js';
import { EdgespikeError } from '../util/errors.js';
import type { GraphNode, NodeOf } from '../graph/graph.js';
import { spikes, type NirOp, type NirOpAttrs } from '../graph/nir-ops.js';
import { coefficientTensors, nirCoefficients, nirNeuronStep, nirSpikeParams, type NirState } from '../neurons/nir.js';
import { spikeFn } from '../neurons/step.js';
import type { Layer, NodeTensorMap, RunContext, StepResult } from './layers.js';

type NirNode<K extends NirOp> = NodeOf<K, NirOpAttrs[K]>;

/** Holds a node's tensors; parameters are the learned ones, buffers the rest. */
abstract class NirLayer implements Layer {
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

/** Step t of an activation: the static one itself, or rows [t·N, (t+1)·N) of a folded one. */
function stepOf(x: Tensor, ctx: RunContext, t: number): Tensor {
  return ctx.static ? x : op.slice(x, 0, t * ctx.N, (t + 1) * ctx.N);
}

/** A NIR neuron layer (LIF, IF, LI, I, CubaLIF, CubaLI) discretised with the node's dt and method. */
export class NirNeuron extends NirLayer {
  declare readonly node: NirNode<'nir-neuron'>;
  /** The coefficients for one step of shape `shape` (the layer's), from the current parameter values. */
  private coefficients(shape: readonly number[]) {
    const params: Record<string, Float32Array> = {};
    for (const [k, v] of this.t) params[k] = v.data;
    const a = this.node.attrs;
    return coefficientTensors(nirCoefficients(a.model, params, a.dt, a.method), shape);
  }

  forward(x: Tensor, ctx: RunContext): Tensor {
    const shape = x.shape.slice(1), co = this.coefficients(shape);
    const { model, fire } = this.node.attrs, sp = nirSpikeParams(fire), spiking = spikes(model);
    const outs: Tensor[] = [], hs: Float32Array[] = [];
    let state: NirState | null = null;
    for (let t = 0; t < ctx.T; t++) {
      const r = nirNeuronStep(stepOf(x, ctx, t), state, co, model, sp);
      outs.push(r.out);
      if (ctx.monitor && spiking) hs.push(r.h.data);
      state = r.state;
    }
    ctx.static = false;
    const y = outs.length === 1 ? outs[0]! : op.concat(outs, 0);
    if (!spiking) return y;
    y.binary = true;
    if (ctx.monitor) ctx.monitor(this.name, y, concatData(hs));
    if (ctx.training && ctx.spikeCost) ctx.aux.push(op.mul(op.sum(y), ctx.spikeCost / y.size));
    return y;
  }

  runStep(x: Tensor, state: unknown): StepResult {
    const { model, fire } = this.node.attrs;
    const r = nirNeuronStep(x, state as NirState | null, this.coefficients(x.shape.slice(1)), model, nirSpikeParams(fire));
    if (spikes(model)) r.out.binary = true;
    return { y: r.out, state: r.state, ...(spikes(model) ? { h: r.h.data } : {}) };
  }
}

function concatData(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** y = s ⊙ x. */
export class Scale extends NirLayer {
  declare readonly node: NirNode<'scale'>;
  forward(x: Tensor): Tensor { return op.mul(x, this.get('scale')); }
}

/** z = H(x − θ): 1 where x > θ, with the neurons' surrogate gradient. */
export class Threshold extends NirLayer {
  declare readonly node: NirNode<'threshold'>;
  forward(x: Tensor): Tensor { return spikeFn(op.sub(x, this.get('threshold')), nirSpikeParams('>')); }
}

/** The same values in another per-sample shape. */
export class Reshape extends NirLayer {
  declare readonly node: NirNode<'reshape'>;
  forward(x: Tensor): Tensor { return op.reshape(x, [x.shape[0]!, ...this.node.attrs.shape]); }
}

/** y(t) = x(t − d) per neuron, d = round(delay/dt) steps; zeros before the first input arrives. */
export class Delay extends NirLayer {
  declare readonly node: NirNode<'delay'>;
  /** Each neuron's delay in steps, and a 0/1 mask of the layer's shape for every distinct delay. */
  private steps(shape: readonly number[]): Map<number, Tensor> {
    const d = this.get('delay').data, dt = this.node.attrs.dt;
    const masks = new Map<number, Float32Array>();
    for (let i = 0; i < d.length; i++) {
      const k = Math.round(d[i]! / dt);
      if (!(k >= 0 && Number.isSafeInteger(k))) throw new EdgespikeError(`graph: node "${this.name}" (delay) has delay ${d[i]} at index ${i}, which is not a number of steps ≥ 0 at dt ${dt}`);
      let m = masks.get(k);
      if (!m) { m = new Float32Array(d.length); masks.set(k, m); }
      m[i] = 1;
    }
    return new Map([...masks].map(([k, m]) => [k, new Tensor(m, [...shape])]));
  }

  /** Σ over distinct delays k of mask_k ⊙ part(k); a single delay needs no mask. */
  private combine(masks: Map<number, Tensor>, part: (k: number) => Tensor): Tensor {
    if (masks.size === 1) return part([...masks.keys()][0]!);
    let y: Tensor | null = null;
    for (const [k, m] of masks) { const v = op.mul(part(k), m); y = y ? op.add(y, v) : v; }
    return y!;
  }

  forward(x: Tensor, ctx: RunContext): Tensor {
    const { T, N } = ctx;
    const xs = ctx.static ? op.concat(Array.from({ length: T }, () => x), 0) : x;
    ctx.static = false;
    const rest = xs.shape.slice(1), masks = this.steps(rest);
    return this.combine(masks, (k) => {
      if (k === 0) return xs;
      const zeros = new Tensor(new Float32Array(Math.min(k, T) * N * rest.reduce((a, b) => a * b, 1)), [Math.min(k, T) * N, ...rest]);
      return k >= T ? zeros : op.concat([zeros, op.slice(xs, 0, 0, (T - k) * N)], 0);
    });
  }

  /** state: the inputs of the last max-delay steps, oldest first. */
  runStep(x: Tensor, state: unknown): StepResult {
    const past = (state as Tensor[] | null) ?? [], masks = this.steps(x.shape.slice(1));
    const keep = Math.max(...masks.keys());
    const y = this.combine(masks, (k) => (k === 0 ? x : past[past.length - k] ?? new Tensor(new Float32Array(x.size), x.shape)));
    return { y, state: keep === 0 ? [] : [...past, x].slice(-keep) };
  }
}

/**
 * A convolution with dilation and uneven padding: uneven padding pads the input first; a dilated kernel is
 * the weight spread over a larger kernel with zeros between its taps (a 0/1 matrix product, so the weight
 * keeps its gradient). 1-d convolutions run as 2-d ones over [C, 1, L].
 */
export class NirConv extends NirLayer {
  declare readonly node: NirNode<'nir-conv'>;
  forward(x: Tensor): Tensor {
    const a = this.node.attrs, rows = x.shape[0]!;
    let xi = a.dims === 1 ? op.reshape(x, [rows, x.shape[1]!, 1, x.shape[2]!]) : x;
    const [top, bottom, left, right] = a.pad;
    let padding: [number, number] = [top, left];
    if (top !== bottom || left !== right) { xi = op.pad(xi, [[0, 0], [0, 0], [top, bottom], [left, right]]); padding = [0, 0]; }
    const y = op.conv2d(xi, this.dilated(), this.t.get('bias') ?? null, { stride: a.stride, padding, groups: a.groups });
    return a.dims === 1 ? op.reshape(y, [rows, a.out, y.shape[3]!]) : y;
  }

  /** The weight with its taps spread `dilation` apart. */
  private dilated(): Tensor {
    const w = this.get('weight'), [dh, dw] = this.node.attrs.dilation;
    if (dh === 1 && dw === 1) return w;
    const [o, i, kh, kw] = w.shape as [number, number, number, number];
    const KH = dh * (kh - 1) + 1, KW = dw * (kw - 1) + 1;
    const sel = new Float32Array(kh * kw * KH * KW);
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) sel[(y * kw + x) * KH * KW + y * dh * KW + x * dw] = 1;
    const spread = op.matmul(op.reshape(w, [o * i, kh * kw]), new Tensor(sel, [kh * kw, KH * KW]));
    return op.reshape(spread, [o, i, KH, KW]);
  }
}

/** Sum or average pooling with a rectangular window, stride and zero padding (sums in double precision). */
export class NirPool extends NirLayer {
  declare readonly node: NirNode<'nir-pool'>;
  forward(x: Tensor): Tensor {
    const { kind, kernel: [kh, kw], stride: [sh, sw], pad: [ph, pw] } = this.node.attrs;
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const oh = Math.floor((h + 2 * ph - kh) / sh) + 1, ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
    const div = kind === 'avg' ? kh * kw : 1, X = x.data;
    const y = new Float32Array(n * c * oh * ow);
    /** Calls f(output index, input index) for every window cell inside the input. */
    const cells = (f: (o: number, i: number) => void): void => {
      for (let p = 0; p < n * c; p++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
        const o = (p * oh + oy) * ow + ox;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix >= 0 && ix < w) f(o, (p * h + iy) * w + ix);
          }
        }
      }
    };
    const acc = new Float64Array(y.length);
    cells((o, i) => { acc[o] += X[i]!; });
    for (let o = 0; o < y.length; o++) y[o] = acc[o]! / div;
    return record(new Tensor(y, [n, c, oh, ow]), `${kind}Pool`, [x], (g) => {
      const gx = new Float64Array(x.size);
      cells((o, i) => { gx[i] += g[o]!; });
      accumulateOwned(x, Float32Array.from(gx, (v) => v / div));
    });
  }
}

/** The runtime of a NIR op node. */
export function makeNirLayer(node: { [K in NirOp]: NirNode<K> }[NirOp], t: NodeTensorMap): Layer {
  switch (node.op) {
    case 'nir-neuron': return new NirNeuron(node, t);
    case 'scale': return new Scale(node, t);
    case 'threshold': return new Threshold(node, t);
    case 'reshape': return new Reshape(node, t);
    case 'delay': return new Delay(node, t);
    case 'nir-conv': return new NirConv(node, t);
    case 'nir-pool': return new NirPool(node, t);
  }
}
