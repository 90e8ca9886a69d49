/**
 * A spiking network built from a ModelSpec: layers with parameters, a neuron layer after every
 * spiking conv/dense (moved after a directly following max pool, as the reference networks do:
 * conv → pool → LIF), an input encoder, and a non-spiking readout over T steps.
 */
import { Tensor } from '../tensor/tensor.js';
import * as op from '../ops/index.js';
import { Rng } from '../data/rng.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import type { LayerSpec, ModelSpec } from '../notation/spec.js';
import { chainShapes } from '../notation/shapes.js';
import type { NeuronParams } from '../neurons/neuron.js';
import { BatchNorm, Conv, DeferredBias, Dense, Dropout, Flatten, GlobalAvgPool, Pool, Residual, Spiking, expandTime, type Layer, type RunContext } from './layers.js';
import { encode, type EncoderSpec } from './encode.js';

/**
 * How the readout's T outputs become logits. Non-spiking: mean (average over T), leaky (average
 * membrane of a leaky integrator, snnTorch's Leaky without reset), last (final step). Spiking (a
 * neuron layer after the readout): count (spikes summed over T), rate (spikes averaged over T).
 */
export type ReadoutMode = 'mean' | 'leaky' | 'last' | 'count' | 'rate';

/** All readout modes. */
export const READOUTS: readonly ReadoutMode[] = ['leaky', 'mean', 'last', 'count', 'rate'];

/** Everything besides the spec that defines a network. */
export interface NetConfig {
  readonly input: readonly number[];
  readonly neuron: NeuronParams;
  readonly T: number;
  readonly encoder: EncoderSpec;
  /** mean: average of the readout over T (SpikingJelly); leaky: average membrane of a leaky integrator (snnTorch Leaky without reset); last: final step. */
  readonly readout: ReadoutMode;
  /** Leak of the leaky readout. */
  readonly readoutBeta: number;
  readonly seed: number;
}

/** Called after every top-level layer with its input and output (and whether the input was static [N, …]). */
export type LayerHook = (layer: Layer, input: Tensor, output: Tensor, inputStatic: boolean) => void;

/** Output of a forward pass. */
export interface NetOutput {
  /** Readout per step [T, N, classes]. */
  readonly steps: Tensor;
  /** Aggregated logits [N, classes]. */
  readonly logits: Tensor;
}

/** A spiking network: call forward(x) with x [N, …input] (static) or [N, T, …frame] (temporal input). */
export class SpikingNet {
  readonly layers: Layer[] = [];
  readonly classes: number;
  private neuronCount = 0;

  constructor(readonly spec: ModelSpec, readonly config: NetConfig) {
    if (!Number.isInteger(config.T) || config.T < 1) throw new EdgespikeError(`net: T must be a positive integer, got ${config.T}`);
    const rng = new Rng(config.seed);
    const shapes = chainShapes(spec.layers, config.input);
    const last = shapes[shapes.length - 1]!;
    this.classes = last.reduce((a, b) => a * b, 1);
    this.build(spec.layers, config.input, shapes, rng, '', this.layers);
    if (config.readout === 'count' || config.readout === 'rate') this.layers.push(this.neuron('readout'));
  }

