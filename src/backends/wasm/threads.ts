/**
 * Splits one kernel call over the main thread and worker threads that share the wasm memory. Each worker
 * instantiates the same module and sleeps in Atomics.wait on its control block (in that memory); the main
 * thread writes the export's name index and arguments, wakes it, runs its own part and waits for `done`,
 * so kernel calls stay synchronous. In Node, workers are created on first need and never keep the process
 * alive; in a browser they are Web Workers started ahead of use by prepare() (a cross-origin-isolated page).
 */
import type { Arena } from './arena.js';
import { builtin, type WasmModule } from './loader.js';

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

/** Exports a worker may run. The index in this list is what the control block carries. */
export const PARALLEL_EXPORTS = [
  'gemmRowPanels', 'gemmColPanels', 'conv2dForward', 'conv2dBackwardInput', 'conv2dWeightGroups', 'spikeLinear',
  'spikeLinearBackwardWeight', 'spikeConv2dForward', 'spikeConvWeightGroups', 'maxPool2dForward',
  'maxPool2dBackward', 'avgPool2dForward', 'avgPool2dBackward', 'neuronForward', 'neuronBackwardGroups',
  'spikeLinearQ', 'spikeConv2dQ', 'qlifForward',
] as const;

/** Name of an export that threads can split. */
export type ParallelExport = (typeof PARALLEL_EXPORTS)[number];

/**
 * Control block of one worker, in i32 slots: sequence, done, export index, argument count, error flag, ready,
 * chunk count (0: one call on the given range) and the byte address of the shared chunk counter.
 */
export const CTL = { seq: 0, done: 1, fn: 2, nargs: 3, error: 4, ready: 5, chunks: 6, counter: 7, args: 8, bytes: 256, maxArgs: 28 } as const;

/** Range [from, to) of chunk c of n over [lo, hi). */
export function chunkRange(lo: number, hi: number, c: number, n: number): [number, number] {
  return [lo + Math.floor(((hi - lo) * c) / n), lo + Math.floor(((hi - lo) * (c + 1)) / n)];
}

/**
 * Fixed groups of a sum over `items` (at most `count` groups of `per` items each, the last one shorter): each
 * group's sum goes to its own buffer, whichever thread takes it, and the buffers are added in group order,
 * so the result has the same bits on any number of threads.
 */
export function fixedGroups(items: number, count: number): { per: number; groups: number } {
  const per = Math.ceil(items / count);
  return { per, groups: Math.ceil(items / per) };
}

/**
 * Calls f(from, to) for chunks of [lo, hi) claimed one at a time from the shared counter (i32 index ctr) until
 * all n are taken: a slower thread simply takes fewer chunks.
 */
export function claimChunks(i32: Int32Array, ctr: number, lo: number, hi: number, n: number, f: (from: number, to: number) => void): void {
  for (let c = Atomics.add(i32, ctr, 1); c < n; c = Atomics.add(i32, ctr, 1)) f(...chunkRange(lo, hi, c, n));
}

/** Most workers a pool starts (its control blocks are reserved once, outside any kernel's arena scope). */
export const MAX_WORKERS = 15;

/** How long a worker may take to start before the pool gives up on threads, in milliseconds. */
const START_MS = 5000;

type Call = (...args: number[]) => unknown;
type WorkerLike = { terminate(): unknown };
/** What a worker receives: the compiled module, the shared memory and the byte offset of its control block. */
export interface WorkerInit { readonly module: WebAssembly.Module; readonly memory: WebAssembly.Memory; readonly base: number }

/** The worker pool of one wasm module: `run` splits a range of work over up to `threads` threads. */
export class ThreadPool {
  private workers: WorkerLike[] = [];
  private ctl: number[] = [];
  private seq = 0;
  private broken = false;
  /** Whether this thread may block in Atomics.wait (a browser's main thread may not: it spins instead). */
  private blocking: boolean | undefined;
  /** The last Web Worker start under way (prepare() calls queue behind it). */
  private preparing: Promise<unknown> = Promise.resolve();

  private readonly ctlBase: number;
  /** Byte address of the chunk counter shared by the threads of a dynamic run. */
  private readonly counter: number;

  /** Reserves the control blocks now: they must outlive every kernel call's arena mark. */
  constructor(private readonly wasm: WasmModule, arena: Arena) {
    this.ctlBase = arena.alloc(CTL.bytes * MAX_WORKERS + 64);
    this.counter = this.ctlBase + CTL.bytes * MAX_WORKERS;
  }

  /** Number of threads run() may use: 1 + the workers it managed to start. */
  usable(wanted: number): number {
    if (wanted <= 1) return 1;
    if (!this.broken && workerThreads() !== undefined) this.ensure(Math.min(wanted - 1, MAX_WORKERS));
    return this.started(wanted);
  }

  /** Threads usable without starting any: 1 + the workers running, at most `wanted`. */
  private started(wanted: number): number {
    return 1 + Math.max(0, Math.min(this.workers.length, wanted - 1));
  }

