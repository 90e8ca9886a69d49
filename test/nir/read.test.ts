/**
 * Reading NIR files written with h5wasm's own calls in the layouts of each NIR era, and running them:
 * the 0.1.1 one-neuron file, a 0.2.0 CNN with unordered edges, gzip-chunked datasets of other widths,
 * a recurrent cycle, a nested subgraph, convolution paddings; every neuron node's trajectory against its
 * update written out here.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readNir } from '../../src/nir/read.js';
import { nirToNet } from '../../src/nir/import.js';
import { runSequence } from '../../src/nir/run.js';
import { f4, f8, i4, i8, tempDir, writeRaw, type Node } from './_h5.js';

const tmp = tempDir('es-nir-read-');
after(() => tmp.done());
let k = 0;
/** Writes `graph` with writeRaw, reads it back and imports it. */
async function load(version: string | null, graph: Node, o: { gzip?: boolean; dt?: number; method?: 'euler' | 'exp'; fuse?: boolean; preset?: 'nir' | 'snntorch' | 'spikingjelly' | 'norse' } = {}) {
  const path = tmp.path(`f${k++}.nir`);
  await writeRaw(path, version, graph, o);
  const read = await readNir(path);
  return { read, imported: nirToNet(read.file, { dt: o.dt, method: o.method, fuse: o.fuse, preset: o.preset }) };
}
const f = Math.fround;
const chain = (...names: string[]): [string, string][] => names.slice(1).map((n, i) => [names[i]!, n]);

