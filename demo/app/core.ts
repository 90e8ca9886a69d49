/**
 * What the browser app computes, without the page: models (a fresh lenet, a model file's bytes, a quantized
 * copy), inputs made as `edgespike predict` makes them (an image's polarity matched to the training images,
 * resized to the model's input) or from an event file, one inference with every spiking layer's raster and
 * firing rates, and a few training steps on a small set of digits. It runs in Node as well, so the tests
 * compare the page's answers with Node's.
 */
import {
  SpikingNet, Tensor, Monitor, Optimizer, Rng, lossOf, noGrad, workspace, zoo, neuronParams, netFromBytes, netToBytes, quantizeNet,
  freezeQuant, formatSpec, ops, EdgespikeError, type ModelMeta, type NeuronParams,
} from '../../src/browser.js';
import { toModelInput, matchPolarity, type Image, type InvertMode } from '../../src/data/image-input.js';
import { resolveNormalization, normalize, type NormalizeOption } from '../../src/data/augment.js';
import { decodeEvents } from '../../src/data/events/decode.js';
import { DIGIT_PIXELS, type Digits } from '../../src/data/digit-set.js';
import { framesBySplit } from '../../src/data/events/frame.js';
import type { Events } from '../../src/data/events/events.js';

/** Data sets whose models take one event frame per time step ([T, C, H, W] data). */
const EVENT_SETS: ReadonlySet<string> = new Set(['nmnist', 'cifar10dvs', 'dvsgesture', 'ncaltech101']);

/** A model the app runs: the network, what its file says about its data, and a name to show. */
export interface AppModel {
  readonly name: string;
  readonly net: SpikingNet;
  /** The data set it was trained on (polarity and event framing depend on it), its class names, its normalisation. */
  readonly dataset: string | undefined;
  readonly classNames: readonly string[];
  readonly normalize: unknown;
  /** True when some layer's weights are quantized (stored as integer codes). */
  readonly quantized: boolean;
  /** For a copy made by quantizedCopy: the notation of the float model it was made from. */
  readonly basedOn?: string;
}

/** What the page shows about a model. */
export interface ModelInfo {
  readonly spec: string;
  readonly params: number;
  readonly T: number;
  readonly input: readonly number[];
  readonly classes: number;
  readonly dataset: string;
  /** "4-bit sawb in 2 of 4 weighted layers", or "float32". */
  readonly weights: string;
  /** "16 levels in 2 of 3 spiking layers", or "float32". */
  readonly membrane: string;
}

/** The training recipe of `edgespike train` for lenet: LIF with the arctan surrogate, T = 4, direct input, leaky readout. */
export function freshLenet(seed = 0): AppModel {
  const z = zoo('lenet');
  const net = new SpikingNet(z.spec, { input: z.input, neuron: neuronParams('lif', { surrogate: 'atan' }), T: 4, encoder: { kind: 'direct' },
    readout: 'leaky', readoutBeta: 0.9, seed });
  return { name: 'lenet (new)', net, dataset: 'mnist', classNames: digitNames(), normalize: undefined, quantized: false };
}

const digitNames = (): string[] => Array.from({ length: 10 }, (_, i) => String(i));

/** True when some conv or dense layer of the graph has quantized weights. */
function hasQuant(net: SpikingNet): boolean {
  return net.graph.nodes.some((n) => (n.op === 'conv' || n.op === 'dense') && n.attrs.quant !== undefined);
}

/** A model from an .es file's bytes (`name` names it in errors and on the page). */
export function modelFromBytes(bytes: Uint8Array, name: string): AppModel {
  const { net, meta } = netFromBytes(bytes, name);
  return fromLoaded(net, meta, name);
}

function fromLoaded(net: SpikingNet, meta: Partial<ModelMeta>, name: string): AppModel {
  const classNames = Array.isArray(meta.classNames) && meta.classNames.length === net.classes ? meta.classNames.map(String)
    : Array.from({ length: net.classes }, (_, i) => String(i));
  return { name, net, dataset: typeof meta.dataset === 'string' ? meta.dataset : undefined, classNames, normalize: meta.normalize, quantized: hasQuant(net) };
}