  /**
   * Starts workers for `wanted` threads where that cannot be done synchronously: a browser's main thread
   * may not block in Atomics.wait, so Web Workers are started here and their ready messages awaited. Needs a
   * cross-origin-isolated page (shared memory cannot be posted otherwise); without one, or without Worker,
   * kernels stay on one thread. Node starts its workers on first need, so there this does nothing.
   * Resolves to the threads now usable.
   */
  prepare(wanted: number): Promise<number> {
    const web = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
    if (workerThreads() !== undefined || web.crossOriginIsolated !== true || typeof web.Worker !== 'function') return Promise.resolve(this.started(wanted));
    const next = this.preparing.then(() => this.startWebWorkers(wanted)); // one start at a time: each takes the next control block
    this.preparing = next;
    return next;
  }

  /** Starts Web Workers, one after the other, until there are enough for `wanted` threads or one fails. */
  private async startWebWorkers(wanted: number): Promise<number> {
    while (!this.broken && this.workers.length < Math.min(wanted - 1, MAX_WORKERS)) {
      const base = this.ctlBase + CTL.bytes * this.workers.length;
      new Int32Array(this.wasm.memory.buffer).fill(0, base / 4, (base + CTL.bytes) / 4);
      const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
      if (await webWorkerReady(worker, { module: this.wasm.module, memory: this.wasm.memory, base })) {
        this.workers.push(worker);
        this.ctl.push(base);
      } else {
        worker.terminate();
        this.broken = true;
      }
    }
    return this.started(wanted);
  }

  /**
   * Runs export `name` on `parts` contiguous pieces of [lo, hi): part p (0 on the main thread) is called
   * with argsFor(p, from, to). Returns once every piece is done.
   *
   * With `chunks` > 0 the range is cut into that many chunks instead, which the threads claim one at a time,
   * each calling argsFor(p, from, to) per chunk with its own part p: a thread on a slower or busier core
   * takes fewer. Only for exports whose calls on disjoint ranges are independent, write disjoint outputs
   * (so results stay the same whichever thread takes a chunk), and whose last three arguments are
   * (from, to, scratch).
   */
  run(name: ParallelExport, parts: number, lo: number, hi: number,
    argsFor: (part: number, from: number, to: number) => number[], chunks = 0): void {
    const exp = this.wasm.exports as unknown as Record<string, Call>;
    const n = Math.max(1, Math.min(parts, hi - lo, 1 + this.workers.length));
    const cut = (p: number): number => lo + Math.round(((hi - lo) * p) / n);
    if (n === 1) { exp[name](...argsFor(0, lo, hi)); return; }
    const i32 = new Int32Array(this.wasm.memory.buffer), f64 = new Float64Array(this.wasm.memory.buffer);
    const nChunks = chunks > 0 ? Math.min(chunks, hi - lo) : 0;
    if (nChunks > 0) Atomics.store(i32, this.counter / 4, 0);
    const seq = ++this.seq;
    for (let p = 1; p < n; p++) {
      // a dynamic run passes the whole range; the worker cuts its chunks from it
      const base = this.ctl[p - 1], args = nChunks > 0 ? argsFor(p, lo, hi) : argsFor(p, cut(p), cut(p + 1));
      if (args.length > CTL.maxArgs) throw new Error(`threads: ${name} takes ${args.length} arguments, the control block holds ${CTL.maxArgs}`);
      i32[base / 4 + CTL.fn] = PARALLEL_EXPORTS.indexOf(name);
      i32[base / 4 + CTL.nargs] = args.length;
      i32[base / 4 + CTL.error] = 0;
      i32[base / 4 + CTL.chunks] = nChunks;
      i32[base / 4 + CTL.counter] = this.counter;
      f64.set(args, base / 8 + CTL.args / 2);
      Atomics.store(i32, base / 4 + CTL.seq, seq);
      Atomics.notify(i32, base / 4 + CTL.seq);
    }
    let failed = false;
    try {
      if (nChunks > 0) claimChunks(i32, this.counter / 4, lo, hi, nChunks, (from, to) => { exp[name](...argsFor(0, from, to)); });
      else exp[name](...argsFor(0, cut(0), cut(1)));
    } finally {
      // even when the main part throws, the workers finish before their control blocks are reused
      for (let p = 1; p < n; p++) {
        const slot = this.ctl[p - 1] / 4 + CTL.done;
        this.blocking ??= canBlock(i32, slot);
        for (let v = Atomics.load(i32, slot); v !== seq; v = Atomics.load(i32, slot)) {
          if (spinWhile(i32, slot, v) || !this.blocking) continue;
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
      if (Atomics.wait(i32, base / 4 + CTL.ready, 0, START_MS) === 'timed-out') {
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
  return builtin<typeof import('node:worker_threads')>('node:worker_threads');
}

/** True when this thread may call Atomics.wait (Node, any worker); false on a browser's main thread. */
function canBlock(i32: Int32Array, index: number): boolean {
  try {
    Atomics.wait(i32, index, Atomics.load(i32, index) + 1, 0); // a value it does not hold: returns at once
    return true;
  } catch {
    return false;
  }
}

/** Posts the init message to a Web Worker; true once it reports ready, false on an error or after START_MS. */
function webWorkerReady(worker: Worker, init: WorkerInit): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), START_MS);
    const settle = (ok: boolean): void => { clearTimeout(timer); resolve(ok); };
    worker.addEventListener('message', (e) => settle(e.data === 'ready'), { once: true });
    worker.addEventListener('error', () => settle(false), { once: true });
    worker.postMessage(init);
  });
}
