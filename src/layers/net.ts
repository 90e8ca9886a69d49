/**
 * A network: a model graph (src/graph) with its tensors, an input encoder, and a readout over T steps.
 * Built from the papers' notation (a ModelSpec), or from a graph and (optionally) stored tensors.
 *
 * Feed-forward graphs run node by node over all T steps at once: a neuron node runs its T steps in one
 * fused kernel call, and the nodes before the first neuron run once on a static input. Graphs with
 * recurrent edges run one step at a time, each neuron carrying its state as a tensor, so gradients flow
 * through time and through the recurrent edges.
 */
import { Tensor, parameter } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import * as op from '../ops/index.js';
import { Rng } from '../data/rng.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { checkBudget, fmtBytes } from '../util/budget.js';
import { MAX_TENSOR_BYTES } from '../backends/index.js';
import type { ModelSpec } from '../notation/spec.js';
import { decayInit, NEURON_DEFAULTS, type NeuronParams } from '../neurons/neuron.js';
import { graphFromSpec } from '../graph/build.js';
import { ancestors, checkGraph, INPUT, isRecurrent, tensorsOf, type GraphInfo, type GraphNode, type ModelGraph, type NodeTensor } from '../graph/graph.js';
import { expandTime, Gate, makeLayer, Spiking, type Layer, type RunContext } from './layers.js';
import type { IntegerRun } from './integer.js';
import { encode, type EncoderSpec } from './encode.js';

/**
 * How the readout's T outputs become logits. Non-spiking: mean (average over T), leaky (average
 * membrane of a leaky integrator, snnTorch's Leaky without reset), last (final step). Spiking (a
 * neuron layer after the readout): count (spikes summed over T), rate (spikes averaged over T).
 */
export type ReadoutMode = 'mean' | 'leaky' | 'last' | 'count' | 'rate';

/** All readout modes. */
export const READOUTS: readonly ReadoutMode[] = ['leaky', 'mean', 'last', 'count', 'rate'];

/** Everything besides the graph that defines a network. */
export interface NetConfig {
  /** One input sample's shape (a graph's own `input` when built from a graph). */
  readonly input: readonly number[];
  /** The neuron of every spiking node built from a spec (graph nodes carry their own). */
  readonly neuron?: NeuronParams;
  /**
   * Build a spec as an SNN (default), as the ANN of the same topology (ReLU, max pooling, biases), or as
   * Scatter-and-Gather's quantized ANN (sg: ReLU and the activation quantizer of `levels`, ternary hidden weights).
   */
  readonly act?: 'snn' | 'ann' | 'sg';
  /** sg: activation step 1/2^k and bound B. */
  readonly levels?: { readonly k: number; readonly B: number };
  readonly T: number;
  readonly encoder: EncoderSpec;
  /** mean: average of the readout over T (SpikingJelly); leaky: average membrane of a leaky integrator (snnTorch Leaky without reset); last: final step. */
  readonly readout: ReadoutMode;
  /** Leak of the leaky readout. */
  readonly readoutBeta: number;
  readonly seed: number;
}

/** Called after every node with its (summed) input and output, and whether the input was static [N, …]. */
export type LayerHook = (layer: Layer, input: Tensor, output: Tensor, inputStatic: boolean) => void;

/** Output of a forward pass. */
export interface NetOutput {
  /** Readout per step [T, N, classes]. */
  readonly steps: Tensor;
  /** Aggregated logits [N, classes]. */
  readonly logits: Tensor;
  /** The sum of the losses nodes added while training (a gate predictor's BCE), if any. */
  readonly aux?: Tensor;
}

/** An activation's form: static [N, …] (the same at every step) or over time [T, N, …]. */
export type ActForm = 'static' | 'time';

/** An activation handed to or returned by run(). */
export interface Activation {
  /** [N, …] when static, [T, N, …] over time. */
  readonly x: Tensor;
  readonly form: ActForm;
}

