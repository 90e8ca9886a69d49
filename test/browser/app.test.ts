/**
 * The browser app (`edgespike serve`, demo/app/): the site it serves (isolation headers, only the page's
 * browser-safe modules), the command's bad input and its static build, then the page itself in headless
 * Chromium in real time: a digit drawn with the mouse is classified as `edgespike predict` classifies the
 * same pixels, an event file given to the file input runs and its spikes show, the quantized copy and the
 * float/quantized switch, a dropped model file, and training steps with the losses Node computes.
 * Screenshots of the spike panels are compared within the run: two different inputs must give different
 * pictures, the same input drawn again the very same picture, and the panels must show spikes (lit cells).
 * Stored reference images would fail on any change of fonts or Chromium's rasteriser without saying
 * anything about the app; these comparisons fail exactly when the panels stop depending on the input, depend
 * on something else, or show nothing. With APP_SCREENSHOTS=DIR the page is saved after a drawn digit and
 * after an event file, for a release note.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { runCommand } from 'citty';
import { appSite, serveSite, writeSite, pageModules, serveCommand, type AppServer, type Site } from '../../src/cli/serve.js';
import { serveStatic } from '../../demo/browser/serve.js';
import {
  freshLenet, modelFromBytes, modelToBytes, modelInfo, quantizedCopy, eventInput, infer, decodeDigits, LiveTrainer, type Digits,
} from '../../demo/app/core.js';
import { emulateSaccades } from '../../src/data/events/emulator.js';
import { encodeAtis } from '../../src/data/events/atis.js';
import { encodeAedat2 } from '../../src/data/events/aedat2.js';
import { encodeAedat3 } from '../../src/data/events/aedat3.js';
import { encodeNpyEvents } from '../../src/data/events/npy.js';
import { SpikingNet, neuronParams, parseSpec, quantizeNet, freezeQuant, netToBytes, EdgespikeError } from '../../src/browser.js';
import { writePng } from '../../src/data/image.js';
import { CHROMIUM, Page, type Rect } from './chromium.js';

const distDir = fileURLToPath(new URL('../../', import.meta.url));
const root = resolve(distDir, '..');
const bin = join(root, 'bin', 'edgespike.js');
const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`;
const shots = process.env.APP_SCREENSHOTS;

let dir: string, site: Site, server: AppServer, digits: Digits, modelPath: string, modelBytes: Uint8Array;

/** Snapshot of the page's state (window.edgespikeApp.snapshot()). */
interface Snap {
  model: string; quantized: boolean; slots: string[]; active: string; inputKind: string; inverted: boolean | null; events: number | null;
  top: number | null; probs: number[] | null; ms: number | null; median: { median: number; min: number } | null;
  layers: { name: string; neurons: number; rate: number; spikes: number }[] | null; steps: number; losses: number[]; heldOut: number | null;
  busy: boolean; error: string; backend: { name: string; threads: number; simd: boolean }; crossOriginIsolated: boolean;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'es-app-'));
  site = await appSite(undefined);
  digits = decodeDigits(site.get('assets/digits.bin')!(), 'digits.bin');
  // a lenet trained briefly here, so the page's answers are a trained model's
  const m = freshLenet();
  const t = new LiveTrainer(m, digits);
  for (let i = 0; i < 100; i++) t.step();
  modelBytes = modelToBytes({ ...m, name: 'lenet.es' });
  modelPath = join(dir, 'lenet.es');
  writeFileSync(modelPath, modelBytes);
  server = await serveSite(await appSite({ name: 'lenet.es', bytes: modelBytes }));
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the site: isolation headers and content types on every file, only the page\'s modules, nothing else', async () => {
  for (const [path, type] of [['', 'text/html; charset=utf-8'], ['style.css', 'text/css; charset=utf-8'], ['dist/demo/app/app.js', 'text/javascript; charset=utf-8'],
    ['build/edgespike.wasm', 'application/wasm'], ['app.json', 'application/json'], ['model.es', 'application/octet-stream']] as const) {
    const r = await fetch(server.url + path);
    const body = new Uint8Array(await r.arrayBuffer());
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), type, path);
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin', path);
    assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp', path);
    if (path === 'model.es') assert.deepEqual(body, modelBytes);
  }
  assert.deepEqual(await (await fetch(server.url + 'app.json')).json(), { model: { url: 'model.es', name: 'lenet.es' }, digits: 'assets/digits.bin' });
  for (const bad of ['dist/src/cli/serve.js', 'dist/src/index.js', 'package.json', '..%2fpackage.json', 'dist/../package.json', 'nothing']) {
    const r = await fetch(server.url + bad);
    await r.arrayBuffer();
    assert.equal(r.status, 404, bad);
  }
  assert.equal((await fetch(server.url, { method: 'POST' })).status, 405);
  // the page's module graph: relative imports only (no npm package, no node: module), the page, the worker and the decoders in it
  const mods = pageModules(distDir), foreign: string[] = [];
  for (const rel of mods) {
    for (const m of readFileSync(join(distDir, rel), 'utf8').matchAll(/^\s*(?:import|export)\s+(?:[^;'"]*?\bfrom\s*)?['"]([^'"]+)['"]/gm)) {
      if (!m[1]!.startsWith('./') && !m[1]!.startsWith('../')) foreign.push(`${rel} imports ${m[1]}`);
    }
  }
  assert.deepEqual(foreign, []);
  for (const f of ['demo/app/app.js', 'demo/app/core.js', 'src/backends/wasm/worker.js', 'src/data/events/decode.js', 'src/data/events/atis-codec.js', 'src/data/image-input.js',
    'src/data/digit-set.js']) assert.ok(mods.includes(f), f);
  for (const f of ['src/data/events/atis.js', 'src/data/image.js', 'src/util/atomic.js']) assert.ok(!mods.includes(f), f);
  // the digits: 1000 to train on and 200 held out, MNIST's first of each split
  assert.equal(digits.train, 1000);
  assert.equal(digits.test, 200);
  assert.deepEqual([...digits.labels.subarray(0, 5)], [5, 0, 4, 1, 9]);
});

