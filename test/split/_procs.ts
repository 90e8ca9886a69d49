/**
 * Processes for the tests of the served runtime: the edgespike command and helper scripts started as
 * child processes, their output kept line by line, waits bounded in time, and every child killed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));
export const HELPER = (name: string): string => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

/** A running child with its output lines. */
export interface Proc {
  readonly child: ChildProcess;
  readonly out: string[];
  readonly err: string[];
  /** The first line (stdout or stderr, from line `from` on) matching re; rejects after ms. */
  waitFor(re: RegExp, ms?: number, from?: number): Promise<string>;
  /** Resolves with the exit code (or signal) once the child has exited; rejects after ms. */
  exited(ms?: number): Promise<number | string>;
}

const all = new Set<ChildProcess>();

/** Starts `node file args` with one kernel thread; its output is kept (and shown on failure by the caller). */
export function start(file: string, args: string[]): Proc {
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGESPIKE_THREADS: '1' } });
  all.add(child);
  const out: string[] = [], err: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (into: string[]) => {
    let rest = '';
    return (chunk: Buffer): void => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop()!;
      into.push(...lines);
      for (const w of [...waiters]) w();
    };
  };
  child.stdout!.on('data', collect(out));
  child.stderr!.on('data', collect(err));
  let status: number | string | undefined;
  child.on('exit', (code, signal) => { status = code ?? signal ?? 'unknown'; all.delete(child); for (const w of [...waiters]) w(); });
  const until = <T>(test: () => T | undefined, ms: number, what: string): Promise<T> => new Promise((resolve, reject) => {
    const check = (): void => {
      const v = test();
      if (v !== undefined) { waiters.delete(check); clearTimeout(timer); resolve(v); }
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`${what} within ${ms} ms; stdout:\n${out.join('\n')}\nstderr:\n${err.join('\n')}`));
    }, ms);
    waiters.add(check);
    check();
  });
  return {
    child, out, err,
    waitFor: (re, ms = 20_000, from = 0) => until(() => [...out, ...err].slice(from).find((l) => re.test(l)), ms, `no line matching ${re}`),
    exited: (ms = 10_000) => until(() => status, ms, 'the process did not exit'),
  };
}

/** The edgespike command as a child process. */
export const cli = (...args: string[]): Proc => start(BIN, args);

/** Kills every child still running (SIGKILL). */
export function killAll(): void {
  for (const c of all) c.kill('SIGKILL');
  all.clear();
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** True while process `pid` exists. */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `test` every 25 ms until it holds; throws after ms with `what`. */
export async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`${what} (waited ${ms} ms)`);
    await sleep(25);
  }
}
