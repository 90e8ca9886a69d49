/**
 * Accounting from a run on data: firing rates, spikes per sample, synaptic operations in both seed
 * conventions, MACs versus ACs, FLOPs reduction against the dense network, and energy
 * E = MACs·E_MAC + ACs·E_AC (defaults 4.6 / 0.9 pJ, 32-bit float at 45 nm; presets fp16, int8).
 *
 * - ACs are the accumulates a spike-fed layer really performs: every active input adds its weights
 *   to each output it reaches (fan-out at its position × output channels per group).
 * - SOPs, EC-SNN convention: dense MACs per step × input firing rate, summed over T (uses each
 *   layer's own output size).
 * - SOPs, Scatter-and-Gather convention: the accumulates actually done, first layer and readout
 *   excluded (its README's rule), times an optional factor (its 2·2^k·B sub-neurons; 1 for LIF).
 * - MACs: layers fed by analog values; a static (direct) input is processed once, not T times.
 */
import type { Tensor } from '../tensor/tensor.js';
import { workspace } from '../tensor/storage.js';
import { noGrad } from '../tensor/tape.js';
import type { Dataset } from '../data/dataset.js';
import { makeBatch } from '../data/batch.js';
import { argmaxRows } from '../ops/reduce.js';
import { EdgespikeError } from '../util/errors.js';
import { Rng } from '../data/rng.js';
import { Conv, Dense, type Layer } from '../layers/layers.js';
import type { SpikingNet } from '../layers/net.js';
import { ancestors } from '../graph/graph.js';
import { Monitor } from './monitor.js';

/** Energy per operation in picojoules. */
export interface EnergyModel { readonly name: string; readonly macPj: number; readonly acPj: number }

/** The usual constants (45 nm): 32-bit float, 16-bit float, 8-bit integer. */
export const ENERGY_PRESETS = {
  fp32: { name: 'fp32', macPj: 4.6, acPj: 0.9 },
  fp16: { name: 'fp16', macPj: 1.5, acPj: 0.4 },
  int8: { name: 'int8', macPj: 0.23, acPj: 0.03 },
} satisfies Record<string, EnergyModel>;

/** Per weighted layer, per sample (summed over T). */
export interface LayerOps {
  readonly layer: string;
  readonly kind: 'conv' | 'dense';
  readonly role: 'first' | 'hidden' | 'readout';
  readonly input: 'static' | 'analog' | 'spikes';
  /** Fraction of non-zero input values (over samples and steps). */
  readonly inputRate: number;
  /** Dense MACs of one time step. */
  readonly macsPerStep: number;
  readonly macs: number;
  readonly acs: number;
  readonly sopsEcSnn: number;
  readonly energyPj: number;
}

/** Whole-network figures, per sample. */
export interface RunReport {
  readonly samples: number;
  readonly T: number;
  readonly accuracy: number;
  readonly layers: LayerOps[];
  /** Firing rate per neuron layer and step. */
  readonly firingRates: Record<string, number[]>;
  readonly spikesPerSample: number;
  readonly macs: number;
  readonly acs: number;
  readonly sopsEcSnn: number;
  readonly sopsScatterGather: number;
  /** Dense MACs of the same network over T steps (every layer, every step). */
  readonly denseMacsT: number;
  /** denseMacsT / (macs + acs). */
  readonly flopsReduction: number;
  readonly energy: EnergyModel;
  readonly energyUj: number;
  /** Energy of the equivalent ANN (dense MACs of one step). */
  readonly annEnergyUj: number;
  /** Gated layers (SpQuant-SNN's sparse activations), when the network has gates. */
  readonly gates?: GateOps[];
  /** SpQuant-SNN's FLOPs reduction over the gated layers: dense / sparse (gate cost included). */
  readonly gatedFlopsReduction?: number;
}

/**
 * One gated layer, per sample over T steps: dense FLOPs (every channel: conv MACs and membrane updates),
 * sparse FLOPs (active channels' conv MACs, their non-zero membrane updates, and the predictor).
 */
