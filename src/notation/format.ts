/**
 * Writes a ModelSpec back in the canonical notation: explicit suffixes (no parse defaults), max pool
 * as "P2", runs of identical tokens folded into "tok*r". parseSpec(formatSpec(x)) deep-equals x.
 */
import { EdgespikeError } from '../util/errors.js';
import { readoutIndex, type LayerSpec, type ModelSpec } from './spec.js';

/**
 * Canonical notation of `spec`. Throws EdgespikeError for what the linear notation cannot express:
 * residual blocks, a spiking readout, or values that are not positive integers.
 * @example formatSpec(parseSpec('16C5-MP2-256-10')) === '16C5-P2-256-10'
 */
export function formatSpec(spec: ModelSpec): string {
  const r = readoutIndex(spec);
  const tokens = spec.layers.map((layer, i) => {
    if (i === r && layer.kind !== 'residual' && 'spike' in layer && layer.spike) {
      throw new EdgespikeError(`formatSpec: layer ${i + 1} (${layerToken(layer)}) is the readout but spikes; the notation's last weighted layer never spikes`);
    }
    checkLayer(layer, i);
    return layerToken(layer, i === r);
  });
  const out: string[] = [];
  for (let i = 0; i < tokens.length;) {
    let j = i + 1;
    while (j < tokens.length && tokens[j] === tokens[i]) j++;
    out.push(j - i > 1 ? `${tokens[i]}*${j - i}` : tokens[i]);
    i = j;
  }
  return out.join('-');
}

/**
 * The token of one layer, e.g. "64C3p1n", "AP2", "1024l"; `readout` drops the "l" suffix. A residual
 * block, which has no token, is shown as "residual".
 */
export function layerToken(layer: LayerSpec, readout = false): string {
  switch (layer.kind) {
    case 'conv': {
      const s = layer.stride !== 1 ? `s${layer.stride}` : '';
      const p = layer.pad !== 0 ? `p${layer.pad}` : '';
      const g = layer.groups !== 1 ? `g${layer.groups}` : '';
      return `${layer.out}C${layer.k}${s}${p}${g}${flags(layer.bias, layer.bn, !layer.spike && !readout)}`;
    }
    case 'dense': return `${layer.out}${flags(layer.bias, layer.bn, !layer.spike && !readout)}`;
    case 'pool': {
      const name = layer.op === 'avg' ? 'AP' : 'P';
      return layer.k === layer.stride ? `${name}${layer.stride}` : `${layer.k}${name}${layer.stride}`;
    }
    case 'dropout': return `D${layer.p}`;
    case 'flatten': return 'F';
    case 'gap': return 'GAP';
    case 'residual': return 'residual';
  }
}

function flags(bias: boolean, bn: boolean, linear: boolean): string {
  return `${bias ? 'b' : ''}${bn ? 'n' : ''}${linear ? 'l' : ''}`;
}

/** Rejects layers whose token would not parse back to the same values. */
function checkLayer(layer: LayerSpec, i: number): void {
  const bad = (why: string): never => {
    throw new EdgespikeError(`formatSpec: layer ${i + 1} (${layerToken(layer)}) ${why}`);
  };
  const ints = (values: Record<string, number>, min: number): void => {
    for (const [name, v] of Object.entries(values)) {
      if (!Number.isSafeInteger(v) || v < min) bad(`${name} must be an integer ≥ ${min}, got ${v}`);
    }
  };
  switch (layer.kind) {
    case 'residual': return bad('is a residual block, which the linear notation cannot express');
    case 'conv':
      ints({ out: layer.out, k: layer.k, stride: layer.stride, groups: layer.groups }, 1);
      ints({ pad: layer.pad }, 0);
      if (layer.out % layer.groups !== 0) bad(`out ${layer.out} is not divisible by groups ${layer.groups}`);
      return;
    case 'dense': return ints({ out: layer.out }, 1);
    case 'pool': return ints({ k: layer.k, stride: layer.stride }, 1);
    case 'dropout':
      if (!(layer.p >= 0 && layer.p < 1) || /e/i.test(String(layer.p))) bad(`dropout p must be a plain decimal in [0, 1), got ${layer.p}`);
      return;
    default: return;
  }
}
