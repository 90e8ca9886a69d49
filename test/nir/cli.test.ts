/**
 * `edgespike nir` spawned: inspect (types, parameter sums, edges, warnings), run (spike steps against the
 * Euler update written out, at two dt), import → eval / profile / quantize, export → run with the same
 * spikes, and bad files and arguments as one line with exit code 2.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { oneLineError } from '../helpers/cli.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeNpy } from '../../src/data/events/npy.js';
import { f4, i8, tempDir, writeRaw, type Node } from './_h5.js';

const bin = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, EDGESPIKE_THREADS: '1' } });
const tmp = tempDir('es-nir-cli-');
after(() => tmp.done());

function ok(r: ReturnType<typeof run>): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const W1 = Array.from({ length: 4 * 25 }, (_, i) => ((i * 37) % 11) / 10 - 0.3);
const W2 = Array.from({ length: 10 * 576 }, (_, i) => (((i * 13) % 7) / 7 - 3 / 7) * 0.05);
/** MNIST-shaped CNN as snnTorch writes one (0.2.0, edges unordered): Conv2d → IF → Flatten → Affine → LIF. */
const cnn = (edit: (n: Record<string, Node>) => void = () => {}): Node => {
  const nodes: Record<string, Node> = {
    input: { type: 'Input', shape: i8([1, 28, 28]) },
    c: { type: 'Conv2d', weight: f4(W1, [4, 1, 5, 5]), bias: f4([0, 0.1, 0, 0]), stride: i8([2, 2]), padding: i8([0, 0]), dilation: i8([1, 1]), groups: i8(1), input_shape: i8([28, 28]) },
    if1: { type: 'IF', r: f4(new Array(576).fill(1e4), [4, 12, 12]), v_threshold: f4(new Array(576).fill(1), [4, 12, 12]), v_reset: f4(new Array(576).fill(0), [4, 12, 12]) },
    flat: { type: 'Flatten', start_dim: i8(0), end_dim: i8(-1), input_type: i8([4, 12, 12]) },
    fc: { type: 'Affine', weight: f4(W2, [10, 576]), bias: f4(Array.from({ length: 10 }, (_, i) => 0.05 * i)) },
    lif: { type: 'LIF', tau: f4(new Array(10).fill(1e-3)), r: f4(new Array(10).fill(10)), v_leak: f4(new Array(10).fill(0)), v_threshold: f4(new Array(10).fill(1)), v_reset: f4(new Array(10).fill(0)) },
    output: { type: 'Output', shape: i8([10]) },
  };
  edit(nodes);
  return { type: 'NIRGraph', nodes, edges: [['c', 'if1'], ['input', 'c'], ['fc', 'lif'], ['if1', 'flat'], ['flat', 'fc'], ['lif', 'output']] };
};
const lif: Node = {
  type: 'NIRGraph', edges: [['input', '0'], ['0', '1'], ['1', 'output']], nodes: {
    input: { type: 'Input', shape: i8([1]) }, 0: { type: 'Affine', weight: f4([1], [1, 1]), bias: f4([0]) },
    1: { type: 'LIF', tau: f4([0.0025]), r: f4([1]), v_leak: f4([0]), v_threshold: f4([0.1]) }, output: { type: 'Output', shape: i8([1]) },
  },
};

test('nir inspect: node types, parameter shapes and sums, edges; a mismatched Output shape is a warning', async () => {
  const path = tmp.path('cnn.nir');
  await writeRaw(path, '0.2.0', cnn((n) => { (n.output as Record<string, unknown>).shape = i8([5]); }));
  const r = ok(run('nir', 'inspect', path, '--json'));
  assert.equal(r.version, '0.2.0');
  const byName = Object.fromEntries(r.nodes.map((n: { name: string }) => [n.name, n]));
  assert.equal(byName.c.type, 'Conv2d');
  assert.deepEqual(byName.c.fields.weight.shape, [4, 1, 5, 5]);
  assert.equal(byName.c.fields.weight.sum, W1.reduce((s, v) => s + Math.fround(v), 0));
  assert.deepEqual(byName.c.fields.stride.values, [2, 2]);
  assert.equal(byName.if1.fields.r.sum, 576 * 1e4);
  assert.equal(r.edges.length, 6);
  assert.deepEqual(r.input, [1, 28, 28]);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /output \(Output\): declares shape \[5\], receives \[10\]/);
  // shapes that cannot chain: inspect still lists the file, with the reason it does not import
  const bad = tmp.path('unchained.nir');
  await writeRaw(bad, '0.2.0', cnn((n) => { n.fc = { type: 'Affine', weight: f4(new Array(10 * 500).fill(0), [10, 500]), bias: f4(new Array(10).fill(0)) }; }));
  const b = ok(run('nir', 'inspect', bad, '--json'));
  assert.equal(b.imports, false);
  assert.match(b.warnings.join('\n'), /does not import: NIR import: node "fc" \(Affine\): its weight \[10, 500\] takes 500 inputs/);
  oneLineError(run('nir', 'import', bad, '--out', tmp.path('x.es')), /node "fc" \(Affine\): its weight \[10, 500\] takes 500 inputs, it receives \[576\]/);
  assert.equal(existsSync(tmp.path('x.es')), false);
});