/** Options of forward and run. */
export interface RunOptions {
  readonly training: boolean;
  readonly rng?: Rng;
  readonly monitor?: RunContext['monitor'];
  readonly onLayer?: LayerHook;
  /**
   * The form of x when it is an activation rather than data: x is fed to the graph's input as it is
   * (no encoder). Without it, x is data: [N, …input] (encoded) or [N, T, …input] (a frame per step).
   */
  readonly form?: ActForm;
  /** Receives the losses nodes add while training (a gate's BCE); forward sums them into NetOutput.aux. */
  readonly aux?: Tensor[];
  /** Called by every gate with its mask (for the FLOPs accounting). */
  readonly onGate?: RunContext['onGate'];
  /** Called by every gate with its predictor's inputs and BCE targets (fitGates). */
  readonly onGateFit?: RunContext['onGateFit'];
  /** Drop each spike of one scatter node with a probability (Scatter-and-Gather's robustness study). */
  readonly dropSpikes?: RunContext['dropSpikes'];
  /** While training: add this weight × every neuron layer's firing rate to the loss (a spike-count regularizer). */
  readonly spikeCost?: number;
  /**
   * Inference on integers (default true; false keeps every layer on the float path): frozen quantized layers fed
   * by spikes run on the integer kernels, skipping the channels their gates close, and quantized membranes as
   * int8 levels (src/layers/integer.ts).
   */
  readonly integer?: boolean;
}

/** Options of run: where to start and stop. */
export interface PartialRun extends RunOptions {
  /** The node whose output x is (default: the model input). */
  readonly from?: string;
  /** The node whose output is returned (default: the graph's output). */
  readonly to?: string;
}

/** Tensor values to build a network with, by full name; missing ones are initialised. */
export type TensorValues = Readonly<Record<string, Float32Array>>;

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** What a direct encoder is handed for a generator: it draws nothing. */
const UNUSED_RNG = new Rng(0);

/** A value during a run: the tensor and whether it is static [N, …] or folded [T·N, …]. */
interface Val { readonly t: Tensor; readonly static: boolean }

/** A spiking network over a model graph. */
export class SpikingNet {
  readonly graph: ModelGraph;
  readonly config: NetConfig;
  /** The spec it was built from, when it was (edits and importers give graphs only). */
  readonly spec: ModelSpec | undefined;
  /** One runtime per node, in graph order; a layer's name is its node id. */
  readonly layers: Layer[];
  /** Size of the graph's output per sample. */
  readonly classes: number;
  /** Graph facts: shapes, consumers, nodes by id. */
  readonly info: GraphInfo;
  /** Tensor names of version-1 files for the same tensors (built from a spec only). */
  readonly legacyNames: ReadonlyMap<string, string>;
  private readonly byName = new Map<string, Layer>();
  private readonly recurrent: boolean;

  /**
   * Builds the network of `source` (a spec, or a graph) with `config`. `values` gives tensors by full name
   * (stored weights); tensors it lacks get PyTorch's default initialisation from config.seed. `spec` names
   * the notation a graph source was built from, when it still is that spec's graph.
   */
  constructor(source: ModelSpec | ModelGraph, config: NetConfig, values: TensorValues = {}, spec?: ModelSpec) {
    if (!Number.isInteger(config.T) || config.T < 1) throw new EdgespikeError(`net: T must be a positive integer, got ${config.T}`);
    if ('nodes' in source) {
      if (config.input && fmtShape(config.input) !== fmtShape(source.input)) {
        throw new EdgespikeError(`net: config input ${fmtShape(config.input)} differs from the graph's ${fmtShape(source.input)}`);
      }
      this.graph = source;
      this.spec = spec;
      this.legacyNames = new Map();
    } else {
      const built = graphFromSpec(source, {
        input: config.input, neuron: config.neuron ?? NEURON_DEFAULTS, act: config.act, ...(config.levels ? { levels: config.levels } : {}),
        spikingReadout: config.readout === 'count' || config.readout === 'rate',
      });
      this.graph = built.graph;
      this.spec = source;
      this.legacyNames = built.legacyNames;
    }
    this.config = { ...config, input: [...this.graph.input] };
    this.info = checkGraph(this.graph);
    this.classes = size(this.info.shapes.get(this.graph.output)!);
    this.recurrent = isRecurrent(this.graph);
    checkTensorSizes(this.graph, this.info);
    const tensors = makeTensors(this.graph, this.info, values, new Rng(config.seed));
    this.layers = this.graph.nodes.map((node) => {
      const own = tensors.get(node.id)!;
      const layer = makeLayer(node, own);
      this.byName.set(node.id, layer);
      return layer;
    });
  }