/** The model's bytes as an .es file (with its data set and class names). */
export function modelToBytes(m: AppModel): Uint8Array {
  return netToBytes(m.net, { ...(m.dataset ? { dataset: m.dataset } : {}), classNames: m.classNames, ...(m.normalize !== undefined ? { normalize: m.normalize } : {}) });
}

/**
 * A quantized copy of a float model, as `edgespike quantize --weight-bits B` without fine-tuning: SAWB weights
 * of `bits` bits in every weighted layer but the first and last, frozen into integer codes.
 */
export function quantizedCopy(m: AppModel, bits: 8 | 4): AppModel {
  if (m.quantized) throw new EdgespikeError(`quantize: ${m.name} is already quantized`);
  const q = freezeQuant(quantizeNet(m.net, { weights: { kind: 'sawb', bits }, membraneBits: 32, keepEnds: true }));
  return { ...m, name: `${m.name} · ${bits}-bit`, net: q, quantized: true, basedOn: modelInfo(m).spec };
}

/** The spec, parameter count, T, input shape and quantization of a model, as the page shows them. */
export function modelInfo(m: AppModel): ModelInfo {
  const net = m.net, nodes = net.graph.nodes;
  // the notation when the graph still is its spec's; else the float model's, or the chain of node kinds
  let spec = m.basedOn ? `${m.basedOn}, quantized` : nodes.map((n) => n.op).join('-');
  if (net.spec) { try { spec = formatSpec(net.spec); } catch { /* a spec the notation cannot print: keep the chain */ } }
  const params = net.parameters().reduce((s, p) => s + p.size, 0);
  const weighted = nodes.filter((n) => n.op === 'conv' || n.op === 'dense');
  const quant = weighted.filter((n) => (n.op === 'conv' || n.op === 'dense') && n.attrs.quant !== undefined);
  const q0 = quant[0]?.op === 'conv' || quant[0]?.op === 'dense' ? quant[0].attrs.quant : undefined;
  const neurons = nodes.filter((n) => n.op === 'neuron');
  const qm = neurons.filter((n) => n.op === 'neuron' && (n.neuron as NeuronParams).membrane !== undefined);
  const m0 = qm[0]?.op === 'neuron' ? (qm[0].neuron as NeuronParams).membrane : undefined;
  return {
    spec, params, T: net.config.T, input: net.config.input, classes: net.classes, dataset: m.dataset ?? 'unknown',
    weights: q0 ? `${q0.bits}-bit ${q0.kind} in ${quant.length} of ${weighted.length} weighted layers` : 'float32',
    membrane: m0 ? `${m0.levels} levels in ${qm.length} of ${neurons.length} spiking layers` : 'float32',
  };
}

/** A model input: the data of one sample and its shape ([C, H, W], or [T, C, H, W] for event frames). */
export interface ModelInput {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  /** What the network sees, one grey H×W plane in [0, 1] (the mean over channels and frames), for display. */
  readonly preview: Float32Array;
  /** For an image: whether it was inverted to match the training images' polarity. */
  readonly inverted?: boolean;
  /** For an event file: how many events it holds and the sensor [W, H, polarities]. */
  readonly events?: number;
  readonly sensor?: readonly number[];
}

/** The mean over the leading planes of `data` (planes of h·w), scaled to a maximum of 1 (for display). */
function previewOf(data: Float32Array, h: number, w: number): Float32Array {
  const plane = h * w, planes = data.length / plane, out = new Float32Array(plane);
  for (let k = 0; k < planes; k++) for (let i = 0; i < plane; i++) out[i]! += data[k * plane + i]! / planes;
  let max = 0;
  for (const v of out) max = Math.max(max, v);
  if (max > 1) for (let i = 0; i < plane; i++) out[i] = out[i]! / max;
  return out;
}

/**
 * An image as `edgespike predict` makes it a model input: alpha dropped, RGB → grey, bilinear resize to the
 * input's H×W, inverted (mode 'auto') when its border is light and the model was trained on light-on-dark
 * images, then the model's normalisation if it has one.
 */
export function imageInput(img: Image, m: AppModel, invert: InvertMode = 'auto'): ModelInput {
  const input = m.net.config.input;
  if (input.length !== 3) throw new EdgespikeError(`${m.name} takes input [${input.join(', ')}], not an image`);
  const x = toModelInput(img, input);
  const inverted = matchPolarity(x, input, invert, m.dataset);
  const preview = previewOf(x, input[1]!, input[2]!);
  if (m.normalize) {
    const n = resolveNormalization(m.normalize as NormalizeOption, 'mnist', input[0]!, 'app');
    if (n) normalize(x, input[0]!, input[1]!, input[2]!, n);
  }
  return { data: x, shape: input, preview, inverted };
}