test('the app\'s inputs in Node: event files of each format, T frames for a model of an event data set, quantized membranes', () => {
  const k = digits.train + 2, ev = emulateSaccades(digits.pixels.subarray(k * 784, (k + 1) * 784), { seed: 3 });
  const lenet = freshLenet();
  const files: [Uint8Array, string][] = [[encodeAtis(ev), 'a.bin'], [encodeAedat2({ ...ev, sensor: [128, 128, 2] }), 'a.aedat'], [encodeAedat3(ev), 'b.aedat'], [encodeNpyEvents(ev), 'a.npy']];
  for (const [bytes, name] of files) {
    const x = eventInput(bytes, name, lenet);
    assert.equal(x.events, ev.length, name);
    assert.deepEqual(x.shape, [1, 28, 28]);
    assert.ok(Math.max(...x.data) <= 1 && Math.max(...x.data) > 0.5 && Math.min(...x.data) >= 0, name);
  }
  // a model trained on N-MNIST takes T frames of counts split by event number: every event counted once
  const nm = new SpikingNet(parseSpec('8C3-P2-10'), { input: [2, 34, 34], neuron: neuronParams('lif'), T: 5, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 0 });
  const nmModel = modelFromBytes(netToBytes(nm, { dataset: 'nmnist' }), 'nm.es');
  const frames = eventInput(files[0]![0], 'a.bin', nmModel);
  assert.deepEqual(frames.shape, [5, 2, 34, 34]);
  assert.equal(frames.data.reduce((a, b) => a + b, 0), ev.length);
  assert.equal(infer(nmModel, frames).layers[0]!.raster.length, 5 * 8 * 16 * 16);
  // a model that takes no image
  const flat = new SpikingNet(parseSpec('32-10'), { input: [700], neuron: neuronParams('lif'), T: 2, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 0 });
  assert.throws(() => eventInput(files[0]![0], 'a.bin', modelFromBytes(netToBytes(flat, {}), 'shd.es')), (e: Error) => e instanceof EdgespikeError && /shd\.es takes input \[700\]/.test(e.message));
  // quantized weights and membranes and gates, as `edgespike quantize` writes them
  const q = freezeQuant(quantizeNet(lenet.net, { weights: { kind: 'sawb', bits: 4 }, membraneBits: 4, gate: true }));
  const qm = modelFromBytes(netToBytes(q, { dataset: 'mnist' }), 'q.es');
  assert.equal(qm.quantized, true);
  assert.match(modelInfo(qm).weights, /^4-bit sawb in 2 of 4 weighted layers$/);
  assert.match(modelInfo(qm).membrane, /^16 levels in 3 of 3 spiking layers$/);
  assert.equal(infer(qm, eventInput(files[0]![0], 'a.bin', qm)).probs.length, 10);
  assert.equal(modelInfo(quantizedCopy(lenet, 8)).spec, `${modelInfo(lenet).spec}, quantized`);
});

