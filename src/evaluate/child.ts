/**
 * Cells in child processes. Training is synchronous and takes the whole thread, so each cell runs in a
 * process of its own: the parent (the local pool, or a queue worker that must keep renewing its job
 * locks) stays free, a crash or an out-of-memory kill takes only that cell down, and EDGESPIKE_THREADS
 * bounds each process's kernel threads. The parent sends the cell over the IPC channel and gets its row
 * (or its error) back. A child whose parent dies (kill -9 of a worker mid-cell) kills itself, so no
 * process is left training a cell nobody waits for.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { EdgespikeError } from '../util/errors.js';
import { setMemoryBudget } from '../util/budget.js';
import { runCell, type DataLoader, type EvalCell, type EvalRow } from './cells.js';

/** What the parent sends: the cell, where to write its model, the child's memory budget. */
interface CellRequest {
  readonly cell: EvalCell;
  readonly modelOut?: string;
  readonly memoryBytes: number;
}

/** What the child answers. */
type CellReply =
  | { readonly ok: true; readonly row: EvalRow }
  | { readonly ok: false; readonly message: string; readonly stack?: string };

/** A cell that did not give a row: a one-line message, and the details (stack, stderr) when there are any. */
export class CellError extends Error {
  readonly details: string;
  constructor(message: string, details = '') {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'CellError';
    this.details = details;
  }
}

/** Options of runCellInChild. */
export interface ChildOptions {
  /** The module the child runs (it calls serveCell). */
  readonly entry: string | URL;
  /** EDGESPIKE_THREADS of the child. */
  readonly threads: number;
  readonly memoryBytes: number;
  readonly modelOut?: string;
  /** Called once the child runs, with its process id. */
  readonly onStart?: (pid: number) => void;
}

const running = new Set<ChildProcess>();

/** The parent's process id, given to the child so it can tell that the parent died even before it started watching. */
const PARENT_ENV = 'EDGESPIKE_CELL_PARENT';

/** Kills every cell process this process started that still runs (on SIGINT / SIGTERM of the parent). */
export function killCellProcesses(): void {
  for (const c of running) c.kill('SIGKILL');
}

/** The last lines of a child's stderr, kept for the failure's details. */
const TAIL_BYTES = 16_384;

/** Runs `cell` in a child process; resolves to its row, rejects with a CellError. */
export function runCellInChild(cell: EvalCell, o: ChildOptions): Promise<EvalRow> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(o.entry, [], {
      env: { ...process.env, EDGESPIKE_THREADS: String(o.threads), [PARENT_ENV]: String(process.pid) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    running.add(child);
    let stderr = '', reply: CellReply | undefined;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => { stderr = (stderr + s).slice(-TAIL_BYTES); });
    child.on('message', (m) => { reply = m as CellReply; });
    child.on('error', (e) => { running.delete(child); reject(new CellError(`cannot start its process (${e.message})`)); });
    child.on('spawn', () => {
      if (child.pid !== undefined) o.onStart?.(child.pid);
      const req: CellRequest = { cell, modelOut: o.modelOut, memoryBytes: o.memoryBytes };
      child.send(req);
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      if (reply?.ok) return resolvePromise(reply.row);
      if (reply && !reply.ok) return reject(new CellError(reply.message, [reply.stack, stderr].filter(Boolean).join('\n')));
      const lastLine = stderr.trim().split('\n').pop()?.trim();
      const how = signal ? `its process was killed (${signal})` : `its process ended with exit code ${code} and no row`;
      reject(new CellError(lastLine ? `${how}: ${lastLine}` : how, stderr));
    });
  });
}

/**
 * Kills this process when its parent dies. A watchdog thread polls the parent id: the main thread may be
 * busy in a synchronous training loop for minutes and could not notice itself.
 */
export function exitWithParent(): void {
  const given = Number(process.env[PARENT_ENV]);
  const ppid = Number.isInteger(given) && given > 0 ? given : process.ppid;
  if (process.ppid !== ppid) process.kill(process.pid, 'SIGKILL');
  const w = new Worker(`
    const { workerData } = require('node:worker_threads');
    setInterval(() => { if (process.ppid !== workerData.ppid) process.kill(workerData.pid, 'SIGKILL'); }, 250);`,
  { eval: true, workerData: { ppid, pid: process.pid } });
  w.unref();
}

/**
 * The child's side: waits for one cell from the parent, runs it with `load`, sends the row or the
 * error, and exits. Bad input (an EdgespikeError) is its one-line message; anything else also sends its stack.
 */
export function serveCell(load: DataLoader): void {
  if (!process.send) throw new Error('serveCell: this process has no IPC channel (it is started by runCellInChild)');
  exitWithParent();
  const send = (m: CellReply, code: number): void => { process.send!(m, () => process.exit(code)); };
  process.once('message', (m: CellRequest) => {
    (async () => {
      setMemoryBudget(m.memoryBytes);
      const row = await runCell(m.cell, load, { modelOut: m.modelOut });
      send({ ok: true, row }, 0);
    })().catch((e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      const message = e instanceof EdgespikeError ? err.message : `${err.name}: ${err.message}`;
      send({ ok: false, message, stack: e instanceof EdgespikeError ? undefined : err.stack }, 1);
    });
  });
}
