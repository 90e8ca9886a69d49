/**
 * The evaluation harness around runCell: plans an evaluation's cells (data sets × rows), finds each data
 * set's files under --data-dir (or makes the emulated N-MNIST), keeps every finished row as a file named
 * after its cell so a repeated evaluation with the same settings runs only the missing cells, runs
 * cells on a bounded pool, and formats the table. Where a cell runs (a local process or a queue worker)
 * is decided by the caller.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { EdgespikeError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDirs, removeStaleTemps } from '../util/fsx.js';
import { mnist } from '../data/mnist.js';
import { emulateImageSet } from '../data/events/emulate-set.js';
import { ABLATION, type Components, type EvalCell, type EvalRow } from './cells.js';

/** The data sets an evaluation knows, in the order the table lists them. */
export const EVAL_DATASETS = ['mnist', 'fashion-mnist', 'nmnist', 'cifar10', 'cifar10dvs', 'dvsgesture', 'shd'] as const;
/** What `evaluate` runs without --datasets. */
export const DEFAULT_DATASETS = ['mnist', 'fashion-mnist', 'nmnist'] as const;
/** Embedded data sets: always there, never read from --data-dir. */
const EMBEDDED = new Set(['mnist', 'fashion-mnist']);

/**
 * The emulated N-MNIST made when --data-dir has none: this many MNIST images unless --limit /
 * --test-limit ask for fewer or more (at most all of MNIST), and the seed of the emulated sensor.
 */
export const EMULATED_NMNIST = { train: 6000, test: 1000, maxTrain: 60_000, maxTest: 10_000, seed: 1 } as const;

/** Bumped when the meaning of a cell's settings changes, so rows of older settings are not reused. */
const CELL_FORMAT = 7;

/** A model file given for a data set: its absolute path, its T and the SHA-256 of its bytes. */
export interface ModelChoice {
  readonly path: string;
  readonly T: number;
  readonly sha256: string;
}

/** What an evaluation is: everything that decides its cells. */
export interface PlanOptions {
  readonly datasets: readonly string[];
  readonly dataDir?: string;
  /** Model files by data set; data sets without one train the recipe. */
  readonly models: ReadonlyMap<string, ModelChoice>;
  readonly recipe: EvalCell['recipe'];
  /** The four ABLATION rows per data set instead of one row with every component on. */
  readonly ablation: boolean;
  readonly limit?: number;
  readonly testLimit?: number;
  readonly seed: number;
  /** The evaluation's folder (results, models, the emulated N-MNIST). */
  readonly out: string;
}

/** An emulated N-MNIST to make before its cells run. */
export interface Emulation {
  readonly dir: string;
  readonly train: number;
  readonly test: number;
  readonly seed: number;
}

/** The planned cells in table order, the notes about skipped data sets, and the emulation the cells need. */
export interface Plan {
  readonly cells: EvalCell[];
  readonly notes: string[];
  readonly emulation?: Emulation;
}

/** Where each data set may sit under --data-dir: these sub-folders, then the folder itself. */
const SUBFOLDERS: Record<string, readonly string[]> = {
  'nmnist': ['nmnist', 'N-MNIST'],
  'cifar10': ['cifar10', 'cifar-10-batches-bin', join('cifar10', 'cifar-10-batches-bin')],
  'cifar10dvs': ['cifar10dvs', 'CIFAR10DVS', 'CIFAR-10-DVS'],
  'dvsgesture': ['dvsgesture', 'DvsGesture'],
  'shd': ['shd', 'SHD'],
};

/** What a folder of each data set holds (what the loaders read), for the notes. */
const EXPECTED: Record<string, string> = {
  'nmnist': 'Train/ and Test/ folders',
  'cifar10': 'data_batch_1.bin … test_batch.bin',
  'cifar10dvs': 'class folders of .aedat files',
  'dvsgesture': 'trials_to_train.txt and the .aedat recordings',
  'shd': 'shd_train.h5 and shd_test.h5',
};

const isDir = (p: string): boolean => { try { return statSync(p).isDirectory(); } catch { return false; } };
const isFile = (p: string): boolean => { try { return statSync(p).isFile(); } catch { return false; } };

/** True when `dir` looks like `dataset` in the layout its loader reads. */
function holds(dataset: string, dir: string): boolean {
  if (!isDir(dir)) return false;
  switch (dataset) {
    case 'nmnist': return isDir(join(dir, 'Train')) && isDir(join(dir, 'Test'));
    case 'cifar10': return isFile(join(dir, 'data_batch_1.bin')) && isFile(join(dir, 'test_batch.bin'));
    case 'cifar10dvs': return readdirSync(dir).some((c) => !c.startsWith('.') && isDir(join(dir, c)) && readdirSync(join(dir, c)).some((f) => f.toLowerCase().endsWith('.aedat')));
    case 'dvsgesture': return isFile(join(dir, 'trials_to_train.txt')) || isFile(join(dir, 'DvsGesture', 'trials_to_train.txt'));
    case 'shd': return isFile(join(dir, 'shd_train.h5')) && isFile(join(dir, 'shd_test.h5'));
    default: return false;
  }
}

