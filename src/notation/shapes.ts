/**
 * Shape inference for a ModelSpec on a [C, H, W] input: conv out = ⌊(H + 2p − k)/s⌋ + 1, pool out =
 * ⌊(H − k)/s⌋ + 1 (floor mode, no padding), dense flattens its input implicitly, GAP gives [C, 1, 1],
 * a residual block needs body and shortcut to agree. Errors name the layer and what did not fit.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { layerToken } from './format.js';
import type { LayerSpec, ModelSpec } from './spec.js';

/** Output shape of one layer given its input shape; `where` names the layer in errors ("3", "5.body.1"). */
export function layerOutputShape(layer: LayerSpec, input: readonly number[], where: string): number[] {
  const fail = (why: string): never => {
    throw new EdgespikeError(`inferShapes: layer ${where} "${layerToken(layer)}" ${why}, got input ${fmtShape(input)}`);
  };
  const map = (): [number, number, number] => {
    if (input.length !== 3) fail('needs a [C, H, W] feature map');
    return input as [number, number, number];
  };
  switch (layer.kind) {
    case 'conv': {
      const [c, h, w] = map();
      if (c % layer.groups !== 0) fail(`has groups ${layer.groups}, which do not divide the ${c} input channels`);
      const ph = h + 2 * layer.pad, pw = w + 2 * layer.pad;
      if (ph < layer.k || pw < layer.k) fail(`needs a map of at least ${layer.k}×${layer.k} (kernel ${layer.k}, padding ${layer.pad})`);
      return [layer.out, Math.floor((ph - layer.k) / layer.stride) + 1, Math.floor((pw - layer.k) / layer.stride) + 1];
    }
    case 'pool': {
      const [c, h, w] = map();
      if (h < layer.k || w < layer.k) fail(`needs a map of at least ${layer.k}×${layer.k} (pool window ${layer.k})`);
      return [c, Math.floor((h - layer.k) / layer.stride) + 1, Math.floor((w - layer.k) / layer.stride) + 1];
    }
    case 'gap': return [map()[0], 1, 1];
    case 'dense': return [layer.out];
    case 'flatten': return [size(input)];
    case 'dropout': return input.slice();
    case 'residual': {
      const body = chainShapes(layer.body, input, `${where}.body`);
      const short = chainShapes(layer.shortcut, input, `${where}.shortcut`);
      const a = body.length ? body[body.length - 1] : input.slice();
      const b = short.length ? short[short.length - 1] : input.slice();
      if (fmtShape(a) !== fmtShape(b)) fail(`adds body ${fmtShape(a)} to shortcut ${fmtShape(b)}, which differ`);
      return a;
    }
  }
}

/** Output shapes of `layers` applied in order; layer names are `${prefix}.${i}` (1-based). */
export function chainShapes(layers: readonly LayerSpec[], input: readonly number[], prefix = ''): number[][] {
  const shapes: number[][] = [];
  let shape = input.slice();
  layers.forEach((layer, i) => {
    shape = layerOutputShape(layer, shape, prefix ? `${prefix}.${i + 1}` : `${i + 1}`);
    shapes.push(shape);
  });
  return shapes;
}

/**
 * Output shape of every top-level layer of `spec` on `input` ([C, H, W]); the flatten before the first
 * dense layer is implicit. Throws EdgespikeError when a layer does not fit.
 * @example inferShapes(parseSpec('16C5-P2-16C5-P2-256-10'), [1, 28, 28]) // [16,24,24] [16,12,12] [16,8,8] [16,4,4] [256] [10]
 */
export function inferShapes(spec: ModelSpec, input: readonly [number, number, number] | readonly number[]): number[][] {
  checkInput(input);
  return chainShapes(spec.layers, input);
}

/** Throws unless `input` is [C, H, W] of positive integers; `op` names the caller in the message. */
export function checkInput(input: readonly number[], op = 'inferShapes'): void {
  if (input.length !== 3 || !input.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new EdgespikeError(`${op}: input shape must be [C, H, W] of positive integers, got ${fmtShape(input)}`);
  }
}

/** Number of elements of a shape. */
export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