describe('layouts of each NIR era', () => {
  test('0.1.1 (snnTorch tests/lif.nir): Affine + LIF without v_reset reads with v_reset zero; spikes at the steps Euler gives', async () => {
    const g: Node = {
      type: 'NIRGraph', edges: chain('input', '0', '1', 'output'), nodes: {
        input: { type: 'Input', shape: i8([1]) },
        0: { type: 'Affine', weight: f4([1], [1, 1]), bias: f4([0]) },
        1: { type: 'LIF', tau: f4([0.0025]), r: f4([1]), v_leak: f4([0]), v_threshold: f4([0.1]) },
        output: { type: 'Output', shape: i8([1]) },
      },
    };
    const { read, imported } = await load('0.1.1', g);
    assert.equal(read.file.version, '0.1.1');
    assert.deepEqual(Object.keys(read.file.graph.nodes).sort(), ['0', '1', 'input', 'output']);
    assert.equal(read.file.graph.nodes['1']!.type, 'LIF');
    assert.equal('v_reset' in (read.file.graph.nodes['1'] as { fields: object }).fields, false);
    assert.deepEqual(read.warnings, []);
    // constant input 1: v_t = v + 0.04·(1 − v) in float32, spike when v > 0.1, reset to 0
    const T = 20, x = new Float32Array(T).fill(1);
    const out = runSequence(imported.net, x, [T, 1]);
    const a = f(1 - 1e-4 / f(0.0025)), b = f(1e-4 / f(0.0025));
    const want: number[] = [];
    let v = 0;
    for (let t = 0; t < T; t++) {
      const h = f(f(a * v) + f(b * 1));
      if (h > f(0.1)) { want.push(t); v = 0; } else v = h;
    }
    assert.ok(want.length >= 3, 'the neuron fires repeatedly');
    assert.deepEqual(out.spikeSteps, [want]);
    assert.deepEqual(out.counts, [want.length]);
  });

  /** The shape of snnTorch's examples/scnn_mnist.nir (0.2.0), small: Conv2d → IF → SumPool2d → Flatten → Affine → IF. */
  const cnn = (edges: [string, string][]): Node => ({
    type: 'NIRGraph', edges, nodes: {
      input: { type: 'Input', shape: i8([2, 6, 6]) },
      0: { type: 'Conv2d', weight: f4(Array.from({ length: 4 * 2 * 9 }, (_, i) => ((i * 37) % 11) / 10 - 0.4), [4, 2, 3, 3]), bias: f4([0.1, 0, -0.1, 0.2]), stride: i8([1, 1]), padding: i8([1, 1]), dilation: i8([1, 1]), groups: i8(1), input_shape: i8([6, 6]) },
      1: { type: 'IF', r: f4(new Array(144).fill(1e4), [4, 6, 6]), v_threshold: f4(new Array(144).fill(1), [4, 6, 6]), v_reset: f4(new Array(144).fill(0), [4, 6, 6]) },
      2: { type: 'SumPool2d', kernel_size: i8([2, 2]), stride: i8([2, 2]), padding: i8([0, 0]) },
      3: { type: 'Flatten', start_dim: i8(0), end_dim: i8(-1), input_type: i8([4, 3, 3]) },
      4: { type: 'Affine', weight: f4(Array.from({ length: 3 * 36 }, (_, i) => ((i * 13) % 7) / 7 - 0.2), [3, 36]), bias: f4([0, 0.1, 0.2]) },
      5: { type: 'IF', r: f4([1e4, 1e4, 1e4]), v_threshold: f4([1, 1, 1]), v_reset: f4([0, 0, 0]) },
      output: { type: 'Output', shape: i8([3]) },
    },
  });
  const ordered = chain('input', '0', '1', '2', '3', '4', '5', 'output');
  const cnnInput = (T: number) => Float32Array.from({ length: T * 72 }, (_, i) => ((i * 7919) % 5) / 4);

  test('0.2.0 CNN (snnTorch scnn_mnist shape): unordered edges run as the ordered ones; IF integrates r·dt·x', async () => {
    const scrambled = [ordered[4]!, ordered[0]!, ordered[6]!, ordered[2]!, ordered[5]!, ordered[1]!, ordered[3]!];
    const a = await load('0.2.0', cnn(ordered)), b = await load('0.2.0', cnn(scrambled));
    assert.deepEqual(b.read.file.graph.edges, scrambled);
    const T = 6, x = cnnInput(T);
    const ra = runSequence(a.imported.net, x, [T, 2, 6, 6]), rb = runSequence(b.imported.net, x, [T, 2, 6, 6]);
    assert.deepEqual(ra.outputShape, [3]);
    assert.deepEqual(Array.from(rb.steps), Array.from(ra.steps));
    assert.ok(ra.counts!.reduce((s, c) => s + c, 0) > 0, 'some output spikes');
    // the step order is the edges' topological order whatever order they were stored in
    assert.deepEqual(b.imported.net.graph.nodes.map((n) => n.id), a.imported.net.graph.nodes.map((n) => n.id));
  });

  test('1.x: gzip-chunked datasets, float64 parameters and int32 shapes read as the contiguous float32 file', async () => {
    const base = cnn(ordered);
    const nodes = (base as { nodes: Record<string, Node> }).nodes;
    const w = (nodes['4'] as unknown as { weight: { data: number[] } }).weight;
    // weights rounded to multiples of 1/64 (exact in every float width)
    const w16 = w.data.map((v) => Math.round(v * 64) / 64);
    const plain: Node = { ...base, nodes: { ...nodes, 4: { ...nodes['4']!, type: 'Affine', weight: f4(w16, [3, 36]) } as Node } };
    const wide: Node = {
      ...base, nodes: {
        ...nodes,
        0: { ...nodes['0']!, type: 'Conv2d', stride: i4([1, 1]), padding: i4([1, 1]), dilation: i4([1, 1]), groups: i4(1) } as Node,
        1: { type: 'IF', r: f8(new Array(144).fill(1e4), [4, 6, 6]), v_threshold: f8(new Array(144).fill(1), [4, 6, 6]), v_reset: f8(new Array(144).fill(0), [4, 6, 6]) },
        4: { ...nodes['4']!, type: 'Affine', weight: f8(w16, [3, 36]) } as Node,
      },
    };
    const a = await load('1.0.0', plain), b = await load('1.2.1', wide, { gzip: true });
    const w4 = b.read.file.graph.nodes['4'] as { fields: Record<string, { dtype: string; data: Float64Array }> };
    assert.equal(w4.fields.weight!.dtype, 'f64');
    assert.deepEqual(Array.from(w4.fields.weight!.data), w16);
    const c0 = b.read.file.graph.nodes['0'] as { fields: Record<string, { dtype: string }> };
    assert.equal(c0.fields.stride!.dtype, 'i32');
    assert.equal((b.read.file.graph.nodes['1'] as { fields: Record<string, { dtype: string }> }).fields.r!.dtype, 'f64');
    const T = 5, x = cnnInput(T);
    assert.deepEqual(Array.from(runSequence(b.imported.net, x, [T, 2, 6, 6]).steps), Array.from(runSequence(a.imported.net, x, [T, 2, 6, 6]).steps));
    assert.equal(a.read.file.version, '1.0.0');
    assert.equal(b.read.file.version, '1.2.1');
  });

  test('a file without /version reads (version null)', async () => {
    const { read } = await load(null, { type: 'NIRGraph', edges: chain('input', 'output'), nodes: { input: { type: 'Input', shape: i8([3]) }, output: { type: 'Output', shape: i8([3]) } } });
    assert.equal(read.file.version, null);
  });
});

