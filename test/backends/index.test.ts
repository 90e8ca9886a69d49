// The backend switch: wasm by default when built, the environment overrides, thread count and the
// spike/dense choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, kernels, preferSpike, setBackend, setThreads, spikeDensity, SPIKE_CROSSOVER, winogradShape } from '../../src/backends/index.js';
import { refKernels } from '../../src/backends/ref/index.js';
import { EdgespikeError } from '../../src/util/errors.js';

const entry = fileURLToPath(new URL('../../src/backends/index.js', import.meta.url));

/** Runs a snippet in a fresh process with the given environment and returns backendInfo() as JSON. */
function infoWith(env: Record<string, string>): { status: number | null; out: string; err: string } {
  const script = `import { backendInfo } from ${JSON.stringify(entry)}; console.log(JSON.stringify(backendInfo()));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script],
    { encoding: 'utf8', env: { ...process.env, EDGESPIKE_BACKEND: '', EDGESPIKE_THREADS: '', EDGESPIKE_WASM: '', ...env }, timeout: 20000 });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

test('wasm is the default backend in Node when build/edgespike.wasm exists; EDGESPIKE_BACKEND overrides', () => {
  assert.deepEqual(JSON.parse(infoWith({}).out), { name: 'wasm', threads: 1, simd: true, body: 'simd128' });
  // Node 20 has relaxed SIMD behind a V8 flag that loading the relaxed body turns on; later Node versions have it on
  assert.deepEqual(JSON.parse(infoWith({ EDGESPIKE_WASM: 'relaxed' }).out), { name: 'wasm', threads: 1, simd: true, body: 'relaxed' });
  assert.deepEqual(JSON.parse(infoWith({ EDGESPIKE_BACKEND: 'ref' }).out), { name: 'ref', threads: 1, simd: false, body: 'ref' });
  assert.deepEqual(JSON.parse(infoWith({ EDGESPIKE_THREADS: '2' }).out), { name: 'wasm', threads: 2, simd: true, body: 'simd128' });
  const badBody = infoWith({ EDGESPIKE_WASM: 'avx' });
  assert.notEqual(badBody.status, 0);
  assert.match(badBody.err, /EDGESPIKE_WASM: expected relaxed or simd128, got "avx"/);
  const bad = infoWith({ EDGESPIKE_BACKEND: 'gpu' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /EDGESPIKE_BACKEND: expected ref or wasm, got "gpu"/);
  const badThreads = infoWith({ EDGESPIKE_THREADS: 'two' });
  assert.notEqual(badThreads.status, 0);
  assert.match(badThreads.err, /EDGESPIKE_THREADS: expected an integer 1…16, got "two"/);
});

test('setBackend switches the table; setThreads validates its argument', () => {
  setBackend('ref');
  assert.equal(kernels(), refKernels);
  assert.equal(backendInfo().name, 'ref');
  setBackend('wasm');
  assert.notEqual(kernels(), refKernels);
  assert.equal(backendInfo().name, 'wasm');
  assert.throws(() => setThreads(0), EdgespikeError);
  assert.throws(() => setThreads(1.5), EdgespikeError);
  assert.throws(() => setThreads(17), EdgespikeError);
  assert.throws(() => setBackend('gpu' as 'ref'), EdgespikeError);
  setThreads(1);
  assert.equal(backendInfo().threads, 1);
});

test('spikeDensity counts non-zeros; preferSpike switches at the measured crossover', () => {
  // both counting paths: 9 entries, non-zero at 1, 3, 4 (NaN counts, −0 does not) plus the scalar tail at 8
  const a = Float32Array.from([0, 1, 0, NaN, 0.5, -0, 0, 0, 2]);
  for (const name of ['wasm', 'ref'] as const) {
    setBackend(name);
    assert.equal(spikeDensity(a), 4 / 9, name);
    assert.equal(spikeDensity(Float32Array.from([0, 1, 0, 1, 1, 0, 0, 0])), 3 / 8, name);
    assert.equal(spikeDensity(new Float32Array(0)), 0, name);
  }
  setBackend('wasm');
  for (const kind of ['linear', 'conv', 'conv3x3'] as const) {
    assert.equal(preferSpike(kind, 0.01), true);
    assert.equal(preferSpike(kind, SPIKE_CROSSOVER[kind] - 1e-9), true);
    assert.equal(preferSpike(kind, SPIKE_CROSSOVER[kind]), false);
    assert.equal(preferSpike(kind, 0.9), false);
  }
  const shape = { kh: 3, kw: 3, strideH: 1, strideW: 1, groups: 1, cin: 64, cout: 64 };
  assert.equal(winogradShape(shape), true);
  for (const other of [{ kh: 5, kw: 5 }, { strideH: 2 }, { groups: 2 }, { cin: 16 }, { cout: 31 }]) assert.equal(winogradShape({ ...shape, ...other }), false);
});

test('initWasm({ body }) loads the chosen body, and refuses another once one is loaded', () => {
  const run = (code: string): { status: number | null; out: string; err: string } => {
    const script = `import { backendInfo, initWasm } from ${JSON.stringify(entry)}; ${code}`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script],
      { encoding: 'utf8', env: { ...process.env, EDGESPIKE_BACKEND: '', EDGESPIKE_THREADS: '', EDGESPIKE_WASM: '' }, timeout: 20000 });
    return { status: r.status, out: r.stdout.trim(), err: r.stderr };
  };
  const relaxed = run(`await initWasm({ body: 'relaxed' }); console.log(backendInfo().body);`);
  assert.equal(relaxed.out, 'relaxed', relaxed.err);
  const again = run(`await initWasm(); await initWasm({ body: 'relaxed' }).catch((e) => console.log(e.message));`);
  assert.equal(again.out, 'initWasm: the simd128 body is already loaded; choose the body before the first kernel call');
  const bad = run(`await initWasm({ body: 'avx' }).catch((e) => console.log(e.message));`);
  assert.equal(bad.out, `initWasm: body must be 'simd128' or 'relaxed', got "avx"`);
});

test('EDGESPIKE_WASM naming a body whose file is missing is an error; without it the reference kernels run', () => {
  // a copy of the compiled library beside a build/ that has only the SIMD128 body
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-body-'));
  try {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    cpSync(join(root, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
    mkdirSync(join(dir, 'build'));
    copyFileSync(join(root, 'build', 'edgespike.wasm'), join(dir, 'build', 'edgespike.wasm'));
    const copy = join(dir, 'dist', 'src', 'backends', 'index.js');
    const run = (env: Record<string, string>): { status: number | null; out: string; err: string } => {
      const script = `import { backendInfo } from ${JSON.stringify(copy)}; console.log(JSON.stringify(backendInfo()));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script],
        { encoding: 'utf8', env: { ...process.env, EDGESPIKE_BACKEND: '', EDGESPIKE_THREADS: '', EDGESPIKE_WASM: '', ...env }, timeout: 20000 });
      return { status: r.status, out: r.stdout.trim(), err: r.stderr };
    };
    assert.deepEqual(JSON.parse(run({}).out), { name: 'wasm', threads: 1, simd: true, body: 'simd128' });
    const missing = run({ EDGESPIKE_WASM: 'relaxed' });
    assert.notEqual(missing.status, 0);
    assert.match(missing.err, /EDGESPIKE_WASM=relaxed: .*build\/edgespike-relaxed\.wasm not found \(run npm run build:wasm\)/);
    rmSync(join(dir, 'build', 'edgespike.wasm'));
    assert.deepEqual(JSON.parse(run({}).out), { name: 'ref', threads: 1, simd: false, body: 'ref' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
