/**
 * EC-SNN's class-specific pruning (seed §1.5 C): a sub-model keeps the filters that are active for its
 * classes.
 *   resample       its classes keep all their samples, relabelled 1 … |C| in ascending class order; every
 *                  other class gives at most L = ⌊N_train/(classes·10) − |C|⌋ random samples, labelled 0
 *                  ("other"); the test set likewise, with the same L
 *   apoz           per output channel of every conv, the average percentage of zeros of the neuron that
 *                  follows it, on the positive training samples, chunk by chunk, chunks weighted equally
 *   selectFilters  layer l drops, in channel order, the channels with APoZ above (ζ − l)/100 while more
 *                  than min_f remain
 *   subModel       the kept channels' weights, fresh batch norms and neurons, and the cifarnet-style head
 *                  F → Dropout .5 → 384 → Dropout .5 → 192 → Dropout .5 → |C| + 1 (linear, freshly made)
 */
import { EdgespikeError } from '../util/errors.js';
import { Rng } from '../data/rng.js';
import { makeBatch } from '../data/batch.js';
import type { Dataset } from '../data/dataset.js';
import { noGrad } from '../tensor/tape.js';
import { workspace } from '../tensor/storage.js';
import { parseSpec } from '../notation/parse.js';
import type { GraphNode } from '../graph/graph.js';
import type { SpikingNet } from '../layers/net.js';
import { decayInit } from '../neurons/neuron.js';
import { keepChannels, replaceHead } from '../layers/edit.js';

/** The number of "other" samples each non-member class contributes: ⌊N_train/(classes·10) − |C|⌋. */
export function otherPerClass(trainLength: number, classes: number, members: number): number {
  return Math.max(0, Math.floor(trainLength / (classes * 10) - members));
}

/**
 * A view of `d` for a class subset: every sample of `members` (relabelled 1 … |C| in ascending class
 * order) and at most `perOther` randomly chosen samples of each other class (labelled 0), in data-set order.
 */
export function resample(d: Dataset, members: readonly number[], perOther: number, seed: number): Dataset {
  const sorted = [...members].sort((a, b) => a - b);
  for (const c of sorted) if (!Number.isInteger(c) || c < 0 || c >= d.numClasses) throw new EdgespikeError(`resample: class ${c} is not a class of ${d.name} (0 … ${d.numClasses - 1})`);
  const label = new Map(sorted.map((c, i) => [c, i + 1]));
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < d.length; i++) {
    const c = d.label(i);
    if (!label.has(c)) { const list = byClass.get(c) ?? []; list.push(i); byClass.set(c, list); }
  }
  const rng = new Rng(seed);
  const chosen = new Set<number>();
  for (const [, list] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const order = rng.permutation(list.length);
    for (let j = 0; j < Math.min(perOther, list.length); j++) chosen.add(list[order[j]!]!);
  }
  const index: number[] = [];
  for (let i = 0; i < d.length; i++) if (label.has(d.label(i)) || chosen.has(i)) index.push(i);
  const names = d.classNames;
  return {
    name: `${d.name}[${sorted.join(',')}]`, length: index.length, shape: d.shape, temporal: d.temporal, numClasses: sorted.length + 1,
    classNames: ['other', ...sorted.map((c) => names?.[c] ?? String(c))],
    label: (i) => label.get(d.label(index[i]!)) ?? 0,
    read: (i, out, off) => d.read(index[i]!, out, off),
  };
}

/** The neuron node that directly follows each conv (through batch norm, pools and a moved bias), in graph order. */
export function convNeurons(net: SpikingNet): { conv: string; neuron: string }[] {
  const out: { conv: string; neuron: string }[] = [];
  for (const n of net.graph.nodes) {
    if (n.op !== 'conv') continue;
    let at: GraphNode = n;
    for (;;) {
      const next: GraphNode[] = (net.info.consumers.get(at.id) ?? []).map((id) => net.info.byId.get(id)!);
      if (next.length !== 1) break;
      at = next[0]!;
      if (at.op === 'neuron' || at.op === 'relu') { out.push({ conv: n.id, neuron: at.id }); break; }
      if (!['bn', 'pool', 'bias', 'dropout'].includes(at.op)) break;
    }
  }
  return out;
}