  /**
   * The same graph and tensors with other settings (T, readout, encoder…). The two nets share their
   * tensors: training one changes the other.
   */
  withConfig(over: Partial<Omit<NetConfig, 'input'>>): SpikingNet {
    return new SpikingNet(this.graph, { ...this.config, ...over }, this.tensorValues(), this.spec);
  }

  /**
   * Refuses, with one line, a batch of N samples whose activations would not fit: every node's output
   * (over T steps unless it stays static) × 3 when training (the output, its gradient, a neuron's saved
   * membrane) against the memory budget, and the largest single tensor against what one kernel call may
   * hold. `temporal`: the data come as one frame per step (not encoded from a static sample).
   */
  checkMemory(N: number, o: { training: boolean; temporal?: boolean; fix?: string }): void {
    const T = this.config.T, fix = o.fix ?? 'lower the batch size or T';
    const isStatic = new Set<string>();
    if (!o.temporal && this.config.encoder.kind === 'direct') isStatic.add(INPUT);
    for (const n of this.graph.nodes) if (n.op !== 'neuron' && !n.recurrent?.length && n.inputs.every((s) => isStatic.has(s))) isStatic.add(n.id);
    let total = 0, largest = 0, at = '';
    for (const n of this.graph.nodes) {
      const bytes = 4 * (isStatic.has(n.id) ? 1 : T) * N * size(this.info.shapes.get(n.id)!);
      total += bytes;
      if (bytes > largest) { largest = bytes; at = n.id; }
    }
    if (largest > MAX_TENSOR_BYTES) {
      throw new EdgespikeError(`net: the output of "${at}" for a batch of ${N} over T = ${T} is ${fmtBytes(largest)}, above the ${fmtBytes(MAX_TENSOR_BYTES)} one tensor may hold (${fix})`);
    }
    checkBudget(total * (o.training ? 3 : 1), `net: ${o.training ? 'training' : 'running'} a batch of ${N} over T = ${T}`, fix);
  }

  /** The runtime of node `id`. */
  layer(id: string): Layer {
    const l = this.byName.get(id);
    if (!l) throw new EdgespikeError(`net: no node "${id}" (nodes: ${this.graph.nodes.map((n) => n.id).join(', ')})`);
    return l;
  }

  /** Number of spiking neuron nodes. */
  get spikingLayers(): number { return this.graph.nodes.filter((n) => n.op === 'neuron').length; }

  /** All trainable parameters with dotted names `${node}.${tensor}` (graph order). */
  namedParameters(): [string, Tensor][] {
    return this.layers.flatMap((l) => l.params().map(([n, t]): [string, Tensor] => [`${l.name}.${n}`, t]));
  }

  /** All buffers (batch-norm running statistics, fixed per-channel constants) with dotted names. */
  namedBuffers(): [string, Float32Array][] {
    return this.layers.flatMap((l) => l.buffers().map(([n, b]): [string, Float32Array] => [`${l.name}.${n}`, b]));
  }

