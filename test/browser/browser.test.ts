/**
 * edgespike in a browser: the demo page (demo/browser/) loads the compiled modules and build/edgespike.wasm
 * from a static server over the repository root, runs lenet's inference and one training step on one thread
 * and on two (a Web Worker), and must report the wasm SIMD kernels and the same numbers as Node.
 * Where Debian's Chromium is not installed, the tests that open the page are skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic, type StaticServer } from '../../demo/browser/serve.js';
import { runLenet, DEMO_BATCH, type LenetRun } from '../../demo/browser/lenet.js';
import type { PageResult } from '../../demo/browser/page.js';
import { CHROMIUM, pageValue } from './chromium.js';

const distDir = fileURLToPath(new URL('../../', import.meta.url)); // DIST/ (this file is DIST/test/browser/…)
const root = resolve(distDir, '..'), dist = basename(distDir);
const classes = 10;

/** Relative files a compiled module imports statically, and the other specifiers it names (packages, node:…). */
function staticImports(file: string): { local: string[]; other: string[] } {
  const src = readFileSync(file, 'utf8'), local: string[] = [], other: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s+(?:[^;'"]*?\bfrom\s*)?['"]([^'"]+)['"]/gm)) {
    (m[1]!.startsWith('./') || m[1]!.startsWith('../') ? local : other).push(m[1]!);
  }
  return { local, other };
}

test('the page\'s module graph (and the worker\'s) imports only relative files: no npm package, no node: module', () => {
  const seen = new Set<string>(), foreign: string[] = [];
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const { local, other } = staticImports(file);
    foreign.push(...other.map((s) => `${file.slice(distDir.length)} imports ${s}`));
    for (const s of local) walk(resolve(dirname(file), s));
  };
  walk(join(distDir, 'demo/browser/page.js')); // it imports src/browser.js, the browser entry point
  walk(join(distDir, 'src/backends/wasm/worker.js'));
  assert.deepEqual(foreign, []);
  // the graph really is the network's: backends, tensor, ops, layers, zoo, optimizer, loss
  for (const f of ['src/browser.js', 'src/backends/wasm/loader.js', 'src/models/zoo.js', 'src/layers/net.js', 'src/train/optim.js', 'src/tensor/storage.js']) {
    assert.ok(seen.has(join(distDir, f)), f);
  }
});

test('src/browser.js exports the browser-safe part of src/index.js: the very same bindings', async () => {
  const web = await import('../../src/browser.js') as Record<string, unknown>, all = await import('../../src/index.js') as Record<string, unknown>;
  const names = Object.keys(web);
  for (const k of ['initWasm', 'setThreads', 'backendInfo', 'workspace', 'zoo', 'SpikingNet', 'Optimizer', 'lossOf', 'Rng', 'ops', 'parseSpec']) {
    assert.ok(names.includes(k), k);
  }
  for (const k of names) assert.equal(web[k], all[k], k);
  for (const k of ['train', 'evaluate', 'mnist', 'saveNet', 'loadNet', 'events', 'audio', 'readSafetensors']) assert.ok(!names.includes(k), k);
});

