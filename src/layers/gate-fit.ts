/**
 * Fitting the channel gates' predictors to their targets (the channels that carry the gate's ratio of each
 * row's activation mass, massTarget). Fine-tuning trains the predictors with the model's learning rate, from
 * a bias that opens every channel, so a few epochs barely move them: this fits each predictor alone, by Adam
 * on its BCE over the features and targets of a sample of the data, with the rest of the model fixed.
 */
import { EdgespikeError } from '../util/errors.js';
import { parametersChanged } from '../tensor/generation.js';
import { noGrad } from '../tensor/tape.js';
import type { Dataset } from '../data/dataset.js';
import { makeBatch } from '../data/batch.js';
import type { SpikingNet } from './net.js';

/** How fitGates runs. */
export interface GateFitOptions {
  /** Samples of the data whose gate inputs and targets are collected (default 1024). */
  readonly samples?: number;
  /** Full-batch Adam steps per gate (default 300) and their learning rate (default 0.05). */
  readonly steps?: number;
  readonly lr?: number;
}

/** One gate's fit: its BCE before and after, and the share of (row, channel) pairs it leaves open after. */
export interface GateFit {
  readonly gate: string;
  readonly rows: number;
  readonly bceBefore: number;
  readonly bceAfter: number;
  readonly openBefore: number;
  readonly openAfter: number;
}

/** Mean BCE of sigmoid(z) against y, and the share of z > 0, over logits z = F·Wᵀ + b (rows × C). */
function evaluate(F: Float32Array, Y: Float32Array, W: Float64Array, b: Float64Array, rows: number, cs: number, C: number, dz?: Float64Array): { bce: number; open: number } {
  let bce = 0, open = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      let z = b[c]!;
      for (let k = 0; k < cs; k++) z += F[r * cs + k]! * W[c * cs + k]!;
      const y = Y[r * C + c]!;
      bce += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
      if (z > 0) open++;
      if (dz) dz[r * C + c] = 1 / (1 + Math.exp(-z)) - y;
    }
  }
  return { bce: bce / (rows * C), open: open / (rows * C) };
}

/**
 * Fits every gate's predictor (weight [C, C_side], bias [C]) to minimise its BCE on `data`; returns one record
 * per gate (none when the model has no gates). The model's other parameters are not changed.
 */
export function fitGates(net: SpikingNet, data: Dataset, o: GateFitOptions = {}): GateFit[] {
  const ids = net.graph.nodes.filter((n) => n.op === 'gate').map((n) => n.id);
  if (ids.length === 0) return [];
  const n = Math.min(data.length, o.samples ?? 1024), steps = o.steps ?? 300, lr = o.lr ?? 0.05;
  if (n < 1) throw new EdgespikeError(`fitGates: ${data.name} has no samples`);
  const feats = new Map<string, Float32Array[]>(), targets = new Map<string, Float32Array[]>();
  for (let i = 0; i < n; i += 128) {
    const { x } = makeBatch(data, null, i, Math.min(n, i + 128));
    noGrad(() => net.forward(x, {
      training: false, integer: false,
      onGateFit: (id, f, t) => {
        (feats.get(id) ?? feats.set(id, []).get(id)!).push(Float32Array.from(f.data));
        (targets.get(id) ?? targets.set(id, []).get(id)!).push(Float32Array.from(t.data));
      },
    }));
  }
  const out: GateFit[] = [];
  for (const id of ids) {
    const params = new Map(net.layer(id).params()), weight = params.get('weight')!, bias = params.get('bias')!;
    const C = bias.size, cs = weight.size / C, chunksF = feats.get(id) ?? [], chunksY = targets.get(id) ?? [];
    const rows = chunksY.reduce((a, y) => a + y.length / C, 0);
    if (rows === 0) continue;
    const F = new Float32Array(rows * cs), Y = new Float32Array(rows * C);
    for (let k = 0, at = 0; k < chunksF.length; k++) { F.set(chunksF[k]!, at * cs); Y.set(chunksY[k]!, at * C); at += chunksY[k]!.length / C; }
    const W = Float64Array.from(weight.data), b = Float64Array.from(bias.data), dz = new Float64Array(rows * C);
    const before = evaluate(F, Y, W, b, rows, cs, C);
    // Adam over (W, b), full batch
    const mW = new Float64Array(W.length), vW = new Float64Array(W.length), mb = new Float64Array(C), vb = new Float64Array(C);
    const gW = new Float64Array(W.length), gb = new Float64Array(C);
    for (let t = 1; t <= steps; t++) {
      evaluate(F, Y, W, b, rows, cs, C, dz);
      gW.fill(0); gb.fill(0);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < C; c++) {
          const d = dz[r * C + c]! / (rows * C);
          gb[c] += d;
          for (let k = 0; k < cs; k++) gW[c * cs + k] += d * F[r * cs + k]!;
        }
      }
      const c1 = 1 - 0.9 ** t, c2 = 1 - 0.999 ** t;
      const adam = (p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array): void => {
        for (let j = 0; j < p.length; j++) {
          m[j] = 0.9 * m[j]! + 0.1 * g[j]!;
          v[j] = 0.999 * v[j]! + 0.001 * g[j]! * g[j]!;
          p[j] -= (lr * m[j]! / c1) / (Math.sqrt(v[j]! / c2) + 1e-8);
        }
      };
      adam(W, gW, mW, vW);
      adam(b, gb, mb, vb);
    }
    const after = evaluate(F, Y, W, b, rows, cs, C);
    weight.data.set(W);
    bias.data.set(b);
    out.push({ gate: id, rows, bceBefore: before.bce, bceAfter: after.bce, openBefore: before.open, openAfter: after.open });
  }
  parametersChanged();
  return out;
}
