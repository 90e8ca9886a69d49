/**
 * The active kernel backend. In Node, `kernels()` is the WebAssembly body when build/edgespike.wasm exists
 * and the reference body otherwise; EDGESPIKE_BACKEND=ref|wasm, EDGESPIKE_WASM=relaxed|simd128 and
 * EDGESPIKE_THREADS=n override. In a
 * browser, call setThreads(n) if wanted, then await initWasm(). Also: the density rule for spike kernels.
 */
import { EdgespikeError } from '../util/errors.js';
import type { Kernels } from '../kernels/contract.js';
import { refKernels } from './ref/index.js';
import { wasmBackendAsync, wasmBackendSync, type WasmBackend, type WasmBody } from './wasm/index.js';
import { MAX_WORKERS } from './wasm/threads.js';
import { _setLenderSource } from '../tensor/storage.js';

export { quantKernels, forceQuantKernels } from './quant.js';

/** Names of the kernel bodies. */
export type BackendName = 'ref' | 'wasm';

/**
 * What is running: backend name, threads a large kernel uses, whether its bodies are SIMD, and which
 * compiled body ('relaxed': fused multiply-adds in the GEMM and convolution tiles; 'simd128'; 'ref').
 */
export interface BackendInfo {
  readonly name: BackendName;
  readonly threads: number;
  readonly simd: boolean;
  readonly body: WasmBody | 'ref';
}

/** Most threads setThreads accepts: the main thread and up to 15 workers. */
export const MAX_THREADS = 1 + MAX_WORKERS;

let active: BackendName | undefined;
let wasm: WasmBackend | undefined;
/** The asynchronous load under way or done (concurrent initWasm calls share it). */
let loading: Promise<WasmBackend> | undefined;
let wantedThreads = 1;

/** Reads an environment variable where there is one (Node), else undefined. */
function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

/** The wasm backend, loading it synchronously on first use; undefined when it cannot be loaded that way. */
function wasmOrUndefined(): WasmBackend | undefined {
  wasm ??= wasmBackendSync(wantedThreads);
  return wasm;
}

/** First call: applies EDGESPIKE_THREADS and EDGESPIKE_BACKEND, or picks wasm when it loads. */
function resolve(): BackendName {
  if (active !== undefined) return active;
  const t = env('EDGESPIKE_THREADS');
  if (t !== undefined && t !== '') {
    if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > MAX_THREADS) {
      throw new EdgespikeError(`EDGESPIKE_THREADS: expected an integer 1…${MAX_THREADS}, got ${JSON.stringify(t)}`);
    }
    setThreads(Number(t));
  }
  const b = env('EDGESPIKE_BACKEND');
  if (b !== undefined && b !== '') {
    if (b !== 'ref' && b !== 'wasm') throw new EdgespikeError(`EDGESPIKE_BACKEND: expected ref or wasm, got ${JSON.stringify(b)}`);
    setBackend(b);
  } else {
    active = wasmOrUndefined() !== undefined ? 'wasm' : 'ref';
  }
  return active!;
}

/** The kernels of the active backend. */
export function kernels(): Kernels {
  return resolve() === 'wasm' ? wasm!.kernels : refKernels;
}

/** Selects the kernel bodies; 'wasm' throws if build/edgespike.wasm cannot be loaded (in a browser: call initWasm first). */
export function setBackend(name: BackendName): void {
  if (name !== 'ref' && name !== 'wasm') throw new EdgespikeError(`setBackend: expected 'ref' or 'wasm', got ${JSON.stringify(name)}`);
  if (name === 'wasm' && wasmOrUndefined() === undefined) {
    throw new EdgespikeError('setBackend: build/edgespike.wasm could not be loaded synchronously (run npm run build:wasm, or await initWasm() in a browser)');
  }
  active = name;
}

/** Threads the wasm kernels may use (main thread + n − 1 workers: created on first need in Node, by initWasm in a browser). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new EdgespikeError(`setThreads: expected an integer 1…${MAX_THREADS}, got ${n}`);
  wantedThreads = n;
  if (wasm !== undefined) wasm.settings.threads = n;
}

/** The active backend's name, thread count (workers started) and SIMD flag. */
export function backendInfo(): BackendInfo {
  const name = resolve();
  if (name === 'ref') return { name, threads: 1, simd: false, body: 'ref' };
  return { name, threads: wasm!.usableThreads(), simd: true, body: wasm!.wasm.body };
}

