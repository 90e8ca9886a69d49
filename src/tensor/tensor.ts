/**
 * Tensor: a float32 array with a shape, an optional gradient, and the tape node that made it.
 * Math lives in src/ops as free functions; this file only holds data and bookkeeping.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';

/** A tensor shape, outermost axis first. */
export type Shape = readonly number[];

/** What an op records so that backward can run: its inputs and how to push a gradient into them. */
export interface TapeNode {
  /** Op name, for messages and profiling. */
  readonly op: string;
  /** Inputs that may need a gradient. */
  readonly inputs: readonly Tensor[];
  /** Given ∂L/∂out, accumulates ∂L/∂input into each input that requires a gradient. */
  readonly backward: (gradOut: Float32Array) => void;
}

/** Number of elements of a shape. */
export function numel(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

let nextId = 1;

/** A dense, contiguous, row-major float32 tensor. */
export class Tensor {
  /** Unique id (creation order), used by the tape's topological sort. */
  readonly id: number;
  /** Shape, outermost axis first. */
  readonly shape: Shape;
  /** Row-major values. */
  data: Float32Array;
  /** ∂L/∂this after backward(), same size as data; null until a gradient arrives. */
  grad: Float32Array | null = null;
  /** Whether gradients flow into this tensor. */
  requiresGrad: boolean;
  /** The op that produced this tensor (null for leaves and for results made without grad). */
  node: TapeNode | null = null;
  /** True when every value is known to be exactly 0 or 1 (spikes): lets linear/conv pick spike kernels. */
  binary = false;
  /** Fraction of non-zero values when already known (spikes counted by the neuron kernel), else undefined. */
  density?: number;
  /**
   * The same spikes packed one bit each, when the neuron that made them wrote them so (the integer runtime): bit
   * i & 7 of byte i >> 3 is set when data[i] ≠ 0. Kernels may read these instead of the floats; they describe
   * data as it was made, so code that changes data in place must drop them.
   */
  bits?: Uint8Array;
  /** Optional name (parameters), for messages and files. */
  name?: string;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    const n = numel(shape);
    if (data.length !== n) {
      throw new EdgespikeError(`tensor: data has ${data.length} values, shape ${fmtShape(shape)} needs ${n}`);
    }
    for (let i = 0; i < shape.length; i++) {
      const d = shape[i]!;
      if (!Number.isInteger(d) || d < 0) throw new EdgespikeError(`tensor: invalid shape ${fmtShape(shape)}`);
    }
    this.id = nextId++;
    this.data = data;
    // a copy the caller cannot change; readonly by type (freezing it cost more than the rest of a small op)
    this.shape = shape.slice();
    this.requiresGrad = requiresGrad;
  }

  /** Number of elements. */
  get size(): number { return this.data.length; }
  /** Number of axes. */
  get rank(): number { return this.shape.length; }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new EdgespikeError(`item: tensor has shape ${fmtShape(this.shape)}, expected one element`);
    return this.data[0]!;
  }

  /** A plain nested-free copy of the values. */
  toArray(): number[] { return Array.from(this.data); }

  /** Runs reverse-mode differentiation from this (scalar) tensor; see tape.backward. */
  backward(grad?: Float32Array): void { backwardHook(this, grad); }

  /** A new leaf with the same values and no history. */
  detach(): Tensor {
    const t = new Tensor(this.data, this.shape, false);
    t.binary = this.binary;
    return t;
  }

  /** Zeroes (drops) the gradient. */
  zeroGrad(): void { this.grad = null; }

  toString(): string { return `Tensor${fmtShape(this.shape)}`; }
}

// The tape module installs backward here, so Tensor does not import it (no import cycle).
let backwardHook: (t: Tensor, grad?: Float32Array) => void = () => {
  throw new Error('tape not loaded');
};
/** @internal Wires Tensor.backward to the tape. */
export function _setBackward(fn: (t: Tensor, grad?: Float32Array) => void): void { backwardHook = fn; }

/** A tensor from values and a shape (copies a plain array; adopts a Float32Array). */
export function tensor(values: ArrayLike<number> | Float32Array, shape?: Shape, requiresGrad = false): Tensor {
  const data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  return new Tensor(data, shape ?? [data.length], requiresGrad);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, requiresGrad = false): Tensor {
  return new Tensor(new Float32Array(numel(shape)), shape, requiresGrad);
}

/** A tensor filled with one value. */
export function full(shape: Shape, value: number, requiresGrad = false): Tensor {
  return new Tensor(new Float32Array(numel(shape)).fill(value), shape, requiresGrad);
}

/** A tensor of ones. */
export function ones(shape: Shape, requiresGrad = false): Tensor { return full(shape, 1, requiresGrad); }

/** A scalar (shape []). */
export function scalar(value: number, requiresGrad = false): Tensor {
  return new Tensor(Float32Array.of(value), [], requiresGrad);
}

/** A trainable parameter: a leaf that requires a gradient, with a name. */
export function parameter(data: Float32Array, shape: Shape, name?: string): Tensor {
  const t = new Tensor(data, shape, true);
  if (name !== undefined) t.name = name;
  return t;
}