/** Affine(w) → LIF ⟲ Linear(rw): the recurrent edge reads the previous step's spikes. */
const recurrent = (cycle: boolean): Node => ({
  type: 'NIRGraph',
  edges: [['input', 'fc'], ['fc', 'lif'], ['lif', 'output'], ...(cycle ? [['lif', 'rec'], ['rec', 'lif']] as [string, string][] : [])],
  nodes: {
    input: { type: 'Input', shape: i8([1]) },
    fc: { type: 'Affine', weight: f4([1, 1], [2, 1]), bias: f4([0, 0]) },
    lif: { type: 'LIF', tau: f4([1e-3, 2e-3]), r: f4([1, 1]), v_leak: f4([0, 0]), v_threshold: f4([0.3, 0.5]), v_reset: f4([0, 0]) },
    ...(cycle ? { rec: { type: 'Linear', weight: f4([0, -2, 1.5, 0], [2, 2]) } } : {}),
    output: { type: 'Output', shape: i8([2]) },
  },
});

/** The recurrent LIF by hand: u = x + W_rec·s(t−1), v ← (a·v + b·u) + c, spike v > θ, reset to 0. */
function recurrentByHand(x: Float32Array): number[][] {
  const tau = [1e-3, 2e-3].map(f), th = [0.3, 0.5].map(f), dt = 1e-4;
  const a = tau.map((t) => f(1 - dt / t)), b = tau.map((t) => f(dt / t));
  const W = [[0, -2], [1.5, 0]];
  let v = [0, 0], s = [0, 0];
  const out: number[][] = [];
  for (const xt of x) {
    const u = [0, 1].map((i) => f(f(W[i]![0]! * s[0]! + W[i]![1]! * s[1]!) + xt));
    const h = [0, 1].map((i) => f(f(f(a[i]! * v[i]!) + f(b[i]! * u[i]!)) + 0));
    s = h.map((hi, i) => (hi > th[i]! ? 1 : 0));
    v = h.map((hi, i) => (s[i] ? 0 : hi));
    out.push(s.slice());
  }
  return out;
}

