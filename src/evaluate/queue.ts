/**
 * Cells on many machines through a BullMQ queue in Redis. The coordinator (`evaluate --queue`) adds one
 * job per cell, with the cell's id as the job id, and waits for each job's result; workers (`edgespike
 * worker`) take jobs, run the cell and return its row as the job's result.
 *
 * A worker holds a lock on each job it runs and renews it while the cell runs. A worker that dies
 * mid-cell stops renewing: once the lock expires, another worker's stalled-job check puts the job back
 * on the queue and a worker runs it again. A job is completed once, by the worker that holds its lock
 * (a late result of a worker that lost the lock is refused by BullMQ), and the coordinator keeps one row
 * per cell id, so a retried cell is never counted twice.
 */
import type { Job, RedisOptions } from 'bullmq';
import { importOptional } from '../util/optional.js';

// bullmq and ioredis are optional packages, loaded only when a queue is used
const bull = (): Promise<typeof import('bullmq')> => importOptional('bullmq', 'queue', () => import('bullmq'));
const ioredis = (): Promise<typeof import('ioredis')> => importOptional('ioredis', 'queue', () => import('ioredis'));
import { EdgespikeError } from '../util/errors.js';
import type { EvalCell, EvalRow } from './cells.js';
import { checkRow } from './harness.js';

/** The queue's name unless --queue-name says otherwise. */
export const DEFAULT_QUEUE_NAME = 'edgespike-evaluate';

/** BullMQ job name of a cell. */
const JOB_NAME = 'cell';

/** A Redis server to reach: the address for messages (no password) and the connection options. */
export interface QueueServer {
  readonly address: string;
  readonly options: RedisOptions;
}