/**
 * APoZ of every conv's output channels (the zeros of the neuron that follows it), on `d` in chunks of
 * `chunk` samples: per chunk the zeros over its samples, positions and steps / (T·n·H·W), then the mean
 * over chunks.
 */
export function apoz(net: SpikingNet, d: Dataset, chunk: number): Map<string, Float64Array> {
  const pairs = convNeurons(net);
  const byNeuron = new Map(pairs.map((p) => [p.neuron, p.conv]));
  const sums = new Map<string, Float64Array>(), T = net.config.T;
  let chunks = 0;
  noGrad(() => {
    for (let b = 0; b < d.length; b += chunk) {
      const { x } = makeBatch(d, null, b, Math.min(d.length, b + chunk));
      const n = x.shape[0]!;
      workspace(() => net.forward(x, {
        training: false,
        onLayer: (l, _in, y) => {
          const conv = byNeuron.get(l.name);
          if (!conv) return;
          const C = y.shape[1]!, plane = y.size / (y.shape[0]! * C), rows = y.shape[0]!, Y = y.data;
          const acc = sums.get(conv) ?? new Float64Array(C);
          const zeros = new Float64Array(C);
          for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) {
            const o = (r * C + c) * plane;
            for (let p = 0; p < plane; p++) if (Y[o + p] === 0) zeros[c]!++;
          }
          // rows are T·n (the steps of the chunk's samples); a static output counts once per step
          const steps = rows === n ? 1 : T;
          for (let c = 0; c < C; c++) acc[c]! += (zeros[c]! / steps) / (n * plane);
          sums.set(conv, acc);
        },
      }));
      chunks++;
    }
  });
  for (const v of sums.values()) for (let c = 0; c < v.length; c++) v[c]! /= Math.max(1, chunks);
  return sums;
}

/**
 * The channels each conv keeps: layer l (0, 1, … in graph order) drops, in channel index order, a channel
 * whose APoZ exceeds (ζ − l)/100 while more than `minFilters` channels remain.
 */
export function selectFilters(apozByConv: ReadonlyMap<string, Float64Array>, order: readonly string[], zeta: number, minFilters: number): Map<string, number[]> {
  const keep = new Map<string, number[]>();
  order.forEach((conv, l) => {
    const a = apozByConv.get(conv);
    if (!a) return;
    const theta = (zeta - l) / 100, kept: number[] = [];
    let pruned = 0;
    for (let c = 0; c < a.length; c++) {
      if (a[c]! > theta && a.length - pruned > minFilters) pruned++;
      else kept.push(c);
    }
    keep.set(conv, kept);
  });
  return keep;
}

/** The cifarnet-style head of a sub-model with `outputs` classes (its last layer the readout). */
export function subModelHead(outputs: number): string {
  return `F-D0.5-384l-D0.5-192l-D0.5-${outputs}`;
}

/**
 * The sub-model: `keep` channels of each conv (weights copied, carried into the next conv), every batch
 * norm and neuron fresh, everything after `featureAfter` replaced by the cifarnet-style head with
 * `outputs` outputs. Returns it with the node whose output is its features (the head's flatten).
 */
export function subModel(net: SpikingNet, keep: ReadonlyMap<string, number[]>, featureAfter: string, outputs: number): { net: SpikingNet; featureNode: string } {
  let pruned = net;
  for (const [conv, channels] of keep) {
    const out = (pruned.info.byId.get(conv)!.attrs as { out: number }).out;
    if (channels.length !== out) pruned = keepChannels(pruned, conv, channels);
  }
  const head = replaceHead(pruned, featureAfter, parseSpec(subModelHead(outputs)));
  // fresh batch norms and neurons: their statistics and learned constants start over
  const values = head.tensorValues();
  for (const n of head.graph.nodes) {
    if (n.op === 'bn') {
      values[`${n.id}.weight`]!.fill(1); values[`${n.id}.bias`]!.fill(0);
      values[`${n.id}.running_mean`]!.fill(0); values[`${n.id}.running_var`]!.fill(1);
    }
    if (n.op === 'neuron') {
      if (values[`${n.id}.vth`]) values[`${n.id}.vth`]!.fill(n.neuron.vth);
      if (values[`${n.id}.decay`]) values[`${n.id}.decay`]!.fill(decayInit(n.neuron));
    }
  }
  return { net: head, featureNode: 'head.0.flatten' };
}