  /** Trainable parameters. */
  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }

  /** Every tensor's values by full name (parameters and buffers; shared, not copied). */
  tensorValues(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [n, t] of this.namedParameters()) out[n] = t.data;
    for (const [n, b] of this.namedBuffers()) out[n] = b;
    return out;
  }

  /**
   * Forward over T steps to the readout. x is data ([N, …input] static, encoded by the encoder, or
   * [N, T, …input], one frame per step), or an activation for the graph's input when `opts.form` is given.
   */
  forward(x: Tensor, opts: RunOptions): NetOutput {
    const aux: Tensor[] = opts.aux ?? [];
    const out = this.run(x, { ...opts, aux });
    const N = out.form === 'static' ? out.x.shape[0]! : out.x.shape[1]!;
    const T = this.config.T;
    const steps = out.form === 'static' ? op.reshape(expandTime(out.x, T), [T, N, this.classes]) : op.reshape(out.x, [T, N, this.classes]);
    const auxSum = aux.length ? aux.reduce((a, b) => op.add(a, b)) : undefined;
    return { steps, logits: this.aggregate(steps), ...(auxSum ? { aux: auxSum } : {}) };
  }

  /**
   * Runs part of the graph: x is the output of node `from` (default: data for the model input), and the
   * output of node `to` (default: the graph's output) is returned with its form. A static result is
   * [N, …]; one over time is [T, N, …]. Chaining two runs that meet at a node gives the bits of one run.
   */
  run(x: Tensor, opts: PartialRun): Activation {
    const T = this.config.T;
    const from = opts.from ?? INPUT, to = opts.to ?? this.graph.output;
    const plan = this.planRun(from, to);
    const start = this.startValue(x, from, opts);
    const N = start.static ? start.t.shape[0]! : start.t.shape[0]! / T;
    const rng = opts.rng ?? new Rng(this.config.seed);
    const r = this.recurrent && plan.some((l) => (l.node.recurrent?.length ?? 0) > 0)
      ? this.runSteps(plan, from, to, start, N, rng, opts)
      : this.runFused(plan, from, to, start, N, rng, opts);
    const perSample = this.info.shapes.get(to)!;
    return r.static ? { x: op.reshape(r.t, [N, ...perSample]), form: 'static' } : { x: op.reshape(r.t, [T, N, ...perSample]), form: 'time' };
  }

  /** Readout over T: [T, N, C] → [N, C]. */
  aggregate(steps: Tensor): Tensor {
    return aggregateSteps(steps, this.config.readout, this.config.readoutBeta);
  }

  private readonly plans = new Map<string, Layer[]>();
  /** The plan of the whole graph (input to output), the one nearly every run takes. */
  private whole: Layer[] | undefined;

  /** The layers to run for from → to, in graph order; every input they read must be produced by them or be `from`. */
  private planRun(from: string, to: string): Layer[] {
    if (from === INPUT && to === this.graph.output) return (this.whole ??= this.makePlan(from, to));
    const key = `${from}\u0000${to}`;
    let plan = this.plans.get(key);
    if (!plan) { plan = this.makePlan(from, to); this.plans.set(key, plan); }
    return plan;
  }

  private makePlan(from: string, to: string): Layer[] {
    if (from !== INPUT) this.layer(from);
    this.layer(to);
    const need = ancestors(this.graph, to);
    const before = from === INPUT ? new Set<string>() : ancestors(this.graph, from);
    const run = this.layers.filter((l) => need.has(l.name) && !before.has(l.name));
    const have = new Set([from, ...run.map((l) => l.name)]);
    for (const l of run) {
      for (const s of [...l.node.inputs, ...(l.node.side ?? []), ...(l.node.recurrent ?? [])]) {
        if (!have.has(s)) throw new EdgespikeError(`run from "${from}" to "${to}": node "${l.name}" also reads "${s}", which that run does not compute`);
      }
    }
    if (from !== INPUT && from === to) return [];
    if (from !== INPUT && !need.has(from)) throw new EdgespikeError(`run from "${from}" to "${to}": "${to}" does not depend on "${from}"`);
    return run;
  }

  /** The starting value in folded form, after checking its shape against the node it stands for. */
  private startValue(x: Tensor, from: string, opts: RunOptions): Val {
    const T = this.config.T, shape = this.info.shapes.get(from)!;
    if (opts.form !== undefined || from !== INPUT) {
      if (opts.form === undefined) throw new EdgespikeError(`run from "${from}": give the form of x ('static' for [N, …], 'time' for [T, N, …])`);
      const form = opts.form;
      const lead = form === 'static' ? 1 : 2;
      if (x.rank !== shape.length + lead || fmtShape(x.shape.slice(lead)) !== fmtShape(shape) || (form === 'time' && x.shape[0] !== T)) {
        throw new EdgespikeError(`net: the output of "${from}" must be ${form === 'static' ? fmtShape(['N', ...shape] as never) : fmtShape([T, 'N', ...shape] as never)} (form ${form}), got ${fmtShape(x.shape)}`);
      }
      if (form === 'static') return { t: x, static: true };
      const t = op.reshape(x, [T * x.shape[1]!, ...shape]);
      t.binary = x.binary; t.density = x.density;
      return { t, static: false };
    }
    const N = x.shape[0]!;
    const temporal = x.rank === shape.length + 2;
    const want = temporal ? [N, T, ...shape] : [N, ...shape];
    if (x.rank !== want.length || x.shape.some((d, i) => d !== want[i])) {
      throw new EdgespikeError(`net: input must be ${fmtShape([N, ...shape])} or ${fmtShape([N, T, ...shape])}, got ${fmtShape(x.shape)}`);
    }
    const enc = temporal ? { x: toTimeMajor(x), static: false } : encode(x, this.config.encoder, T, opts.rng ?? (this.config.encoder.kind === 'direct' ? UNUSED_RNG : new Rng(this.config.seed)));
    return { t: enc.x, static: enc.static };
  }

  /** All T steps per node (feed-forward graphs). */
  private runFused(plan: Layer[], from: string, to: string, start: Val, N: number, rng: Rng, opts: RunOptions): Val {
    const T = this.config.T;
    const integer: IntegerRun | undefined = opts.training || opts.integer === false ? undefined : { gates: this.gatedConvs(), masks: new Map() };
    const ctx: RunContext = { T, N, training: opts.training, rng, static: start.static, monitor: opts.monitor, masks: new Map(), aux: opts.aux ?? [], onGate: opts.onGate, onGateFit: opts.onGateFit, dropSpikes: opts.dropSpikes, spikeCost: opts.spikeCost, integer };
    const vals = new Map<string, Val>([[from, start]]);
    for (const l of plan) {
      const a = sumInputs(l.node.inputs.map((s) => vals.get(s)!), T);
      ctx.static = a.static;
      const y = l.forward(a.t, ctx, l.node.side?.map((s) => vals.get(s)!));
      opts.onLayer?.(l, a.t, y, a.static);
      vals.set(l.name, { t: y, static: ctx.static });
    }
    return vals.get(to)!;
  }

  private gated: IntegerRun['gates'] | undefined;

  /**
   * The convolutions whose output channels a gate closes, by conv id: the gate reads the conv's own input as its
   * side input and the conv reaches it through channel-wise nodes only (bn, bias, pool, dropout), each read by
   * nothing else, so a closed channel's sums are never used and the integer convolution may skip them.
   */
  private gatedConvs(): IntegerRun['gates'] {
    if (this.gated) return this.gated;
    const out = new Map<string, { gate: string; mask(side: Tensor): Uint8Array }>();
    for (const l of this.layers) {
      if (!(l instanceof Gate) || l.node.inputs.length !== 1) continue;
      let at = this.info.byId.get(l.node.inputs[0]!);
      while (at && ['bn', 'bias', 'pool', 'dropout'].includes(at.op) && at.inputs.length === 1 && (this.info.consumers.get(at.id)?.length ?? 0) === 1) {
        at = this.info.byId.get(at.inputs[0]!);
      }
      if (!at || at.op !== 'conv' || at.inputs[0] !== l.node.side?.[0] || (this.info.consumers.get(at.id)?.length ?? 0) !== 1) continue;
      const gate = l;
      out.set(at.id, { gate: gate.name, mask: (side) => gate.mask(side) });
    }
    this.gated = out;
    return out;
  }

  /**
   * One step at a time (graphs with recurrent edges): every node runs on [N, …] per step, a neuron from
   * its carried state; a recurrent edge adds its source's previous-step output (zeros at step 0). Nodes
   * whose inputs are all static run once. Outputs over time are concatenated along the folded axis.
   */
  private runSteps(plan: Layer[], from: string, to: string, start: Val, N: number, rng: Rng, opts: RunOptions): Val {
    const T = this.config.T;
    const ctx: RunContext = { T: 1, N, training: opts.training, rng, static: false, monitor: undefined, masks: new Map(), aux: opts.aux ?? [], onGate: opts.onGate, onGateFit: opts.onGateFit, dropSpikes: opts.dropSpikes, spikeCost: opts.spikeCost };
    const state = new Map<string, unknown>();
    const record = new Map<string, { s: Tensor[]; h: Float32Array[] }>();
    const perStep = new Map<string, Tensor[]>();
    let prev = new Map<string, Val>();
    let fixed = new Map<string, Val>();
    for (let t = 0; t < T; t++) {
      const vals = new Map<string, Val>(fixed);
      vals.set(from, start.static ? start : { t: op.slice(start.t, 0, t * N, (t + 1) * N), static: false });
      for (const l of plan) {
        if (fixed.has(l.name)) continue;
        const inputs = l.node.inputs.map((s) => vals.get(s)!);
        for (const s of l.node.recurrent ?? []) { const p = prev.get(s); if (p) inputs.push(p); }
        const a = sumInputs(inputs, 1);
        let y: Tensor, isStatic: boolean;
        if (l instanceof Spiking) {
          const r = l.step(a.t, (state.get(l.name) as Tensor | undefined) ?? null);
          state.set(l.name, r.v);
          y = r.s; isStatic = false;
          if (opts.monitor) {
            const rec = record.get(l.name) ?? { s: [], h: [] };
            rec.s.push(r.s); rec.h.push(r.h.data);
            record.set(l.name, rec);
          }
        } else if (l.runStep) {
          // any other layer with state between steps (NIR neurons, delays) carries it the same way
          const r = l.runStep(a.t, state.get(l.name) ?? null, ctx);
          state.set(l.name, r.state);
          y = r.y; isStatic = false;
          if (opts.monitor && r.h) {
            const rec = record.get(l.name) ?? { s: [], h: [] };
            rec.s.push(r.y); rec.h.push(r.h);
            record.set(l.name, rec);
          }
        } else {
          ctx.static = a.static;
          y = l.forward(a.t, ctx, l.node.side?.map((s) => vals.get(s)!));
          // a node that reads a recurrent edge varies over time even when its step-0 input is static
          isStatic = ctx.static && !l.node.recurrent?.length;
        }
        if (t === 0) opts.onLayer?.(l, a.t, y, a.static);
        const v = { t: y, static: isStatic };
        vals.set(l.name, v);
        if (isStatic && t === 0) fixed.set(l.name, v);
      }
      const out = vals.get(to)!;
      if (!out.static) { const list = perStep.get(to) ?? []; list.push(out.t); perStep.set(to, list); }
      prev = vals;
    }
    for (const [name, rec] of record) {
      const h = new Float32Array(rec.h.reduce((a, b) => a + b.length, 0));
      let o = 0;
      for (const part of rec.h) { h.set(part, o); o += part.length; }
      opts.monitor!(name, op.concat(rec.s, 0), h);
    }
    const outs = perStep.get(to);
    return outs ? { t: op.concat(outs, 0), static: false } : fixed.get(to)!;
  }
}