describe('graph structure', () => {
  test('a cycle (LIF → Linear → LIF) reads the previous step, as the recurrence written out', async () => {
    const { imported } = await load('1.0.0', recurrent(true));
    const lif = imported.net.graph.nodes.find((n) => n.id === 'lif')!;
    assert.deepEqual(lif.recurrent, ['rec']);
    const T = 30, x = Float32Array.from({ length: T }, (_, t) => 0.6 + 0.5 * Math.sin(t));
    const got = runSequence(imported.net, x, [T, 1]);
    const want = recurrentByHand(x);
    assert.deepEqual(Array.from({ length: T }, (_, t) => Array.from(got.steps.subarray(2 * t, 2 * t + 2))), want);
    // the recurrence matters: without it the spikes differ
    const plain = runSequence((await load('1.0.0', recurrent(false))).imported.net, x, [T, 1]);
    assert.notDeepEqual(Array.from(plain.steps), Array.from(got.steps));
  });

  test('a nested NIRGraph (snnTorch RSynaptic: CubaLIF ⟲ Affine inside a subgraph) runs as the same nodes flattened', async () => {
    const cuba = { type: 'CubaLIF', tau_syn: f4([5e-4, 8e-4]), tau_mem: f4([1e-3, 2e-3]), r: f4([1, 2]), v_leak: f4([0, 0]), v_threshold: f4([0.2, 0.4]), v_reset: f4([0, 0]), w_in: f4([1, 1]) };
    const lin = { type: 'Affine', weight: f4([0.5, -1, 1, 0.2], [2, 2]), bias: f4([0.01, 0]) };
    const fc1 = { type: 'Affine', weight: f4([1, 0.5, -0.5, 1], [2, 2]), bias: f4([0, 0]) };
    const fc2 = { type: 'Linear', weight: f4([1, 0.5], [1, 2]) };
    const nested: Node = {
      type: 'NIRGraph', edges: [['input', 'fc1'], ['fc1', 'lif1'], ['lif1', 'fc2'], ['fc2', 'output']], nodes: {
        input: { type: 'Input', shape: i8([2]) }, fc1, fc2, output: { type: 'Output', shape: i8([1]) },
        lif1: { type: 'NIRGraph', edges: [['input', 'lif'], ['lif', 'lin'], ['lin', 'lif'], ['lif', 'output']], nodes: { input: { type: 'Input', shape: i8([2]) }, lif: cuba, lin, output: { type: 'Output', shape: i8([2]) } } },
      },
    };
    const flat: Node = {
      type: 'NIRGraph', edges: [['input', 'fc1'], ['fc1', 'lif'], ['lif', 'lin'], ['lin', 'lif'], ['lif', 'fc2'], ['fc2', 'output']],
      nodes: { input: { type: 'Input', shape: i8([2]) }, fc1, lif: cuba, lin, fc2, output: { type: 'Output', shape: i8([1]) } },
    };
    const a = await load('1.0.0', nested), b = await load('1.0.0', flat);
    assert.equal(a.read.file.graph.nodes.lif1!.type, 'NIRGraph');
    const T = 25, x = Float32Array.from({ length: 2 * T }, (_, i) => 0.6 + 0.5 * Math.cos(0.3 * i));
    const ra = runSequence(a.imported.net, x, [T, 2]), rb = runSequence(b.imported.net, x, [T, 2]);
    assert.deepEqual(Array.from(ra.steps), Array.from(rb.steps));
    const lifNode = a.imported.net.graph.nodes.find((n) => n.id === 'lif1.lif')!;
    assert.deepEqual(lifNode.recurrent, ['lif1.lin']);
    assert.ok(ra.steps.some((v) => v !== 0));
  });

  test('Conv1d with dilation and "same" padding, Conv2d "valid": the values of the convolution written out', async () => {
    const w = [0.5, -1, 2];
    const g: Node = {
      type: 'NIRGraph', edges: chain('input', 'c', 'output'), nodes: {
        input: { type: 'Input', shape: i8([1, 7]) },
        c: { type: 'Conv1d', weight: f4(w, [1, 1, 3]), bias: f4([0.25]), stride: i8(1), padding: 'same', dilation: i8(2), groups: i8(1) },
        output: { type: 'Output', shape: i8([1, 7]) },
      },
    };
    const { imported } = await load('1.0.0', g);
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
    const got = runSequence(imported.net, x, [1, 1, 7]);
    // y[i] = b + Σ_k w[k]·x[i + 2k − 2] (zeros outside)
    const want = x.map((_, i) => f([0, 1, 2].reduce((s, kk) => s + w[kk]! * (x[i + 2 * kk - 2] ?? 0), 0.25)));
    assert.deepEqual(got.outputShape, [1, 7]);
    assert.deepEqual(Array.from(got.steps), Array.from(want));
    const v: Node = {
      type: 'NIRGraph', edges: chain('input', 'c', 'output'), nodes: {
        input: { type: 'Input', shape: i8([1, 4, 4]) },
        c: { type: 'Conv2d', weight: f4([1, 1, 1, 1], [1, 1, 2, 2]), bias: f4([0]), stride: i8([2, 2]), padding: 'valid', dilation: i8([1, 1]), groups: i8(1) },
        output: { type: 'Output', shape: i8([1, 2, 2]) },
      },
    };
    const r = runSequence((await load('1.0.0', v)).imported.net, Float32Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    assert.deepEqual(Array.from(r.steps), [0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15]);
  });
});

/** Input [2] → node → Output, run on x; returns [T][2]. */
async function trajectory(node: Node, x: Float32Array, o: { method?: 'euler' | 'exp'; dt?: number; fuse?: boolean } = {}) {
  const { imported } = await load('1.0.0', { type: 'NIRGraph', edges: chain('input', 'n', 'output'), nodes: { input: { type: 'Input', shape: i8([2]) }, n: node, output: { type: 'Output', shape: i8([2]) } } }, o);
  const r = runSequence(imported.net, x, [x.length / 2, 2]);
  return { steps: Array.from({ length: r.T }, (_, t) => Array.from(r.steps.subarray(2 * t, 2 * t + 2))), net: imported.net };
}

/** The hand update of one neuron over x (column i of [T][2]). */
function byHand(x: Float32Array, i: number, co: { a: number; b: number; c: number; as?: number; bs?: number; th?: number; vr?: number }): number[] {
  let v = 0, cur = 0;
  const out: number[] = [];
  for (let t = 0; t < x.length / 2; t++) {
    let u = x[2 * t + i]!;
    if (co.as !== undefined) { cur = f(f(co.as * cur) + f(co.bs! * u)); u = cur; }
    const h = f(f(f(co.a * v) + f(co.b * u)) + co.c);
    if (co.th === undefined) { out.push(h); v = h; continue; }
    const s = h > co.th ? 1 : 0;
    out.push(s);
    v = s ? co.vr! : h;
  }
  return out;
}

describe('every neuron node against its update written out (dt 1e-4)', () => {
  const T = 40, dt = 1e-4;
  const x = Float32Array.from({ length: 2 * T }, (_, i) => 0.9 + 0.8 * Math.sin(0.7 * i));
  const col = (steps: number[][], i: number) => steps.map((s) => s[i]!);
  const check = (steps: number[][], want: number[][]) => {
    for (const i of [0, 1]) assert.deepEqual(col(steps, i), want[i], `neuron ${i}`);
  };
  const lifP = { tau: [1e-3, 2.5e-3], r: [1.5, 0.8], v_leak: [0.1, -0.2], v_threshold: [0.6, 0.4], v_reset: [-0.1, 0.05] };
  const eulerLeak = (tau: number, r: number, leak: number) => ({ a: f(1 - dt / f(tau)), b: f(f(r) * (dt / f(tau))), c: f(f(leak) * (dt / f(tau))) });

  test('LIF (euler): v += dt/τ·(v_leak − v + r·x), spike on v > θ, reset to v_reset', async () => {
    const { steps } = await trajectory({ type: 'LIF', tau: f4(lifP.tau), r: f4(lifP.r), v_leak: f4(lifP.v_leak), v_threshold: f4(lifP.v_threshold), v_reset: f4(lifP.v_reset) }, x);
    const want = [0, 1].map((i) => byHand(x, i, { ...eulerLeak(lifP.tau[i]!, lifP.r[i]!, lifP.v_leak[i]!), th: f(lifP.v_threshold[i]!), vr: f(lifP.v_reset[i]!) }));
    assert.ok(want.every((w) => w.some((s) => s === 1)));
    check(steps, want);
  });

  test('LIF (exp): v ← v_∞ + (v − v_∞)·e^(−dt/τ)', async () => {
    const { steps } = await trajectory({ type: 'LIF', tau: f4(lifP.tau), r: f4(lifP.r), v_leak: f4(lifP.v_leak), v_threshold: f4(lifP.v_threshold), v_reset: f4(lifP.v_reset) }, x, { method: 'exp' });
    const want = [0, 1].map((i) => {
      const g = dt / f(lifP.tau[i]!), e = -Math.expm1(-g);
      return byHand(x, i, { a: f(Math.exp(-g)), b: f(f(lifP.r[i]!) * e), c: f(f(lifP.v_leak[i]!) * e), th: f(lifP.v_threshold[i]!), vr: f(lifP.v_reset[i]!) });
    });
    check(steps, want);
  });

  test('LI: the membrane itself is the output', async () => {
    const { steps, net } = await trajectory({ type: 'LI', tau: f4(lifP.tau), r: f4(lifP.r), v_leak: f4(lifP.v_leak) }, x);
    check(steps, [0, 1].map((i) => byHand(x, i, eulerLeak(lifP.tau[i]!, lifP.r[i]!, lifP.v_leak[i]!))));
    // a membrane output has no spike counts, even at steps where it happens to be 0 or 1
    const zeros = runSequence(net, new Float32Array(8), [4, 2]);
    assert.equal(zeros.spiking, false);
    assert.equal(zeros.counts, undefined);
  });

  test('IF: v += dt·r·x; I: the same without a threshold', async () => {
    const r = [3000, 5000], th = [1, 1.5], vr = [0, -0.5];
    const a = await trajectory({ type: 'IF', r: f4(r), v_threshold: f4(th), v_reset: f4(vr) }, x);
    check(a.steps, [0, 1].map((i) => byHand(x, i, { a: 1, b: f(f(r[i]!) * dt), c: 0, th: f(th[i]!), vr: f(vr[i]!) })));
    const b = await trajectory({ type: 'I', r: f4(r) }, x);
    check(b.steps, [0, 1].map((i) => byHand(x, i, { a: 1, b: f(f(r[i]!) * dt), c: 0 })));
  });

  test('CubaLIF and CubaLI: I += dt/τ_syn·(−I + w_in·x), then the LIF/LI update on I', async () => {
    const p = { tau_syn: [5e-4, 3e-4], tau_mem: [1e-3, 2e-3], r: [2, 1.2], v_leak: [0, 0.1], v_threshold: [0.3, 0.25], v_reset: [0, -0.1], w_in: [1, 1.5] };
    const syn = (i: number) => ({ as: f(1 - dt / f(p.tau_syn[i]!)), bs: f(f(p.w_in[i]!) * (dt / f(p.tau_syn[i]!))) });
    const a = await trajectory({ type: 'CubaLIF', ...Object.fromEntries(Object.entries(p).map(([kk, v]) => [kk, f4(v)])) } as Node, x);
    const want = [0, 1].map((i) => byHand(x, i, { ...eulerLeak(p.tau_mem[i]!, p.r[i]!, p.v_leak[i]!), ...syn(i), th: f(p.v_threshold[i]!), vr: f(p.v_reset[i]!) }));
    assert.ok(want.every((w) => w.some((s) => s === 1)));
    check(a.steps, want);
    const { v_threshold: _t, v_reset: _r, ...li } = p;
    void _t; void _r;
    const b = await trajectory({ type: 'CubaLI', ...Object.fromEntries(Object.entries(li).map(([kk, v]) => [kk, f4(v)])) } as Node, x);
    check(b.steps, [0, 1].map((i) => byHand(x, i, { ...eulerLeak(p.tau_mem[i]!, p.r[i]!, p.v_leak[i]!), ...syn(i) })));
  });

  test('a uniform LIF runs on our fused neuron with the same bits as the NIR neuron op', async () => {
    const node: Node = { type: 'LIF', tau: f4([1e-3, 1e-3]), r: f4([1, 1]), v_leak: f4([0, 0]), v_threshold: f4([0.5, 0.5]), v_reset: f4([0, 0]) };
    const fused = await trajectory(node, x), plain = await trajectory(node, x, { fuse: false });
    assert.equal(fused.net.graph.nodes.find((n) => n.id === 'n')!.op, 'neuron');
    assert.equal(plain.net.graph.nodes.find((n) => n.id === 'n')!.op, 'nir-neuron');
    assert.deepEqual(fused.steps, plain.steps);
    check(fused.steps, [0, 1].map((i) => byHand(x, i, { ...eulerLeak(1e-3, 1, 0), th: f(0.5), vr: 0 })));
  });

  test('Threshold, Scale and Delay: H(x − θ), s·x, x(t − round(d/dt))', async () => {
    const th = await trajectory({ type: 'Threshold', threshold: f4([1, 0.5]) }, x);
    check(th.steps, [0, 1].map((i) => col(Array.from({ length: T }, (_, t) => [x[2 * t]!, x[2 * t + 1]!]), i).map((v) => (v > [1, 0.5][i]! ? 1 : 0))));
    const sc = await trajectory({ type: 'Scale', scale: f4([2, -0.5]) }, x);
    check(sc.steps, [0, 1].map((i) => Array.from({ length: T }, (_, t) => f(x[2 * t + i]! * [2, -0.5][i]!))));
    const de = await trajectory({ type: 'Delay', delay: f4([3e-4, 0]) }, x);
    check(de.steps, [Array.from({ length: T }, (_, t) => (t < 3 ? 0 : x[2 * (t - 3)]!)), Array.from({ length: T }, (_, t) => x[2 * t + 1]!)]);
  });
});
