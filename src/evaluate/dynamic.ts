/**
 * SNN_Eval's components (the seed publishes no code; these build what its README describes):
 *
 * - Dynamic coding: a per-sample adaptive T. The readout is taken after every step (the aggregate of the
 *   steps so far); a sample exits at the first step whose margin (top logit − second) reaches θ, else at T.
 *   θ is calibrated on held-out training samples: the smallest that keeps their accuracy within a target
 *   loss of the full-T accuracy. The network is causal, so the exit step's answer is what a runtime that
 *   stops there gives; its spikes are those of the steps up to the exit.
 * - Dynamic correction: post-training calibration for a lower T. Layer by layer, each neuron layer's
 *   per-channel thresholds are scaled so its firing rates at the low T match those at the trained T on a few
 *   hundred training samples, and a batch norm before it has its shift corrected by the drift of the mean
 *   input.
 * - Co-optimization: a spike-count regularizer (the layers' spikes per neuron, weighted, added to the
 *   loss) and a T schedule while training, and a search over T and the regularizer weight that keeps the
 *   Pareto front of accuracy, T and spikes.
 */
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../tensor/tape.js';
import { workspace } from '../tensor/storage.js';
import * as op from '../ops/index.js';
import { makeBatch } from '../data/batch.js';
import type { Dataset } from '../data/dataset.js';
import { EdgespikeError } from '../util/errors.js';
import { aggregateSteps, type SpikingNet } from '../layers/net.js';
import { replaceNeuron } from '../layers/edit.js';

/** Per-sample logits after each step: [T][N·C], from a forward pass's per-step readout. */
function cumulativeLogits(net: SpikingNet, steps: Tensor): Float32Array[] {
  const T = steps.shape[0]!;
  const out: Float32Array[] = [];
  for (let t = 1; t <= T; t++) {
    // the readout the network would give had it run t steps: its own aggregation of the first t
    out.push(aggregateSteps(op.slice(steps, 0, 0, t), net.config.readout, net.config.readoutBeta).data.slice());
  }
  return out;
}

/** Top-1 class and margin (top − second) of each row of logits [N·C]. */
function topMargin(l: Float32Array, N: number, C: number): { cls: Int32Array; margin: Float32Array } {
  const cls = new Int32Array(N), margin = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    let a = -Infinity, b = -Infinity, k = 0;
    for (let c = 0; c < C; c++) {
      const v = l[i * C + c]!;
      if (v > a) { b = a; a = v; k = c; } else if (v > b) b = v;
    }
    cls[i] = k; margin[i] = C > 1 ? a - b : Infinity;
  }
  return { cls, margin };
}

/** Per sample: the prediction and margin after every step, and its spikes per step. */
export interface StepTrace {
  readonly T: number;
  readonly labels: Int32Array;
  /** [T][N] */
  readonly cls: Int32Array[];
  readonly margin: Float32Array[];
  /** Spikes of sample i at step t: [T][N]. */
  readonly spikes: Float64Array[];
}

/** Runs the network on `d` and keeps every sample's prediction, margin and spikes after each step. */
export function traceSteps(net: SpikingNet, d: Dataset, batchSize = 250): StepTrace {
  const T = net.config.T, n = d.length;
  const cls = Array.from({ length: T }, () => new Int32Array(n)), margin = Array.from({ length: T }, () => new Float32Array(n));
  const spikes = Array.from({ length: T }, () => new Float64Array(n)), labels = new Int32Array(n);
  noGrad(() => {
    for (let b = 0; b < n; b += batchSize) {
      const { x, y } = makeBatch(d, null, b, Math.min(n, b + batchSize));
      const N = y.length;
      labels.set(y, b);
      workspace(() => {
        const out = net.forward(x, {
          training: false,
          monitor: (_layer, s) => {
            const m = s.size / (T * N), S = s.data;
            for (let t = 0; t < T; t++) for (let i = 0; i < N; i++) {
              let c = 0;
              for (let j = (t * N + i) * m, e = j + m; j < e; j++) c += S[j]!;
              spikes[t]![b + i]! += c;
            }
          },
        });
        const C = out.steps.shape[2]!;
        cumulativeLogits(net, out.steps).forEach((l, t) => {
          const r = topMargin(l, N, C);
          cls[t]!.set(r.cls, b); margin[t]!.set(r.margin, b);
        });
      });
    }
  });
  return { T, labels, cls, margin, spikes };
}

/** What an exit threshold gives on a trace: accuracy, mean T and spikes per sample. */
export interface ExitResult { readonly theta: number; readonly accuracy: number; readonly meanT: number; readonly spikesPerSample: number }

/** Each sample exits at the first step whose margin reaches θ (else at T). */
export function exitAt(trace: StepTrace, theta: number): ExitResult {
  const n = trace.labels.length;
  let correct = 0, steps = 0, spikes = 0;
  for (let i = 0; i < n; i++) {
    let t = 0;
    while (t < trace.T - 1 && !(trace.margin[t]![i]! >= theta)) t++;
    if (trace.cls[t]![i] === trace.labels[i]) correct++;
    steps += t + 1;
    for (let u = 0; u <= t; u++) spikes += trace.spikes[u]![i]!;
  }
  return { theta, accuracy: correct / Math.max(1, n), meanT: steps / Math.max(1, n), spikesPerSample: spikes / Math.max(1, n) };
}