/** Parses `redis://[user:password@]HOST[:PORT][/DB]` (or rediss:// for TLS) given with `flag`. */
export function parseQueueUrl(flag: string, text: string): QueueServer {
  let u: URL;
  try { u = new URL(text); } catch { throw new EdgespikeError(`${flag}: expected redis://HOST:PORT, got "${text}"`); }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new EdgespikeError(`${flag}: expected redis://HOST:PORT, got "${text}" (scheme ${u.protocol})`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new EdgespikeError(`${flag}: "${text}" names no host`);
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new EdgespikeError(`${flag}: port of "${text}" must be 1 … 65535`);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw new EdgespikeError(`${flag}: "${text}": the path is a database number (0 … 99), got "${path}"`);
  if (u.search || u.hash) throw new EdgespikeError(`${flag}: "${text}" has a query or fragment; expected redis://HOST:PORT`);
  const options: RedisOptions = {
    host, port,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(path !== '' ? { db: Number(path) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return { address: `${u.protocol}//${host.includes(':') ? `[${host}]` : host}:${port}${path ? `/${path}` : ''}`, options };
}

/** Checks a queue name: BullMQ keys are `bull:NAME:…`, so no colon, and nothing that needs quoting. */
export function checkQueueName(flag: string, name: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new EdgespikeError(`${flag}: expected letters, digits, ".", "_" or "-" (at most 100), got "${name}"`);
  return name;
}

/** Connects once and pings, failing fast with one line (BullMQ's own connections retry forever). */
export async function checkServer(s: QueueServer, timeoutMs = 5000): Promise<void> {
  const { Redis } = await ioredis();
  const client = new Redis({ ...s.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's error (ECONNREFUSED, ENOTFOUND, a wrong password) says more than connect()'s rejection.
  let cause: string | undefined;
  client.on('error', (e: Error) => { cause ??= e.message; });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new EdgespikeError(`--queue ${s.address}: cannot reach Redis (${cause ?? (e instanceof Error ? e.message : String(e))})`);
  } finally {
    client.disconnect();
  }
}

/** Reports a connection's errors on `log`, each different message at most once a minute. */
function errorLog(what: string, log: (line: string) => void): (e: Error) => void {
  const last = new Map<string, number>();
  return (e) => {
    const now = Date.now();
    if ((last.get(e.message) ?? -Infinity) > now - 60_000) return;
    last.set(e.message, now);
    log(`${what}: ${e.message}`);
  };
}

/** What the coordinator reports while it waits. */
export interface CoordinatorHooks {
  readonly log: (line: string) => void;
  /** A cell's row came back (called once per cell). */
  readonly onRow: (cell: EvalCell, row: EvalRow) => void;
  /** A cell failed, or its result was not a row of that cell. */
  readonly onFail: (cell: EvalCell, message: string) => void;
}

/**
 * Puts `cells` on the queue and waits until every one has a row or has failed. A job left from an earlier
 * coordinator (same cell id) is reused: a completed one gives its row at once, a failed one is retried.
 * Jobs are removed once their result is kept, so the queue holds only cells still to be run.
 */
export async function runOnQueue(cells: readonly EvalCell[], server: QueueServer, name: string, hooks: CoordinatorHooks): Promise<void> {
  if (cells.length === 0) return;
  const connection = { ...server.options };
  const { Queue, QueueEvents } = await bull();
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  queue.on('error', errorLog(`queue ${name}`, hooks.log));
  events.on('error', errorLog(`queue ${name} events`, hooks.log));
  const byId = new Map(cells.map((c) => [c.id, c]));
  const finished = new Set<string>();
  events.on('active', ({ jobId }) => { if (byId.has(jobId) && !finished.has(jobId)) hooks.log(`cell ${jobId}: running on a worker`); });
  events.on('stalled', ({ jobId }) => { if (byId.has(jobId)) hooks.log(`cell ${jobId}: its worker stopped (lock expired); the cell is back on the queue`); });
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    hooks.log(`${cells.length} cell${cells.length === 1 ? '' : 's'} on queue ${name} at ${server.address}; run \`edgespike worker --queue ${server.address}${name === DEFAULT_QUEUE_NAME ? '' : ` --queue-name ${name}`}\` on the machines that will run them`);
    await Promise.all(cells.map(async (cell) => {
      let job: Job;
      try {
        job = await queue.add(JOB_NAME, { cell }, { jobId: cell.id, attempts: 1, removeOnComplete: false, removeOnFail: false });
        if (await job.getState() === 'failed') await job.retry('failed');
      } catch (e) {
        finished.add(cell.id);
        hooks.onFail(cell, `cannot put it on the queue (${e instanceof Error ? e.message : String(e)})`);
        return;
      }
      let result: unknown;
      try {
        result = await job.waitUntilFinished(events);
      } catch (e) {
        // The job failed: the cell's error, as the worker reported it.
        finished.add(cell.id);
        hooks.onFail(cell, e instanceof Error ? e.message : String(e));
        await job.remove().catch(() => undefined);
        return;
      }
      finished.add(cell.id);
      let row: EvalRow;
      try { row = checkRow(result, cell); } catch (e) {
        hooks.onFail(cell, `a worker returned a result that is not this cell's row: ${(e as Error).message}`);
        await job.remove().catch(() => undefined);
        return;
      }
      hooks.onRow(cell, row);
      // The row is kept in OUT/cells now; the job is no longer needed.
      await job.remove().catch(() => undefined);
    }));
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
  }
}

/** How a worker runs: jobs at a time, the lock duration, and what it does with a cell. */
export interface WorkerOptions {
  readonly concurrency: number;
  /**
   * How long a job's lock lasts without renewal (renewed every half of it while the cell runs), and how
   * often this worker checks for jobs whose worker died: a killed worker's cell is back on the queue
   * between one and about three of these after the kill.
   */
  readonly lockMs: number;
  readonly run: (cell: EvalCell) => Promise<EvalRow>;
  readonly log: (line: string) => void;
}

/** A cell from a job's data, checked enough to run it (other programs could put jobs on the same queue). */
function cellOf(job: Job): EvalCell {
  const c = (job.data as { cell?: EvalCell } | undefined)?.cell;
  if (job.name !== JOB_NAME || !c || typeof c !== 'object' || typeof c.id !== 'string' || typeof c.dataset !== 'string'
    || !c.recipe || typeof c.recipe !== 'object' || !c.components || typeof c.components !== 'object') {
    throw new Error(`job ${job.id} is not an evaluation cell`);
  }
  return c;
}

/** Starts a worker taking cells from the queue; resolves once it is connected. */
export async function startWorker(server: QueueServer, name: string, o: WorkerOptions): Promise<{ close(): Promise<void> }> {
  const { Worker } = await bull();
  const worker = new Worker(name, async (job: Job) => o.run(cellOf(job)), {
    connection: { ...server.options },
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: o.lockMs,
    // A cell whose worker died is put back this many times; a cell that kills every worker it runs on fails.
    maxStalledCount: 3,
    autorun: true,
  });
  worker.on('error', errorLog(`queue ${name}`, o.log));
  worker.on('stalled', (jobId) => o.log(`cell ${jobId}: its worker stopped (lock expired); the cell is back on the queue`));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