export interface GateOps {
  readonly gate: string;
  readonly conv: string;
  /** Fraction of (sample, step, channel) entries the gate kept. */
  readonly activeFraction: number;
  /** Fraction of exactly-zero membranes after integration, per step. */
  readonly zeroMembrane: number[];
  readonly denseFlops: number;
  readonly sparseFlops: number;
}

/** Options of runReport. */
export interface RunOptions {
  readonly limit?: number;
  readonly batchSize?: number;
  readonly energy?: EnergyModel;
  /** Scatter-and-Gather factor 2·2^k·B (1 for ordinary spiking neurons). */
  readonly sgFactor?: number;
}

/** Fan-out of every input position of a conv: how many (output position, kernel tap) pairs it reaches. */
export function convFanOut(c: Conv, h: number, w: number): Int32Array {
  const { kernel: [kh, kw], stride: [sh, sw], pad: [ph, pw] } = c.node.attrs;
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1, ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  const f = new Int32Array(h * w);
  for (let oy = 0; oy < oh; oy++) for (let ky = 0; ky < kh; ky++) {
    const iy = oy * sh - ph + ky;
    if (iy < 0 || iy >= h) continue;
    for (let ox = 0; ox < ow; ox++) for (let kx = 0; kx < kw; kx++) {
      const ix = ox * sw - pw + kx;
      if (ix >= 0 && ix < w) f[iy * w + ix]!++;
    }
  }
  return f;
}

interface Acc { layer: Layer; role: LayerOps['role']; input: LayerOps['input']; nz: number; total: number; macsPerStep: number; acs: number; macs: number }

function account(acc: Acc, x: Tensor, y: Tensor, staticIn: boolean, T: number): void {
  const X = x.data;
  let nz = 0;
  for (let i = 0; i < X.length; i++) if (X[i] !== 0) nz++;
  acc.nz += nz; acc.total += X.length * (staticIn ? T : 1);
  if (staticIn) acc.nz += nz * (T - 1);
  const rows = y.shape[0]!; // N (static) or T·N
  const perRowOut = y.size / rows;
  if (acc.layer instanceof Conv) {
    const c = acc.layer, [, cin, h, w] = x.shape as [number, number, number, number], a = c.node.attrs;
    acc.macsPerStep = perRowOut * (cin / a.groups) * a.kernel[0] * a.kernel[1];
    if (!x.binary) { acc.macs += acc.macsPerStep * rows; return; }
    const f = convFanOut(c, h, w), perCh = a.out / a.groups;
    for (let i = 0; i < X.length; i++) if (X[i] !== 0) acc.acs += f[i % (h * w)]! * perCh;
  } else if (acc.layer instanceof Dense) {
    const nIn = acc.layer.nIn, nOut = acc.layer.weight.shape[0]!;
    acc.macsPerStep = nIn * nOut;
    if (!x.binary) { acc.macs += acc.macsPerStep * rows; return; }
    acc.acs += nz * nOut;
  }
}

