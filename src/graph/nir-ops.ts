/**
 * The graph ops that run NIR's nodes where our own ops cannot express them: continuous-time neurons
 * discretised with a step dt (nir-neuron), an elementwise scale, a stateless threshold, a per-neuron delay,
 * a reshape, convolutions with dilation or uneven padding (1-d or 2-d), and sum or average pooling with
 * rectangular windows and padding. This file holds their attributes, output shapes, tensors and checks;
 * graph.ts dispatches to it, layers/nir-nodes.ts runs them.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';

/** The NIR neuron models a nir-neuron node runs. */
export const NIR_NEURON_MODELS = ['LIF', 'IF', 'LI', 'I', 'CubaLIF', 'CubaLI'] as const;

/** Name of a NIR neuron model. */
export type NirNeuronModel = (typeof NIR_NEURON_MODELS)[number];

/** Each model's per-neuron parameters, in the order NIR's documentation lists them. */
export const NIR_NEURON_PARAMS: Readonly<Record<NirNeuronModel, readonly string[]>> = {
  LIF: ['tau', 'r', 'v_leak', 'v_threshold', 'v_reset'],
  IF: ['r', 'v_threshold', 'v_reset'],
  LI: ['tau', 'r', 'v_leak'],
  I: ['r'],
  CubaLIF: ['tau_syn', 'tau_mem', 'r', 'v_leak', 'v_threshold', 'v_reset', 'w_in'],
  CubaLI: ['tau_syn', 'tau_mem', 'r', 'v_leak', 'w_in'],
};

/** True for the models that spike (and reset); the others output their membrane. */
export const spikes = (m: NirNeuronModel): boolean => m === 'LIF' || m === 'IF' || m === 'CubaLIF';

/**
 * A NIR neuron discretised with step `dt` (seconds): `euler` (v += dt/τ·(v_leak − v + r·x)) or `exp`
 * (the exact solution for an input held over the step). Spikes on v > θ (`fire` '>='  for libraries that
 * fire on equality), hard reset to v_reset, at most one spike per step.
 */
export interface NirNeuronAttrs {
  readonly model: NirNeuronModel;
  readonly dt: number;
  readonly method: 'euler' | 'exp';
  readonly fire: '>' | '>=';
}

/** A convolution over [C, H, W] (dims 2) or [C, L] (dims 1, run as [C, 1, L]) with dilation and uneven zero padding. */
export interface NirConvAttrs {
  readonly dims: 1 | 2;
  readonly out: number;
  /** [kh, kw]; kh = 1 when dims is 1. */
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** Zero padding [top, bottom, left, right]. */
  readonly pad: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
  readonly bias: boolean;
}

/** Sum or average pooling over [C, H, W]: window kh×kw, stride, zero padding [ph, pw]; an average divides by kh·kw. */
export interface NirPoolAttrs {
  readonly kind: 'sum' | 'avg';
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pad: readonly [number, number];
}

/** The attributes of the ops defined here, by op. */
export interface NirOpAttrs {
  'nir-neuron': NirNeuronAttrs;
  'nir-conv': NirConvAttrs;
  'nir-pool': NirPoolAttrs;
  /** y = s ⊙ x, s of the input's shape (buffer `scale`). */
  scale: Readonly<Record<string, never>>;
  /** z = H(x − θ): 1 where x > θ (buffer `threshold`, the input's shape); a surrogate gradient. */
  threshold: Readonly<Record<string, never>>;
  /** y(t) = x(t − round(d/dt)) per neuron (buffer `delay` in seconds, the input's shape); zeros before. */
  delay: { readonly dt: number };
  /** The same values in another per-sample shape of equal size. */
  reshape: { readonly shape: readonly number[] };
}

/** Name of an op defined here. */
export type NirOp = keyof NirOpAttrs;

/** The ops defined here. */
export const NIR_OPS: readonly NirOp[] = ['nir-neuron', 'nir-conv', 'nir-pool', 'scale', 'threshold', 'delay', 'reshape'];

/** The part of a graph node these functions read. */
interface NodeLike { readonly id: string; readonly op: string; readonly attrs: unknown }

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function fail(node: NodeLike, why: string): never {
  throw new EdgespikeError(`graph: node "${node.id}" (${node.op}) ${why}`);
}

/** Output size of one convolution or pooling axis (PyTorch's floor rule). */
export function windowOut(size: number, k: number, stride: number, padBefore: number, padAfter: number, dilation = 1): number {
  return Math.floor((size + padBefore + padAfter - dilation * (k - 1) - 1) / stride) + 1;
}