const cli = (...args: string[]) => spawnSync(process.execPath, [bin, 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });

test('edgespike serve: bad flags and files are one line and exit 2; the command serves until SIGTERM', { timeout: 180_000 }, async () => {
  const notModel = join(dir, 'notes.es');
  writeFileSync(notModel, 'not a model\n');
  const full = join(dir, 'full');
  mkdirSync(full);
  writeFileSync(join(full, 'x'), 'x');
  // each refused before anything starts, with a message naming the flag or file (in this process: quick)
  for (const [args, want] of [
    [['--port', '70000'], /--port: expected an integer ≤ 65535/], [['--bogus'], /unknown flag --bogus/], [[join(dir, 'missing.es')], /missing\.es/],
    [['--build', full], /--build .*full: the folder is not empty/], [['--build', join(dir, 'notes.es')], /notes\.es is not a directory/],
    [[modelPath, modelPath], /unexpected argument/], [['--host', 'a b'], /--host/],
  ] as const) {
    await assert.rejects(runCommand(serveCommand, { rawArgs: [...args] }), (e: Error) => e instanceof EdgespikeError && want.test(e.message), args.join(' '));
  }
  // and as the command line shows them: one line, exit code 2, no stack
  for (const [args, want] of [[['--port', 'http'], /--port: expected an integer/], [[notModel], /notes\.es/]] as const) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const p = spawn(process.execPath, [bin, 'serve', modelPath, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; if (out.includes('\n')) ok(out.trim()); });
      p.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
      setTimeout(() => fail(new Error('serve printed no address in 30 s')), 30_000);
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await fetch(url);
    assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.match(await r.text(), /<canvas id="draw"/);
    assert.deepEqual(new Uint8Array(await (await fetch(url + 'model.es')).arrayBuffer()), modelBytes);
  } finally {
    const exited = new Promise<number | null>((done) => p.once('exit', (code) => done(code)));
    p.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});

/** The RGBA pixels of the page's drawing area. */
async function canvasPixels(page: Page): Promise<{ data: Uint8Array; w: number; h: number }> {
  const [b64, w, h] = await page.evaluate<[string, number, number]>(`(() => { const c = document.getElementById('draw');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = '';
    for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
    return [btoa(s), c.width, c.height]; })()`);
  return { data: new Uint8Array(Buffer.from(b64, 'base64')), w, h };
}

