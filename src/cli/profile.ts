/**
 * `edgespike profile`: what a network costs. From the architecture alone (a zoo name or a spec and an
 * input shape): neurons, parameters, MACs, weight and membrane memory at any bit width. From a model
 * file and data: firing rates, spikes, SOPs, ACs vs MACs, FLOPs reduction, energy, latency.
 */
import { defineCommand } from 'citty';
import { EdgespikeError } from '../util/errors.js';
import { zooNames } from '../models/zoo.js';
import { resolveModel } from './_model.js';
import type { ModelSpec } from '../notation/spec.js';
import type { ModelGraph } from '../graph/graph.js';
import { archReport, graphArchReport, formatArchTable, megabytes, mbTrunc2, ARCH_CONVENTIONS, type ArchConventionName, type ArchReport } from '../metrics/arch.js';
import { runReport, latencyReport, ENERGY_PRESETS, type EnergyModel, type RunReport } from '../metrics/run.js';
import { loadNet } from '../train/model-file.js';
import { modelPath } from '../models/pretrained.js';
import type { SpikingNet } from '../layers/net.js';
import { statSync } from 'node:fs';
import { checkFlags, given, choice, num, optNum, printJson } from './_args.js';
import { loadDataset } from './_data.js';

/** The accounting convention each zoo model's paper uses. */
const ZOO_CONVENTION: Partial<Record<string, ArchConventionName>> = {
  'vgg9-48': 'spquant', resnet19: 'spquant', 'sg-lenet': 'sg-lenet', 'sg-vgg': 'sg-vgg', vgg9: 'ec-snn', cifarnet: 'ec-snn', 'lt-vgg9': 'lt-snn',
};

const args = {
  file: { type: 'positional', description: 'model file (.es); omit it and give --model for the architecture alone', required: false },
  model: { type: 'string', description: `zoo name (${zooNames().join(', ')}) or spec, for architecture-only accounting` },
  input: { type: 'string', description: 'input shape CxHxW (default: the zoo model\'s)' },
  'weight-bits': { type: 'string', description: 'bits per weight', default: '32' },
  'membrane-bits': { type: 'string', description: 'bits per membrane potential (1.58 = ternary, stored in 2 bits)', default: '32' },
  timesteps: { type: 'string', alias: 'T', description: 'time steps' },
  convention: { type: 'string', description: `counting convention (${Object.keys(ARCH_CONVENTIONS).join(', ')})` },
  dataset: { type: 'string', description: 'data set for run accounting (default: the model\'s)' },
  'data-dir': { type: 'string', description: 'folder with the data set files' },
  limit: { type: 'string', description: 'samples for run accounting', default: '1000' },
  energy: { type: 'string', description: 'energy preset (fp32, fp16, int8)', default: 'fp32' },
  'e-mac': { type: 'string', description: 'energy per MAC in pJ (overrides the preset)' },
  'e-ac': { type: 'string', description: 'energy per accumulate in pJ (overrides the preset)' },
  'arch-only': { type: 'boolean', description: 'with a model file: the architecture and memory at its stored bits alone, no run on data' },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

/** The widths a model file stores: each quantized layer's bits, each quantized membrane's (ternary: 2 stored, 1.58 nominal). */
function storedBits(net: SpikingNet): { weight: Map<string, number>; membrane: Map<string, number>; nominal: Map<string, number> } {
  const weight = new Map<string, number>(), membrane = new Map<string, number>(), nominal = new Map<string, number>();
  for (const n of net.graph.nodes) {
    if ((n.op === 'conv' || n.op === 'dense') && n.attrs.quant?.frozen) weight.set(n.id, n.attrs.quant.bits);
    if (n.op === 'neuron' && n.neuron.membrane) {
      const bits = Math.log2(n.neuron.membrane.levels);
      membrane.set(n.id, Math.ceil(bits));
      nominal.set(n.id, n.neuron.membrane.levels === 3 ? 1.58 : bits);
    }
  }
  return { weight, membrane, nominal };
}

/** Drops binary noise from a sum of decimal figures (0.00055616000000000001 → 0.00055616). */
const clean = (x: number): number => Number(x.toFixed(12));

/** The seeds' memory table at the widths stored: weights, membranes and their total, exact and truncated. */
function memoryTable(rep: ArchReport, nominalMembraneMb: number) {
  const t = rep.total, total = clean(t.weightMb + t.membraneMb);
  nominalMembraneMb = clean(nominalMembraneMb);
  return {
    weights_mb: t.weightMb, weights_mb_paper: t.weightMbText, membrane_mb: t.membraneMb, membrane_mb_paper: t.membraneMbText,
    membrane_mb_nominal_bits: nominalMembraneMb, membrane_mb_nominal_bits_paper: mbTrunc2(nominalMembraneMb),
    total_mb: total, total_mb_paper: mbTrunc2(total),
  };
}

/** Parses "3x48x48" into [3, 48, 48]. */
export function parseShape(flag: string, s: string): number[] {
  const parts = s.toLowerCase().split(/[x×,]/).map((p) => Number(p));
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 1)) throw new EdgespikeError(`--${flag}: expected CxHxW with positive integers (e.g. 3x48x48), got "${s}"`);
  return parts;
}