/**
 * An event file as a model input. A model trained on an event data set gets T frames of event counts split by
 * event number (as its data set framed them: `data frames`' default); any other model gets one frame of counts
 * (per polarity for 2 channels, summed for 1), resized to its input and scaled to [0, 1], like an image.
 */
export function eventInput(bytes: Uint8Array, name: string, m: AppModel): ModelInput {
  const ev = decodeEvents(bytes, name);
  if (ev.length === 0) throw new EdgespikeError(`${name}: the file holds no events`);
  return eventsInput(ev, m);
}

/** Events (already decoded) as a model input; see eventInput. */
export function eventsInput(ev: Events, m: AppModel): ModelInput {
  const input = m.net.config.input;
  if (input.length !== 3) throw new EdgespikeError(`${m.name} takes input [${input.join(', ')}], not event frames`);
  const [C, H, W] = input as [number, number, number];
  const [sw, sh] = ev.sensor;
  const base = { events: ev.length, sensor: [...ev.sensor] };
  if (m.dataset !== undefined && EVENT_SETS.has(m.dataset)) {
    if (sw! > W || sh! > H || C !== 2) throw new EdgespikeError(`events on a ${sw}×${sh} sensor do not fit ${m.name}'s input [${input.join(', ')}]`);
    const f = framesBySplit(ev, m.net.config.T, 'number', [W, H, 2]);
    return { data: f.data, shape: f.shape, preview: previewOf(f.data, H, W), ...base };
  }
  if (C !== 1 && C !== 2) throw new EdgespikeError(`${m.name} takes ${C} channels; an event frame has 1 (summed) or 2 (per polarity)`);
  const counts = framesBySplit(ev, 1, 'number', [sw!, sh!, 2]).data; // [1, 2, sh, sw]
  const plane = sw! * sh!, grey = new Float32Array(C * plane);
  for (let i = 0; i < plane; i++) {
    if (C === 1) grey[i] = counts[i]! + counts[plane + i]!;
    else { grey[i] = counts[i]!; grey[plane + i] = counts[plane + i]!; }
  }
  let max = 0;
  for (const v of grey) max = Math.max(max, v);
  for (let i = 0; i < grey.length; i++) grey[i] = grey[i]! / max;
  // as an image: C planes of sw×sh in [0, 1], each resized to the model's H×W
  const data = C === 1 ? toModelInput({ data: grey, c: 1, h: sh!, w: sw! }, [1, H, W]) : toTwoPlanes(grey, sh!, sw!, H, W);
  return { data, shape: input, preview: previewOf(data, H, W), ...base };
}

/** Two planes resized separately (toModelInput makes one grey plane of grey+alpha images). */
function toTwoPlanes(x: Float32Array, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(2 * H * W);
  for (let k = 0; k < 2; k++) out.set(toModelInput({ data: x.subarray(k * h * w, (k + 1) * h * w), c: 1, h, w }, [1, H, W]), k * H * W);
  return out;
}

/** One spiking layer's activity during an inference. */
export interface LayerActivity {
  readonly name: string;
  readonly neurons: number;
  /** Spikes [T, neurons] (0/1). */
  readonly raster: Uint8Array;
  /** Fraction of the layer's neurons that fired, per step. */
  readonly rates: number[];
  /** Mean over the steps. */
  readonly rate: number;
}

/** One inference: class probabilities, the top class, each spiking layer's activity, and the time it took. */
export interface Inference {
  readonly probs: number[];
  readonly top: number;
  readonly layers: LayerActivity[];
  /** Milliseconds of the forward pass (with the monitor recording). */
  readonly ms: number;
}