/** `edgespike predict MODEL PNG --json` on RGBA pixels. */
function predictPixels(px: { data: Uint8Array; w: number; h: number }, file: string): { class: number; probabilities: number[]; inverted: boolean } {
  const plane = px.w * px.h, planes = new Float32Array(4 * plane);
  for (let p = 0; p < plane; p++) for (let k = 0; k < 4; k++) planes[k * plane + p] = px.data[4 * p + k]! / 255;
  writePng(file, planes, 4, px.h, px.w);
  const r = spawnSync(process.execPath, [bin, 'predict', modelPath, file, '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { class: number; probabilities: number[]; inverted: boolean };
}

/** Strokes of a digit in the drawing area's pixels (280 × 280). */
const SEVEN: [number, number][][] = [[[80, 60], [200, 60], [185, 100], [160, 160], [130, 240]]];
const ONE: [number, number][][] = [[[145, 45], [142, 120], [140, 240]]];

/** Draws strokes (drawing-area pixels, interpolated every 6 px) with the mouse after clicking Clear; waits for the answer. */
async function drawDigit(page: Page, strokes: [number, number][][]): Promise<Snap> {
  const clear = await page.box('#clear');
  await page.click(clear.x + clear.width / 2, clear.y + clear.height / 2);
  const c = await page.box('#draw'), sx = c.width / 280, sy = c.height / 280;
  for (const s of strokes) {
    const pts: [number, number][] = [];
    for (let i = 1; i < s.length; i++) {
      const [[x0, y0], [x1, y1]] = [s[i - 1]!, s[i]!], n = Math.ceil(Math.hypot(x1 - x0, y1 - y0) / 6);
      for (let k = i === 1 ? 0 : 1; k <= n; k++) pts.push([c.x + sx * (x0 + ((x1 - x0) * k) / n), c.y + sy * (y0 + ((y1 - y0) * k) / n)]);
    }
    await page.stroke(pts);
  }
  await page.waitFor(`(() => { const s = edgespikeApp.snapshot(); return s.inputKind === 'drawing' && s.median !== null; })()`, 10_000);
  return page.evaluate<Snap>('edgespikeApp.snapshot()');
}

/** Decoded PNG pixels (RGBA) and size. */
function decode(png: Buffer): { data: Buffer; width: number; height: number } {
  const p = PNG.sync.read(png);
  return { data: p.data, width: p.width, height: p.height };
}

/** Share of pixels that differ (by more than 8 in some channel) between two screenshots; 1 when their sizes differ. */
function differing(a: Buffer, b: Buffer): number {
  const x = decode(a), y = decode(b);
  if (x.width !== y.width || x.height !== y.height) return 1;
  let n = 0;
  for (let i = 0; i < x.data.length; i += 4) {
    if (Math.abs(x.data[i]! - y.data[i]!) > 8 || Math.abs(x.data[i + 1]! - y.data[i + 1]!) > 8 || Math.abs(x.data[i + 2]! - y.data[i + 2]!) > 8) n++;
  }
  return n / (x.width * x.height);
}

/** Pixels of the spike colour (#f97316, a neuron that fired) in a screenshot. */
function litCells(png: Buffer): number {
  const x = decode(png);
  let n = 0;
  for (let i = 0; i < x.data.length; i += 4) if (Math.abs(x.data[i]! - 249) < 12 && Math.abs(x.data[i + 1]! - 115) < 12 && Math.abs(x.data[i + 2]! - 22) < 12) n++;
  return n;
}

const maxAbs = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

test('the page in Chromium: draw, an event file, screenshots, quantized copy and switch, a dropped model, training', { skip: noChromium, timeout: 300_000 }, async () => {
  const page = await Page.open(server.url, { userDataDir: join(dir, 'chrome'), width: 1280, height: 1400 });
  try {
    await page.waitFor(`['ready', 'error'].includes(document.body.dataset.state)`, 30_000);
    let s = await page.evaluate<Snap>('edgespikeApp.snapshot()');
    assert.equal(s.error, '');
    assert.equal(s.crossOriginIsolated, true);
    assert.equal(s.backend.threads, 2, 'the kernels did not start their Web Worker');
    assert.equal(s.model, 'lenet.es');

    // a drawn 7, dark on light: the page and `edgespike predict` on the same pixels agree
    s = await drawDigit(page, SEVEN);
    const layers: Rect = await page.box('#layers');
    const seven = await page.screenshot(layers);
    if (shots) { mkdirSync(shots, { recursive: true }); writeFileSync(join(shots, 'app-drawn-digit.png'), await page.screenshot()); }
    const px = await canvasPixels(page);
    const node = predictPixels(px, join(dir, 'drawn.png'));
    assert.equal(s.inverted, true);
    assert.equal(node.inverted, true);
    assert.equal(s.top, node.class, `page ${s.top}, predict ${node.class}`);
    assert.ok(maxAbs(s.probs!, node.probabilities) <= 1e-5, `probabilities differ by ${maxAbs(s.probs!, node.probabilities)}`);
    assert.equal(s.top, 7, `a trained lenet reads the drawn 7 as ${s.top} (${s.probs})`);
    assert.deepEqual(s.layers!.map((l) => l.name), ['0.lif', '2.lif', '4.lif']);
    assert.ok(s.layers!.every((l) => l.spikes > 0), JSON.stringify(s.layers));
    assert.ok(s.ms! > 0 && s.median!.median > 0 && s.median!.min <= s.median!.median);

    // a drawn 1: other spikes, another picture; the 7 again: the same picture
    const one = await drawDigit(page, ONE);
    assert.notDeepEqual(one.probs, s.probs);
    const oneShot = await page.screenshot(await page.box('#layers'));
    assert.ok(differing(seven, oneShot) > 0.02, `the spike panels of a 7 and a 1 differ in ${differing(seven, oneShot)} of their pixels`);
    const again = await drawDigit(page, SEVEN);
    assert.deepEqual(again.probs, s.probs);
    const sevenAgain = await page.screenshot(await page.box('#layers'));
    assert.equal(differing(seven, sevenAgain), 0, 'the same drawing gave other spike panels');
    assert.ok(litCells(seven) > 500, `${litCells(seven)} lit pixels in the spike panels`);

    // the drawing as a PNG file through the file input: decoded by the browser, the same answer as predict's
    await page.setFiles('#file', [join(dir, 'drawn.png')]);
    await page.waitFor(`edgespikeApp.snapshot().inputKind === 'image'`, 10_000);
    const png = await page.evaluate<Snap>('edgespikeApp.snapshot()');
    assert.equal(png.error, '');
    assert.equal(png.top, node.class);
    assert.ok(maxAbs(png.probs!, node.probabilities) <= 1e-5, `PNG probabilities differ from predict's by ${maxAbs(png.probs!, node.probabilities)}`);

    // light ink on a dark background: not inverted, and still predict's answer
    const ink = await page.box('#light-ink');
    await page.click(ink.x + ink.width / 2, ink.y + ink.height / 2);
    assert.equal(await page.evaluate(`document.getElementById('light-ink').checked`), true);
    const light = await drawDigit(page, SEVEN);
    const lightNode = predictPixels(await canvasPixels(page), join(dir, 'drawn-light.png'));
    assert.equal(light.inverted, false);
    assert.equal(lightNode.inverted, false);
    assert.equal(light.top, lightNode.class);
    assert.ok(maxAbs(light.probs!, lightNode.probabilities) <= 1e-5);
    assert.equal(light.top, 7);

    // an N-MNIST-style event file (saccades over a held-out digit) through the file input
    const k = digits.train + 1, digit = digits.pixels.subarray(k * 784, (k + 1) * 784);
    const bin = encodeAtis(emulateSaccades(digit, { seed: 1 })), binPath = join(dir, 'digit.bin');
    writeFileSync(binPath, bin);
    await page.setFiles('#file', [binPath]);
    await page.waitFor(`edgespikeApp.snapshot().inputKind === 'events'`, 10_000);
    s = await page.evaluate<Snap>('edgespikeApp.snapshot()');
    assert.equal(s.error, '');
    const m = modelFromBytes(modelBytes, 'lenet.es'), want = infer(m, eventInput(bin, 'digit.bin', m));
    assert.equal(s.events, eventInput(bin, 'digit.bin', m).events);
    assert.equal(s.top, want.top);
    assert.ok(maxAbs(s.probs!, want.probs) <= 1e-5, `event probabilities differ from Node's by ${maxAbs(s.probs!, want.probs)}`);
    assert.ok(s.layers!.every((l) => l.spikes > 0), JSON.stringify(s.layers));
    const events = await page.screenshot(await page.box('#layers'));
    assert.ok(litCells(events) > 500, `${litCells(events)} lit pixels after the event file`);
    assert.ok(differing(seven, events) > 0.02);
    if (shots) writeFileSync(join(shots, 'app-event-file.png'), await page.screenshot());

    // a broken event file: one line naming it and the byte, the page keeps working
    const bad = join(dir, 'broken.bin');
    writeFileSync(bad, bin.subarray(0, 12));
    await page.setFiles('#file', [bad]);
    await page.waitFor(`edgespikeApp.snapshot().error !== ''`, 10_000);
    assert.match((await page.evaluate<Snap>('edgespikeApp.snapshot()')).error, /"broken\.bin": byte 10: truncated event/);
    assert.equal(await page.evaluate('document.body.dataset.state'), 'ready');

    // a NIR graph: one line saying how to convert it, the page keeps working
    const nir = join(dir, 'cnn.nir');
    writeFileSync(nir, Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.alloc(56)]));
    await page.setFiles('#file', [nir]);
    await page.waitFor(`/NIR/.test(edgespikeApp.snapshot().error)`, 10_000);
    assert.match((await page.evaluate<Snap>('edgespikeApp.snapshot()')).error, /^"cnn\.nir" is a NIR graph \(HDF5\).*`edgespike nir import cnn\.nir --out cnn\.es`/);
    assert.equal(await page.evaluate('document.body.dataset.state'), 'ready');

    // an 8-bit copy: the switch appears, the answer is Node's quantized model's; back to float
    const q8 = await page.box('#quantize8');
    await page.click(q8.x + 5, q8.y + 5);
    await page.waitFor(`edgespikeApp.snapshot().quantized`, 10_000);
    s = await page.evaluate<Snap>('edgespikeApp.snapshot()');
    assert.deepEqual([s.slots.sort(), s.active], [['float', 'quant'], 'quant']);
    assert.equal(await page.evaluate(`document.getElementById('variants').hidden`), false);
    assert.match(await page.evaluate<string>(`document.getElementById('model-info').textContent`), /8-bit sawb in 2 of 4 weighted layers/);
    const q = quantizedCopy(m, 8), wantQ = infer(q, eventInput(bin, 'digit.bin', q));
    assert.ok(maxAbs(s.probs!, wantQ.probs) <= 1e-5, `quantized probabilities differ from Node's by ${maxAbs(s.probs!, wantQ.probs)}`);
    const useFloat = await page.box('#use-float');
    await page.click(useFloat.x + 5, useFloat.y + 5);
    await page.waitFor(`edgespikeApp.snapshot().active === 'float'`, 10_000);
    assert.ok(maxAbs((await page.evaluate<Snap>('edgespikeApp.snapshot()')).probs!, want.probs) <= 1e-5);

    // a quantized model file dropped on the page takes the quantized place
    const q4 = quantizedCopy(m, 4), q4Path = join(dir, 'lenet-q4.es');
    writeFileSync(q4Path, modelToBytes({ ...q4, name: 'lenet-q4.es' }));
    await page.setFiles('#file', [q4Path]);
    await page.waitFor(`edgespikeApp.snapshot().model === 'lenet-q4.es'`, 10_000);
    assert.match(await page.evaluate<string>(`document.getElementById('model-info').textContent`), /4-bit sawb/);
    const wantQ4 = infer(q4, eventInput(bin, 'digit.bin', q4));
    assert.ok(maxAbs((await page.evaluate<Snap>('edgespikeApp.snapshot()')).probs!, wantQ4.probs) <= 1e-5);

    // training: the page's first steps have the losses Node computes for the same model and digits
    await page.evaluate('edgespikeApp.trainSteps(5)');
    s = await page.evaluate<Snap>('edgespikeApp.snapshot()');
    assert.equal(s.steps, 5);
    const t = new LiveTrainer(modelFromBytes(modelBytes, 'lenet.es'), digits), nodeLosses = Array.from({ length: 5 }, () => t.step());
    assert.ok(maxAbs(s.losses, nodeLosses) <= 1e-4 * Math.max(...nodeLosses), `page losses ${s.losses}, Node ${nodeLosses}`);
    assert.ok(Math.abs(s.heldOut! - t.accuracy()) <= 1 / digits.test + 1e-9, `held-out ${s.heldOut} vs Node ${t.accuracy()}`);
    assert.equal(s.active, 'float');
  } finally {
    await page.close();
  }
});