/**
 * A readout's logits from T steps of its layer [T, N, C] → [N, C]: mean or rate (average over T), count
 * (sum), last (final step), leaky (the average membrane of m[t] = β·m[t−1] + I[t]).
 */
export function aggregateSteps(steps: Tensor, readout: ReadoutMode, beta: number): Tensor {
  const [T, N, C] = steps.shape as [number, number, number];
  if (readout === 'last') return op.reshape(op.slice(steps, 0, T - 1, T), [N, C]);
  const w = new Float32Array(T);
  if (readout === 'mean' || readout === 'rate') w.fill(1 / T);
  else if (readout === 'count') w.fill(1);
  else {
    // Mean over t of m[t] = β·m[t−1] + I[t]: input I[t] contributes Σ_{τ ≥ t} β^(τ−t) / T.
    let acc = 0;
    for (let t = T - 1; t >= 0; t--) { acc = acc * beta + 1; w[t] = acc / T; }
  }
  // Σ_t fround(w[t]·steps[t]) in step order, rounded to float32 after every add (as a broadcast multiply and a
  // sum over axis 0 compute it), in one pass
  const S = steps.data, NC = N * C, r = new Float32Array(NC);
  for (let t = 0; t < T; t++) {
    const wt = w[t]!, o = t * NC;
    for (let j = 0; j < NC; j++) r[j]! += Math.fround(S[o + j]! * wt);
  }
  return record(new Tensor(r, [N, C]), 'aggregateSteps', [steps], (g) => {
    const gs = new Float32Array(T * NC);
    for (let t = 0; t < T; t++) for (let j = 0; j < NC; j++) gs[t * NC + j] = g[j]! * w[t]!;
    accumulateOwned(steps, gs);
  });
}