/**
 * The exit threshold: the smallest θ among the held-out margins whose accuracy stays within `loss`
 * (a fraction, 0.002 = 0.2 points) of the full-T accuracy on the held-out trace, or of `reference` (the
 * held-out accuracy of another network, e.g. the one before a correction, so both share one budget).
 * Infinity (no early exit) when no θ reaches it.
 */
export function calibrateExit(heldOut: StepTrace, loss: number, reference?: number): number {
  const full = reference ?? exitAt(heldOut, Infinity).accuracy;
  if (exitAt(heldOut, Infinity).accuracy < full - loss) return Infinity;
  const candidates = [...new Set(heldOut.margin.flatMap((m) => Array.from(m)).filter(Number.isFinite))].sort((a, b) => a - b);
  // accuracy grows with θ (later exits), so bisect over the sorted candidates
  let lo = 0, hi = candidates.length; // answer in [lo, hi]; hi = no early exit
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (exitAt(heldOut, candidates[mid]!).accuracy >= full - loss) hi = mid; else lo = mid + 1;
  }
  return lo < candidates.length ? candidates[lo]! : Infinity;
}

/** Per-channel firing rates of every neuron layer on `d` (spikes per neuron per step, per channel). */
function channelRates(net: SpikingNet, d: Dataset, batchSize = 100): Map<string, Float64Array> {
  const T = net.config.T, sums = new Map<string, { s: Float64Array; n: number }>();
  noGrad(() => {
    for (let b = 0; b < d.length; b += batchSize) {
      const { x } = makeBatch(d, null, b, Math.min(d.length, b + batchSize));
      workspace(() => net.forward(x, {
        training: false,
        monitor: (layer, s) => {
          const rows = s.shape[0]!, C = s.shape[1] ?? 1, plane = s.size / (rows * C), S = s.data;
          const acc = sums.get(layer) ?? { s: new Float64Array(C), n: 0 };
          for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) {
            let k = 0;
            for (let p = (r * C + c) * plane, e = p + plane; p < e; p++) k += S[p]!;
            acc.s[c]! += k;
          }
          acc.n += rows * plane;
          sums.set(layer, acc);
        },
      }));
    }
  });
  void T;
  const out = new Map<string, Float64Array>();
  for (const [k, v] of sums) out.set(k, v.s.map((x) => x / Math.max(1, v.n)));
  return out;
}

/**
 * Dynamic correction: the network at `T`, its neuron layers given per-channel thresholds scaled, layer
 * after layer, so that their firing rates on `calib` match the rates of `reference` (default: `net` at
 * its own T). Event data is framed for a T, so `lowCalib` gives the same samples framed into `T` steps
 * for the network at `T` (default: `calib`).
 */
export function correctThresholds(net: SpikingNet, calib: Dataset, T: number, o: { rounds?: number; reference?: SpikingNet; lowCalib?: Dataset } = {}): SpikingNet {
  if (calib.length === 0) throw new EdgespikeError('correction: no calibration samples');
  const rounds = o.rounds ?? 3;
  const reference = channelRates(o.reference ?? net, calib);
  const lowCalib = o.lowCalib ?? calib;
  let low = net.withConfig({ T });
  for (const n of low.graph.nodes) {
    if (n.op === 'neuron' && n.attrs.threshold === 'scalar' && !n.neuron.learnThreshold && !n.neuron.membrane) {
      low = replaceNeuron(low, n.id, {}, { threshold: 'channel' });
    }
  }
  for (const layer of low.graph.nodes.filter((n) => n.op === 'neuron')) {
    const want = reference.get(layer.id);
    const vth = low.tensorValues()[`${layer.id}.vth`];
    if (!want || !vth) continue;
    for (let r = 0; r < rounds; r++) {
      const got = channelRates(low, lowCalib).get(layer.id)!;
      for (let c = 0; c < vth.length; c++) {
        const g = got[c]!, w = want[c]!;
        if (w === 0 && g === 0) continue;
        // fewer spikes than wanted: a lower threshold; the ratio is damped and bounded per round
        const ratio = Math.min(2, Math.max(0.5, Math.sqrt((g + 1e-3) / (w + 1e-3))));
        vth[c] = vth[c]! * ratio;
      }
    }
  }
  return low;
}

/** A point of the accuracy / T / spikes trade-off. */
export interface ParetoPoint { readonly T: number; readonly lambda: number; readonly accuracy: number; readonly spikesPerSample: number }

/** The points no other point beats on all of accuracy (higher), T (lower) and spikes (fewer); extra fields are kept. */
export function paretoFront<P extends Omit<ParetoPoint, 'lambda'>>(points: readonly P[]): P[] {
  const beats = (a: P, b: P): boolean =>
    a.accuracy >= b.accuracy && a.T <= b.T && a.spikesPerSample <= b.spikesPerSample && (a.accuracy > b.accuracy || a.T < b.T || a.spikesPerSample < b.spikesPerSample);
  return points.filter((p) => !points.some((q) => beats(q, p))).sort((a, b) => a.T - b.T || b.accuracy - a.accuracy);
}
