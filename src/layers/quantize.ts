/**
 * Quantizing a network (SpQuant-SNN / IM-SNN): low-bit weights, quantized membranes and channel gates
 * as graph edits, then freezing the trained fake quantization into stored integer codes.
 *
 *   quantizeNet   marks conv/dense layers for quantization-aware training (fake quantization with a
 *                 straight-through gradient), gives neurons a membrane grid (QLIF: fire with >, hard
 *                 reset to 0, then quantize) and inserts a gate before every conv-fed neuron;
 *   freezeQuant   replaces each quantized layer's weights by their quantized values, scale·q, and keeps
 *                 the scale (`wscale`): the integer runtime and the packed model file read the codes q.
 */
import { EdgespikeError } from '../util/errors.js';
import { INPUT, type GraphNode, type ModelGraph, type WeightQuantAttr } from '../graph/graph.js';
import { dequantizeWeights, quantizeWeights, type WeightQuant } from '../quant/weights.js';
import { membraneGrid } from '../neurons/qlif.js';
import { neuronParams, type NeuronParams } from '../neurons/neuron.js';
import { SpikingNet } from './net.js';
import { Conv, Dense } from './layers.js';

/** What quantizeNet does. */
export interface QuantizeOptions {
  /** Weight quantizer (omit for float weights). */
  readonly weights?: WeightQuant;
  /** Stored membrane bits: 1.58 (ternary) or 2 … 8; 32 or omitted keeps full precision. */
  readonly membraneBits?: number;
  /** Insert a channel gate before every conv-fed neuron. */
  readonly gate?: boolean;
  /** Keep the first and last weighted layers in float, as the papers do (default true). */
  readonly keepEnds?: boolean;
  /** Gate: the mass ratio of the BCE target (default 0.85) and the weight of its loss (default 0.1). */
  readonly gateRatio?: number;
  readonly gateLossWeight?: number;
}

/** Conv and dense nodes in graph order. */
function weighted(g: ModelGraph): GraphNode[] {
  return g.nodes.filter((n) => n.op === 'conv' || n.op === 'dense');
}

/** Walks back from a neuron through channel-wise nodes to the conv that feeds it, if any. */
function feedingConv(g: ModelGraph, neuron: GraphNode): GraphNode | undefined {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  let at = neuron;
  while (at.inputs.length === 1) {
    const src = byId.get(at.inputs[0]!);
    if (!src) return undefined;
    if (src.op === 'conv') return src;
    if (!['bn', 'bias', 'pool', 'dropout'].includes(src.op)) return undefined;
    at = src;
  }
  return undefined;
}

/**
 * The network with quantization-aware layers, quantized membranes and gates as `o` asks; tensors carry
 * over (fresh ones: SAWB's α at 1, gates initialised). Neurons with a membrane grid become QLIF neurons
 * with their own leak β and threshold: fire with >, hard reset to 0.
 */
export function quantizeNet(net: SpikingNet, o: QuantizeOptions): SpikingNet {
  const g = net.graph;
  const w = weighted(g), keepEnds = o.keepEnds ?? true;
  const ends = new Set(keepEnds ? [w[0]?.id, w.at(-1)?.id] : []);
  let nodes: GraphNode[] = g.nodes.map((n) => {
    if (o.weights && (n.op === 'conv' || n.op === 'dense') && !ends.has(n.id)) {
      if (n.attrs.quant?.frozen) throw new EdgespikeError(`quantize: node "${n.id}" is already quantized and frozen`);
      return { ...n, attrs: { ...n.attrs, quant: { kind: o.weights.kind, bits: o.weights.bits } } } as GraphNode;
    }
    if (n.op === 'neuron' && o.membraneBits !== undefined && o.membraneBits < 32) {
      const p: NeuronParams = { ...n.neuron, fire: '>', reset: 'hard', vReset: 0, detachReset: false, learnDecay: false, learnThreshold: false, thresholdSigmaPath: false, undecayedReset: false };
      if (p.charge !== 'multiplicative') throw new EdgespikeError(`quantize: node "${n.id}" charges ${p.charge}; a quantized membrane takes the multiplicative leak (β·v + x)`);
      return { ...n, attrs: { threshold: 'scalar' }, neuron: neuronParams('default', { ...p, membrane: membraneGrid(o.membraneBits, p.vth) }) } as GraphNode;
    }
    return n;
  });
  if (o.gate) {
    const out: GraphNode[] = [];
    for (const n of nodes) {
      const conv = n.op === 'neuron' ? feedingConv({ ...g, nodes }, n) : undefined;
      if (conv) {
        const id = `${n.id}.gate`;
        out.push({ id, op: 'gate', attrs: { ratio: o.gateRatio ?? 0.85, lossWeight: o.gateLossWeight ?? 0.1 }, inputs: n.inputs, side: [conv.inputs[0] ?? INPUT], ...(n.block ? { block: n.block } : {}), ...(n.layer ? { layer: n.layer } : {}) });
        out.push({ ...n, inputs: [id] } as GraphNode);
      } else out.push(n);
    }
    nodes = out;
  }
  const values = net.tensorValues();
  const copy: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(values)) copy[k] = v.slice();
  return new SpikingNet({ ...g, nodes }, net.config, copy);
}

/** The codes and per-tensor scale of a frozen layer's weights (w = scale·q exactly). */
export function frozenCodes(weight: Float32Array, scale: number): Int8Array {
  const q = new Int8Array(weight.length);
  for (let i = 0; i < q.length; i++) q[i] = scale === 0 ? 0 : Math.round(weight[i]! / scale);
  return q;
}

/**
 * The network with every quantization-aware layer frozen: its weights replaced by their evaluation-time
 * quantized values scale·q and the scale kept in `wscale`.
 */
export function freezeQuant(net: SpikingNet): SpikingNet {
  const values: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(net.tensorValues())) values[k] = v.slice();
  const nodes = net.graph.nodes.map((n): GraphNode => {
    if ((n.op !== 'conv' && n.op !== 'dense') || !n.attrs.quant || n.attrs.quant.frozen) return n;
    const layer = net.layer(n.id) as Conv | Dense;
    const q = quantizeWeights(layer.weight.data, n.attrs.quant, false);
    values[`${n.id}.weight`] = dequantizeWeights(q);
    values[`${n.id}.wscale`] = Float32Array.of(q.scale);
    delete values[`${n.id}.alpha`];
    const quant: WeightQuantAttr = { ...n.attrs.quant, frozen: true };
    return { ...n, attrs: { ...n.attrs, quant } } as GraphNode;
  });
  return new SpikingNet({ ...net.graph, nodes }, net.config, values, undefined);
}