/**
 * The folder of `dataset` under `dataDir` (absolute), or why there is none. Embedded sets need none
 * (`dir` undefined, no reason).
 */
export function findDataDir(dataset: string, dataDir: string | undefined): { dir?: string; missing?: string } {
  if (EMBEDDED.has(dataset)) return {};
  if (dataDir === undefined) return { missing: 'no --data-dir' };
  const root = resolve(dataDir);
  const candidates = [...(SUBFOLDERS[dataset] ?? [dataset]).map((s) => join(root, s)), root];
  const found = candidates.find((c) => holds(dataset, c));
  if (found) return { dir: found };
  return { missing: `no ${EXPECTED[dataset]} in ${candidates.join(', ')}` };
}

/** The emulated N-MNIST's size for an evaluation's limits. */
export function emulationSize(limit: number | undefined, testLimit: number | undefined): { train: number; test: number } {
  return {
    train: Math.min(limit ?? EMULATED_NMNIST.train, EMULATED_NMNIST.maxTrain),
    test: Math.min(testLimit ?? EMULATED_NMNIST.test, EMULATED_NMNIST.maxTest),
  };
}

/** The folder of an emulated N-MNIST under the evaluation's folder (one per size and seed). */
export function emulationDir(out: string, e: { train: number; test: number; seed: number }): string {
  return join(resolve(out), 'data', `nmnist-emulated-${e.train}x${e.test}-s${e.seed}`);
}

/** Sorted-key JSON, so equal settings always hash the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A cell's id: data set, row and a hash of every setting that decides its row (and of the model file's
 * bytes), so the same settings give the same id in every run and other settings another.
 */
export function cellId(c: Omit<EvalCell, 'id'>, modelSha256?: string): string {
  const h = createHash('sha256').update(canonical({ format: CELL_FORMAT, ...c, modelSha256 })).digest('hex').slice(0, 12);
  return `${c.dataset}-${c.label}-${h}`;
}

/** Plans an evaluation: its cells in table order, notes for the data sets it skips, the emulation it needs. */
export function planEvaluation(o: PlanOptions): Plan {
  const cells: EvalCell[] = [], notes: string[] = [];
  let emulation: Emulation | undefined;
  const rows: readonly { name: string; components: Components }[] = o.ablation ? ABLATION : ABLATION.filter((r) => r.name === 'complete');
  for (const dataset of o.datasets) {
    const model = o.models.get(dataset);
    let { dir, missing } = findDataDir(dataset, o.dataDir);
    if (missing !== undefined && dataset === 'nmnist') {
      const size = emulationSize(o.limit, o.testLimit);
      emulation = { ...size, seed: EMULATED_NMNIST.seed, dir: emulationDir(o.out, { ...size, seed: EMULATED_NMNIST.seed }) };
      dir = emulation.dir;
      missing = undefined;
    }
    if (missing !== undefined) {
      if (model) throw new EdgespikeError(`evaluate: a model is given for ${dataset}, but its data is missing: ${missing}`);
      notes.push(`note: ${dataset} skipped: ${missing}`);
      continue;
    }
    for (const r of rows) {
      const c: Omit<EvalCell, 'id'> = {
        dataset, label: r.name, components: r.components, seed: o.seed,
        recipe: model ? { ...o.recipe, T: model.T } : o.recipe,
        ...(model ? { model: model.path } : {}),
        ...(dir !== undefined ? { dataDir: dir } : {}),
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
        ...(o.testLimit !== undefined ? { testLimit: o.testLimit } : {}),
      };
      cells.push({ id: cellId(c, model?.sha256), ...c });
    }
  }
  return { cells, notes, emulation };
}

/** True when the emulated N-MNIST in `e.dir` is complete (its marker is written last). */
export function emulationDone(e: Emulation): boolean {
  return isFile(join(e.dir, 'emulated.json'));
}

/**
 * Makes the emulated N-MNIST of `e` from MNIST unless it is complete already; the marker file is
 * written last, so a folder left by a killed run is made again.
 */