test('the static server: content types, isolation headers only when asked, nothing outside the root', async () => {
  const on = await serveStatic(root), off = await serveStatic(root, { isolated: false });
  try {
    const wasm = await fetch(`${on.url}build/edgespike.wasm`);
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(wasm.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(wasm.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const bytes = new Uint8Array(await wasm.arrayBuffer());
    assert.deepEqual(bytes, new Uint8Array(readFileSync(join(root, 'build/edgespike.wasm'))));
    const js = await fetch(`${on.url}${dist}/demo/browser/page.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await fetch(`${on.url}demo/browser/index.html`)).headers.get('content-type'), 'text/html; charset=utf-8');
    const plain = await fetch(`${off.url}demo/browser/index.html`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('cross-origin-opener-policy'), null);
    assert.equal(plain.headers.get('cross-origin-embedder-policy'), null);
    for (const bad of ['..%2f..%2f..%2fetc%2fpasswd', '.git/HEAD', 'build/', 'no-such-file.js']) {
      const r = await fetch(`${on.url}${bad}`);
      await r.arrayBuffer();
      assert.equal(r.status, 404, bad);
    }
  } finally { await Promise.all([on.close(), off.close()]); }
});

/** Largest |a − b| / max(|a|, |b|) over two equally long lists (0 where both are 0). */
function maxRelative(a: readonly number[], b: readonly number[]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!), s = Math.max(Math.abs(a[i]!), Math.abs(b[i]!));
    worst = Math.max(worst, d === 0 ? 0 : d / s);
  }
  return worst;
}

/** Asserts that a browser run computed what Node computed: logits, training loss and loss after the step. */
function assertSameAsNode(got: LenetRun, want: LenetRun, label: string): void {
  assert.ok(maxRelative(got.logits, want.logits) <= 1e-5, `${label}: logits differ from Node's by ${maxRelative(got.logits, want.logits)}`);
  assert.ok(maxRelative([got.loss, got.lossAfter], [want.loss, want.lossAfter]) <= 1e-5,
    `${label}: losses ${got.loss}, ${got.lossAfter}; Node ${want.loss}, ${want.lossAfter}`);
}

/** Serves the root (isolated or not), opens the demo page with ?threads=2 (and `query`) and returns what it shows. */
async function openDemo(isolated: boolean, query = ''): Promise<PageResult> {
  const dir = mkdtempSync(join(tmpdir(), 'es-browser-'));
  let server: StaticServer | undefined;
  try {
    server = await serveStatic(root, { isolated });
    const text = await pageValue(`${server.url}demo/browser/index.html?dist=${dist}&threads=2${query}`, {
      ready: `['edgespike: done', 'edgespike: error'].includes(document.title)`, value: `document.getElementById('result').textContent`,
      timeoutMs: 15_000, userDataDir: join(dir, 'chrome'),
    });
    const result = JSON.parse(String(text)) as PageResult & { error?: string };
    assert.equal(result.error, undefined, `the page failed: ${result.error}`);
    return result;
  } finally {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const node = runLenet();
const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`;

test('Node reference: wasm SIMD kernels, distinct logits per sample, and the Adam step lowers the loss', () => {
  assert.deepEqual(node.backend, { name: 'wasm', threads: 1, simd: true, body: 'simd128' }, 'build/edgespike.wasm is missing');
  assert.equal(node.logits.length, DEMO_BATCH * classes);
  // the fixed input makes every layer spike, so samples differ (silent layers would give each the same logits)
  const rows = Array.from({ length: DEMO_BATCH }, (_, i) => JSON.stringify(node.logits.slice(i * classes, (i + 1) * classes)));
  assert.equal(new Set(rows).size, DEMO_BATCH);
  assert.ok(node.lossAfter < node.loss, `loss ${node.loss} → ${node.lossAfter}`);
});

test('cross-origin-isolated page: wasm SIMD on one thread, then two (a Web Worker), both equal to Node', { skip: noChromium }, async () => {
  const page = await openDemo(true);
  assert.equal(page.crossOriginIsolated, true);
  assert.equal(page.runs.length, 2);
  assert.deepEqual(page.runs[0]!.backend, { name: 'wasm', threads: 1, simd: true, body: 'simd128' });
  assert.deepEqual(page.runs[1]!.backend, { name: 'wasm', threads: 2, simd: true, body: 'simd128' }, 'the Web Worker did not start');
  assertSameAsNode(page.runs[0]!, node, 'one thread');
  assertSameAsNode(page.runs[1]!, node, 'two threads');
});

test('page without isolation headers: wasm SIMD still, on one thread (no Web Worker), equal to Node', { skip: noChromium }, async () => {
  const page = await openDemo(false);
  assert.equal(page.crossOriginIsolated, false);
  assert.equal(page.runs.length, 2);
  assert.deepEqual(page.runs.map((r) => r.backend), [{ name: 'wasm', threads: 1, simd: true, body: 'simd128' }, { name: 'wasm', threads: 1, simd: true, body: 'simd128' }]);
  assertSameAsNode(page.runs[0]!, node, 'one thread');
  assertSameAsNode(page.runs[1]!, node, 'threads asked for, one given');
});

test('the relaxed-SIMD body in the page: both runs on it, equal to Node\'s run on it', { skip: noChromium }, async () => {
  // Node's run on the relaxed body, in a child process (this one has loaded the default body)
  const script = `import { runLenet } from ${JSON.stringify(join(distDir, 'demo/browser/lenet.js'))}; console.log(JSON.stringify(runLenet()));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script],
    { encoding: 'utf8', env: { ...process.env, EDGESPIKE_WASM: 'relaxed', EDGESPIKE_BACKEND: '', EDGESPIKE_THREADS: '' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const nodeRelaxed = JSON.parse(r.stdout) as LenetRun;
  assert.deepEqual(nodeRelaxed.backend, { name: 'wasm', threads: 1, simd: true, body: 'relaxed' });
  const page = await openDemo(true, '&body=relaxed');
  assert.deepEqual(page.runs.map((x) => x.backend), [{ name: 'wasm', threads: 1, simd: true, body: 'relaxed' }, { name: 'wasm', threads: 2, simd: true, body: 'relaxed' }]);
  assertSameAsNode(page.runs[0]!, nodeRelaxed, 'relaxed, one thread');
  assertSameAsNode(page.runs[1]!, nodeRelaxed, 'relaxed, two threads');
});