/** Options of initWasm. */
export interface InitWasmOptions {
  /**
   * The compiled body: 'simd128' (default; the same bits on every machine) or 'relaxed' (fused multiply-adds
   * in the GEMM and convolution tiles: faster, but the bits depend on the CPU). EDGESPIKE_WASM sets it in Node.
   */
  readonly body?: WasmBody;
}

/**
 * Loads the wasm backend asynchronously (required in a browser, optional in Node) and makes it active. In a
 * browser it also starts the Web Workers for setThreads(n) (again on a later call after setThreads); they
 * need a cross-origin-isolated page (COOP same-origin, COEP require-corp), else kernels run on one thread.
 */
export async function initWasm(options: InitWasmOptions = {}): Promise<void> {
  const { body } = options;
  if (body !== undefined && body !== 'simd128' && body !== 'relaxed') {
    throw new EdgespikeError(`initWasm: body must be 'simd128' or 'relaxed', got ${JSON.stringify(body)}`);
  }
  if (wasm !== undefined && body !== undefined && wasm.wasm.body !== body) {
    throw new EdgespikeError(`initWasm: the ${wasm.wasm.body} body is already loaded; choose the body before the first kernel call`);
  }
  if (wasm === undefined) {
    loading ??= wasmBackendAsync(wantedThreads, body).catch((e: unknown) => { loading = undefined; throw e; });
    const loaded = await loading;
    wasm ??= loaded;
  }
  wasm.settings.threads = wantedThreads; // setThreads may have run while the module was loading
  await wasm.prepareThreads();
  active = env('EDGESPIKE_BACKEND') === 'ref' ? 'ref' : 'wasm';
}

/** Fraction of non-zero entries of a (−0 counts as zero): the spike density of a binary tensor; a SIMD count when wasm is active. */
export function spikeDensity(a: Float32Array): number {
  if (a.length === 0) return 0;
  if (resolve() === 'wasm') return wasm!.countNonZero(a) / a.length;
  let nz = 0;
  for (let i = 0; i < a.length; i++) nz += +(a[i] !== 0);
  return nz / a.length;
}

/**
 * Densities below which the spike kernels (forward and weight gradient together) beat the dense ones, from
 * `npm run bench -- engine` (docs/kernels.md has the figures): linear layers, convolutions, and conv3x3, the
 * convolutions whose dense kernels are Winograd's (winogradShape).
 */
export const SPIKE_CROSSOVER = { linear: 0.45, conv: 0.5, conv3x3: 0.4 } as const;

/** True when the spike kernel of this kind is expected to beat the dense kernel at this density. */
export function preferSpike(kind: keyof typeof SPIKE_CROSSOVER, density: number): boolean {
  return density < SPIKE_CROSSOVER[kind];
}

/**
 * Largest single tensor a kernel call may take: inputs that do not live in wasm memory are copied into
 * its arena beside the output and the scratch, within the module's memory.
 */
export const MAX_TENSOR_BYTES = 256 * 2 ** 20;

/** True for the convolutions whose dense forward runs by Winograd: 3×3, stride 1, one group, ≥ 32 channels in and out. */
export function winogradShape(g: { kh: number; kw: number; strideH: number; strideW: number; groups: number; cin: number; cout: number }): boolean {
  return g.kh === 3 && g.kw === 3 && g.strideH === 1 && g.strideW === 1 && g.groups === 1 && g.cin >= 32 && g.cout >= 32;
}

/** The loaded wasm backend when it is the active one (for kernel families bound outside the table). */
export function activeWasm(): WasmBackend | undefined {
  return resolve() === 'wasm' ? wasm : undefined;
}

// Workspaces (src/tensor/storage.ts) borrow the active wasm backend's memory; the reference body needs none.
_setLenderSource(() => (resolve() === 'wasm' ? wasm!.heap : undefined));