export function ensureEmulation(e: Emulation, log: (line: string) => void): void {
  if (emulationDone(e)) return;
  log(`making the emulated N-MNIST: ${e.train} training and ${e.test} test images of MNIST in ${e.dir}`);
  if (existsSync(e.dir)) rmSync(e.dir, { recursive: true, force: true });
  makeDirs(e.dir);
  const t0 = performance.now();
  const r = emulateImageSet(e.dir, mnist('train'), mnist('test'), e.train, e.test, e.seed);
  writeFileAtomic(join(e.dir, 'emulated.json'), JSON.stringify({ from: 'mnist', train: r.train, test: r.test, events: r.events, seed: e.seed }) + '\n');
  log(`emulated N-MNIST made: ${r.events.toLocaleString('en-US')} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** Where a finished cell's row is kept. */
export function cellFile(out: string, id: string): string {
  return join(resolve(out), 'cells', `${id}.json`);
}

/** Where the model a cell trains is written. */
export function modelFile(out: string, id: string): string {
  return join(resolve(out), 'models', `${id}.es`);
}

/** Makes the evaluation's folders and removes temporary files that killed runs left in them. */
export function prepareOut(out: string, cells: readonly EvalCell[]): void {
  for (const sub of ['cells', 'models']) makeDirs(join(resolve(out), sub));
  for (const c of cells) { removeStaleTemps(cellFile(out, c.id)); removeStaleTemps(modelFile(out, c.id)); }
  for (const f of ['table.md', 'rows.jsonl', 'details.md']) removeStaleTemps(join(resolve(out), f));
}

const NUMERIC: readonly (keyof EvalRow)[] = ['accuracy', 'epochs', 'T', 'spikes_per_sample', 'sops', 'energy_uj', 'latency_ms_batch1', 'test_samples', 'seconds'];

/**
 * Checks that `x` is the row of `cell` (a result read from a file or returned by a queue worker): its id,
 * data set and label are the cell's and its measurements are finite numbers. Throws an Error saying what is wrong.
 */
export function checkRow(x: unknown, cell: EvalCell): EvalRow {
  if (!x || typeof x !== 'object') throw new Error('the result is not an object');
  const r = x as Record<string, unknown>;
  for (const k of ['id', 'dataset', 'label'] as const) {
    if (r[k] !== cell[k]) throw new Error(`the result's ${k} is ${JSON.stringify(r[k])}, expected ${JSON.stringify(cell[k])}`);
  }
  for (const k of NUMERIC) if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) throw new Error(`the result's ${k} is ${JSON.stringify(r[k])}, expected a finite number`);
  return r as unknown as EvalRow;
}

/**
 * The finished row of `cell` in `out`, or null. A file that is not this cell's row (damaged, or written
 * for other settings) gives `problem`, and the cell runs again.
 */
export function readFinished(out: string, cell: EvalCell): { row: EvalRow | null; problem?: string } {
  const path = cellFile(out, cell.id);
  if (!existsSync(path)) return { row: null };
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as { cell?: unknown; row?: unknown };
    if (!isDeepStrictEqual(o.cell, JSON.parse(JSON.stringify(cell)))) throw new Error('it was written for other settings');
    return { row: checkRow(o.row, cell) };
  } catch (e) {
    return { row: null, problem: `${path} is not a finished row of this cell (${e instanceof Error ? e.message : String(e)}); running it again` };
  }
}

/** Keeps a finished row: `OUT/cells/<id>.json` holds the cell and its row, written atomically. */
export function writeFinished(out: string, cell: EvalCell, row: EvalRow): void {
  writeFileAtomic(cellFile(out, cell.id), JSON.stringify({ cell, row: rowJson(row) }, null, 2) + '\n');
}

/** A row as its JSON line: the table's columns first, then id, test samples and seconds. */
export function rowJson(r: EvalRow): Record<string, unknown> {
  return {
    dataset: r.dataset, label: r.label, accuracy: r.accuracy, epochs: r.epochs, T: r.T, spikes_per_sample: r.spikes_per_sample,
    sops: r.sops, energy_uj: r.energy_uj, latency_ms_batch1: r.latency_ms_batch1, id: r.id, test_samples: r.test_samples, seconds: r.seconds,
    coding: r.coding, T_trained: r.T_trained, T_max: r.T_max, exit_theta: r.exit_theta, spikes_full_T: r.spikes_full_T,
    correction: r.correction, pareto: r.pareto, coding_probes: r.coding_probes, spike_cost: r.spike_cost, spike_costs: r.spike_costs, trained_epochs: r.trained_epochs,
  };
}

/** The table's header cells. */
export const TABLE_COLUMNS = ['data set', 'row', 'accuracy', 'epochs', 'T', 'spikes/sample', 'SOPs', 'energy µJ', 'batch-1 latency ms'] as const;

/** One row's cells as the table prints them. */
export function tableCells(r: EvalRow): string[] {
  const T = Number.isInteger(r.T) ? String(r.T) : r.T.toFixed(2);
  return [r.dataset, r.label, `${(100 * r.accuracy).toFixed(2)} %`, String(r.epochs), T, r.spikes_per_sample.toFixed(1),
    r.sops.toExponential(3), r.energy_uj.toFixed(3), r.latency_ms_batch1.toFixed(3)];
}

