/**
 * `npm run bench -- split [--datasets mnist,fashion-mnist] [--devices 2,3,5] [--limit N] [--epochs E]
 * [--serve-samples S] [--out DIR]`: EC-SNN end to end. For each data set a network wide enough to prune
 * (32C5-P2-64C5-P2 with the seed's 384-192 classifier head) is trained with `edgespike train`, split with `edgespike split` for 2, 3 and 5
 * devices with roomy memory budgets and again with tight ones, then served as real processes (an embedded
 * broker and the coordinator here, one `edgespike device` process per device) and S test images are sent
 * through SplitClient: accuracy and latency as served, then again after one device process is killed
 * (SIGKILL, not restarted). One JSON line per split, then a markdown table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/cli/main.js';
import { staticDataset } from '../src/data/registry.js';
import { limit, sampleSize, type Dataset } from '../src/data/dataset.js';
import { startCoordinator } from '../src/split/coordinator.js';
import { SplitClient } from '../src/split/client.js';
import { readSplit } from '../src/split/manifest.js';
import type { SplitReport } from '../src/split/split.js';

const BIN = fileURLToPath(new URL('../../bin/edgespike.js', import.meta.url));
// convs wide enough to prune, and the seed's classifier head (the one every sub-model gets), so that a
// sub-model's size is the unsplit model's minus what pruning took
const SPEC = '32C5-P2-64C5-P2-F-D0.5-384l-D0.5-192l-D0.5-10';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

/** Runs the command line in this process; throws with its code when it fails. */
async function cli(argv: string[]): Promise<void> {
  const code = await runCli(argv);
  if (code !== 0) throw new Error(`edgespike ${argv.join(' ')}: exit code ${code}`);
}

interface Served { accuracy: number; mean_ms: number; p95_ms: number; degraded: number }

/** Sends the first n test images one at a time (after 5 untimed ones); accuracy, latency (client side) and degraded answers. */
async function serveRun(client: SplitClient, test: Dataset, n: number): Promise<Served> {
  const x = new Float32Array(sampleSize(test));
  let correct = 0, degraded = 0;
  const ms: number[] = [];
  // a few untimed requests first: the device processes compile and size their memory on the first ones
  for (let i = 0; i < 5; i++) { test.read(i, x, 0); await client.infer(x.slice()); }
  for (let i = 0; i < n; i++) {
    test.read(i, x, 0);
    const t0 = performance.now();
    const a = await client.infer(x.slice());
    ms.push(performance.now() - t0);
    if (a.class === test.label(i)) correct++;
    if (a.degraded) degraded++;
  }
  ms.sort((a, b) => a - b);
  return { accuracy: correct / n, mean_ms: ms.reduce((a, b) => a + b, 0) / n, p95_ms: ms[Math.floor(0.95 * (n - 1))]!, degraded };
}

/** Starts `edgespike device` for every device of the split (one kernel thread each). */
function startDevices(dir: string, url: string, prefix: string): Map<string, ChildProcess> {
  const m = readSplit(dir), kids = new Map<string, ChildProcess>();
  for (const d of m.devices) {
    if (!m.submodels.some((s) => s.device === d.name)) continue;
    kids.set(d.name, spawn(process.execPath, [BIN, 'device', '--split', resolve(dir), '--name', d.name, '--broker', url, '--prefix', prefix], {
      stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, EDGESPIKE_THREADS: '1' },
    }));
  }
  return kids;
}

/** Serves a split as processes, measures it whole and with its first device killed. */
async function serveAndKill(dir: string, test: Dataset, n: number): Promise<{ served: Served; killed: Served; killed_device: string }> {
  const coord = await startCoordinator(dir, { broker: { embedded: 0 }, timeout: 3000, log: () => undefined });
  const kids = startDevices(dir, coord.url, coord.prefix);
  let client: SplitClient | undefined;
  try {
    client = await SplitClient.connect(coord.url, dir, { timeout: 60_000 });
    if (!(await client.waitForDevices(60_000))) throw new Error(`${dir}: devices not online: ${JSON.stringify(client.devices())}`);
    const served = await serveRun(client, test, n);
    const [victim, proc] = [...kids.entries()][0]!;
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    const killed = await serveRun(client, test, n);
    return { served, killed, killed_device: victim };
  } finally {
    await client?.close();
    for (const k of kids.values()) k.kill('SIGKILL');
    await coord.stop();
  }
}

