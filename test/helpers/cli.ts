/**
 * The edgespike command as a background process for tests that watch it while it runs: its output so
 * far, a wait for a line on stderr, its exit, and a kill that tests can rely on to leave nothing behind.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));

/** A running edgespike process. */
export interface CliProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` on stderr; rejects after `ms` or when the process ends first. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (null when killed by a signal) once the process has ended. */
  exited(): Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `edgespike ...args`. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const proc = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
  const done = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  const ended = (): boolean => proc.exitCode !== null || proc.signalCode !== null;
  return {
    proc, pid: proc.pid!,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re, ms = 60_000) => new Promise((resolve, reject) => {
      const t0 = Date.now();
      const poll = (): void => {
        const m = re.exec(err);
        if (m) return resolve(m);
        if (ended()) return reject(new Error(`process ended before ${re} appeared; stderr:\n${err}`));
        if (Date.now() - t0 > ms) return reject(new Error(`${re} did not appear within ${ms} ms; stderr:\n${err}`));
        setTimeout(poll, 50);
      };
      poll();
    }),
    exited: () => done,
    kill: async (signal = 'SIGTERM') => { if (!ended()) proc.kill(signal); await done; },
  };
}

/** True while process `pid` runs (a zombie waiting for its parent to reap it counts as ended). */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

/** Waits until process `pid` is gone; false if it is still there after `ms`. */
export async function gone(pid: number, ms = 5000): Promise<boolean> {
  const t0 = Date.now();
  while (alive(pid)) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Asserts that a finished command failed as bad input must: exit code 2, one line on stderr matching `pattern`, no stack trace. */
export function oneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit ${r.status}, stderr ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `stderr has ${lines.length} lines: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.ok(!/\bat .*:\d+:\d+/.test(r.stderr), 'stack trace in stderr');
}