/** The markdown table of `rows` (in the order given). */
export function formatTable(rows: readonly EvalRow[]): string {
  const lines = [`| ${TABLE_COLUMNS.join(' | ')} |`, `|${TABLE_COLUMNS.map((_, i) => (i < 2 ? ' --- |' : ' ---: |')).join('')}`];
  for (const r of rows) lines.push(`| ${tableCells(r).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

/** The correction's gains of `rows` (those that have them): data set, row, T, accuracy plain and corrected. */
export function correctionTable(rows: readonly EvalRow[]): string[][] {
  return rows.flatMap((r) => (r.correction ?? []).map((g) => [r.dataset, r.label, String(g.T), `${(100 * g.plain).toFixed(2)} %`,
    `${(100 * g.corrected).toFixed(2)} %`, `${(100 * (g.corrected - g.plain)).toFixed(2)}`]));
}

/**
 * The Pareto fronts of `rows`: data set, row, T (mean T of the exit, marked), accuracy, spikes per sample and
 * the regularizer weight of the point's network (– without co-optimization).
 */
export function paretoTable(rows: readonly EvalRow[]): string[][] {
  return rows.flatMap((r) => (r.pareto ?? []).map((p) => [r.dataset, r.label, p.adaptive ? `${p.T.toFixed(2)} (exit)` : String(p.T),
    `${(100 * p.accuracy).toFixed(2)} %`, p.spikes_per_sample.toFixed(1), p.spike_cost === undefined ? '–' : String(p.spike_cost)]));
}

/** Dynamic coding's probes of `rows`: data set, row, coding, held-out accuracy, spikes per sample, chosen. */
export function codingTable(rows: readonly EvalRow[]): string[][] {
  return rows.flatMap((r) => (r.coding_probes ?? []).map((p) => [r.dataset, r.label, p.coding, `${(100 * p.accuracy).toFixed(2)} %`,
    p.spikes_per_sample.toFixed(1), p.chosen ? 'chosen' : '']));
}

/** The regularizer search of `rows`: data set, row, weight, held-out accuracy, spikes per sample at the full T, chosen. */
export function searchTable(rows: readonly EvalRow[]): string[][] {
  return rows.flatMap((r) => (r.spike_costs ?? []).map((p) => [r.dataset, r.label, String(p.spike_cost), `${(100 * p.accuracy).toFixed(2)} %`,
    p.spikes_per_sample.toFixed(1), p.chosen ? 'chosen' : '']));
}

export const CORRECTION_COLUMNS = ['data set', 'row', 'T', 'accuracy plain', 'accuracy corrected', 'gain (points)'] as const;
export const PARETO_COLUMNS = ['data set', 'row', 'T', 'accuracy', 'spikes/sample', 'spike cost'] as const;
export const CODING_COLUMNS = ['data set', 'row', 'coding', 'held-out accuracy', 'spikes/sample', ''] as const;
export const SEARCH_COLUMNS = ['data set', 'row', 'spike cost', 'held-out accuracy', 'spikes/sample at T', ''] as const;

/** The detail tables of `rows` that have entries: title and markdown-ready cells, in the order they are shown. */
export function detailTables(rows: readonly EvalRow[]): { title: string; columns: readonly string[]; cells: string[][] }[] {
  return [
    { title: 'Dynamic coding: the input codings tried (one probe epoch each), on the held-out samples', columns: CODING_COLUMNS, cells: codingTable(rows) },
    { title: 'Co-optimization: the regularizer weights searched, on the held-out samples', columns: SEARCH_COLUMNS, cells: searchTable(rows) },
    { title: 'Dynamic correction: test accuracy at a lower T without and with it', columns: CORRECTION_COLUMNS, cells: correctionTable(rows) },
    { title: 'Pareto front of accuracy, T and spikes per sample (test set: fixed T, the adaptive exit, each weight\'s network)', columns: PARETO_COLUMNS, cells: paretoTable(rows) },
  ].filter((t) => t.cells.length > 0);
}

/** A markdown table with the first two columns left-aligned. */
function markdown(columns: readonly string[], cells: readonly string[][]): string {
  const lines = [`| ${columns.join(' | ')} |`, `|${columns.map((_, i) => (i < 2 ? ' --- |' : ' ---: |')).join('')}`];
  for (const c of cells) lines.push(`| ${c.join(' | ')} |`);
  return lines.join('\n') + '\n';
}

/** The details of `rows` as markdown: the coding probes, the regularizer search, the correction's gains and the Pareto fronts. */
export function formatDetails(rows: readonly EvalRow[]): string {
  return detailTables(rows).map((t) => `${t.title}\n\n${markdown(t.columns, t.cells)}`).join('\n');
}

/** Runs `fn` on every item, at most `n` at a time, starting them in order. */
export async function runPool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => { while (next < items.length) await fn(items[next++]!); };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, lane));
}
