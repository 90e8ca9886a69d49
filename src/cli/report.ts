/** `edgespike report RUN_DIR -o report.html`: one self-contained HTML page about a training run. */
import { defineCommand } from 'citty';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readInput } from '../util/fsx.js';
import { join } from 'node:path';
import { EdgespikeError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { loadNet } from '../train/model-file.js';
import type { EpochRecord } from '../train/trainer.js';
import { runReport, latencyReport } from '../metrics/run.js';
import { Monitor } from '../metrics/monitor.js';
import { graphArchReport, megabytes } from '../metrics/arch.js';
import { checkFlags, num } from './_args.js';
import { checkOutputFile } from '../util/fsx.js';
import { loadDataset } from './_data.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../tensor/tape.js';
import { importOptional, requirePackages } from '../util/optional.js';

const args = {
  dir: { type: 'positional', description: 'run directory (holds the .es model and its .log.jsonl)', required: true },
  output: { type: 'string', alias: 'o', description: 'HTML file to write', default: 'report.html' },
  dataset: { type: 'string', description: 'data set for the run figures (default: the model\'s)' },
  'data-dir': { type: 'string', description: 'folder with the data set files' },
  limit: { type: 'string', description: 'test samples for the run figures', default: '1000' },
} as const;

/** Reads a JSON-lines training log; a malformed line is an error naming the file and line. */
export function readLog(path: string): EpochRecord[] {
  return readInput(path, 'training log', 256 * 2 ** 20).toString('utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    try { return JSON.parse(l) as EpochRecord; } catch { throw new EdgespikeError(`report: ${path} line ${i + 1} is not JSON`); }
  });
}

/** Writes the report of the run in `dir` to `out`; returns the path. */
export async function writeRunReport(dir: string, out: string, o: { dataset?: string; dataDir?: string; limit: number }): Promise<string> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new EdgespikeError(`report: run directory "${dir}" not found`);
  const models = readdirSync(dir).filter((f) => f.endsWith('.es')).sort();
  if (models.length === 0) throw new EdgespikeError(`report: no .es model file in "${dir}"`);
  const modelPath = join(dir, models[0]!);
  const { net, meta } = loadNet(modelPath);
  const logPath = `${modelPath}.log.jsonl`;
  const alt = join(dir, models[0]!.replace(/\.es$/, '.log.jsonl'));
  const history = existsSync(logPath) ? readLog(logPath) : existsSync(alt) ? readLog(alt)
    : ((meta.training as { epochs?: EpochRecord[] } | undefined)?.epochs ?? []);
  const test = await loadDataset(String(o.dataset ?? meta.dataset ?? 'mnist'), 'test', { dataDir: o.dataDir, T: net.config.T, limit: o.limit });
  const run = runReport(net, test);
  const mon = new Monitor(net.config.T);
  const x = new Float32Array(test.shape.reduce((a, b) => a * b, 1));
  test.read(0, x, 0);
  noGrad(() => net.forward(new Tensor(x, [1, ...test.shape]), { training: false, monitor: mon.hook }));
  const lat = latencyReport(net, test, 50);
  const memory = [32, 8, 4, 2, 1.58].map((bits) => {
    const a = graphArchReport(net.graph, { weightBits: bits, membraneBits: Math.ceil(bits) });
    return { bits, weightsMb: a.total.weightMb, membraneMb: megabytes(a.total.neurons, Math.ceil(bits)) };
  });
  // vega and vega-lite load here, not when the command line starts (they take longer to load than the rest of it)
  const { renderReport } = await importOptional('vega', 'report', () => importOptional('vega-lite', 'report', () => import('../report/report.js')));
  const html = await renderReport({
    title: `edgespike run: ${models[0]}`, spec: meta.specText ?? '(built in code)', history, run, records: mon.records, memory,
    latency: { p50: lat.p50, p95: lat.p95 },
  });
  writeFileAtomic(out, html);
  return out;
}

export const reportCommand = defineCommand({
  meta: { name: 'report', description: 'Write an HTML report (SVG plots) of a training run directory' },
  args,
  async run({ args: a, rawArgs }) {
    checkFlags('report', rawArgs, args);
    requirePackages('report', 'vega', 'vega-lite');
    const limit = num('limit', a.limit, { int: true, min: 1, max: 1e9 });
    checkOutputFile('--output', String(a.output));
    const path = await writeRunReport(String(a.dir), String(a.output), { dataset: a.dataset, dataDir: a['data-dir'], limit });
    process.stdout.write(`${path}\n`);
  },
});
