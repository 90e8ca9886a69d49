/**
 * Finds, compiles and instantiates build/edgespike.wasm over one shared WebAssembly.Memory. In Node the
 * file is read synchronously (so kernels() can be wasm from the first call); in a browser use loadWasmAsync.
 */
import { EdgespikeError } from '../../util/errors.js';

/** Pages (64 KiB) the module declares: initial and maximum of its imported shared memory. */
export const MEMORY_PAGES = { initial: 64, maximum: 32768 } as const;

/** The exports of edgespike.wasm that the JS side calls (pointers are byte offsets). */
export interface WasmExports {
  heapBase(): number;
  panelRows(): number;
  panelCols(): number;
  packedBytes(rows: number, k: number, r: number): number;
  packA(a: number, rs: number, cs: number, m: number, k: number, pa: number, kTot: number, p0: number): void;
  packB(b: number, rs: number, cs: number, k: number, n: number, pb: number, kTot: number, p0: number, jp0: number, jp1: number): void;
  convPackWeights(w: number, pa: number, geom: number, trans: boolean): void;
  convWeightBytes(geom: number, trans: boolean): number;
  convScratchBytes(geom: number, kind: number): number;
  spikeConvForwardBytes(geom: number): number;
  spikeLinearWeightScratchBytes(m: number, k: number): number;
  spikeLinearRows(s: number, w: number, y: number, m: number, n: number, k: number, i0: number, i1: number, scratch: number): void;
  spikeConvForwardPack(w: number, wr: number, geom: number): void;
  spikeConvWeightScratchBytes(geom: number): number;
  spikeConvScratchBytes(geom: number): number;
  spikeConvUnpackWeights(wr: number, w: number, geom: number, beta: number): void;
  addInto(dst: number, src: number, n: number): void;
  zero(dst: number, n: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  countNonZero(p: number, n: number): number;
  biasAdd(x: number, b: number, y: number, n: number, c: number, plane: number): void;
  biasGrad(dy: number, db: number, n: number, c: number, plane: number, beta: number, acc: number): void;
}

/** A compiled module and the memory an instance of it works in. */
export interface WasmModule {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly exports: WasmExports;
}

const WASM_URL = '../../../../build/edgespike.wasm';

/** Instantiates a compiled module over a fresh shared memory. */
export function instantiate(module: WebAssembly.Module): WasmModule {
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ ...MEMORY_PAGES, shared: true });
  } catch (e) {
    throw new EdgespikeError(`edgespike.wasm: this runtime cannot create shared WebAssembly memory (${String(e)}); in a browser, `
      + 'serve the page cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)');
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return { module, memory, exports: instance.exports as unknown as WasmExports };
}

/** Node's fs, if this runtime has it without an asynchronous import (Node ≥ 20.16). */
function nodeFs(): typeof import('node:fs') | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
}

/** The path of build/edgespike.wasm relative to this compiled file (dist…/src/backends/wasm/loader.js). */
export function wasmUrl(): URL {
  return new URL(WASM_URL, import.meta.url);
}

/** Loads the module synchronously in Node; undefined when there is no fs or no compiled file. */
export function loadWasmSync(): WasmModule | undefined {
  const fs = nodeFs();
  const url = wasmUrl();
  if (fs === undefined || url.protocol !== 'file:' || !fs.existsSync(url)) return undefined;
  return instantiate(new WebAssembly.Module(fs.readFileSync(url)));
}

/** Loads the module asynchronously: fs in Node, fetch in a browser. */
export async function loadWasmAsync(): Promise<WasmModule> {
  const url = wasmUrl();
  if (url.protocol === 'file:') {
    const fs = await import('node:fs');
    return instantiate(await WebAssembly.compile(fs.readFileSync(url)));
  }
  const res = await fetch(url);
  if (!res.ok) throw new EdgespikeError(`loadWasmAsync: fetching ${url.href} gave HTTP ${res.status}, expected the compiled kernels (npm run build:wasm)`);
  return instantiate(await WebAssembly.compile(await res.arrayBuffer()));
}