/** Runs `net` on the first `limit` samples of `data` and accounts for what it computed. */
export function runReport(net: SpikingNet, data: Dataset, o: RunOptions = {}): RunReport {
  const n = Math.min(o.limit ?? data.length, data.length);
  if (n < 1) throw new EdgespikeError('runReport: the data set is empty');
  const T = net.config.T, bs = o.batchSize ?? 128, energy = o.energy ?? ENERGY_PRESETS.fp32;
  net.checkMemory(Math.min(bs, n), { training: false, temporal: data.temporal, fix: 'lower --timesteps' });
  const weighted = net.layers.filter((l) => l instanceof Conv || l instanceof Dense);
  const accs = new Map<Layer, Acc>(weighted.map((l, i) => [l, {
    layer: l, role: i === 0 ? 'first' : i === weighted.length - 1 ? 'readout' : 'hidden', input: 'analog', nz: 0, total: 0, macsPerStep: 0, acs: 0, macs: 0,
  }]));
  const mon = new Monitor(T);
  const gates = gateAccounts(net, T);
  const hook: typeof mon.hook = (layer, spikes, h) => { mon.hook(layer, spikes, h); gates.membrane(layer, spikes, h); };
  let correct = 0;
  noGrad(() => {
    for (let b = 0; b < n; b += bs) {
      const { x, y } = makeBatch(data, null, b, Math.min(n, b + bs));
      const pred = workspace(() => argmaxRows(net.forward(x, {
        training: false, monitor: hook, onGate: gates.onGate,
        onLayer: (l, x, yy, st) => {
          const a = accs.get(l);
          if (!a) return;
          a.input = x.binary ? 'spikes' : st ? 'static' : 'analog';
          account(a, x, yy, st, T);
        },
      }).logits));
      for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) correct++;
    }
  });
  const layers: LayerOps[] = [...accs.values()].map((a) => ({
    layer: a.layer.name, kind: a.layer instanceof Conv ? 'conv' : 'dense', role: a.role, input: a.input,
    inputRate: a.total ? a.nz / a.total : 0, macsPerStep: a.macsPerStep, macs: a.macs / n, acs: a.acs / n,
    sopsEcSnn: a.macsPerStep * (a.total ? a.nz / a.total : 0) * T,
    energyPj: (a.macs / n) * energy.macPj + (a.acs / n) * energy.acPj,
  }));
  const sum = (f: (l: LayerOps) => number, which = layers) => which.reduce((s, l) => s + f(l), 0);
  const macs = sum((l) => l.macs), acs = sum((l) => l.acs), dense = sum((l) => l.macsPerStep);
  return {
    samples: n, T, accuracy: correct / n, layers, firingRates: mon.firingRates(), spikesPerSample: mon.spikesPerSample(),
    macs, acs, sopsEcSnn: sum((l) => l.sopsEcSnn),
    sopsScatterGather: sum((l) => l.acs, layers.filter((l) => l.role === 'hidden')) * (o.sgFactor ?? 1),
    denseMacsT: dense * T, flopsReduction: (dense * T) / Math.max(macs + acs, 1e-9), energy,
    energyUj: (macs * energy.macPj + acs * energy.acPj) / 1e6, annEnergyUj: (dense * energy.macPj) / 1e6,
    ...gates.report(n),
  };
}

/**
 * The accounting of gated layers. Per gate: its conv (C_in, k², output plane), the neuron it feeds
 * (plane), the kept channels per step (from the masks), the zero membranes per step (from the monitor).
 *   dense  = Σ_t N·(C_out·HW_conv·C_in·k² + C_out·HW_neuron)
 *   sparse = Σ_t (kept_t·HW_conv·C_in·k² + kept_t·HW_neuron·(1 − z_t)) + rows·2·C_side·C_out
 */
