/**
 * `edgespike evaluate`: the SNN_Eval table. Plans one cell per data set and row (one row with every
 * component on, or the four ablation rows), skips cells whose row OUT/cells/<id>.json already holds,
 * runs the others in worker processes on this machine (or on a BullMQ queue, for `edgespike worker`s on
 * any machine), then prints the markdown table (or JSON lines) and writes OUT/table.md and OUT/rows.jsonl.
 */
import { defineCommand } from 'citty';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { rmSync, statSync } from 'node:fs';
import { EdgespikeError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { checkOutputDir, checkOutputFile, readInput } from '../util/fsx.js';
import { memoryBudget } from '../util/budget.js';
import { MAX_THREADS } from '../backends/index.js';
import { zoo, zooNames } from '../models/zoo.js';
import { netFromBytes } from '../train/model-file.js';
import type { EvalCell, EvalRow } from '../evaluate/cells.js';
import {
  DEFAULT_DATASETS, EVAL_DATASETS, cellFile, ensureEmulation, formatDetails, formatTable, modelFile, planEvaluation, prepareOut,
  readFinished, rowJson, runPool, writeFinished, type ModelChoice,
} from '../evaluate/harness.js';
import { CellError, killCellProcesses, runCellInChild } from '../evaluate/child.js';
import { DEFAULT_QUEUE_NAME, checkQueueName, checkServer, parseQueueUrl, runOnQueue, type QueueServer } from '../evaluate/queue.js';
import { importOptional, requirePackages } from '../util/optional.js';
import { checkFlags, num, optNum, printJson } from './_args.js';

/** The module each cell process runs. */
export const CELL_ENTRY = new URL('./_cell.js', import.meta.url);

const args = {
  datasets: { type: 'string', description: `comma-separated data sets (${EVAL_DATASETS.join(', ')})`, default: DEFAULT_DATASETS.join(',') },
  'data-dir': { type: 'string', description: 'folder holding the data sets that are not embedded (each in its own sub-folder, or the folder itself)' },
  models: { type: 'string', description: 'model files to evaluate instead of training (each names its data set): --models A.es B.es …' },
  model: { type: 'string', description: 'DATASET=FILE: evaluate FILE on DATASET instead of training (repeatable)' },
  'recipe-model': { type: 'string', description: `zoo model the recipe trains (${zooNames().join(', ')})`, default: 'lenet' },
  epochs: { type: 'string', description: 'recipe: training epochs', default: '3' },
  timesteps: { type: 'string', alias: 'T', description: 'recipe: time steps T', default: '4' },
  'batch-size': { type: 'string', description: 'recipe: batch size', default: '64' },
  lr: { type: 'string', description: 'recipe: learning rate', default: '0.003' },
  limit: { type: 'string', description: 'use the first N training samples (event sets: N spread over the set)' },
  'test-limit': { type: 'string', description: 'use the first N test samples' },
  seed: { type: 'string', description: 'random seed of every cell', default: '1' },
  ablation: { type: 'boolean', description: 'four rows per data set (coding, correction, co-optimization, complete) instead of one with every component on' },
  out: { type: 'string', description: 'folder for the results (cells/, table.md, rows.jsonl) and the trained models', default: './evaluation' },
  workers: { type: 'string', description: 'cells run at once in worker processes on this machine (default: the cores)' },
  json: { type: 'boolean', description: 'print one JSON line per row instead of the table' },
  report: { type: 'string', description: 'also write the table and its plots as an HTML report' },
  queue: { type: 'string', description: 'redis://HOST:PORT: put the cells on a BullMQ queue for `edgespike worker`s and wait for their rows' },
  'queue-name': { type: 'string', description: 'name of the queue', default: DEFAULT_QUEUE_NAME },
} as const;

/**
 * Takes --models (one or more files after it, or comma-separated) and --model DATASET=FILE (repeatable)
 * out of the raw arguments; the rest goes to the usual flag checks.
 */
function takeModelFlags(raw: readonly string[]): { rest: string[]; files: string[]; pairs: string[] } {
  const rest: string[] = [], files: string[] = [], pairs: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    const name = a.split('=')[0]!;
    if (name !== '--models' && name !== '--model') { rest.push(a); continue; }
    const values: string[] = [];
    if (a.includes('=')) values.push(a.slice(a.indexOf('=') + 1));
    else if (name === '--model') { if (i + 1 < raw.length && !raw[i + 1]!.startsWith('-')) values.push(raw[++i]!); }
    else while (i + 1 < raw.length && !raw[i + 1]!.startsWith('-')) values.push(raw[++i]!);
    if (values.length === 0 || values.some((v) => v.trim() === '')) throw new EdgespikeError(`evaluate: flag ${name} needs a value`);
    if (name === '--models') files.push(...values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean));
    else pairs.push(...values);
  }
  return { rest, files, pairs };
}