/** Memory of the architecture at bit widths (storage bits: ternary 1.58 is stored in 2 bits). */
function archJson(rep: ArchReport, weightBits: number, membraneBits: number) {
  const t = rep.total, storage = Math.ceil(membraneBits);
  return {
    layers: rep.layers.map((l) => ({ path: l.path, label: l.label, role: l.role, out_shape: l.outShape, neurons: l.neurons, params: l.params, weights: l.weights, macs: l.macs })),
    neurons: t.neurons, params: t.params, weights: t.weights, conv_weights: t.convWeights, dense_weights: t.denseWeights, macs_per_step: t.macs, macs_T: t.macsT,
    weight_bits: weightBits, membrane_bits: membraneBits, membrane_storage_bits: storage,
    weight_mb: t.weightMb, weight_mb_paper: t.weightMbText,
    membrane_mb: megabytes(t.neurons, storage), membrane_mb_paper: mbTrunc2(megabytes(t.neurons, storage)),
    membrane_mb_nominal_bits: megabytes(t.neurons, membraneBits), membrane_mb_nominal_bits_paper: mbTrunc2(megabytes(t.neurons, membraneBits)),
    convention: t.convention,
  };
}

function runJson(r: RunReport) {
  return {
    samples: r.samples, timesteps: r.T, accuracy: r.accuracy, spikes_per_sample: r.spikesPerSample, firing_rates: r.firingRates,
    macs: r.macs, acs: r.acs, sops_ec_snn: r.sopsEcSnn, sops_scatter_gather: r.sopsScatterGather, dense_macs_T: r.denseMacsT,
    flops_reduction: r.flopsReduction, ...(r.gates ? { gated_flops_reduction: r.gatedFlopsReduction, gates: r.gates } : {}), energy_model: r.energy, energy_uj: r.energyUj, ann_energy_uj: r.annEnergyUj,
    layers: r.layers.map((l) => ({ layer: l.layer, role: l.role, input: l.input, input_rate: l.inputRate, macs_per_step: l.macsPerStep, macs: l.macs, acs: l.acs, sops_ec_snn: l.sopsEcSnn, energy_pj: l.energyPj })),
  };
}

