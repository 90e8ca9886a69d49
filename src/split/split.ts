/**
 * EC-SNN's whole split (seed §1.5 B–F, with the paper's Algorithm 1 for the devices):
 *   1. the classes are cut into one subset per device, their sizes differing by at most one;
 *   2. per subset, APoZ on its positive samples, then the filters selected at ζ and the sub-model rebuilt;
 *      sub-models go, largest first, to the smallest free device whose memory (and ops, energy) budget fits;
 *      one that fits nowhere is pruned again at ζ − Δζ, and so on (each sub-model's ζ and why is reported);
 *   3. every sub-model retrains on its resampled data (its classes + "other");
 *   4. the fusion MLP trains on the full data over the frozen sub-models' features;
 *   5. the measures: accuracies (unsplit, fused, fused with each device missing), shrink ratio, ATSAN,
 *      SOPs, energy and latency per device, and the step latency.
 */
import { join } from 'node:path';
import { EdgespikeError } from '../util/errors.js';
import type { Dataset } from '../data/dataset.js';
import { SpikingNet } from '../layers/net.js';
import { cut } from '../layers/edit.js';
import { saveNet } from '../train/model-file.js';
import { evaluate, train } from '../train/trainer.js';
import { latencyReport, runReport, ENERGY_PRESETS } from '../metrics/run.js';
import { graphArchReport } from '../metrics/arch.js';
import { Monitor } from '../metrics/monitor.js';
import { makeBatch } from '../data/batch.js';
import { noGrad } from '../tensor/tape.js';
import { workspace } from '../tensor/storage.js';
import { apoz, convNeurons, otherPerClass, resample, selectFilters, subModel } from './prune.js';
import { buildFusion, concatFeatures, fusedAccuracy, subFeatures, trainFusion, type FeatureSource } from './fusion.js';
import { writeSplit, type DeviceSpec, type SplitManifest } from './manifest.js';

/** Options of runSplit. */
export interface SplitOptions {
  readonly devices: readonly DeviceSpec[];
  /** APoZ threshold ζ in percent (layer l uses (ζ − l)/100). */
  readonly apoz: number;
  readonly minFilters: number;
  /** How much ζ drops each time a sub-model fits no device. */
  readonly deltaZeta: number;
  readonly retrain: { readonly epochs: number; readonly lr: number; readonly batchSize: number };
  readonly fusion: { readonly epochs: number; readonly lr: number; readonly batchSize: number; readonly dropDevices: number };
  readonly seed: number;
  readonly outDir: string;
  readonly dataset: string;
  readonly normalize?: unknown;
  readonly progress?: boolean;
  /** Called with a line of progress ("sub-0: ζ 95 → 38 kB on pi-1"). */
  readonly log?: (line: string) => void;
}

/** What the split measured, as report.json holds it. */
export interface SplitReport {
  readonly dataset: string;
  readonly devices: number;
  readonly unsplit: { readonly accuracy: number; readonly weight_bytes: number; readonly atsan: number; readonly sops: number; readonly energy_uj: number; readonly latency_ms: number };
  readonly fused_accuracy: number;
  readonly fused_accuracy_one_device_missing: { readonly device: string; readonly accuracy: number }[];
  readonly shrink_ratio: number;
  readonly step_latency_ms: number;
  readonly fusion_latency_ms: number;
  readonly submodels: {
    readonly name: string; readonly device: string; readonly classes: readonly number[]; readonly zeta: number; readonly why: string;
    readonly weight_bytes: number; readonly kept_filters: Record<string, number>; readonly accuracy: number; readonly atsan: number;
    readonly sops: number; readonly energy_uj: number; readonly latency_ms: number; readonly device_latency_ms: number;
  }[];
}

/** Classes 0 … C − 1 cut into P consecutive subsets whose sizes differ by at most one. */
export function partitionClasses(classes: number, parts: number): number[][] {
  if (parts < 1 || parts > classes) throw new EdgespikeError(`split: ${parts} devices for ${classes} classes (each device needs at least one class)`);
  const out: number[][] = [];
  let c = 0;
  for (let p = 0; p < parts; p++) {
    const n = Math.floor(classes / parts) + (p < classes % parts ? 1 : 0);
    out.push(Array.from({ length: n }, () => c++));
  }
  return out;
}

/** Weight bytes of a network at float32 (parameters and buffers). */
function weightBytes(net: SpikingNet): number {
  return 4 * Object.values(net.tensorValues()).reduce((a, v) => a + v.length, 0);
}

/** Spikes of the neurons that follow convs, summed over T, per sample (ATSAN). */
function atsan(net: SpikingNet, d: Dataset, limit = 500): number {
  const convNeuronIds = new Set(convNeurons(net).map((p) => p.neuron));
  const mon = new Monitor(net.config.T, { layers: [...convNeuronIds] });
  noGrad(() => {
    for (let b = 0; b < Math.min(limit, d.length); b += 100) {
      const { x } = makeBatch(d, null, b, Math.min(limit, d.length, b + 100));
      workspace(() => net.forward(x, { training: false, monitor: mon.hook }));
    }
  });
  return mon.spikesPerSample();
}