test('--build DIR: static files that work from another static server; the page trains a new lenet as Node does', { skip: noChromium, timeout: 300_000 }, async () => {
  const out = join(dir, 'site');
  const r = cli('--build', out, '--new');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /the app in \d+ files/);
  for (const f of ['index.html', 'style.css', 'app.json', 'assets/digits.bin', 'build/edgespike.wasm', 'dist/demo/app/app.js', 'dist/src/browser.js']) assert.ok(existsSync(join(out, f)), f);
  assert.ok(!existsSync(join(out, 'model.es')));
  assert.ok(!existsSync(join(out, 'dist/src/cli')), 'the build holds the CLI');
  // a second build replaces the first (and leaves no temporary folder)
  writeFileSync(join(out, 'dist/demo/app/stale.js'), '');
  writeSite(await appSite(undefined), out);
  assert.ok(!existsSync(join(out, 'dist/demo/app/stale.js')));
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.site.tmp')), []);
  const other = await serveStatic(out);
  const page = await Page.open(other.url + 'index.html', { userDataDir: join(dir, 'chrome2') });
  try {
    await page.waitFor(`['ready', 'error'].includes(document.body.dataset.state)`, 30_000);
    let s = await page.evaluate<Snap>('edgespikeApp.snapshot()');
    assert.equal(s.error, '');
    assert.equal(s.crossOriginIsolated, true);
    assert.equal(s.model, 'lenet (new)');
    await page.evaluate('edgespikeApp.trainSteps(30)');
    s = await page.evaluate<Snap>('edgespikeApp.snapshot()');
    const t = new LiveTrainer(freshLenet(), digits), nodeLosses = Array.from({ length: 30 }, () => t.step());
    assert.equal(s.losses.length, 30);
    assert.ok(maxAbs(s.losses, nodeLosses) <= 1e-3 * Math.max(...nodeLosses), `page losses ${s.losses}, Node ${nodeLosses}`);
    assert.ok(s.losses.at(-1)! < s.losses[0]!, `loss ${s.losses[0]} → ${s.losses.at(-1)}`);
    assert.ok(s.heldOut! > 0.5, `held-out accuracy after 30 steps: ${s.heldOut}`);
  } finally {
    await page.close();
    await other.close();
  }
  // a server without the isolation headers: the page still runs, on one thread
  const plain = await serveStatic(out, { isolated: false });
  const page2 = await Page.open(plain.url + 'index.html', { userDataDir: join(dir, 'chrome3') });
  try {
    await page2.waitFor(`['ready', 'error'].includes(document.body.dataset.state)`, 30_000);
    const s = await drawDigit(page2, SEVEN);
    assert.equal(s.error, '');
    assert.equal(s.crossOriginIsolated, false);
    assert.equal(s.backend.threads, 1);
    assert.equal(s.probs!.length, 10);
  } finally {
    await page2.close();
    await plain.close();
  }
});
