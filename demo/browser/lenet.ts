/**
 * The browser demo's computation, shared by its page and by the browser test (which runs it in Node too):
 * the zoo's lenet with a fixed seed, a forward pass on a fixed input, then one Adam training step.
 * Everything comes from src/browser.ts, the browser-safe entry point.
 */
import {
  backendInfo, zoo, SpikingNet, neuronParams, Tensor, noGrad, workspace, Optimizer, lossOf, Rng, type BackendInfo,
} from '../../src/browser.js';

/** What one run reports: the backend it ran on, logits before training, the step's loss, and the loss after it. */
export interface LenetRun {
  readonly backend: BackendInfo;
  /** Inference logits [batch, 10], row-major. */
  readonly logits: number[];
  /** Cross-entropy of the training forward pass (before the Adam step). */
  readonly loss: number;
  /** Cross-entropy of the same batch after the step. */
  readonly lossAfter: number;
}

/** Samples in the fixed batch; labels are 0, 1, …, batch − 1 (mod 10). */
export const DEMO_BATCH = 4;

/**
 * The fixed input: DEMO_BATCH images of 28×28 values uniform in [0, 3) from Rng(7). Strong enough that the
 * untrained net spikes in every layer (densities about 0.44, 0.20, 0.03), so each sample gets its own logits.
 */
export function demoInput(batch = DEMO_BATCH): Tensor {
  const rng = new Rng(7), x = new Float32Array(batch * 28 * 28);
  for (let i = 0; i < x.length; i++) x[i] = 3 * rng.float();
  return new Tensor(x, [batch, 1, 28, 28]);
}

/** Builds lenet (LIF β 0.9, fast sigmoid, T = 4, direct input, leaky readout, seed 0), infers, then trains one step. */
export function runLenet(batch = DEMO_BATCH): LenetRun {
  const z = zoo('lenet');
  const net = new SpikingNet(z.spec, { input: z.input, neuron: neuronParams('lif', { beta: 0.9, surrogate: 'fast-sigmoid' }), T: 4,
    encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 0 });
  const x = demoInput(batch), y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const logits = noGrad(() => workspace(() => Array.from(net.forward(x, { training: false }).logits.data)));
  const opt = new Optimizer(net.parameters(), { kind: 'adam', lr: 1e-3 });
  const rng = new Rng(1);
  const loss = workspace(() => {
    const l = lossOf(net.forward(x, { training: true, rng }), y, { kind: 'ce' });
    opt.zeroGrad();
    l.backward();
    return l.item();
  });
  opt.step();
  const lossAfter = noGrad(() => workspace(() => lossOf(net.forward(x, { training: false }), y, { kind: 'ce' }).item()));
  return { backend: backendInfo(), logits, loss, lossAfter };
}