export async function runSplitBench(): Promise<void> {
  const datasets = arg('datasets', 'mnist,fashion-mnist').split(',');
  const counts = arg('devices', '2,3,5').split(',').map(Number);
  const budgets = arg('budgets', 'roomy,tight').split(',');
  // the tight budgets for these device counts only (default: all)
  const tightFor = arg('tight-devices', arg('devices', '2,3,5')).split(',').map(Number);
  const trainLimit = arg('limit', '60000'), epochs = arg('epochs', '2'), serveN = Number(arg('serve-samples', '500'));
  const out = process.argv.includes('--out') ? arg('out', '') : mkdtempSync(join(tmpdir(), 'edgespike-split-'));
  mkdirSync(out, { recursive: true });
  const rows: string[] = [];
  for (const ds of datasets) {
    const model = join(out, `${ds}.es`);
    if (!existsSync(model)) {
      process.stderr.write(`training ${SPEC} on ${ds} (${trainLimit} samples, ${epochs} epochs) …\n`);
      await cli(['train', '--model', SPEC, '--dataset', ds, '--epochs', epochs, '--limit', trainLimit, '--out', model, '--json']);
    }
    const test = limit(staticDataset(ds as 'mnist', 'test'), serveN);
    for (const P of counts) {
      for (const budget of budgets) {
        if (budget === 'tight' && (!tightFor.includes(P) || ds !== datasets[0])) continue;
        const dir = join(out, `${ds}-${P}-${budget}`);
        if (!existsSync(join(dir, 'report.json'))) {
          // roomy: each device holds twice the unsplit model; tight: 3/4 of the largest sub-model the roomy
          // split made (so ζ must drop until the sub-models fit)
          const roomy = join(out, `${ds}-${P}-roomy`, 'report.json');
          const memory = budget === 'tight' && existsSync(roomy)
            ? Math.floor(0.75 * Math.max(...(JSON.parse(readFileSync(roomy, 'utf8')) as SplitReport).submodels.map((s) => s.weight_bytes)))
            : 2 * readFileSync(model).length;
          const devices = Array.from({ length: P }, (_, i) => ({ name: `dev-${i}`, memory_bytes: memory, speed: 1 }));
          const devFile = join(out, `devices-${P}-${budget}.json`);
          writeFileSync(devFile, JSON.stringify(devices));
          process.stderr.write(`splitting ${ds} for ${P} devices (${budget}: ${memory} bytes each) …\n`);
          // tight budgets also let a conv keep as few as 8 filters (the roomy splits keep 16)
          const code = await runCli(['split', model, '--devices', devFile, '--out', dir, '--limit', trainLimit, '--retrain-epochs', epochs, '--fusion-epochs', epochs,
            ...(budget === 'tight' ? ['--min-filters', '8'] : []), '--json']);
          if (code !== 0) { process.stdout.write(JSON.stringify({ dataset: ds, devices: P, budget, memory_bytes: memory, error: `split exit code ${code}` }) + '\n'); continue; }
        }
        const r = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as SplitReport;
        const live = await serveAndKill(dir, test, serveN);
        const line = {
          dataset: ds, devices: P, budget, unsplit_accuracy: r.unsplit.accuracy, fused_accuracy: r.fused_accuracy,
          gap_points: 100 * (r.unsplit.accuracy - r.fused_accuracy), shrink_ratio: r.shrink_ratio,
          zeta: r.submodels.map((s) => s.zeta), step_latency_ms: r.step_latency_ms,
          one_missing_mean: r.fused_accuracy_one_device_missing.reduce((a, m) => a + m.accuracy, 0) / Math.max(1, r.fused_accuracy_one_device_missing.length),
          served: live.served, killed_device: live.killed_device, killed: live.killed, serve_samples: serveN,
        };
        process.stdout.write(JSON.stringify(line) + '\n');
        const pct = (x: number): string => (100 * x).toFixed(2);
        rows.push(`| ${ds} | ${P} | ${budget} | ${pct(r.unsplit.accuracy)} | ${pct(r.fused_accuracy)} | ${line.gap_points.toFixed(2)} | ${r.shrink_ratio.toFixed(3)} | ${line.zeta.join('/')} | ${pct(live.served.accuracy)} | ${live.served.mean_ms.toFixed(1)} | ${pct(live.killed.accuracy)} (${live.killed.degraded}/${serveN} degraded) | ${live.killed.mean_ms.toFixed(1)} |`);
      }
    }
  }
  process.stdout.write([
    '',
    '| data set | devices | budgets | unsplit % | fused % | gap (pts) | shrink ratio | ζ per sub-model | served % | served ms | one device killed % | killed ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows, '', `(${out}; served figures over the first ${serveN} test images, one request at a time)`, '',
  ].join('\n'));
}