export const profileCommand = defineCommand({
  meta: { name: 'profile', description: 'Neurons, parameters, MACs, memory at any precision; spikes, SOPs, energy and latency from a run' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('profile', rawArgs, args);
    const wb = num('weight-bits', a['weight-bits'], { min: 1, max: 64 }), mb = num('membrane-bits', a['membrane-bits'], { min: 1, max: 64 });
    const energy: EnergyModel = { ...ENERGY_PRESETS[choice('energy', a.energy, Object.keys(ENERGY_PRESETS) as (keyof typeof ENERGY_PRESETS)[])] };
    const eMac = optNum('e-mac', a['e-mac'], { min: 0, max: 1e6 }), eAc = optNum('e-ac', a['e-ac'], { min: 0, max: 1e6 });
    const limitN = num('limit', a.limit, { int: true, min: 1, max: 1e9 }), Tflag = optNum('timesteps', a.timesteps, { int: true, min: 1, max: 1000 });
    const inputFlag = a.input === undefined ? undefined : parseShape('input', String(a.input));
    const convFlag = a.convention === undefined ? undefined : choice('convention', a.convention, Object.keys(ARCH_CONVENTIONS) as ArchConventionName[]);
    if (eMac !== undefined || eAc !== undefined) Object.assign(energy, { name: 'custom', macPj: eMac ?? energy.macPj, acPj: eAc ?? energy.acPj });
    let graph: ModelGraph | null = null, spec: ModelSpec | null = null, input: number[], conv: ArchConventionName = 'all', T: number, run: ReturnType<typeof runJson> | null = null, latency = null;
    let bits: ReturnType<typeof storedBits> | null = null, fileBytes = 0;
    if (a.file) {
      if (a.model) throw new EdgespikeError('profile: give a model file or --model NAME|SPEC, not both');
      // a model file has its own input and stored widths; a profile of its architecture alone runs on no data
      for (const f of ['input', 'weight-bits', 'membrane-bits']) {
        if (given(rawArgs, args, f)) throw new EdgespikeError(`--${f}: applies with --model NAME|SPEC only; ${String(a.file)} has its own`);
      }
      if (a['arch-only']) {
        for (const f of ['dataset', 'data-dir', 'limit']) if (given(rawArgs, args, f)) throw new EdgespikeError(`--${f}: runs on data, which --arch-only does not`);
      }
      const { net, meta } = loadNet(String(a.file));
      graph = net.graph; input = [...net.config.input]; T = net.config.T;
      bits = storedBits(net);
      fileBytes = statSync(modelPath(String(a.file))).size;
      if (a['arch-only']) { T = Tflag ?? T; }
      else {
      const test = await loadDataset(String(a.dataset ?? meta.dataset ?? 'mnist'), 'test', { dataDir: a['data-dir'], T, limit: limitN });
      run = runJson(runReport(net, test, { energy }));
      const lat = latencyReport(net, test, 100);
      latency = { latency_ms_p50_batch1: lat.p50, latency_ms_p95_batch1: lat.p95, per_layer_ms: lat.perLayerMs };
      }
    } else {
      if (!a.model) throw new EdgespikeError('profile: give a model file, or --model NAME|SPEC for the architecture alone');
      const name = String(a.model);
      const m = resolveModel(name);
      spec = m.spec;
      if (m.input) { input = [...m.input]; conv = ZOO_CONVENTION[name] ?? 'all'; }
      else {
        if (!inputFlag) throw new EdgespikeError('profile: a spec needs --input CxHxW');
        input = [];
      }
      T = 1;
    }
    if (inputFlag) {
      input = inputFlag;
      if (graph) graph = { ...graph, input };
    }
    T = Tflag ?? T;
    if (convFlag) conv = convFlag;
    const stored = bits ? { weight: (id: string) => bits!.weight.get(id), membrane: (id: string) => bits!.membrane.get(id) } : undefined;
    const archOpts = { weightBits: wb, membraneBits: Math.ceil(mb), T, convention: conv, ...(stored ? { bitsOf: stored } : {}) };
    const rep = graph ? graphArchReport(graph, archOpts) : archReport(spec!, input, archOpts);
    let memory = null;
    if (graph && bits) {
      const nominal = graphArchReport(graph, { ...archOpts, bitsOf: { weight: stored!.weight, membrane: (id) => bits!.nominal.get(id) } }).total.membraneMb;
      memory = { ...memoryTable(rep, nominal), file_bytes: fileBytes };
    }
    const out = { input, timesteps: T, architecture: archJson(rep, wb, mb), ...(memory ? { memory } : {}), ...(run ? { run } : {}), ...(latency ? { latency } : {}) };
    if (a.json) { printJson(out); return; }
    process.stdout.write(formatArchTable(rep) + '\n');
    if (memory) {
      process.stdout.write(`\nmemory at the stored widths (MB = 10^6 bytes; the papers' two-decimal truncation in brackets)\n` +
        `  weights   ${memory.weights_mb} (${memory.weights_mb_paper})\n  membrane  ${memory.membrane_mb} (${memory.membrane_mb_paper})` +
        `${memory.membrane_mb_nominal_bits !== memory.membrane_mb ? `; ${memory.membrane_mb_nominal_bits} (${memory.membrane_mb_nominal_bits_paper}) at 1.58 bits` : ''}\n` +
        `  total     ${memory.total_mb} (${memory.total_mb_paper})\n  file      ${fileBytes.toLocaleString('en-US')} bytes\n`);
    }
    if (run) {
      process.stdout.write(`\nrun on ${run.samples} samples: accuracy ${(100 * run.accuracy).toFixed(2)}%, ${run.spikes_per_sample.toFixed(0)} spikes/sample, ` +
        `MACs ${run.macs.toExponential(3)}, ACs ${run.acs.toExponential(3)}, SOPs (EC-SNN) ${run.sops_ec_snn.toExponential(3)}, ` +
        `FLOPs reduction ${run.flops_reduction.toFixed(2)}×, energy ${run.energy_uj.toFixed(3)} µJ (${energy.name}; ANN ${run.ann_energy_uj.toFixed(3)} µJ)\n`);
      if (run.gated_flops_reduction !== undefined) process.stdout.write(`gated layers: FLOPs reduction ${run.gated_flops_reduction.toFixed(2)}× (dense / sparse, gate cost included)\n`);
      // firing rates are kept per neuron node; they are printed under the arch table's layer names
      const layerOf = new Map(graph!.nodes.map((n) => [n.id, n.layer ?? n.id]));
      const tokenOf = new Map(rep.layers.map((r) => [r.path, r.label]));
      process.stdout.write('firing rate per step, by layer (neuron node):\n');
      for (const [k, v] of Object.entries(run.firing_rates)) {
        const layer = layerOf.get(k) ?? k;
        process.stdout.write(`  layer ${`${layer} ${tokenOf.get(layer) ?? ''}`.trimEnd().padEnd(12)} (${k})  ${v.map((x) => x.toFixed(3)).join(' ')}\n`);
      }
    }
    if (latency) process.stdout.write(`batch-1 latency p50 ${latency.latency_ms_p50_batch1.toFixed(2)} ms, p95 ${latency.latency_ms_p95_batch1.toFixed(2)} ms\n`);
  },
});
