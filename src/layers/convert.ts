/**
 * Scatter-and-Gather conversion: a quantized ANN (every hidden layer conv/dense → batch norm → ReLU →
 * activation quantizer k, B) becomes a one-step SNN whose answer equals the ANN's on every input.
 *
 * Each [batch norm, ReLU, quantizer] chain becomes a scatter node: per channel, 2^k·B thresholds θ_i on the
 * layer's output V, and the neuron emits Σ_i [V ≥ θ_i] spikes, the quantized activation in units of 1/2^k.
 * The seed derives θ_i from the BN statistics in closed form, θ_i = 2^k·[(1/2^(k+1) + i/2^k − β)·√(σ² + ε)/γ
 * + μ], and assumes γ > 0. Here θ_i is the exact float32 step point of the ANN's own arithmetic — the
 * smallest V whose quantized output reaches level i + 1, found by bisection over the float32 values with
 * the same ops — so rounding never makes the two disagree; a negative γ flips the comparison (V ≤ θ_i, the
 * largest such V) and a zero γ makes the output a constant number of spikes.
 *
 * A layer fed by spike counts sees V_snn = 2^k·V_ann exactly (ternary weights on counts are exact
 * integer sums), so its thresholds are taken on V_snn; the float output layer's weights are divided by
 * 2^k, so the logits are the ANN's, bit for bit. Batch norm is not run; there is no leak and no state.
 */
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../tensor/tape.js';
import * as op from '../ops/index.js';
import { EdgespikeError } from '../util/errors.js';
import { INPUT, type GraphNode, type ModelGraph } from '../graph/graph.js';
import { SpikingNet } from './net.js';
import { freezeQuant } from './quantize.js';

/** float32 ↔ an integer key with the same order (−0 just below +0), for bisection over float32 values. */
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
function keyOf(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  return u & 0x80000000 ? -(u & 0x7fffffff) - 1 : u;
}
function floatOf(key: number): number {
  u32[0] = key < 0 ? (-(key + 1) | 0x80000000) >>> 0 : key;
  return f32[0]!;
}

/** The chain a hidden layer's output passes in a quantized ANN. */
interface Chain { bn?: Extract<GraphNode, { op: 'bn' }>; relu: GraphNode; quant: Extract<GraphNode, { op: 'quant' }> }

/**
 * The spike counts f(V) of one channel vector: V [C] through batch norm (evaluation), ReLU and the
 * quantizer, exactly as the ANN computes them, times 2^k.
 */
function countsOf(net: SpikingNet, chain: Chain, v: Float32Array, scale: number): Float32Array {
  return noGrad(() => {
    const C = v.length;
    let x = new Tensor(v.map((z) => z / scale), [1, C]);
    if (chain.bn) {
      const bn = net.layer(chain.bn.id);
      const st = Object.fromEntries(bn.buffers());
      const [gamma, beta] = [bn.params().find(([n]) => n === 'weight')?.[1] ?? null, bn.params().find(([n]) => n === 'bias')?.[1] ?? null];
      x = op.batchNorm(x, gamma, beta, { runningMean: st.running_mean!, runningVar: st.running_var! }, { training: false, eps: chain.bn.attrs.eps });
    }
    const q = op.quantizeActivation(op.relu(x), chain.quant.attrs.k, chain.quant.attrs.B);
    return q.data.map((z) => Math.round(z * 2 ** chain.quant.attrs.k));
  });
}

/**
 * Per channel and level i, the threshold on V and the direction: for γ ≥ 0 the smallest float32 V whose
 * count reaches i + 1 (compared V ≥ θ); for γ < 0 the largest (compared V ≤ θ). ±∞ when every or no
 * finite V reaches it (γ = 0: the count is constant, so every level is one or the other).
 */
export function scatterThresholds(net: SpikingNet, chain: Chain, C: number, scale: number): { thresholds: Float32Array; direction: Float32Array } {
  const L = 2 ** chain.quant.attrs.k * chain.quant.attrs.B, MAX = 3.4028234663852886e38;
  const gamma = chain.bn ? net.layer(chain.bn.id).params().find(([n]) => n === 'weight')?.[1].data : undefined;
  const thresholds = new Float32Array(C * L), direction = new Float32Array(C);
  const atMin = countsOf(net, chain, new Float32Array(C).fill(-MAX), scale), atMax = countsOf(net, chain, new Float32Array(C).fill(MAX), scale);
  for (let c = 0; c < C; c++) direction[c] = (gamma?.[c] ?? 1) < 0 ? -1 : 1;
  for (let i = 0; i < L; i++) {
    // invariant per open channel: count(a) < i + 1 ≤ count(b); b moves towards a until they are neighbours
    const a = new Float64Array(C), b = new Float64Array(C), open: number[] = [];
    for (let c = 0; c < C; c++) {
      const up = direction[c]! > 0, start = up ? atMin[c]! : atMax[c]!, end = up ? atMax[c]! : atMin[c]!;
      if (start >= i + 1) thresholds[c * L + i] = up ? -Infinity : Infinity;
      else if (end < i + 1) thresholds[c * L + i] = up ? Infinity : -Infinity;
      else { a[c] = keyOf(up ? -MAX : MAX); b[c] = keyOf(up ? MAX : -MAX); open.push(c); }
    }
    while (open.some((c) => Math.abs(a[c]! - b[c]!) > 1)) {
      const mid = new Float32Array(C);
      for (const c of open) mid[c] = floatOf(Math.floor((a[c]! + b[c]!) / 2));
      const n = countsOf(net, chain, mid, scale);
      for (const c of open) {
        if (Math.abs(a[c]! - b[c]!) <= 1) continue;
        const m = Math.floor((a[c]! + b[c]!) / 2);
        if (n[c]! >= i + 1) b[c] = m; else a[c] = m;
      }
    }
    for (const c of open) thresholds[c * L + i] = floatOf(b[c]!);
  }
  return { thresholds, direction };
}