function gateAccounts(net: SpikingNet, T: number) {
  interface G { id: string; conv: string; neuron: string; cin: number; k2: number; cout: number; convPlane: number; neuronPlane: number; side: number;
    kept: Float64Array; rows: number; zeros: Float64Array; cells: Float64Array }
  const list: G[] = [];
  for (const g of net.graph.nodes) {
    if (g.op !== 'gate') continue;
    const conv = net.graph.nodes.find((c) => c.op === 'conv' && c.inputs[0] === g.side![0] && ancestorsHas(net, g.id, c.id));
    const neuron = (net.info.consumers.get(g.id) ?? []).find((c) => net.info.byId.get(c)?.op === 'neuron');
    if (!conv || conv.op !== 'conv' || !neuron) continue;
    const xin = net.info.inShapes.get(conv.id)!, out = net.info.shapes.get(conv.id)!, nshape = net.info.shapes.get(neuron)!;
    list.push({ id: g.id, conv: conv.id, neuron, cin: xin[0]! / conv.attrs.groups, k2: conv.attrs.kernel[0] * conv.attrs.kernel[1], cout: out[0]!,
      convPlane: out[1]! * out[2]!, neuronPlane: nshape.slice(1).reduce((a, b) => a * b, 1), side: net.info.sideShapes.get(g.id)![0]![0]!,
      kept: new Float64Array(T), rows: 0, zeros: new Float64Array(T), cells: new Float64Array(T) });
  }
  const byGate = new Map(list.map((g) => [g.id, g])), byNeuron = new Map(list.map((g) => [g.neuron, g]));
  return {
    onGate: list.length === 0 ? undefined : (id: string, mask: Uint8Array, rows: number, C: number, isStatic: boolean): void => {
      const g = byGate.get(id);
      if (!g) return;
      const N = isStatic ? rows : rows / T;
      for (let r = 0; r < rows; r++) {
        let k = 0;
        for (let c = 0; c < C; c++) k += mask[r * C + c]!;
        if (isStatic) for (let t = 0; t < T; t++) g.kept[t]! += k;
        else g.kept[Math.floor(r / N)]! += k;
      }
      g.rows += isStatic ? rows * T : rows;
    },
    membrane: (layer: string, _spikes: unknown, h: Float32Array): void => {
      const g = byNeuron.get(layer);
      if (!g || h.length === 0) return;
      const per = h.length / T;
      for (let t = 0; t < T; t++) {
        let z = 0;
        for (let i = t * per; i < (t + 1) * per; i++) if (h[i] === 0) z++;
        g.zeros[t]! += z; g.cells[t]! += per;
      }
    },
    report(n: number): { gates?: GateOps[]; gatedFlopsReduction?: number } {
      if (list.length === 0) return {};
      let dAll = 0, sAll = 0;
      const gates = list.map((g): GateOps => {
        let dense = 0, sparse = 0;
        for (let t = 0; t < T; t++) {
          const z = g.cells[t] ? g.zeros[t]! / g.cells[t]! : 0;
          dense += n * (g.cout * g.convPlane * g.cin * g.k2 + g.cout * g.neuronPlane);
          sparse += g.kept[t]! * g.convPlane * g.cin * g.k2 + g.kept[t]! * g.neuronPlane * (1 - z);
        }
        sparse += g.rows * 2 * g.side * g.cout;
        dAll += dense; sAll += sparse;
        const kept = g.kept.reduce((a, b) => a + b, 0);
        return { gate: g.id, conv: g.conv, activeFraction: kept / Math.max(1, n * T * g.cout), zeroMembrane: Array.from(g.zeros, (z, t) => (g.cells[t] ? z / g.cells[t]! : 0)), denseFlops: dense / n, sparseFlops: sparse / n };
      });
      return { gates, gatedFlopsReduction: dAll / Math.max(sAll, 1e-9) };
    },
  };
}

function ancestorsHas(net: SpikingNet, of: string, id: string): boolean {
  return ancestors(net.graph, of).has(id);
}

/** Batch-1 latency p50/p95 (ms) and mean time per top-level layer, on this machine. */
export function latencyReport(net: SpikingNet, data: Dataset, runs = 100): { p50: number; p95: number; perLayerMs: Record<string, number> } {
  const per: Record<string, number> = {}, times: number[] = [];
  noGrad(() => {
    for (let r = 0; r < runs + 10; r++) {
      const { x } = makeBatch(data, null, r % data.length, (r % data.length) + 1);
      let last = performance.now();
      const t0 = last;
      workspace(() => {
        net.forward(x, {
          training: false,
          onLayer: (l) => { const now = performance.now(); if (r >= 10) per[l.name] = (per[l.name] ?? 0) + now - last; last = now; },
        });
      });
      if (r >= 10) times.push(performance.now() - t0);
    }
  });
  times.sort((a, b) => a - b);
  for (const k of Object.keys(per)) per[k]! /= runs;
  return { p50: times[Math.floor(runs * 0.5)]!, p95: times[Math.min(runs - 1, Math.floor(runs * 0.95))]!, perLayerMs: per };
}