test('nir run: the spike steps of snnTorch\'s one-LIF file are the Euler update written out, at the --dt given', async () => {
  const path = tmp.path('lif.nir');
  await writeRaw(path, '0.1.1', lif);
  const T = 30, x = tmp.path('ones.npy');
  writeFileSync(x, encodeNpy(new Float32Array(T).fill(1), [T, 1], '<f4'));
  const f = Math.fround;
  for (const dt of [1e-4, 2e-4]) {
    const r = ok(run('nir', 'run', path, '--input', x, '--dt', String(dt), '--json'));
    const a = f(1 - dt / f(0.0025)), b = f(dt / f(0.0025));
    const want: number[] = [];
    let v = 0;
    for (let t = 0; t < T; t++) { const h = f(f(a * v) + f(b)); if (h > f(0.1)) { want.push(t); v = 0; } else v = h; }
    assert.equal(r.dt, dt);
    assert.deepEqual(r.spike_steps, [want]);
    assert.deepEqual(r.counts, [want.length]);
  }
  const text = run('nir', 'run', path, '--input', x);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /30 steps of dt 0\.0001 s \(euler\)/);
  oneLineError(run('nir', 'run', path, '--input', x, '--dt', '-1'), /--dt: expected a number ≥/);
  const wrong = tmp.path('wrong.npy');
  writeFileSync(wrong, encodeNpy(new Float32Array(6), [3, 2], '<f4'));
  oneLineError(run('nir', 'run', path, '--input', wrong), /nir run: the input must be \[T, 1\] .*got \[3, 2\]/);
  writeFileSync(wrong, encodeNpy(new Float32Array(3), [3, 1], '<i4'));
  oneLineError(run('nir', 'run', path, '--input', wrong), /--input .*wrong\.npy: holds <i4, expected float32/);
});

test('nir import → eval, profile, quantize; nir export → run gives the same spikes; the written file is atomic', async () => {
  const nir = tmp.path('cnn2.nir'), es = tmp.path('cnn.es');
  await writeRaw(nir, '0.2.0', cnn());
  const imp = ok(run('nir', 'import', nir, '--out', es, '--T', '4', '--json'));
  assert.equal(imp.restored, false);
  assert.equal(imp.classes, 10);
  const ev = ok(run('eval', es, '--dataset', 'mnist', '--limit', '64', '--json'));
  assert.equal(ev.samples, 64);
  assert.equal(ev.timesteps, 4);
  const pr = ok(run('profile', es, '--dataset', 'mnist', '--limit', '8', '--json'));
  // profile counts the neurons before the readout layer (the IF layer); the output LIF is the readout's
  assert.deepEqual(pr.architecture.layers.map((l: { path: string }) => l.path), ['c', 'if1', 'flat', 'fc']);
  assert.equal(pr.architecture.neurons, 576);
  const q = ok(run('quantize', es, '--out', tmp.path('q.es'), '--weight-bits', '8', '--test-limit', '64', '--json'));
  assert.ok(q.test_accuracy >= 0);
  const back = tmp.path('back.nir');
  const ex = ok(run('nir', 'export', es, '--out', back, '--json'));
  assert.deepEqual(ex.lost, []);
  const x = tmp.path('x.npy');
  writeFileSync(x, encodeNpy(Float32Array.from({ length: 6 * 784 }, (_, i) => ((i * 7) % 9) / 8), [6, 1, 28, 28], '<f4'));
  const a = ok(run('nir', 'run', nir, '--input', x, '--json')), b = ok(run('nir', 'run', back, '--input', x, '--json'));
  assert.equal(b.restored, true);
  assert.ok(a.counts.some((c: number) => c > 0) && a.counts.some((c: number) => c < 6), `varied output spikes ${a.counts}`);
  assert.deepEqual(b.spike_steps, a.spike_steps);
  // the reference nir package's layout: every node a group of datasets under /node/nodes
  assert.equal(readFileSync(back).subarray(1, 4).toString('latin1'), 'HDF');
  assert.deepEqual(readdirSync(tmp.dir).filter((n) => n.endsWith('.tmp')), []);
});

test('bad files and outputs: one line, exit 2, nothing written', async () => {
  const dangling = tmp.path('dangling.nir');
  await writeRaw(dangling, '0.2.0', { ...cnn(), edges: [['input', 'c'], ['c', 'if2']] } as Node);
  oneLineError(run('nir', 'inspect', dangling), /edge 1 \("c" → "if2"\) names "if2", which is not a node of this graph/);
  const unknown = tmp.path('unknown.nir');
  await writeRaw(unknown, '1.0.0', cnn((n) => { n.flat = { type: 'Reshape', shape: i8([576]) }; }));
  oneLineError(run('nir', 'run', unknown, '--input', tmp.path('none.npy')), /none\.npy/);
  oneLineError(run('nir', 'import', unknown, '--out', tmp.path('u.es')), /node "flat": unknown node type "Reshape"/);
  const missing = tmp.path('missing.nir');
  await writeRaw(missing, '1.0.0', cnn((n) => { const { bias: _b, ...rest } = n.fc as Record<string, unknown>; void _b; n.fc = rest as Node; }));
  oneLineError(run('nir', 'inspect', missing, '--json'), /node "fc" \(Affine\): dataset "bias" is missing/);
  const whole = readFileSync(missing);
  const cut = tmp.path('cut.nir');
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  oneLineError(run('nir', 'inspect', cut), /NIR file "cut\.nir": /);
  oneLineError(run('nir', 'export', tmp.path('nothing.es'), '--out', tmp.path('o.nir')), /nothing\.es/);
  oneLineError(run('nir', 'import', dangling, '--out', tmp.path('no/such/dir/m.es')), /--out .*the folder .* does not exist/);
  oneLineError(run('nir', 'export', tmp.path('nothing.es'), '--out', tmp.path('o.nir'), '--preset', 'brian2'), /--preset: expected one of snntorch, spikingjelly, norse/);
  assert.equal(existsSync(tmp.path('o.nir')), false);
});
