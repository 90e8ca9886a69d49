/**
 * Splits one kernel call over the main thread and worker threads that share the wasm memory. Each worker
 * instantiates the same module and sleeps in Atomics.wait on its control block (in that memory); the main
 * thread writes the export's name index and arguments, wakes it, runs its own part and waits for `done`,
 * so kernel calls stay synchronous. Workers are created on first need and never keep the process alive.
 */
import type { Arena } from './arena.js';
import type { WasmModule } from './loader.js';

/** How long a thread spins on a control word before parking in Atomics.wait, in milliseconds. */
export const SPIN_MS = 0.2;

/** Spins while i32[index] === value, for at most SPIN_MS; true when the value changed. */
export function spinWhile(i32: Int32Array, index: number, value: number): boolean {
  const end = performance.now() + SPIN_MS;
  for (;;) {
    for (let k = 0; k < 256; k++) if (Atomics.load(i32, index) !== value) return true;
    if (performance.now() > end) return false;
  }
}

/**
 * n + 1 cut points over [lo, hi) giving each of n parts about the same total weight (weights indexed
 * from lo; every part keeps at least one item).
 */
export function balancedCuts(weights: ArrayLike<number>, lo: number, hi: number, n: number): number[] {
  let total = 0;
  for (let i = lo; i < hi; i++) total += weights[i - lo]!;
  if (!(total > 0)) return Array.from({ length: n + 1 }, (_, p) => lo + Math.round(((hi - lo) * p) / n));
  const cuts = [lo];
  let acc = 0, i = lo;
  for (let p = 1; p < n; p++) {
    const goal = (total * p) / n, last = hi - (n - p); // leave one item for each later part
    while (i < last && acc + weights[i - lo]! <= goal) acc += weights[i++ - lo]!;
    // Take the next item too when that lands closer to the goal; every part keeps one item.
    if (i < last && Math.abs(acc + weights[i - lo]! - goal) < Math.abs(acc - goal)) acc += weights[i++ - lo]!;
    if (i === cuts[p - 1]) acc += weights[i++ - lo]!;
    cuts.push(i);
  }
  cuts.push(hi);
  return cuts;
}

/** Exports a worker may run. The index in this list is what the control block carries. */
export const PARALLEL_EXPORTS = [
  'gemmPacked', 'packB', 'conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardWeight', 'spikeLinear',
  'spikeLinearBackwardWeight', 'spikeConv2dForward', 'spikeConv2dBackwardWeight', 'maxPool2dForward',
  'maxPool2dBackward', 'avgPool2dForward', 'avgPool2dBackward',
] as const;

/** Name of an export that threads can split. */
export type ParallelExport = (typeof PARALLEL_EXPORTS)[number];

/** Control block of one worker, in i32 slots: sequence, done, export index, argument count, error flag, ready. */
export const CTL = { seq: 0, done: 1, fn: 2, nargs: 3, error: 4, ready: 5, args: 8, bytes: 256, maxArgs: 28 } as const;

/** Most workers a pool starts (its control blocks are reserved once, outside any kernel's arena scope). */
export const MAX_WORKERS = 15;

type Call = (...args: number[]) => unknown;
type WorkerLike = { unref(): void; terminate(): Promise<number> };

/** The worker pool of one wasm module: `run` splits a range of work over up to `threads` threads. */
export class ThreadPool {
  private workers: WorkerLike[] = [];
  private ctl: number[] = [];
  private seq = 0;
  private broken = false;

  private readonly ctlBase: number;

  /** Reserves the control blocks now: they must outlive every kernel call's arena mark. */
  constructor(private readonly wasm: WasmModule, arena: Arena) {
    this.ctlBase = arena.alloc(CTL.bytes * MAX_WORKERS);
  }

  /** Number of threads run() may use: 1 + the workers it managed to start. */
  usable(wanted: number): number {
    if (wanted <= 1 || this.broken) return 1;
    this.ensure(Math.min(wanted - 1, MAX_WORKERS));
    return 1 + Math.min(this.workers.length, wanted - 1);
  }

  /**
   * Runs export `name` on `parts` contiguous pieces of [lo, hi): part p (0 on the main thread) is called
   * with argsFor(p, from, to). Returns once every piece is done.
   */
  run(name: ParallelExport, parts: number, lo: number, hi: number,
    argsFor: (part: number, from: number, to: number) => number[], weights?: ArrayLike<number>): void {
    const exp = this.wasm.exports as unknown as Record<string, Call>;
    const n = Math.max(1, Math.min(parts, hi - lo, 1 + this.workers.length));
    const bounds = weights && n > 1 ? balancedCuts(weights, lo, hi, n) : null;
    const cut = (p: number): number => (bounds ? bounds[p]! : lo + Math.round(((hi - lo) * p) / n));
    if (n === 1) { exp[name](...argsFor(0, lo, hi)); return; }
    const i32 = new Int32Array(this.wasm.memory.buffer), f64 = new Float64Array(this.wasm.memory.buffer);
    const seq = ++this.seq;
    for (let p = 1; p < n; p++) {
      const base = this.ctl[p - 1], args = argsFor(p, cut(p), cut(p + 1));
      if (args.length > CTL.maxArgs) throw new Error(`threads: ${name} takes ${args.length} arguments, the control block holds ${CTL.maxArgs}`);
      i32[base / 4 + CTL.fn] = PARALLEL_EXPORTS.indexOf(name);
      i32[base / 4 + CTL.nargs] = args.length;
      i32[base / 4 + CTL.error] = 0;
      f64.set(args, base / 8 + CTL.args / 2);
      Atomics.store(i32, base / 4 + CTL.seq, seq);
      Atomics.notify(i32, base / 4 + CTL.seq);
    }
    let failed = false;
    try {
      exp[name](...argsFor(0, cut(0), cut(1)));
    } finally {
      // even when the main part throws, the workers finish before their control blocks are reused
      for (let p = 1; p < n; p++) {
        const slot = this.ctl[p - 1] / 4 + CTL.done;
        for (let v = Atomics.load(i32, slot); v !== seq; v = Atomics.load(i32, slot)) {
          if (spinWhile(i32, slot, v)) continue;
          Atomics.wait(i32, slot, v, 1000);
        }
        failed ||= i32[this.ctl[p - 1] / 4 + CTL.error] !== 0;
      }
    }
    if (failed) throw new Error(`threads: ${name} failed in a worker`);
  }

  /** Starts workers until there are `count` (blocking until each is ready, at most 5 s). */
  private ensure(count: number): void {
    const wt = workerThreads();
    if (wt === undefined) { this.broken = true; return; }
    while (this.workers.length < count) {
      const base = this.ctlBase + CTL.bytes * this.workers.length;
      const i32 = new Int32Array(this.wasm.memory.buffer);
      i32.fill(0, base / 4, (base + CTL.bytes) / 4);
      const worker = new wt.Worker(new URL('./worker.js', import.meta.url),
        { workerData: { module: this.wasm.module, memory: this.wasm.memory, base }, execArgv: [] });
      worker.unref();
      if (Atomics.wait(i32, base / 4 + CTL.ready, 0, 5000) === 'timed-out') {
        void worker.terminate();
        this.broken = true;
        return;
      }
      this.workers.push(worker);
      this.ctl.push(base);
    }
  }
}

/** Node's worker_threads without an asynchronous import; undefined in a browser. */
function workerThreads(): typeof import('node:worker_threads') | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:worker_threads') as typeof import('node:worker_threads') | undefined;
}