/** Runs the whole split and writes DIR: sub-models, fusion, split.json, report.json. */
export function runSplit(net: SpikingNet, trainSet: Dataset, testSet: Dataset, o: SplitOptions): { manifest: SplitManifest; report: SplitReport } {
  const log = o.log ?? (() => undefined);
  const classes = trainSet.numClasses, P = o.devices.length;
  const subsets = partitionClasses(classes, P);
  const pairs = convNeurons(net);
  if (pairs.length === 0) throw new EdgespikeError('split: the model has no conv layer followed by a neuron; EC-SNN prunes conv filters');
  const convOrder = pairs.map((p) => p.conv), featureAfter = pairs.at(-1)!.neuron;
  const L = otherPerClass(trainSet.length, classes, Math.max(...subsets.map((s) => s.length)));
  // APoZ once per subset (it does not depend on ζ)
  const perSubset = subsets.map((members, i) => {
    const tr = resample(trainSet, members, otherPerClass(trainSet.length, classes, members.length), o.seed + i);
    const te = resample(testSet, members, otherPerClass(trainSet.length, classes, members.length), o.seed + 100 + i);
    const positives = positiveView(tr);
    log(`sub-${i}: classes ${members.join(',')}: ${tr.length} training samples (${positives.length} positive), APoZ …`);
    return { members, train: tr, test: te, apoz: apoz(net, positives, o.retrain.batchSize) };
  });
  void L;
  const build = (i: number, zeta: number) => {
    const keep = selectFilters(perSubset[i]!.apoz, convOrder, zeta, o.minFilters);
    const sub = subModel(net, keep, featureAfter, perSubset[i]!.members.length + 1);
    const macs = graphArchReport(sub.net.graph, {}).total.allMacs * net.config.T;
    return { ...sub, keep, bytes: weightBytes(sub.net), ops: macs, energyJ: (macs * ENERGY_PRESETS.fp32.macPj) / 1e12 };
  };
  // Algorithm 1: largest sub-model first, to the smallest free device it fits, lowering ζ when it fits none
  const initial = perSubset.map((_, i) => build(i, o.apoz));
  const order = initial.map((b, i) => [b.bytes, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
  const free = new Set(o.devices.map((d) => d.name));
  const chosen = new Map<number, { built: ReturnType<typeof build>; device: DeviceSpec; zeta: number; why: string }>();
  for (const i of order) {
    let zeta = o.apoz, built = initial[i]!, lowered = '';
    for (;;) {
      const fits = o.devices.filter((d) => free.has(d.name) && built.bytes <= d.memory_bytes && (d.ops === undefined || built.ops <= d.ops) && (d.energy_j === undefined || built.energyJ <= d.energy_j))
        .sort((a, b) => a.memory_bytes - b.memory_bytes);
      if (fits.length) {
        const device = fits[0]!;
        free.delete(device.name);
        const why = `${lowered}fits ${device.name}: ${built.bytes} of ${device.memory_bytes} bytes${device.ops ? `, ${built.ops.toExponential(2)} of ${device.ops.toExponential(2)} ops` : ''}`;
        chosen.set(i, { built, device, zeta, why });
        log(`sub-${i}: ζ ${zeta} → ${built.bytes} bytes on ${device.name}`);
        break;
      }
      const largest = Math.max(0, ...o.devices.filter((d) => free.has(d.name)).map((d) => d.memory_bytes));
      if (zeta - o.deltaZeta < 0) throw new EdgespikeError(`split: sub-model ${i} (classes ${perSubset[i]!.members.join(',')}) needs ${built.bytes} bytes even at ζ ${zeta}; the largest free device has ${largest}`);
      lowered = `${built.bytes} bytes at ζ ${zeta} fit no free device (largest ${largest}); `;
      zeta -= o.deltaZeta;
      built = build(i, zeta);
    }
  }
  // retrain each sub-model on its classes + "other"
  const subs: { name: string; net: SpikingNet; featureNode: string; accuracy: number }[] = [];
  for (let i = 0; i < P; i++) {
    const c = chosen.get(i)!, s = perSubset[i]!;
    log(`sub-${i}: retraining on ${s.train.length} samples`);
    const hist = train(c.built.net, s.train, s.test, {
      epochs: o.retrain.epochs, batchSize: o.retrain.batchSize, optim: { kind: 'adam', lr: o.retrain.lr }, schedule: { kind: 'cosine', epochs: o.retrain.epochs },
      loss: { kind: 'tet', lambda: 0 }, seed: o.seed + i, progress: o.progress,
    });
    subs.push({ name: `sub-${i}`, net: c.built.net, featureNode: c.built.featureNode, accuracy: hist.at(-1)?.test_accuracy ?? evaluate(c.built.net, s.test).accuracy });
  }
  // the fusion over the frozen sub-models' features
  const sources: FeatureSource[] = subs.map((s) => ({ net: s.net, featureNode: s.featureNode }));
  const featureSizes = subs.map((s) => s.net.info.shapes.get(s.featureNode)!.reduce((a, b) => a * b, 1));
  const fusion = buildFusion(P, featureSizes.reduce((a, b) => a + b, 0), classes, net.config.T, o.seed);
  log(`fusion: D = ${featureSizes.reduce((a, b) => a + b, 0)} features from ${P} sub-models`);
  trainFusion(fusion, sources, trainSet, null, { ...o.fusion, seed: o.seed, progress: o.progress });
  // files
  subs.forEach((s, i) => saveNet(join(o.outDir, `${s.name}.es`), s.net, { dataset: o.dataset, normalize: o.normalize, split: { classes: perSubset[i]!.members, feature_node: s.featureNode } }));
  saveNet(join(o.outDir, 'fusion.es'), fusion, { dataset: o.dataset, normalize: o.normalize });
  const manifest = writeSplit(o.outDir, {
    dataset: o.dataset, input: net.graph.input, classes, T: net.config.T, ...(trainSet.classNames ? { classNames: trainSet.classNames } : {}),
    ...(o.normalize !== undefined ? { normalize: o.normalize } : {}),
    submodels: subs.map((s, i) => ({
      name: s.name, file: `${s.name}.es`, classes: perSubset[i]!.members, feature_node: s.featureNode, feature_size: featureSizes[i]!,
      device: chosen.get(i)!.device.name, zeta: chosen.get(i)!.zeta, memory_bytes: chosen.get(i)!.built.bytes,
    })),
    devices: o.devices, fusion: { file: 'fusion.es' },
  });
  // measures
  log('measuring: accuracies, ATSAN, SOPs, energy, latency');
  const fused = fusedAccuracy(fusion, sources, testSet);
  const missing = o.devices.length > 1 ? subs.map((s, i) => ({ device: chosen.get(i)!.device.name, accuracy: fusedAccuracy(fusion, sources, testSet, new Set([i])) })) : [];
  const unsplitRun = runReport(net, testSet, { limit: 500 });
  const unsplit = {
    accuracy: evaluate(net, testSet).accuracy, weight_bytes: weightBytes(net), atsan: atsan(net, testSet), sops: unsplitRun.sopsEcSnn,
    energy_uj: unsplitRun.energyUj, latency_ms: latencyReport(net, testSet, 50).p50,
  };
  const fusionLatency = fusionLatencyMs(fusion, sources, testSet);
  const rows = subs.map((s, i) => {
    const c = chosen.get(i)!, features = cut(s.net, s.featureNode).features;
    const r = runReport(features, testSet, { limit: 500 }), lat = latencyReport(features, testSet, 50).p50;
    return {
      name: s.name, device: c.device.name, classes: perSubset[i]!.members, zeta: c.zeta, why: c.why, weight_bytes: c.built.bytes,
      kept_filters: Object.fromEntries([...c.built.keep].map(([k, v]) => [k, v.length])), accuracy: s.accuracy, atsan: atsan(features, testSet),
      sops: r.sopsEcSnn, energy_uj: r.energyUj, latency_ms: lat, device_latency_ms: lat / (c.device.speed ?? 1),
    };
  });
  const report: SplitReport = {
    dataset: o.dataset, devices: P, unsplit, fused_accuracy: fused, fused_accuracy_one_device_missing: missing,
    shrink_ratio: 1 - Math.max(...rows.map((r) => r.weight_bytes)) / unsplit.weight_bytes,
    step_latency_ms: Math.max(...rows.map((r) => r.device_latency_ms)) + fusionLatency, fusion_latency_ms: fusionLatency, submodels: rows,
  };
  return { manifest, report };
}

/** The samples of a resampled set whose label is not "other". */
function positiveView(d: Dataset): Dataset {
  const index: number[] = [];
  for (let i = 0; i < d.length; i++) if (d.label(i) !== 0) index.push(i);
  return { ...d, name: `${d.name}+`, length: index.length, label: (i) => d.label(index[i]!), read: (i, out, off) => d.read(index[i]!, out, off) };
}

/** Batch-1 time of the fusion on one sample's features, median of 50 runs (ms). */
function fusionLatencyMs(fusion: SpikingNet, subs: readonly FeatureSource[], d: Dataset): number {
  const { x } = makeBatch(d, null, 0, 1);
  const parts = subFeatures(subs, x);
  const times: number[] = [];
  noGrad(() => {
    for (let r = 0; r < 60; r++) {
      const t0 = performance.now();
      workspace(() => fusion.forward(concatFeatures(parts), { training: false, form: 'time' }));
      if (r >= 10) times.push(performance.now() - t0);
    }
  });
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