/** Output shape of an op defined here on input shape `x` (one sample). */
export function nirOutputShape(node: NodeLike, x: readonly number[]): number[] {
  const bad = (why: string): never => fail(node, `${why}, got input ${fmtShape(x)}`);
  switch (node.op as NirOp) {
    case 'nir-conv': {
      const a = node.attrs as NirConvAttrs;
      if (x.length !== a.dims + 1) bad(a.dims === 1 ? 'needs a [C, L] input' : 'needs a [C, H, W] input');
      const c = x[0]!, h = a.dims === 1 ? 1 : x[1]!, w = x[x.length - 1]!;
      if (c % a.groups !== 0 || a.out % a.groups !== 0) bad(`has groups ${a.groups}, which must divide ${c} input and ${a.out} output channels`);
      const oh = windowOut(h, a.kernel[0], a.stride[0], a.pad[0], a.pad[1], a.dilation[0]);
      const ow = windowOut(w, a.kernel[1], a.stride[1], a.pad[2], a.pad[3], a.dilation[1]);
      if (oh < 1 || ow < 1) bad(`needs a larger input for its ${a.kernel.join('×')} kernel (dilation ${a.dilation.join('×')})`);
      return a.dims === 1 ? [a.out, ow] : [a.out, oh, ow];
    }
    case 'nir-pool': {
      const a = node.attrs as NirPoolAttrs;
      if (x.length !== 3) bad('needs a [C, H, W] input');
      const oh = windowOut(x[1]!, a.kernel[0], a.stride[0], a.pad[0], a.pad[0]);
      const ow = windowOut(x[2]!, a.kernel[1], a.stride[1], a.pad[1], a.pad[1]);
      if (oh < 1 || ow < 1) bad(`needs a larger input for its ${a.kernel.join('×')} window`);
      return [x[0]!, oh, ow];
    }
    case 'reshape': {
      const shape = (node.attrs as NirOpAttrs['reshape']).shape;
      if (size(shape) !== size(x)) bad(`cannot give ${size(x)} values the shape ${fmtShape(shape)}`);
      return [...shape];
    }
    default: return x.slice();
  }
}

/** The tensors of an op defined here: [local name, shape, learned]. */
export function nirTensors(node: NodeLike, x: readonly number[]): [string, number[], boolean][] {
  switch (node.op as NirOp) {
    case 'nir-neuron': return NIR_NEURON_PARAMS[(node.attrs as NirNeuronAttrs).model].map((n) => [n, x.slice(), false]);
    case 'scale': return [['scale', x.slice(), false]];
    case 'threshold': return [['threshold', x.slice(), false]];
    case 'delay': return [['delay', x.slice(), false]];
    case 'nir-conv': {
      const a = node.attrs as NirConvAttrs;
      const w: [string, number[], boolean] = ['weight', [a.out, x[0]! / a.groups, a.kernel[0], a.kernel[1]], true];
      return a.bias ? [w, ['bias', [a.out], true]] : [w];
    }
    default: return [];
  }
}

const isPosInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
const isNatInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isList = (v: unknown, n: number, ok: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length === n && v.every(ok);
const isStep = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** Checks the attributes of an op defined here (types and ranges), naming the node on failure. */
export function checkNirAttrs(node: NodeLike): void {
  const a = node.attrs as Record<string, unknown>;
  const bad = (why: string): never => fail(node, why);
  const json = (v: unknown): string => JSON.stringify(v) ?? String(v);
  switch (node.op as NirOp) {
    case 'nir-neuron':
      if (!NIR_NEURON_MODELS.includes(a.model as NirNeuronModel)) bad(`model must be one of ${NIR_NEURON_MODELS.join(', ')}, got ${json(a.model)}`);
      if (!isStep(a.dt)) bad(`dt must be a finite number > 0, got ${json(a.dt)}`);
      if (a.method !== 'euler' && a.method !== 'exp') bad(`method must be "euler" or "exp", got ${json(a.method)}`);
      if (a.fire !== '>' && a.fire !== '>=') bad(`fire must be ">" or ">=", got ${json(a.fire)}`);
      return;
    case 'delay':
      if (!isStep(a.dt)) bad(`dt must be a finite number > 0, got ${json(a.dt)}`);
      return;
    case 'reshape':
      if (!Array.isArray(a.shape) || a.shape.length < 1 || !a.shape.every(isPosInt)) bad(`shape must be positive integers, got ${json(a.shape)}`);
      return;
    case 'nir-conv':
      if (a.dims !== 1 && a.dims !== 2) bad(`dims must be 1 or 2, got ${json(a.dims)}`);
      if (!isPosInt(a.out) || !isPosInt(a.groups)) bad(`out and groups must be positive integers, got ${json(a.out)} and ${json(a.groups)}`);
      if (!isList(a.kernel, 2, isPosInt) || !isList(a.stride, 2, isPosInt) || !isList(a.dilation, 2, isPosInt)) {
        bad(`kernel, stride and dilation must be pairs of positive integers, got ${json(a.kernel)}, ${json(a.stride)}, ${json(a.dilation)}`);
      }
      if (!isList(a.pad, 4, isNatInt)) bad(`pad must be [top, bottom, left, right] of integers ≥ 0, got ${json(a.pad)}`);
      if (a.dims === 1 && ((a.kernel as number[])[0] !== 1 || (a.pad as number[])[0] !== 0 || (a.pad as number[])[1] !== 0)) bad('is 1-d, so its kernel height must be 1 and its vertical padding 0');
      if (typeof a.bias !== 'boolean') bad('bias must be true or false');
      return;
    case 'nir-pool':
      if (a.kind !== 'sum' && a.kind !== 'avg') bad(`kind must be "sum" or "avg", got ${json(a.kind)}`);
      if (!isList(a.kernel, 2, isPosInt) || !isList(a.stride, 2, isPosInt) || !isList(a.pad, 2, isNatInt)) {
        bad(`kernel and stride must be pairs of positive integers and pad a pair of integers ≥ 0, got ${json(a.kernel)}, ${json(a.stride)}, ${json(a.pad)}`);
      }
      return;
    case 'scale': case 'threshold':
      return;
  }
}
