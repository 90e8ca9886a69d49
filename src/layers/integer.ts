/**
 * The integer runtime of frozen quantized networks (inference only): conv and dense layers whose weights are
 * frozen codes (w = wscale·q, src/layers/quantize.ts) and whose input is binary spikes run through the integer
 * kernels (spikeConv2dQ / spikeLinearQ: the codes of active inputs added, one float multiply per output),
 * channels a gate closes are skipped inside the convolution, and quantized-membrane neurons keep their
 * membranes as int8 levels (qlifForward). Everything else — a first layer fed by pixels, a membrane of more
 * than 128 levels, a layer whose weights are not exactly scale·q — takes the float path.
 *
 * The integer sums are exact, so a layer's output is scale·Σq rounded once; the float path sums the float32
 * weights scale·q in float32 and so may differ from it in the last bits (within float32 summation error).
 */
import { quantKernels } from '../backends/index.js';
import { packedBytes, type QlifParams, type QuantBits } from '../kernels/quant.js';
import type { GraphNode } from '../graph/graph.js';
import { zeroLevel, type MembraneQuant } from '../neurons/qlif.js';
import type { NeuronParams } from '../neurons/neuron.js';
import { needsGrad } from '../tensor/tape.js';
import { Tensor } from '../tensor/tensor.js';
import { fillBytes, floatsFor } from '../tensor/storage.js';
import { parameterGeneration } from '../tensor/generation.js';

/** A frozen layer's codes as the integer kernels take them. */
export interface LayerCodes {
  readonly q: Int8Array;
  /** One scale per output channel (the layer's single scale repeated). */
  readonly scale: Float32Array;
  readonly bits: QuantBits;
}

/** What the integer runtime needs during one forward pass (RunContext.integer). */
export interface IntegerRun {
  /** For each conv whose output a gate closes channel by channel: that gate's node id and the function giving its mask. */
  readonly gates: ReadonlyMap<string, { readonly gate: string; mask(side: Tensor): Uint8Array }>;
  /** Masks computed ahead by the convolution they gate, by gate node id, for the gate to reuse. */
  readonly masks: Map<string, Uint8Array>;
}

/** Largest code magnitude each bit width promises the kernels (src/kernels/quant.ts, QuantBits). */
const MAX_CODE: Record<QuantBits, number> = { 2: 1, 4: 8, 8: 128 };

/** Codes per weight array, with the scale, bits and parameter generation they were derived at. */
const cache = new WeakMap<Float32Array, { codes: LayerCodes | null; scale: number; bits: number; generation: number }>();

/**
 * The codes of a frozen layer's weights, or null when the layer cannot run on integers: not frozen, or weights
 * that are not exactly fround(wscale·q) for int8 codes q within the range of its bits. Cached per weight array
 * until the parameters change (an optimizer step, or parametersChanged() after an edit in place): the check
 * is a pass over the weights, which at batch 1 would cost more than the layer's sums.
 */
export function layerCodes(node: GraphNode, weight: Float32Array, wscale: Float32Array | undefined, cout: number): LayerCodes | null {
  if ((node.op !== 'conv' && node.op !== 'dense') || !node.attrs.quant?.frozen || !wscale) return null;
  const s = wscale[0]!, bits = node.attrs.quant.bits as QuantBits, generation = parameterGeneration();
  const hit = cache.get(weight);
  if (hit && hit.scale === s && hit.bits === bits && hit.generation === generation && (hit.codes === null || hit.codes.scale.length === cout)) return hit.codes;
  let codes: LayerCodes | null = null;
  if (Number.isFinite(s) && s !== 0 && MAX_CODE[bits] !== undefined) {
    const q = new Int8Array(weight.length), max = MAX_CODE[bits];
    let ok = true;
    for (let i = 0; i < q.length && ok; i++) {
      const c = Math.round(weight[i]! / s);
      ok = Math.abs(c) <= max && c >= -128 && c <= 127;
      q[i] = c;
    }
    if (ok && matches(weight, q, s)) codes = { q, scale: new Float32Array(cout).fill(s), bits };
  }
  cache.set(weight, { codes, scale: s, bits, generation });
  return codes;
}

/** True when w[i] = fround(s·q[i]) for every i (the frozen layer's weights are its codes exactly). */
function matches(w: Float32Array, q: Int8Array, s: number): boolean {
  for (let i = 0; i < w.length; i++) if (w[i] !== Math.fround(s * q[i]!)) return false;
  return true;
}

/** True when a layer fed x may take the integer path: inference, binary input, no gradient to record. */
export function integerInput(x: Tensor, run: IntegerRun | undefined, ...params: (Tensor | null | undefined)[]): run is IntegerRun {
  return run !== undefined && x.binary === true && !needsGrad(x, ...params);
}

/** The kernel parameters of a quantized-membrane neuron, or null when qlifForward does not compute it. */
export function qlifParams(p: NeuronParams): QlifParams | null {
  const mq: MembraneQuant | undefined = p.membrane;
  if (!mq || p.fire !== '>' || p.reset !== 'hard' || p.vReset !== 0 || p.charge !== 'multiplicative' || mq.levels > 128 || mq.levels < 2) return null;
  return { tau: p.beta, thresh: p.vth, lb: mq.lb, interval: mq.interval, levels: mq.levels };
}

/** Spikes of one layer call (T·m) from which the integer runtime also packs them one bit each. */
const PACK_SPIKES = 1 << 15;

/**
 * T steps of quantized-membrane neurons on integer levels: xs [T, m] (or [m] when static), each membrane
 * starting at the level of 0. Returns the spikes [T, m] (binary, with their density).
 */
export function qlifIntegerRun(xs: Tensor, p: NeuronParams, kp: QlifParams, T: number, staticInput: boolean): Tensor {
  const m = staticInput ? xs.size : xs.size / T;
  // the levels in workspace memory when one is lent (the wasm body then reads and writes them in place)
  const room = floatsFor(Math.ceil(m / 4)), level = new Int8Array(room.buffer, room.byteOffset, m);
  fillBytes(level, zeroLevel(p.membrane!) & 0xff);
  const s = floatsFor(T * m);
  // large layers also pack the spikes one bit each, which the integer convolution reads instead of the floats
  // (in a small one the floats are still in cache and reading them costs less than packing)
  let packed: Uint8Array | undefined;
  if (T * m >= PACK_SPIKES) {
    const words = floatsFor(Math.ceil(packedBytes(T * m) / 4));
    packed = new Uint8Array(words.buffer, words.byteOffset, 4 * words.length);
    fillBytes(packed, 0);
  }
  const count = quantKernels().qlifForward(xs.data, level, s, T, m, staticInput, kp, packed);
  const spikes = new Tensor(s, [T, m]);
  spikes.binary = true;
  spikes.density = count / Math.max(1, T * m);
  if (packed) spikes.bits = packed;
  return spikes;
}
