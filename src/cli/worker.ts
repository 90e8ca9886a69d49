/**
 * `edgespike worker --queue redis://HOST:PORT`: runs evaluation cells from the BullMQ queue that
 * `edgespike evaluate --queue` fills, on any machine with the same data at the same paths, and returns
 * each row as its job's result. Each cell runs in a process of its own; the worker keeps renewing the
 * job locks, so a killed worker's cells go back on the queue once their locks expire.
 */
import { defineCommand } from 'citty';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { EdgespikeError } from '../util/errors.js';
import { checkOutputDir, makeDirs } from '../util/fsx.js';
import { memoryBudget } from '../util/budget.js';
import { MAX_THREADS } from '../backends/index.js';
import { modelFile } from '../evaluate/harness.js';
import { CellError, killCellProcesses, runCellInChild } from '../evaluate/child.js';
import { DEFAULT_QUEUE_NAME, checkQueueName, checkServer, parseQueueUrl, startWorker } from '../evaluate/queue.js';
import { requirePackages } from '../util/optional.js';
import { checkFlags, num } from './_args.js';
import { CELL_ENTRY } from './evaluate.js';

const args = {
  queue: { type: 'string', description: 'redis://HOST:PORT of the queue `edgespike evaluate --queue` fills', required: true },
  'queue-name': { type: 'string', description: 'name of the queue', default: DEFAULT_QUEUE_NAME },
  concurrency: { type: 'string', description: 'cells run at once (each in its own process, with ⌊cores / N⌋ threads)', default: '1' },
  'lock-seconds': { type: 'string', description: 'job lock duration: a killed worker\'s cells go back on the queue this long after it stopped renewing', default: '30' },
  out: { type: 'string', description: 'folder for the models the cells train (models/<cell id>.es); without it they are not kept' },
} as const;

const log = (line: string): void => { process.stderr.write(`${line}\n`); };

export const workerCommand = defineCommand({
  meta: { name: 'worker', description: 'Run evaluation cells from a BullMQ queue (edgespike evaluate --queue) and return their rows' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('worker', rawArgs, args);
    requirePackages('worker', 'bullmq', 'ioredis');
    if (a.queue === undefined) throw new EdgespikeError('worker: needs --queue redis://HOST:PORT');
    const server = parseQueueUrl('--queue', String(a.queue));
    const name = checkQueueName('--queue-name', String(a['queue-name']));
    const concurrency = num('concurrency', a.concurrency, { int: true, min: 1, max: 256 });
    const lockMs = Math.round(1000 * num('lock-seconds', a['lock-seconds'], { min: 1, max: 86_400 }));
    const out = a.out === undefined ? undefined : String(a.out);
    if (out !== undefined) checkOutputDir('--out', out);
    await checkServer(server);
    if (out !== undefined) makeDirs(join(out, 'models'));

    // Processes × threads ≤ cores, and an equal share of the memory limit per cell process.
    const threads = Math.max(1, Math.min(MAX_THREADS, Math.floor(availableParallelism() / concurrency)));
    const memoryBytes = Math.floor(memoryBudget() / concurrency);
    const stop = (signal: NodeJS.Signals): void => { killCellProcesses(); process.exit(signal === 'SIGINT' ? 130 : 143); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await startWorker(server, name, {
      concurrency, lockMs, log,
      run: async (cell) => {
        const t0 = performance.now();
        try {
          const row = await runCellInChild(cell, {
            entry: CELL_ENTRY, threads, memoryBytes, modelOut: out !== undefined && !cell.model ? modelFile(out, cell.id) : undefined,
            onStart: (pid) => log(`cell ${cell.id}: running (process ${pid})`),
          });
          log(`cell ${cell.id}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          return row;
        } catch (e) {
          if (e instanceof CellError) log(`cell ${cell.id} failed: ${e.message}`);
          throw e;
        }
      },
    });
    log(`worker: taking cells from queue ${name} at ${server.address} (${concurrency} at a time, ${threads} thread${threads === 1 ? '' : 's'} each)`);
    // Runs until it is stopped (SIGINT / SIGTERM): the queue's connections keep the process alive.
  },
});
