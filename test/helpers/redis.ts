/**
 * A throw-away Redis for the queue tests: Debian's redis-server on 127.0.0.1, a free port, a temporary
 * folder, no persistence. CI installs redis-server (.ci/run); a machine without it fails these tests
 * rather than skipping them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running Redis server. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** True when a PING on 127.0.0.1:port gets +PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok: boolean): void => { c.destroy(); resolve(ok); };
    c.setTimeout(1000, () => done(false));
    c.on('error', () => done(false));
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => { got += d.toString(); if (got.includes('\r\n')) done(got.startsWith('+PONG')); });
  });
}

const exited = (p: ChildProcess): Promise<void> => new Promise((resolve) => {
  if (p.exitCode !== null || p.signalCode !== null) resolve();
  else p.once('exit', () => resolve());
});

/** Starts redis-server; throws when it is not installed or does not answer within a few seconds. */
export async function startRedis(): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not installed (apt-get install redis-server): the queue tests need it');
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'es-redis-'));
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: 'ignore' });
    const stop = async (): Promise<void> => { p.kill('SIGTERM'); await exited(p); rmSync(dir, { recursive: true, force: true }); };
    for (let i = 0; i < 50 && p.exitCode === null; i++) {
      if (await pong(port)) return { url: `redis://127.0.0.1:${port}`, port, stop };
      await new Promise((r) => setTimeout(r, 100));
    }
    await stop(); // the port was taken in between, or the server did not come up: another port
  }
  throw new Error('redis-server did not start');
}
