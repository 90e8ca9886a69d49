/**
 * The WebAssembly backend: one module instance over a shared memory, its arena, its worker pool and the
 * kernel table bound to them.
 */
import type { Kernels } from '../../kernels/contract.js';
import { Arena } from './arena.js';
import { Heap } from './heap.js';
import { kernelTable, type ThreadSettings } from './kernels.js';
import { loadWasmAsync, loadWasmSync, type WasmBody, type WasmModule } from './loader.js';
import { ThreadPool } from './threads.js';

export { loadWasmAsync, loadWasmSync, relaxedSimd, WASM_BODIES, type WasmBody, type WasmModule } from './loader.js';
export type { ThreadSettings } from './kernels.js';

/**
 * Work (flops; dense-equivalent for spike kernels) below which a kernel runs on one thread: a split starts
 * where the work is about ten wake-ups and joins of a worker (docs/kernels.md).
 */
export const DEFAULT_MIN_PARALLEL_WORK = 4e6;

/** Chunks per thread of a dynamic split: a slower or busier core then takes fewer. */
export const DEFAULT_CHUNKS_PER_THREAD = 16;

/** Most memory lent to workspaces (1 GiB of the 2 GiB the module may grow to); past it ops use plain arrays. */
export const LEND_LIMIT_BYTES = 1 << 30;

/** A ready wasm backend. `settings` may be changed at any time; it is read on every kernel call. */
export interface WasmBackend {
  readonly kernels: Kernels;
  readonly settings: ThreadSettings;
  readonly wasm: WasmModule;
  /** The arena kernels allocate from (other kernel families bind to it too). */
  readonly arena: Arena;
  /** Memory lent to workspaces, so kernels work in place. */
  readonly heap: Heap;
  /** The worker pool (other kernel families split their work over it too). */
  readonly pool: ThreadPool;
  /** Threads a large kernel would really use now (starts the workers if needed). */
  usableThreads(): number;
  /** Starts the workers for `settings.threads` where that must be done ahead of use (a browser); resolves to usableThreads(). */
  prepareThreads(): Promise<number>;
  /** Number of non-zero entries of a, counted with SIMD. */
  countNonZero(a: Float32Array): number;
}

/** Binds a loaded module to an arena (above the module's static data), a thread pool and the table. */
export function createWasmBackend(wasm: WasmModule, threads = 1): WasmBackend {
  const arena = new Arena(wasm.memory, Math.max(wasm.exports.heapBase(), 65536));
  const pool = new ThreadPool(wasm, arena);
  const settings: ThreadSettings = { threads, minParallelWork: DEFAULT_MIN_PARALLEL_WORK, chunksPerThread: DEFAULT_CHUNKS_PER_THREAD };
  return {
    kernels: kernelTable(wasm.exports, arena, pool, settings),
    settings,
    wasm,
    arena,
    heap: new Heap(arena, LEND_LIMIT_BYTES, (off, byte, n) => wasm.exports.fillBytes(off, byte, n)),
    pool,
    usableThreads: () => pool.usable(settings.threads),
    prepareThreads: () => pool.prepare(settings.threads),
    countNonZero: (a) => {
      const mark = arena.mark();
      try { return wasm.exports.countNonZero(arena.put(a), a.length); } finally { arena.release(mark); }
    },
  };
}

/** Loads a body (by default the one chooseBody() picks) synchronously (Node) and builds the backend; undefined if unavailable. */
export function wasmBackendSync(threads = 1, body?: WasmBody): WasmBackend | undefined {
  const wasm = loadWasmSync(body);
  return wasm === undefined ? undefined : createWasmBackend(wasm, threads);
}

/** Loads a body (by default the one chooseBody() picks) asynchronously (Node or browser), builds the backend and prepares its threads. */
export async function wasmBackendAsync(threads = 1, body?: WasmBody): Promise<WasmBackend> {
  const backend = createWasmBackend(await loadWasmAsync(body), threads);
  await backend.prepareThreads();
  return backend;
}