/** Runs one sample through the model, recording every spiking layer. */
export function infer(m: AppModel, x: ModelInput): Inference {
  const T = m.net.config.T, mon = new Monitor(T);
  const t0 = performance.now();
  const logits = noGrad(() => workspace(() => m.net.forward(new Tensor(x.data.slice(), [1, ...x.shape]), { training: false, monitor: mon.hook }).logits.toArray()));
  const ms = performance.now() - t0;
  const probs = Array.from(ops.softmax(new Tensor(Float32Array.from(logits), [1, logits.length])).data);
  let top = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[top]!) top = i;
  const rates = mon.firingRates();
  const layers = [...mon.records].map(([name, r]): LayerActivity => ({
    name, neurons: r.neurons, raster: r.raster!, rates: rates[name]!, rate: rates[name]!.reduce((a, b) => a + b, 0) / T,
  }));
  return { probs, top, layers, ms };
}

/** Median and fastest milliseconds of `runs` forward passes of one sample without recording (after one warm-up). */
export function latency(m: AppModel, x: ModelInput, runs = 15): { median: number; min: number } {
  const t = new Tensor(x.data.slice(), [1, ...x.shape]), times: number[] = [];
  noGrad(() => {
    for (let r = 0; r <= runs; r++) {
      const t0 = performance.now();
      workspace(() => { m.net.forward(t, { training: false }); });
      if (r > 0) times.push(performance.now() - t0);
    }
  });
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

// the page's digit set (assets/digits.bin), written by `edgespike serve`
export { decodeDigits, encodeDigits, type Digits } from '../../src/data/digit-set.js';

/** A few Adam steps at a time on the training digits (cross-entropy with label smoothing 0.1, as `train`). */
export class LiveTrainer {
  private readonly opt: Optimizer;
  private readonly rng: Rng;
  private order: number[] = [];
  steps = 0;

  constructor(readonly model: AppModel, readonly digits: Digits, readonly o: { lr?: number; batch?: number; seed?: number } = {}) {
    if (model.quantized) throw new EdgespikeError(`${model.name} has frozen quantized weights; train the float model`);
    const input = model.net.config.input;
    if (input.join() !== '1,28,28') throw new EdgespikeError(`${model.name} takes input [${input.join(', ')}]; the built-in digits are [1, 28, 28]`);
    this.opt = new Optimizer(model.net.parameters(), { kind: 'adam', lr: o.lr ?? 3e-3 });
    this.rng = new Rng(o.seed ?? 1);
  }

  /** The next batch of shuffled training digits (a new permutation each epoch). */
  private batch(): { x: Tensor; y: Int32Array } {
    const B = Math.min(this.o.batch ?? 32, this.digits.train), x = new Float32Array(B * DIGIT_PIXELS), y = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      if (this.order.length === 0) {
        this.order = Array.from({ length: this.digits.train }, (_, i) => i);
        for (let i = this.order.length - 1; i > 0; i--) { const j = Math.floor(this.rng.float() * (i + 1)); [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!]; }
      }
      const k = this.order.pop()!;
      for (let p = 0; p < DIGIT_PIXELS; p++) x[b * DIGIT_PIXELS + p] = this.digits.pixels[k * DIGIT_PIXELS + p]! / 255;
      y[b] = this.digits.labels[k]!;
    }
    return { x: new Tensor(x, [B, 1, 28, 28]), y };
  }

  /** One step; returns its loss. */
  step(): number {
    const { x, y } = this.batch();
    const loss = workspace(() => {
      const l = lossOf(this.model.net.forward(x, { training: true, rng: this.rng }), y, { kind: 'ce', labelSmoothing: 0.1 });
      this.opt.zeroGrad();
      l.backward();
      return l.item();
    });
    this.opt.step();
    this.steps++;
    return loss;
  }

  /** Accuracy on the held-out digits. */
  accuracy(m: AppModel = this.model): number {
    const n = this.digits.test;
    if (n === 0) return NaN;
    const x = new Float32Array(n * DIGIT_PIXELS);
    for (let i = 0; i < n * DIGIT_PIXELS; i++) x[i] = this.digits.pixels[this.digits.train * DIGIT_PIXELS + i]! / 255;
    const logits = noGrad(() => workspace(() => m.net.forward(new Tensor(x, [n, 1, 28, 28]), { training: false }).logits.toArray()));
    let right = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < m.net.classes; c++) if (logits[i * m.net.classes + c]! > logits[i * m.net.classes + best]!) best = c;
      if (best === this.digits.labels[this.digits.train + i]) right++;
    }
    return right / n;
  }
}
