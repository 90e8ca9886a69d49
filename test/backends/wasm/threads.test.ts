// The worker pool: workers started lazily inside a kernel call keep working on later calls (their control
// blocks survive the arena being released), results equal one thread's, and the process still exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { wasmBackendSync } from '../../../src/backends/wasm/index.js';

const seq = (n: number, mod: number): Float32Array => Float32Array.from({ length: n }, (_, i) => ((i * 7) % mod) - (mod >> 1));

test('workers started inside a kernel call serve many later calls with results equal to one thread', () => {
  const two = wasmBackendSync(2), one = wasmBackendSync(1);
  assert.ok(two && one, 'build/edgespike.wasm is missing');
  two.settings.minParallelWork = 0;
  const [m, n, k] = [23, 17, 31];
  const a = seq(m * k, 5), b = seq(k * n, 3);
  const want = new Float32Array(m * n);
  one.kernels.gemm(a, b, want, m, n, k, false, false, 0);
  // integer inputs keep every sum exact, so the split must not change a single bit
  for (let call = 0; call < 50; call++) {
    const got = new Float32Array(m * n).fill(NaN);
    two.kernels.gemm(a, b, got, m, n, k, false, false, 0);
    assert.deepEqual(got, want, `call ${call}`);
  }
  assert.equal(two.usableThreads(), 2);
});

test('the convolution weight gradients (spike and dense) give the same bits on one and two threads, call after call', () => {
  // fractional dy, so a different summation order would change the last bits: its items are summed in fixed
  // groups (claimed by whichever thread is free) and the group sums are added in group order
  const two = wasmBackendSync(2), one = wasmBackendSync(1);
  assert.ok(two && one, 'build/edgespike.wasm is missing');
  two.settings.minParallelWork = 0;
  const g = { n: 37, cin: 3, h: 10, w: 10, cout: 16, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, groups: 1, oh: 10, ow: 10 };
  const s = Float32Array.from({ length: g.n * g.cin * g.h * g.w }, (_, i) => ((i * 2654435761) >>> 0) % 7 === 0 ? 1 : 0);
  const dy = Float32Array.from({ length: g.n * g.cout * g.oh * g.ow }, (_, i) => Math.sin(i) / 3);
  const x = Float32Array.from(s, (v, i) => v * Math.cos(i));
  for (const name of ['spikeConv2dBackwardWeight', 'conv2dBackwardWeight'] as const) {
    const input = name === 'spikeConv2dBackwardWeight' ? s : x;
    const want = new Float32Array(g.cout * g.cin * g.kh * g.kw);
    one.kernels[name](input, dy, want, g, 0);
    assert.ok(want.some((v) => v !== 0));
    for (let call = 0; call < 20; call++) {
      const got = new Float32Array(want.length).fill(NaN);
      two.kernels[name](input, dy, got, g, 0);
      assert.deepEqual(got, want, `${name}, call ${call}`);
    }
  }
});

test('a process that used two threads exits by itself (workers are unref-ed)', () => {
  const backend = fileURLToPath(new URL('../../../src/backends/index.js', import.meta.url));
  const script = `import { kernels, setThreads, backendInfo } from ${JSON.stringify(backend)};
    setThreads(2); const n = 256, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);
    kernels().gemm(a, a, c, n, n, n, false, false, 0); console.log(backendInfo().threads, c[0]);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '2 256');
});

test('claimed chunks cover the range once, in order of claiming, with sizes differing by at most one', async () => {
  const { claimChunks, chunkRange } = await import('../../../src/backends/wasm/threads.js');
  const i32 = new Int32Array(new SharedArrayBuffer(16));
  for (const [lo, hi, n] of [[3, 20, 7], [0, 5, 5], [10, 11, 1], [0, 128, 8]] as const) {
    Atomics.store(i32, 1, 0);
    const got: [number, number][] = [];
    claimChunks(i32, 1, lo, hi, n, (from, to) => got.push([from, to]));
    assert.equal(got.length, n, `${lo}..${hi} in ${n}`);
    assert.equal(got[0]![0], lo);
    assert.equal(got[n - 1]![1], hi);
    for (let c = 1; c < n; c++) assert.equal(got[c]![0], got[c - 1]![1], 'chunks must be contiguous and disjoint');
    const sizes = got.map(([a, b]) => b - a);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1 && Math.min(...sizes) >= 1, `sizes ${sizes}`);
    assert.equal(Atomics.load(i32, 1), n + 1, 'one failed claim ends the loop');
    assert.deepEqual(chunkRange(lo, hi, 0, n), got[0]);
  }
});