/** Reads a model file given for the evaluation: its data set (from the flag or its metadata), T and hash. */
function modelChoice(flag: string, path: string, dataset?: string): { dataset: string; choice: ModelChoice } {
  const bytes = readInput(path, 'edgespike model');
  const { net, meta } = netFromBytes(bytes, path);
  const ds = dataset ?? (typeof meta.dataset === 'string' ? meta.dataset : undefined);
  if (ds === undefined) throw new EdgespikeError(`${flag} ${path}: the file does not name its data set; use --model DATASET=${path}`);
  if (!(EVAL_DATASETS as readonly string[]).includes(ds)) throw new EdgespikeError(`${flag} ${path}: data set "${ds}" is not one the evaluation knows (${EVAL_DATASETS.join(', ')})`);
  return { dataset: ds, choice: { path: resolve(path), T: net.config.T, sha256: createHash('sha256').update(bytes).digest('hex') } };
}

/** Parses --datasets: known names, each once, in the order given (the table's order). */
function parseDatasets(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new EdgespikeError(`--datasets: expected comma-separated names (${EVAL_DATASETS.join(', ')}), got "${text}"`);
  for (const n of names) {
    if (!(EVAL_DATASETS as readonly string[]).includes(n)) throw new EdgespikeError(`--datasets: unknown data set "${n}" (known: ${EVAL_DATASETS.join(', ')})`);
  }
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new EdgespikeError(`--datasets: ${twice} is listed twice`);
  return names;
}

const log = (line: string): void => { process.stderr.write(`${line}\n`); };

