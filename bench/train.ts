/**
 * `npm run bench -- train`: the reference network (lenet 16C5-P2-16C5-P2-256-10, LIF decay 0.9, T = 4,
 * direct input, batch 128, Adam 1e-3, MNIST): training samples/s, inference samples/s at batch 256,
 * batch-1 latency p50/p95; then the same figures from snnTorch and SpikingJelly run in this same
 * process's lifetime (../shared/anchors/*.py with Debian's python3-torch), and ratios to the faster.
 * Options: --batches N (training batches timed, default 30), --rounds N (default 3), --threads N, --anchors DIR (where
 * snntorch/ and sj/spikingjelly/ sources were extracted; default ../anchors beside the repo), --no-anchors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad } from '../src/tensor/tape.js';
import { workspace } from '../src/tensor/storage.js';
import { setThreads, backendInfo } from '../src/backends/index.js';
import { zoo } from '../src/models/zoo.js';
import { SpikingNet } from '../src/layers/net.js';
import { neuronParams } from '../src/neurons/neuron.js';
import { mnist, packagedMnistDir } from '../src/data/mnist.js';
import { makeBatch } from '../src/data/batch.js';
import { Optimizer } from '../src/train/optim.js';
import { lossOf } from '../src/train/loss.js';
import { Rng } from '../src/data/rng.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const print = (o: object): void => { process.stdout.write(JSON.stringify(o) + '\n'); };
const quantile = (xs: number[], q: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]!; };

interface Figures { train_samples_per_s: number; infer_samples_per_s: number; latency_ms_p50_batch1: number; latency_ms_p95_batch1?: number }

/** Our figures for the reference network. */
export function measureOurs(batches: number): Figures {
  const z = zoo('lenet');
  const net = new SpikingNet(z.spec, { input: z.input, neuron: neuronParams('lif', { beta: 0.9, surrogate: 'fast-sigmoid' }), T: 4,
    encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 0 });
  const train = mnist('train'), test = mnist('test');
  const rng = new Rng(0), order = rng.permutation(train.length);
  const opt = new Optimizer(net.parameters(), { kind: 'adam', lr: 1e-3 });
  const step = (b: number): void => {
    const { x, y } = makeBatch(train, order, b * 128, (b + 1) * 128);
    // as the trainer does it: each step in a workspace
    workspace(() => {
      const loss = lossOf(net.forward(x, { training: true, rng }), y, { kind: 'ce' });
      opt.zeroGrad(); loss.backward();
    });
    opt.step();
  };
  for (let b = 0; b < 3; b++) step(b); // warm-up
  let t0 = performance.now();
  for (let b = 3; b < 3 + batches; b++) step(b);
  const trainRate = (batches * 128) / ((performance.now() - t0) / 1000);
  const infer = (): number => noGrad(() => {
    const s = performance.now();
    for (let b = 0; b < 2048; b += 256) workspace(() => { net.forward(makeBatch(test, null, b, b + 256).x, { training: false }); });
    return 2048 / ((performance.now() - s) / 1000);
  });
  infer();
  const inferRate = infer();
  const lat: number[] = [];
  noGrad(() => {
    for (let i = 0; i < 220; i++) {
      const x = makeBatch(test, null, i, i + 1).x;
      t0 = performance.now();
      workspace(() => { net.forward(x, { training: false }); });
      if (i >= 20) lat.push(performance.now() - t0);
    }
  });
  return { train_samples_per_s: trainRate, infer_samples_per_s: inferRate, latency_ms_p50_batch1: quantile(lat, 0.5), latency_ms_p95_batch1: quantile(lat, 0.95) };
}

/** Runs one anchor script; returns its figures or a reason it was skipped. */
function runAnchor(name: string, script: string, src: string, batches: number, threads: number): Figures | string {
  const path = join(root, '..', 'shared', 'anchors', script);
  if (!existsSync(path)) return `${path} not found`;
  if (!existsSync(src)) return `anchor source ${src} not found`;
  const r = spawnSync('/usr/bin/python3', [path, packagedMnistDir(), src, '--batches', String(batches), '--threads', String(threads)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return `${name} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try { return JSON.parse(line) as Figures; } catch { return `${name} printed no JSON`; }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

/**
 * The train benchmark. Rounds (default 3) alternate ours and the anchors, so a load spike on this
 * shared machine hits both; each round prints its figures, and the ratios use the per-round ratios'
 * median (against the faster anchor of that round, metric by metric).
 */
export async function runTrainBench(): Promise<void> {
  const batches = Number(arg('batches', '30'));
  const threads = Number(arg('threads', '2'));
  const rounds = Number(arg('rounds', '3'));
  setThreads(threads);
  const dir = resolve(arg('anchors', join(root, '..', 'anchors'))!);
  const withAnchors = !process.argv.includes('--no-anchors');
  const ratios: Record<'train' | 'infer' | 'latency', number[]> = { train: [], infer: [], latency: [] };
  for (let r = 1; r <= rounds; r++) {
    const ours = measureOurs(batches);
    const info = backendInfo();
    print({ bench: 'train', round: r, network: 'lenet', T: 4, batch: 128, backend: info.name, threads: info.threads, ...ours });
    if (!withAnchors) continue;
    const anchors: Figures[] = [];
    for (const [name, script, src] of [['snntorch', 'snntorch_lenet.py', dir], ['spikingjelly', 'spikingjelly_lenet.py', join(dir, 'sj')]] as const) {
      const a = runAnchor(name, script, src, batches, threads);
      if (typeof a === 'string') print({ anchor: name, round: r, skipped: a });
      else { anchors.push(a); print({ anchor: name, round: r, ...a }); }
    }
    if (anchors.length === 0) continue;
    const best = (k: keyof Figures, lower = false) => anchors.map((a) => a[k] as number).reduce((p, v) => (lower ? Math.min(p, v) : Math.max(p, v)));
    ratios.train.push(ours.train_samples_per_s / best('train_samples_per_s'));
    ratios.infer.push(ours.infer_samples_per_s / best('infer_samples_per_s'));
    ratios.latency.push(ours.latency_ms_p50_batch1 / best('latency_ms_p50_batch1', true));
  }
  if (ratios.train.length === 0) return;
  print({ ratio: 'train_vs_fastest_anchor', median: median(ratios.train), rounds: ratios.train, target: 2 });
  print({ ratio: 'infer_vs_fastest_anchor', median: median(ratios.infer), rounds: ratios.infer, target: 3 });
  print({ ratio: 'latency_p50_vs_fastest_anchor', median: median(ratios.latency), rounds: ratios.latency, target_at_most: 1 / 3 });
}
