/**
 * A small static HTTP server for the browser demo and its test: serves the repository root on 127.0.0.1
 * with the content types modules and wasm need and, unless told otherwise, the cross-origin isolation
 * headers (COOP same-origin, COEP require-corp) that shared memory across Web Workers requires.
 * `node dist/demo/browser/serve.js [port]` prints the demo page's address.
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep, basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';

/** Content types by file extension; anything else is application/octet-stream. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/** A running server: its base address (ending in /) and a way to stop it. */
export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Options: `isolated` (default true) sends COOP/COEP; `port` 0 (default) picks a free one. */
export interface ServeOptions {
  readonly isolated?: boolean;
  readonly port?: number;
}

/** The file under root a request path names, or undefined when it leaves root or names a dotfile. */
function fileFor(root: string, urlPath: string): string | undefined {
  let path: string;
  try { path = decodeURIComponent(urlPath.split('?')[0]!); } catch { return undefined; }
  if (path.split('/').some((p) => p.startsWith('.'))) return undefined;
  const file = resolve(root, '.' + path);
  return file === root || file.startsWith(root + sep) ? file : undefined;
}

/** Serves the files under `root` (GET and HEAD only; no directory listings). */
export function serveStatic(root: string, opts: ServeOptions = {}): Promise<StaticServer> {
  const base = resolve(root), isolated = opts.isolated ?? true;
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405).end(); return; }
      const file = fileFor(base, req.url ?? '/');
      const isFile = file !== undefined && (await stat(file).catch(() => undefined))?.isFile() === true;
      if (!isFile) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n'); return; }
      const body = await readFile(file);
      const headers: Record<string, string | number> = {
        'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length,
        'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin',
      };
      if (isolated) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
      res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
    })().catch(() => { if (!res.headersSent) res.writeHead(500); res.end(); });
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      ok({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }) });
    });
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const here = fileURLToPath(new URL('.', import.meta.url)); // DIST/demo/browser/
  const root = resolve(here, '..', '..', '..'), dist = basename(resolve(here, '..', '..'));
  const server = await serveStatic(root, { port: Number(process.argv[2] ?? 8080) });
  process.stdout.write(`${server.url}demo/browser/index.html?dist=${dist}\n`);
}
