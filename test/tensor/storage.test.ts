// Workspaces: op results in the wasm backend's memory, taken back at the end, reused step after step,
// with the same numbers as plain arrays and nothing lent surviving in a parameter's gradient.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { activeWasm, backendInfo, setBackend, setThreads } from '../../src/backends/index.js';
import { floats, floatsFor, intsFor, isLent, workspace } from '../../src/tensor/storage.js';
import { SpikingNet } from '../../src/layers/net.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { parseSpec } from '../../src/notation/parse.js';
import { mnist } from '../../src/data/mnist.js';
import { makeBatch } from '../../src/data/batch.js';
import { Optimizer } from '../../src/train/optim.js';
import { lossOf } from '../../src/train/loss.js';
import { Rng } from '../../src/data/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { conv2d } from '../../src/ops/conv.js';
import { sum } from '../../src/ops/reduce.js';

/** A small net of LIF neurons, or of PLIF neurons with a learnable threshold too (their gradients are sums over neurons). */
const net = (learnable = false) => new SpikingNet(parseSpec('6C5-P2-8C3-P2-32-10', { bias: true }), {
  input: [1, 28, 28], neuron: learnable ? neuronParams('plif', { learnThreshold: true }) : neuronParams('lif', { beta: 0.9 }), T: 3,
  encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 7,
});

/** Trains `steps` batches of 16, each step in a workspace or not (`learnable`: PLIF with learnable thresholds); returns the weights and the losses. */
function run(steps: number, inWorkspace: boolean, learnable = false): { weights: Float32Array[]; losses: number[]; lentGrads: boolean } {
  const n = net(learnable), data = mnist('train'), opt = new Optimizer(n.parameters(), { kind: 'adam', lr: 3e-3 }), rng = new Rng(1);
  const losses: number[] = [];
  let lentGrads = false;
  for (let s = 0; s < steps; s++) {
    const { x, y } = makeBatch(data, null, 16 * s, 16 * s + 16);
    const body = (): number => {
      const loss = lossOf(n.forward(x, { training: true, rng }), y, { kind: 'ce' });
      opt.zeroGrad(); loss.backward();
      lentGrads ||= n.parameters().some((p) => p.grad !== null && isLent(p.grad));
      return loss.item();
    };
    losses.push(inWorkspace ? workspace(body) : body());
    opt.step();
  }
  return { weights: n.parameters().map((p) => new Float32Array(p.data)), losses, lentGrads };
}

describe('workspace on the wasm backend', () => {
  let prev: 'ref' | 'wasm' = 'ref';
  before(() => { prev = backendInfo().name as 'ref' | 'wasm'; setBackend('wasm'); });
  after(() => setBackend(prev));

  test('lends wasm memory inside, plain arrays outside; zeroed where asked', () => {
    assert.equal(isLent(floats(8)), false);
    workspace(() => {
      const a = floats(1000), b = floatsFor(10), i = intsFor(5);
      assert.ok(isLent(a) && isLent(b));
      assert.ok(activeWasm()!.arena.offsetOf(i) >= 0);
      assert.ok(a.every((v) => v === 0));
      a.fill(3);
    });
    // the block comes back zeroed from floats() even though it was filled with 3 before
    workspace(() => { assert.ok(floats(1000).every((v) => v === 0)); });
  });

  test('a training step gives bit-identical weights and losses in a workspace, and reuses its memory', () => {
    const heap = activeWasm()!.heap;
    const plain = run(3, false);
    const lent = run(3, true);
    assert.deepEqual(lent.losses, plain.losses);
    lent.weights.forEach((w, i) => assert.deepEqual(w, plain.weights[i], `parameter ${i}`));
    assert.equal(lent.lentGrads, false, 'a parameter gradient was left in lent memory');
    const before = heap.reservedBytes;
    run(2, true);
    assert.equal(heap.reservedBytes, before, 'steps of the same shapes must reuse the blocks of the first');
  });

  test('a leaf that requires a gradient gets it in its own memory, intact after the workspace ends', () => {
    const x = new Tensor(Float32Array.from({ length: 2 * 3 * 6 * 6 }, (_, i) => Math.sin(i)), [2, 3, 6, 6], true);
    const w = new Tensor(Float32Array.from({ length: 4 * 3 * 9 }, (_, i) => Math.cos(i)), [4, 3, 3, 3]);
    const plain = (): Float32Array => { x.grad = null; sum(conv2d(x, w, null, { padding: 1 })).backward(); return new Float32Array(x.grad!); };
    const want = plain();
    x.grad = null;
    workspace(() => { sum(conv2d(x, w, null, { padding: 1 })).backward(); });
    assert.ok(x.grad !== null && activeWasm()!.arena.offsetOf(x.grad!) < 0, 'the leaf kept lent memory');
    workspace(() => { floats(x.size).fill(7); floatsFor(2 * 4 * 36).fill(7); }); // whatever was lent is reused
    assert.deepEqual(x.grad, want);
  });

  test('training is deterministic: two runs on two threads, and a run on one, give bit-identical weights', () => {
    const w = activeWasm()!, saved = { ...w.settings };
    try {
      setThreads(1);
      const one = run(3, true, true);
      setThreads(2);
      w.settings.minParallelWork = 0; // split even these small kernels, dynamically where allowed
      assert.equal(w.usableThreads(), 2, 'the worker thread did not start');
      const a = run(3, true, true), b = run(3, true, true);
      assert.ok(a.weights.some((x) => x.length === 1), 'no learnable neuron parameter (decay, threshold)');
      assert.deepEqual(b.losses, a.losses);
      a.weights.forEach((x, i) => assert.deepEqual(b.weights[i], x, `parameter ${i}`));
      // sums over items or neurons go to fixed groups added in order, so the thread count changes no bit
      assert.deepEqual(one.losses, a.losses);
      a.weights.forEach((x, i) => assert.deepEqual(one.weights[i], x, `parameter ${i} on one thread`));
    } finally { setThreads(saved.threads); w.settings.minParallelWork = saved.minParallelWork; }
  });

  test('nested workspaces give back only their own blocks; a throw gives back too', () => {
    const heap = activeWasm()!.heap;
    workspace(() => {
      const outer = floats(64);
      const mark = heap.begin();
      workspace(() => { floats(64); floats(128); });
      assert.equal(heap.begin(), mark, 'the inner workspace did not return its blocks');
      assert.ok(isLent(outer));
      assert.throws(() => workspace(() => { floats(256); throw new Error('boom'); }), /boom/);
      assert.equal(heap.begin(), mark, 'a throwing workspace did not return its blocks');
    });
  });
});

test('on the reference backend a workspace lends nothing', () => {
  const prev = backendInfo().name as 'ref' | 'wasm';
  setBackend('ref');
  try {
    workspace(() => { assert.equal(isLent(floats(16)), false); });
  } finally { setBackend(prev); }
});