/** Whether a node output is spike counts of a scatter (and its k), following shape-only nodes. */
function countsScale(g: ModelGraph, id: string, scatterK: Map<string, number>, rename: Map<string, string>): number {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  let at = id;
  while (at !== INPUT) {
    const k = scatterK.get(rename.get(at) ?? at);
    if (k !== undefined) return 2 ** k;
    const n = byId.get(at)!;
    if (!['flatten', 'dropout', 'identity', 'pool'].includes(n.op) || n.inputs.length !== 1) return 1;
    at = n.inputs[0]!;
  }
  return 1;
}

/**
 * The one-step SNN of a Scatter-and-Gather quantized ANN (act sg). Ternary layers are frozen first (their
 * evaluation-time ternary weights); T becomes 1.
 */
export function convertScatterGather(annIn: SpikingNet): SpikingNet {
  const ann = freezeQuant(annIn);
  const g = ann.graph, byId = ann.info.byId;
  if (!g.nodes.some((n) => n.op === 'quant')) throw new EdgespikeError('convert: the model has no activation quantizer (train it with --act-levels k{k}B{B})');
  const values: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(ann.tensorValues())) values[k] = v.slice();
  const nodes: GraphNode[] = [];
  const drop = new Set<string>(), rename = new Map<string, string>(), scatterK = new Map<string, number>();
  for (const n of g.nodes) {
    if (drop.has(n.id)) continue;
    if (n.op === 'neuron' || n.op === 'gate') throw new EdgespikeError(`convert: node "${n.id}" is a ${n.op}; conversion takes a quantized ANN`);
    if (n.op !== 'conv' && n.op !== 'dense') {
      if (n.op === 'relu' || n.op === 'quant' || n.op === 'bn') throw new EdgespikeError(`convert: node "${n.id}" (${n.op}) does not follow a conv or dense layer as conv → BN → ReLU → quantizer`);
      nodes.push({ ...n, inputs: n.inputs.map((s) => rename.get(s) ?? s) } as GraphNode);
      continue;
    }
    // the layer, then its chain (batch norm optional) up to the quantizer
    const chain: Partial<Chain> = {};
    let at = n.id;
    const next = (): GraphNode | undefined => {
      const c = ann.info.consumers.get(at) ?? [];
      return c.length === 1 ? byId.get(c[0]!) : undefined;
    };
    let c = next();
    if (c?.op === 'bn') { chain.bn = c; at = c.id; c = next(); }
    if (c?.op === 'relu') { chain.relu = c; at = c.id; c = next(); }
    if (c?.op === 'quant') chain.quant = c;
    const scale = countsScale(g, n.inputs[0]!, scatterK, rename);
    const layer: GraphNode = { ...n, inputs: n.inputs.map((s) => rename.get(s) ?? s) } as GraphNode;
    if (!chain.quant || !chain.relu) {
      // the output layer (or a linear layer): reads counts, so its weights take 1/2^k back
      if (chain.bn || chain.relu) throw new EdgespikeError(`convert: node "${n.id}" is followed by ${chain.bn ? 'batch norm' : 'ReLU'} without the activation quantizer`);
      if (scale !== 1) {
        const w = values[`${n.id}.weight`]!;
        for (let i = 0; i < w.length; i++) w[i] = w[i]! / scale;
        if (n.attrs.quant?.frozen) values[`${n.id}.wscale`]![0] = values[`${n.id}.wscale`]![0]! / scale;
      }
      nodes.push(layer);
      continue;
    }
    const C = ann.info.shapes.get(n.id)![0]!;
    const { thresholds, direction } = scatterThresholds(ann, chain as Chain, C, scale);
    const id = `${n.id.replace(/\.(conv|dense)$/, '')}.scatter`;
    nodes.push(layer, { id, op: 'scatter', attrs: { levels: thresholds.length / C }, inputs: [n.id], ...(n.layer ? { layer: n.layer } : {}) });
    values[`${id}.thresholds`] = thresholds;
    values[`${id}.direction`] = direction;
    for (const x of [chain.bn, chain.relu, chain.quant]) if (x) { drop.add(x.id); rename.set(x.id, id); }
    scatterK.set(id, chain.quant.attrs.k);
  }
  const output = rename.get(g.output) ?? g.output;
  return new SpikingNet({ input: g.input, nodes, output }, { ...ann.config, T: 1, encoder: { kind: 'direct' }, readout: 'mean' }, values);
}