  private build(specs: readonly LayerSpec[], input: readonly number[], shapes: number[][], rng: Rng, prefix: string, out: Layer[]): void {
    let inShape = input;
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i]!, name = `${prefix}${i}`;
      switch (s.kind) {
        case 'conv': {
          const conv = new Conv(`${name}.conv`, inShape[0]!, s.out, s.k, s.stride, s.pad, s.groups, s.bias, rng);
          out.push(conv);
          if (s.bn) out.push(new BatchNorm(`${name}.bn`, s.out));
          if (s.spike) {
            // Max pools that directly follow move before the neuron (conv → pool → LIF); without batch
            // norm between them, the conv's bias moves after the pools too.
            let pooled = false;
            while (specs[i + 1]?.kind === 'pool' && (specs[i + 1] as { op: string }).op === 'max') {
              const p = specs[++i] as Extract<LayerSpec, { kind: 'pool' }>;
              out.push(new Pool(`${prefix}${i}.pool`, 'max', p.k, p.stride));
              pooled = true;
            }
            if (pooled && conv.bias && !s.bn) { conv.deferBias = true; out.push(new DeferredBias(`${name}.bias`, conv)); }
            out.push(this.neuron(name));
          }
          break;
        }
        case 'dense': {
          out.push(new Dense(`${name}.dense`, inShape.reduce((a, b) => a * b, 1), s.out, s.bias, rng));
          if (s.bn) out.push(new BatchNorm(`${name}.bn`, s.out));
          if (s.spike) out.push(this.neuron(name));
          break;
        }
        case 'pool': out.push(new Pool(`${name}.pool`, s.op, s.k, s.stride)); break;
        case 'dropout': out.push(new Dropout(`${name}.dropout`, s.p)); break;
        case 'flatten': out.push(new Flatten(`${name}.flatten`)); break;
        case 'gap': out.push(new GlobalAvgPool(`${name}.gap`)); break;
        case 'residual': {
          const body: Layer[] = [], sc: Layer[] = [];
          this.build(s.body, inShape, chainShapes(s.body, inShape), rng, `${name}.body.`, body);
          this.build(s.shortcut, inShape, chainShapes(s.shortcut, inShape), rng, `${name}.shortcut.`, sc);
          out.push(new Residual(`${name}.res`, body, sc, s.spike ? this.neuron(name) : null));
          break;
        }
      }
      inShape = shapes[i]!;
    }
  }

  private neuron(name: string): Spiking {
    this.neuronCount++;
    return new Spiking(`${name}.lif`, this.config.neuron);
  }

  /** Number of spiking layers (including a spiking readout). */
  get spikingLayers(): number { return this.neuronCount; }

  /** All trainable parameters with dotted names (stable order). */
  namedParameters(): [string, Tensor][] {
    return this.layers.flatMap((l) => l.params().map(([n, t]): [string, Tensor] => [`${l.name}.${n}`, t]));
  }

  /** All buffers (batch-norm running statistics) with dotted names. */
  namedBuffers(): [string, Float32Array][] {
    return this.layers.flatMap((l) => l.buffers().map(([n, b]): [string, Float32Array] => [`${l.name}.${n}`, b]));
  }

  /** Trainable parameters. */
  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }

  /**
   * Forward over T steps. x: [N, …input] for static data (encoded by the encoder) or
   * [N, T, …frame] for temporal data (event frames, one per step).
   */
  forward(x: Tensor, opts: { training: boolean; rng?: Rng; monitor?: RunContext['monitor']; onLayer?: LayerHook }): NetOutput {
    const { T } = this.config;
    const inLen = this.config.input.length;
    const N = x.shape[0]!;
    const temporal = x.rank === inLen + 2;
    const want = temporal ? [N, T, ...this.config.input] : [N, ...this.config.input];
    if (x.rank !== want.length || x.shape.some((d, i) => d !== want[i])) {
      throw new EdgespikeError(`net: input must be ${fmtShape([N, ...this.config.input])} or ${fmtShape([N, T, ...this.config.input])}, got ${fmtShape(x.shape)}`);
    }
    const rng = opts.rng ?? new Rng(this.config.seed);
    const enc = temporal ? { x: toTimeMajor(x), static: false } : encode(x, this.config.encoder, T, rng);
    const ctx: RunContext = { T, N, training: opts.training, rng, static: enc.static, monitor: opts.monitor };
    let a = enc.x;
    for (const l of this.layers) {
      const wasStatic = ctx.static;
      const y = l.forward(a, ctx);
      opts.onLayer?.(l, a, y, wasStatic);
      a = y;
    }
    const steps = ctx.static ? op.reshape(expandTime(a, T), [T, N, this.classes]) : op.reshape(a, [T, N, this.classes]);
    return { steps, logits: this.aggregate(steps) };
  }

  /** Readout over T: [T, N, C] → [N, C]. */
  aggregate(steps: Tensor): Tensor {
    const [T, N, C] = steps.shape as [number, number, number];
    if (this.config.readout === 'last') return op.reshape(op.slice(steps, 0, T - 1, T), [N, C]);
    const w = new Float32Array(T);
    if (this.config.readout === 'mean' || this.config.readout === 'rate') w.fill(1 / T);
    else if (this.config.readout === 'count') w.fill(1);
    else {
      // Mean over t of m[t] = β·m[t−1] + I[t]: input I[t] contributes Σ_{τ ≥ t} β^(τ−t) / T.
      const b = this.config.readoutBeta;
      let acc = 0;
      for (let t = T - 1; t >= 0; t--) { acc = acc * b + 1; w[t] = acc / T; }
    }
    const weighted = op.mul(op.reshape(steps, [T, N * C]), new Tensor(w, [T, 1]));
    return op.reshape(op.sum(weighted, 0), [N, C]);
  }
}

/** [N, T, …] → time-folded [T·N, …]. */
function toTimeMajor(x: Tensor): Tensor {
  const [N, T] = x.shape as [number, number];
  const rest = x.shape.slice(2);
  const perm = [1, 0, ...rest.map((_, i) => i + 2)];
  const t = op.transpose(x, perm);
  const out = op.reshape(t, [T * N, ...rest]);
  out.binary = x.binary;
  return out;
}
