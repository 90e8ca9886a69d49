/**
 * Parses the papers' layer notation ("16C5-P2-16C5-P2-256-10", "64C3*2-2P2-128C3*2-P2-…") into a
 * ModelSpec. Tokens are separated by "-"; any token may end in "*r" (repeat r times). Grammar, suffixes
 * in this fixed order: nCk[sS][pP][gG][b][n][l] conv | n[b][n][l] dense | [w]P k, [w]MP k, [w]AP k pool
 * (window w, default = stride) | Dp dropout | F flatten | GAP | BN (batch norm on the previous token's
 * layers). b = bias, n = batch norm, l = linear (no neuron); the last weighted layer is the readout.
 */
import { EdgespikeError } from '../util/errors.js';
import { isWeighted, type LayerSpec, type ModelSpec } from './spec.js';

/** Defaults the parser applies to every conv (bn, bias) and dense (bias) layer. */
export interface SpecOptions {
  /** Batch norm after every conv layer (dense layers only with an explicit "n" or "BN"). Default false. */
  readonly bn?: boolean;
  /** Bias on every conv and dense layer. Default false. */
  readonly bias?: boolean;
}

const EXPECTED = 'expected nCk, P2, AP2, MP2, n, Dp, F, GAP, BN';
const CONV = /^(\d+)C(\d+)(?:s(\d+))?(?:p(\d+))?(?:g(\d+))?(b?)(n?)(l?)$/;
const DENSE = /^(\d+)(b?)(n?)(l?)$/;
const POOL = /^(\d+)?(MP|AP|P)(\d+)$/;
const DROPOUT = /^D(\d*\.?\d+)$/;
const REPEAT = /^(.*)\*(\d+)$/;
const MAX_REPEAT = 4096;

type Fail = (why: string) => never;

/**
 * Parses `text` into a ModelSpec. Every conv/dense is spiking except the last weighted layer (the
 * readout) and layers marked "l". Throws EdgespikeError naming the offending token (1-based).
 *
 *   spec   = token { "-" token }            (spaces around tokens are ignored)
 *   token  = layer [ "*" r ] | "BN"         (r ≥ 1 copies; BN sets batch norm on the previous token's layers)
 *   layer  = n "C" k [ "s" S ] [ "p" P ] [ "g" G ] [ "b" ] [ "n" ] [ "l" ]   conv: stride 1, pad 0, groups 1
 *          | n [ "b" ] [ "n" ] [ "l" ]                                         dense (input flattened)
 *          | [ w ] ( "P" | "MP" | "AP" ) s    max / max / avg pool, window w (default s), stride s
 *          | "D" p | "F" | "GAP"              dropout p ∈ [0, 1), flatten, global average pool
 * @example parseSpec('16C5-P2-16C5-P2-256-10').layers.length === 6
 */
export function parseSpec(text: string, opts: SpecOptions = {}): ModelSpec {
  const tokens = text.split('-').map((t) => t.trim());
  if (text.trim() === '') throw new EdgespikeError(`spec "${text}": empty (expected layers separated by "-", e.g. 16C5-P2-10)`);
  const layers: LayerSpec[] = [];
  let previous: LayerSpec[] = [];
  tokens.forEach((token, i) => {
    const fail: Fail = (why) => {
      throw new EdgespikeError(`spec "${text}": token ${i + 1} "${token}" ${why}`);
    };
    if (token === '') fail(`is empty (${EXPECTED})`);
    if (token === 'BN') {
      if (previous.length === 0 || !previous.every(isWeighted)) fail('must follow a conv or dense layer');
      previous.forEach((layer, j) => { previous[j] = { ...layer, bn: true } as LayerSpec; });
      layers.splice(layers.length - previous.length, previous.length, ...previous);
      return;
    }
    const rep = REPEAT.exec(token);
    const count = rep ? positive(rep[2], 'repeat count', fail) : 1;
    if (count > MAX_REPEAT) fail(`repeat count must be at most ${MAX_REPEAT}, got ${count}`);
    const layer = parseLayer(rep ? rep[1] : token, opts, fail);
    previous = Array.from({ length: count }, () => layer);
    layers.push(...previous);
  });
  return { layers: markReadout(layers) };
}

/** Parses one token body (no repeat suffix). */
function parseLayer(body: string, opts: SpecOptions, fail: Fail): LayerSpec {
  let m = CONV.exec(body);
  if (m) {
    const layer = {
      kind: 'conv', out: positive(m[1], 'filter count', fail), k: positive(m[2], 'kernel size', fail),
      stride: m[3] === undefined ? 1 : positive(m[3], 'stride', fail),
      pad: m[4] === undefined ? 0 : positive(m[4], 'padding', fail, 0),
      groups: m[5] === undefined ? 1 : positive(m[5], 'groups', fail),
      bias: m[6] === 'b' || opts.bias === true, bn: m[7] === 'n' || opts.bn === true, spike: m[8] !== 'l',
    } as const;
    if (layer.out % layer.groups !== 0) fail(`filter count ${layer.out} is not divisible by groups ${layer.groups}`);
    return layer;
  }
  if ((m = DENSE.exec(body))) {
    return {
      kind: 'dense', out: positive(m[1], 'output size', fail),
      bias: m[2] === 'b' || opts.bias === true, bn: m[3] === 'n', spike: m[4] !== 'l',
    };
  }
  if ((m = POOL.exec(body))) {
    const stride = positive(m[3], 'pool stride', fail);
    const k = m[1] === undefined ? stride : positive(m[1], 'pool window', fail);
    return { kind: 'pool', op: m[2] === 'AP' ? 'avg' : 'max', k, stride };
  }
  if ((m = DROPOUT.exec(body))) {
    const p = Number(m[1]);
    if (!(p < 1)) fail(`dropout probability must be in [0, 1), got ${m[1]}`);
    return { kind: 'dropout', p };
  }
  if (body === 'F') return { kind: 'flatten' };
  if (body === 'GAP') return { kind: 'gap' };
  return fail(`is not a layer (${EXPECTED})`);
}

/** An integer ≥ `min` (default 1) from digits, or a failure naming `what`. */
function positive(digits: string, what: string, fail: Fail, min = 1): number {
  const n = Number(digits);
  const kind = min === 0 ? 'a non-negative' : 'a positive';
  if (!(n >= min) || !Number.isSafeInteger(n)) fail(`${what} must be ${kind} integer, got ${digits}`);
  return n;
}

/** The last top-level weighted layer becomes the non-spiking readout. */
function markReadout(layers: LayerSpec[]): LayerSpec[] {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (isWeighted(layer)) {
      layers[i] = { ...layer, spike: false };
      break;
    }
  }
  return layers;
}