export const evaluateCommand = defineCommand({
  meta: { name: 'evaluate', description: 'The SNN_Eval table: accuracy, epochs, T, spikes per sample, SOPs, energy and latency per data set (and ablation rows), in parallel, resumable' },
  args,
  async run({ args: a, rawArgs }) {
    const { rest, files, pairs } = takeModelFlags(rawArgs);
    checkFlags('evaluate', rest, args);
    // Every flag is checked before any work.
    const given = (f: string): boolean => rest.some((r) => r === `--${f}` || r.startsWith(`--${f}=`));
    const recipeModel = String(a['recipe-model']);
    try { zoo(recipeModel); } catch { throw new EdgespikeError(`--recipe-model: "${recipeModel}" is not a zoo name (${zooNames().join(', ')})`); }
    const recipe: EvalCell['recipe'] = {
      model: recipeModel,
      epochs: num('epochs', a.epochs, { int: true, min: 1, max: 100_000 }),
      T: num('timesteps', a.timesteps, { int: true, min: 1, max: 1000 }),
      batchSize: num('batch-size', a['batch-size'], { int: true, min: 1, max: 65_536 }),
      lr: num('lr', a.lr, { min: 1e-12, max: 10 }),
    };
    const limit = optNum('limit', a.limit, { int: true, min: 1, max: 1e9 });
    const testLimit = optNum('test-limit', a['test-limit'], { int: true, min: 1, max: 1e9 });
    const seed = num('seed', a.seed, { int: true, min: 0, max: 2 ** 32 - 1 });
    const cores = availableParallelism();
    const workers = optNum('workers', a.workers, { int: true, min: 1, max: 1024 });
    const server: QueueServer | undefined = a.queue === undefined ? undefined : parseQueueUrl('--queue', String(a.queue));
    const queueName = checkQueueName('--queue-name', String(a['queue-name']));
    if (server) requirePackages('evaluate --queue', 'bullmq', 'ioredis');
    if (server && workers !== undefined) throw new EdgespikeError('evaluate: --workers runs cells on this machine; with --queue, start `edgespike worker --queue … --concurrency N` where the cells should run');
    if (!server && given('queue-name')) throw new EdgespikeError('evaluate: --queue-name needs --queue');
    const out = String(a.out);
    checkOutputDir('--out', out);
    if (a.report !== undefined) { checkOutputFile('--report', String(a.report)); requirePackages('evaluate --report', 'vega', 'vega-lite'); }
    const dataDir = a['data-dir'] === undefined ? undefined : String(a['data-dir']);
    if (dataDir !== undefined) {
      let ok = false;
      try { ok = statSync(dataDir).isDirectory(); } catch { /* reported below */ }
      if (!ok) throw new EdgespikeError(`--data-dir ${dataDir}: not a folder`);
    }
    const models = new Map<string, ModelChoice>();
    const addModel = (flag: string, m: { dataset: string; choice: ModelChoice }): void => {
      if (models.has(m.dataset)) throw new EdgespikeError(`${flag}: two models for ${m.dataset}`);
      models.set(m.dataset, m.choice);
    };
    for (const f of files) addModel('--models', modelChoice('--models', f));
    for (const p of pairs) {
      const at = p.indexOf('=');
      if (at <= 0 || at === p.length - 1) throw new EdgespikeError(`--model: expected DATASET=FILE, got "${p}"`);
      const ds = p.slice(0, at).trim();
      if (!(EVAL_DATASETS as readonly string[]).includes(ds)) throw new EdgespikeError(`--model ${p}: unknown data set "${ds}" (known: ${EVAL_DATASETS.join(', ')})`);
      addModel('--model', modelChoice('--model', p.slice(at + 1), ds));
    }
    // With models and no --datasets, the models' data sets are the evaluation; with both, every model's
    // data set must be listed.
    const datasets = given('datasets') || models.size === 0 ? parseDatasets(String(a.datasets)) : EVAL_DATASETS.filter((d) => models.has(d));
    for (const ds of models.keys()) if (!datasets.includes(ds)) throw new EdgespikeError(`evaluate: a model is given for ${ds}, which is not in --datasets ${datasets.join(',')}`);
    if (server) await checkServer(server);

    const plan = planEvaluation({ datasets, dataDir, models, recipe, ablation: Boolean(a.ablation), limit, testLimit, seed, out });
    if (plan.cells.length === 0) throw new EdgespikeError(`evaluate: nothing to run (${plan.notes.map((n) => n.replace(/^note: /, '')).join('; ')})`);
    for (const n of plan.notes) log(n);

    prepareOut(out, plan.cells);
    const rows = new Map<string, EvalRow>();
    for (const c of plan.cells) {
      const f = readFinished(out, c);
      if (f.problem) log(`note: ${f.problem}`);
      if (f.row) rows.set(c.id, f.row);
    }
    const pending = plan.cells.filter((c) => !rows.has(c.id));
    if (plan.emulation && pending.some((c) => c.dataDir === plan.emulation!.dir)) ensureEmulation(plan.emulation, log);

    const failed: { cell: EvalCell; message: string }[] = [];
    const finish = (cell: EvalCell, row: EvalRow): void => {
      writeFinished(out, cell, row);
      rmSync(`${cellFile(out, cell.id).replace(/\.json$/, '')}.error.txt`, { force: true });
      rows.set(cell.id, row);
      log(`cell ${cell.id}: done in ${row.seconds.toFixed(1)} s (accuracy ${(100 * row.accuracy).toFixed(2)} %)`);
    };
    const fail = (cell: EvalCell, message: string, details = ''): void => {
      failed.push({ cell, message });
      if (details) writeFileAtomic(`${cellFile(out, cell.id).replace(/\.json$/, '')}.error.txt`, `${message}\n\n${details}\n`);
      log(`cell ${cell.id} failed: ${message}`);
    };
    const stop = (signal: NodeJS.Signals): void => { killCellProcesses(); process.exit(signal === 'SIGINT' ? 130 : 143); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const where = server ? `queue ${queueName} at ${server.address}` : '';
      log(`evaluate: ${plan.cells.length} cell${plan.cells.length === 1 ? '' : 's'}, ${plan.cells.length - pending.length} done before, ${pending.length} to run${where ? ` on the ${where}` : ''}`);
      for (const c of plan.cells) if (rows.has(c.id)) log(`cell ${c.id}: done before (${cellFile(out, c.id)})`);
      if (server) {
        await runOnQueue(pending, server, queueName, { log, onRow: finish, onFail: (c, m) => fail(c, m) });
      } else if (pending.length > 0) {
        // Processes × threads ≤ cores: each of the W processes gets ⌊cores / W⌋ kernel threads and an
        // equal share of the memory limit.
        const procs = Math.min(workers ?? cores, pending.length);
        const threads = Math.max(1, Math.min(MAX_THREADS, Math.floor(cores / procs)));
        log(`evaluate: ${procs} worker process${procs === 1 ? '' : 'es'}, ${threads} thread${threads === 1 ? '' : 's'} each`);
        await runPool(pending, procs, async (cell) => {
          try {
            const row = await runCellInChild(cell, {
              entry: CELL_ENTRY, threads, memoryBytes: Math.floor(memoryBudget() / procs), modelOut: cell.model ? undefined : modelFile(out, cell.id),
              onStart: (pid) => log(`cell ${cell.id}: running (process ${pid})`),
            });
            finish(cell, row);
          } catch (e) {
            if (!(e instanceof CellError)) throw e;
            fail(cell, e.message, e.details);
          }
        });
      }
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }

    const done = plan.cells.filter((c) => rows.has(c.id)).map((c) => rows.get(c.id)!);
    const table = formatTable(done);
    writeFileAtomic(resolve(out, 'table.md'), table);
    writeFileAtomic(resolve(out, 'rows.jsonl'), done.map((r) => JSON.stringify(rowJson(r)) + '\n').join(''));
    writeFileAtomic(resolve(out, 'details.md'), formatDetails(done));
    if (a.report !== undefined) {
      // vega loads here, not when the command line starts
      const { renderEvaluationReport } = await importOptional('vega', 'report', () => import('../report/evaluation.js'));
      writeFileAtomic(String(a.report), await renderEvaluationReport('edgespike evaluation', done));
    }
    if (a.json) for (const r of done) printJson(rowJson(r));
    else process.stdout.write(table);
    if (failed.length > 0) {
      throw new EdgespikeError(`evaluate: ${failed.length} of ${plan.cells.length} cells failed (${failed.map((f) => f.cell.id).join(', ')}); run the same command again to retry them`);
    }
  },
});