/** Scatter-and-Gather's logs of a converted network: per test batch, as its figs/k{k}B{B}/ files hold them. */
export interface ScatterReport {
  readonly samples: number;
  readonly accuracy: number;
  /** Per batch: spikes of every scatter layer, the encoder's included (spike_num.txt). */
  readonly spikesPerBatch: number[];
  /** Per batch: SOPs of the hidden convs, Σ im2col(input counts)·C_out·2·levels (sop_num.txt). */
  readonly sopsPerBatch: number[];
  /** Per batch: correct predictions (accuracy.txt). */
  readonly correctPerBatch: number[];
  /** Means per image. */
  readonly spikesPerImage: number;
  readonly sopsPerImage: number;
  /** Per scatter layer: mean spikes per image. */
  readonly layerSpikes: Record<string, number>;
  /** The predictions, for comparisons. */
  readonly predictions: Int32Array;
}

/**
 * Runs a converted (scatter) network on `data` in batches and logs what the seed logs. `dropRatio` drops
 * each spike of the first scatter layer with that probability (seeded by `seed`).
 */
export function scatterReport(net: SpikingNet, data: Dataset, o: { limit?: number; batchSize?: number; dropRatio?: number; seed?: number } = {}): ScatterReport {
  const n = Math.min(o.limit ?? data.length, data.length);
  if (n < 1) throw new EdgespikeError('scatterReport: the data set is empty');
  const scatters = net.graph.nodes.filter((x) => x.op === 'scatter');
  if (scatters.length === 0) throw new EdgespikeError('scatterReport: the network has no scatter layer (convert a quantized ANN first)');
  const convs = net.layers.filter((l): l is Conv => l instanceof Conv);
  const hidden = new Set(convs.slice(1).map((l) => l.name));
  const levelsOf = new Map(scatters.map((x) => [x.id, x.op === 'scatter' ? x.attrs.levels : 1]));
  const bs = o.batchSize ?? 200;
  net.checkMemory(Math.min(bs, n), { training: false });
  const out: { spikes: number[]; sops: number[]; correct: number[] } = { spikes: [], sops: [], correct: [] };
  const layerSpikes: Record<string, number> = {};
  const predictions = new Int32Array(n);
  const rng = new Rng(o.seed ?? 1);
  noGrad(() => {
    for (let b = 0; b < n; b += bs) {
      const { x, y } = makeBatch(data, null, b, Math.min(n, b + bs));
      let spikes = 0, sops = 0;
      const pred = workspace(() => argmaxRows(net.forward(x, {
        training: false, rng,
        ...(o.dropRatio ? { dropSpikes: { node: scatters[0]!.id, ratio: o.dropRatio } } : {}),
        onLayer: (l, xin, yout) => {
          if (l.node.op === 'scatter') {
            let s = 0;
            for (let i = 0; i < yout.size; i++) s += yout.data[i]!;
            spikes += s;
            layerSpikes[l.name] = (layerSpikes[l.name] ?? 0) + s;
          } else if (l instanceof Conv && hidden.has(l.name)) {
            // every input spike reaches fan-out(position)·C_out synapses, on 2 sides of 2^k·B sub-neurons
            const [, , h, w] = xin.shape as [number, number, number, number];
            const f = convFanOut(l, h, w), levels = levelsOf.get(l.node.inputs[0]!) ?? 1;
            let reach = 0;
            for (let i = 0; i < xin.size; i++) if (xin.data[i] !== 0) reach += xin.data[i]! * f[i % (h * w)]!;
            sops += reach * l.node.attrs.out * 2 * levels;
          }
        },
      }).logits));
      let correct = 0;
      for (let i = 0; i < y.length; i++) { predictions[b + i] = pred[i]!; if (pred[i] === y[i]) correct++; }
      out.spikes.push(spikes); out.sops.push(sops); out.correct.push(correct);
    }
  });
  const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);
  for (const k of Object.keys(layerSpikes)) layerSpikes[k]! /= n;
  return {
    samples: n, accuracy: sum(out.correct) / n, spikesPerBatch: out.spikes, sopsPerBatch: out.sops, correctPerBatch: out.correct,
    spikesPerImage: sum(out.spikes) / n, sopsPerImage: sum(out.sops) / n, layerSpikes, predictions,
  };
}
