/**
 * The typed model spec: a list of layers that the notation parser produces, the zoo builds and the
 * accounting walks. Pure data (no tensors). Every conv and dense layer says whether a spiking neuron
 * follows it (`spike`); a residual block says whether one follows its sum. Shapes are [C, H, W].
 */

/** Convolution: `out` filters of k×k, stride, zero padding on each side, channel groups. */
export interface ConvSpec {
  readonly kind: 'conv';
  readonly out: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
  readonly groups: number;
  /** Learned bias per output channel. */
  readonly bias: boolean;
  /** Batch norm (affine γ, β per channel) right after the convolution. */
  readonly bn: boolean;
  /** A spiking neuron follows (after BN). False for a readout or a linear layer. */
  readonly spike: boolean;
}

/** Pooling with a k×k window moving by `stride` (no padding, floor mode). */
export interface PoolSpec {
  readonly kind: 'pool';
  readonly op: 'max' | 'avg';
  readonly k: number;
  readonly stride: number;
}

/** Fully connected layer; its input is flattened implicitly. */
export interface DenseSpec {
  readonly kind: 'dense';
  readonly out: number;
  readonly bias: boolean;
  readonly bn: boolean;
  readonly spike: boolean;
}

/** Dropout with drop probability p in [0, 1). */
export interface DropoutSpec {
  readonly kind: 'dropout';
  readonly p: number;
}

/** Explicit flatten [C, H, W] → [C·H·W]. */
export interface FlattenSpec {
  readonly kind: 'flatten';
}

/** Global average pool [C, H, W] → [C, 1, 1]. */
export interface GlobalAvgPoolSpec {
  readonly kind: 'gap';
}

/** Residual block: out = body(x) + shortcut(x) (empty shortcut = identity), then a neuron if `spike`. */
export interface ResidualSpec {
  readonly kind: 'residual';
  readonly body: readonly LayerSpec[];
  readonly shortcut: readonly LayerSpec[];
  readonly spike: boolean;
}

/** One layer of a model spec (discriminated on `kind`). */
export type LayerSpec =
  | ConvSpec | PoolSpec | DenseSpec | DropoutSpec | FlattenSpec | GlobalAvgPoolSpec | ResidualSpec;

/** A model: layers applied in order to a [C, H, W] input. The last weighted layer is the readout. */
export interface ModelSpec {
  readonly layers: readonly LayerSpec[];
}

/** A weighted layer: conv or dense. */
export type WeightedSpec = ConvSpec | DenseSpec;

/** True for conv and dense layers. */
export function isWeighted(layer: LayerSpec): layer is WeightedSpec {
  return layer.kind === 'conv' || layer.kind === 'dense';
}

/** Conv layer with defaults stride 1, pad 0, groups 1, no bias, no BN, spiking. */
export function conv(out: number, k: number, over: Partial<Omit<ConvSpec, 'kind' | 'out' | 'k'>> = {}): ConvSpec {
  return { kind: 'conv', out, k, stride: 1, pad: 0, groups: 1, bias: false, bn: false, spike: true, ...over };
}

/** Dense layer with defaults no bias, no BN, spiking. */
export function dense(out: number, over: Partial<Omit<DenseSpec, 'kind' | 'out'>> = {}): DenseSpec {
  return { kind: 'dense', out, bias: false, bn: false, spike: true, ...over };
}

/** Pool layer; stride defaults to the window size. */
export function pool(op: 'max' | 'avg', k: number, stride = k): PoolSpec {
  return { kind: 'pool', op, k, stride };
}

/** Residual block; a spiking neuron follows the sum unless `spike` is false. */
export function residual(body: LayerSpec[], shortcut: LayerSpec[] = [], spike = true): ResidualSpec {
  return { kind: 'residual', body, shortcut, spike };
}

/** Index of the last top-level weighted layer (the readout), or -1. */
export function readoutIndex(spec: ModelSpec): number {
  for (let i = spec.layers.length - 1; i >= 0; i--) if (isWeighted(spec.layers[i])) return i;
  return -1;
}

/** A copy of `spec` whose readout (last dense or conv) has `out` outputs: the number of classes. */
export function withClasses(spec: ModelSpec, classes: number): ModelSpec {
  const r = readoutIndex(spec);
  if (r < 0) return spec;
  const layers = spec.layers.slice();
  layers[r] = { ...(layers[r] as WeightedSpec), out: classes };
  return { layers };
}