/** Sums a node's inputs; static ones are repeated over T when another input varies over time. */
function sumInputs(inputs: Val[], T: number): Val {
  if (inputs.length === 1) return inputs[0]!;
  const anyTime = inputs.some((v) => !v.static);
  const ts = inputs.map((v) => (anyTime && v.static ? expandTime(v.t, T) : v.t));
  let s = ts[0]!;
  for (let i = 1; i < ts.length; i++) s = op.add(s, ts[i]!);
  return { t: s, static: !anyTime };
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

/** Refuses graphs whose tensors would not fit the memory budget (one line naming the largest node). */
function checkTensorSizes(g: ModelGraph, info: GraphInfo): void {
  let total = 0, largest = 0, at = '';
  for (const node of g.nodes) {
    for (const t of tensorsOf(node, info)) {
      const bytes = 4 * size(t.shape);
      total += bytes;
      if (bytes > largest) { largest = bytes; at = `${t.name} ${fmtShape(t.shape)}`; }
    }
  }
  if (largest > MAX_TENSOR_BYTES) throw new EdgespikeError(`net: tensor ${at} is ${fmtBytes(largest)}, above the ${fmtBytes(MAX_TENSOR_BYTES)} one tensor may hold (a smaller model)`);
  checkBudget(total, `net: the model's ${fmtBytes(total)} of weights`, 'a smaller model');
}

/** PyTorch's default initialisation: U(−1/√fan_in, 1/√fan_in). */
function uniformInit(n: number, fanIn: number, rng: Rng): Float32Array {
  const b = 1 / Math.sqrt(fanIn), d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (rng.float() * 2 - 1) * b;
  return d;
}

/** The initial value of a tensor (values drawn from rng for weights, in graph order). */
function initValue(node: GraphNode, t: NodeTensor, fanIn: number, rng: Rng): Float32Array {
  const n = size(t.shape), local = t.name.slice(node.id.length + 1);
  switch (node.op) {
    case 'conv': case 'dense':
      if (local === 'alpha' || local === 'wscale') return new Float32Array(n).fill(1);
      return uniformInit(n, fanIn, rng);
    // a gate starts open: its predictor's bias puts every channel at sigmoid(2) ≈ 0.88
    case 'gate': return local === 'bias' ? new Float32Array(n).fill(2) : uniformInit(n, t.shape[1]!, rng);
    case 'bn': return local === 'weight' || local === 'running_var' ? new Float32Array(n).fill(1) : new Float32Array(n);
    case 'neuron': return new Float32Array(n).fill(local === 'decay' ? decayInit(node.neuron) : node.neuron.vth);
    default: return new Float32Array(n);
  }
}

/**
 * Every node's tensors: stored values where given (sizes checked), else initialised in graph order with
 * one generator, as PyTorch would (a conv's moved bias is drawn right after its weight).
 */
function makeTensors(g: ModelGraph, info: GraphInfo, values: TensorValues, rng: Rng): Map<string, { tensors: Map<string, Tensor>; learned: Set<string> }> {
  const out = new Map<string, { tensors: Map<string, Tensor>; learned: Set<string> }>();
  const movedBias = new Map<string, GraphNode>();
  for (const n of g.nodes) if (n.op === 'bias' && n.attrs.of) movedBias.set(n.attrs.of, n);
  const drawn = new Map<string, Float32Array>();
  for (const node of g.nodes) {
    const x = info.inShapes.get(node.id)!;
    const fanIn = node.op === 'conv' ? (x[0]! / node.attrs.groups) * node.attrs.kernel[0] * node.attrs.kernel[1] : size(x);
    const own = { tensors: new Map<string, Tensor>(), learned: new Set<string>() };
    for (const t of tensorsOf(node, info)) {
      const local = t.name.slice(node.id.length + 1);
      const stored = values[t.name];
      let data: Float32Array;
      if (stored) {
        if (stored.length !== size(t.shape)) throw new EdgespikeError(`net: tensor "${t.name}" has ${stored.length} values, node "${node.id}" needs ${fmtShape(t.shape)} = ${size(t.shape)}`);
        data = stored;
      } else {
        data = drawn.get(t.name) ?? initValue(node, t, fanIn, rng);
      }
      own.tensors.set(local, t.kind === 'param' ? parameter(data, t.shape, t.name) : new Tensor(data, t.shape));
      if (t.kind === 'param') own.learned.add(local);
    }
    // a moved bias keeps the draw order of a conv bias: right after the weight
    const moved = movedBias.get(node.id);
    if (moved && !values[`${moved.id}.bias`]) drawn.set(`${moved.id}.bias`, uniformInit(node.op === 'conv' ? node.attrs.out : 0, fanIn, rng));
    out.set(node.id, own);
  }
  return out;
}
