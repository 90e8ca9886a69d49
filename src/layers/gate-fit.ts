/**
 * Fitting the channel gates' predictors to their targets (the channels that carry the gate's ratio of each
 * row's activation mass, massTarget). Fine-tuning trains the predictors with the model's learning rate, from
 * a bias that opens every channel, so a few epochs barely move them: this fits each predictor alone, by Adam
 * on its BCE over the features and targets of a sample of the data, with the rest of the model fixed.
 */
import { EdgespikeError } from '../util/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { backward, noGrad } from '../tensor/tape.js';
import { workspace } from '../tensor/storage.js';
import * as op from '../ops/index.js';
import { Optimizer } from '../train/optim.js';
import type { Dataset } from '../data/dataset.js';
import { makeBatch } from '../data/batch.js';
import type { SpikingNet } from './net.js';
import { bceWithLogits } from './layers.js';

/** How fitGates runs. */
export interface GateFitOptions {
  /** Samples of the data whose gate inputs and targets are collected (default 1024). */
  readonly samples?: number;
  /** Full-batch Adam steps per gate (default 300) and their learning rate (default 0.05); the optimizer marks the parameters changed. */
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

/** The gate's loss: the BCE of its logits F·Wᵀ + b against the targets Y. */
function gateLoss(F: Tensor, Y: Tensor, weight: Tensor, bias: Tensor): Tensor {
  return bceWithLogits(op.linear(F, weight, bias), Y);
}

/** The gate's loss and the share of its logits above 0 (the (row, channel) pairs it leaves open), without gradients. */
function gateState(F: Tensor, Y: Tensor, weight: Tensor, bias: Tensor): { bce: number; open: number } {
  return noGrad(() => {
    const z = op.linear(F, weight, bias);
    let open = 0;
    for (const v of z.data) if (v > 0) open++;
    return { bce: bceWithLogits(z, Y).data[0]!, open: open / z.size };
  });
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
    const Ft = new Tensor(F, [rows, cs]), Yt = new Tensor(Y, [rows, C]);
    const before = gateState(Ft, Yt, weight, bias);
    // Adam on the gate's own parameters, full batch
    const opt = new Optimizer([weight, bias], { kind: 'adam', lr });
    for (let t = 0; t < steps; t++) {
      opt.zeroGrad();
      // each step's activations in lent memory, as a training step's
      workspace(() => backward(gateLoss(Ft, Yt, weight, bias)));
      opt.step();
    }
    opt.zeroGrad();
    const after = gateState(Ft, Yt, weight, bias);
    out.push({ gate: id, rows, bceBefore: before.bce, bceAfter: after.bce, openBefore: before.open, openAfter: after.open });
  }
  return out;
}
