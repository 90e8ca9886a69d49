/**
 * Finds, compiles and instantiates the kernels over one shared WebAssembly.Memory. In Node the file is read
 * synchronously (so kernels() can be wasm from the first call); in a browser use loadWasmAsync.
 *
 * Two bodies are compiled from the same source:
 * - build/edgespike.wasm (SIMD128), the default: every operation rounds as the wasm specification fixes it,
 *   so the kernels give the same bits on every machine and runtime (Node, browsers; x86, ARM);
 * - build/edgespike-relaxed.wasm, whose GEMM and convolution tiles use fused multiply-adds
 *   (f32x4.relaxed_madd): GEMM and convolutions run faster, but results then depend on whether the
 *   CPU fuses (x86 with FMA, ARM) or not. EDGESPIKE_WASM=relaxed (or initWasm({ body: 'relaxed' })) chooses it.
 *   Browsers that ship relaxed SIMD and Node ≥ 22 run it as it is; on Node 20, where V8 has it behind
 *   --experimental-wasm-relaxed-simd, loading this body turns that flag on.
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
  planBytes(): number;
  planConvForward(plan: number): void;
  planConvBackwardInput(plan: number): void;
  planConvBackwardWeight(plan: number): void;
  convPackWeights(w: number, pa: number, plan: number): void;
  spikeLinearWeightScratchBytes(m: number, k: number): number;
  spikeLinearWeightBlocks(k: number): number;
  spikeLinearRows(s: number, w: number, y: number, m: number, n: number, k: number, i0: number, i1: number, scratch: number): void;
  planSpikeConvForward(plan: number): void;
  planSpikeConvBackwardWeight(plan: number): void;
  planSpikeConvQ(plan: number): void;
  spikeConvForwardPack(w: number, wr: number, plan: number): void;
  spikeConvUnpackWeights(wr: number, w: number, geom: number, beta: number): void;
  addInto(dst: number, src: number, n: number): void;
  zero(dst: number, n: number): void;
  fillBytes(dst: number, v: number, n: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  countNonZero(p: number, n: number): number;
  biasAdd(x: number, b: number, y: number, n: number, c: number, plane: number): void;
  biasGrad(dy: number, db: number, n: number, c: number, plane: number, beta: number, acc: number): void;
}

/** The compiled bodies: 'relaxed' has fused multiply-adds in its GEMM and convolution tiles, 'simd128' not. */
export type WasmBody = 'relaxed' | 'simd128';

/** Both bodies, the portable one first. */
export const WASM_BODIES: readonly WasmBody[] = ['simd128', 'relaxed'];

/** A compiled module, the memory an instance of it works in, and which body it is. */
export interface WasmModule {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly exports: WasmExports;
  readonly body: WasmBody;
}

/**
 * The smallest module that uses relaxed SIMD: one function returning f32x4.relaxed_madd of its three v128
 * parameters. It validates exactly where the runtime compiles relaxed SIMD.
 */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) → v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get 0 1 2, f32x4.relaxed_madd
]);

/** The V8 flag under which Node 20 has relaxed SIMD. */
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

let relaxed: boolean | undefined;

/** A Node built-in module, where the runtime has one without an asynchronous import (Node ≥ 20.16). */
export function builtin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.(id) as T | undefined;
}

/**
 * Whether this runtime compiles relaxed SIMD. In Node, where V8 has it behind a flag, the flag is turned on
 * first (it only lets wasm modules use the relaxed SIMD instructions).
 */
export function relaxedSimd(): boolean {
  if (relaxed !== undefined) return relaxed;
  relaxed = WebAssembly.validate(RELAXED_PROBE);
  if (!relaxed) {
    const v8 = builtin<typeof import('node:v8')>('node:v8');
    if (v8 !== undefined) {
      v8.setFlagsFromString(RELAXED_FLAG);
      relaxed = WebAssembly.validate(RELAXED_PROBE);
    }
  }
  return relaxed;
}

/** EDGESPIKE_WASM where the runtime has an environment (Node), else undefined; '' counts as unset. */
function wantedBody(): string | undefined {
  const want = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['EDGESPIKE_WASM'];
  return want === '' ? undefined : want;
}

/** The body to load: EDGESPIKE_WASM (relaxed or simd128) if set, else simd128. */
export function chooseBody(): WasmBody {
  const want = wantedBody();
  if (want === undefined) return 'simd128';
  if (want !== 'relaxed' && want !== 'simd128') throw new EdgespikeError(`EDGESPIKE_WASM: expected relaxed or simd128, got ${JSON.stringify(want)}`);
  if (want === 'relaxed' && !relaxedSimd()) throw new EdgespikeError('EDGESPIKE_WASM=relaxed: this runtime cannot compile relaxed SIMD (use simd128)');
  return want;
}

/** Instantiates a compiled module over a fresh shared memory. */
export function instantiate(module: WebAssembly.Module, body: WasmBody = 'simd128'): WasmModule {
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ ...MEMORY_PAGES, shared: true });
  } catch (e) {
    throw new EdgespikeError(`edgespike.wasm: this runtime cannot create shared WebAssembly memory (${String(e)}); in a browser, `
      + 'serve the page cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)');
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return { module, memory, exports: instance.exports as unknown as WasmExports, body };
}

/** The URL of a body's file relative to this compiled file (dist…/src/backends/wasm/loader.js). */
export function wasmUrl(body: WasmBody = 'simd128'): URL {
  // written out as literal `new URL('…', import.meta.url)` expressions: bundlers (Vite, webpack 5) see them
  // and copy the files as assets
  return body === 'relaxed' ? new URL('../../../../build/edgespike-relaxed.wasm', import.meta.url) : new URL('../../../../build/edgespike.wasm', import.meta.url);
}

/** Throws unless this runtime can compile `body` (turning Node 20's relaxed SIMD flag on where needed). */
function assertCompiles(body: WasmBody): void {
  if (body === 'relaxed' && !relaxedSimd()) throw new EdgespikeError('edgespike-relaxed.wasm: this runtime cannot compile relaxed SIMD (load the simd128 body)');
}

/** Loads a body (by default chooseBody()) synchronously in Node; undefined when there is no fs or no compiled file. */
export function loadWasmSync(body: WasmBody = chooseBody()): WasmModule | undefined {
  const fs = builtin<typeof import('node:fs')>('node:fs');
  const url = wasmUrl(body);
  if (fs === undefined || url.protocol !== 'file:') return undefined;
  if (!fs.existsSync(url)) {
    // without the compiled kernels the library runs the reference bodies, unless a body was asked for
    if (wantedBody() !== undefined) throw new EdgespikeError(`EDGESPIKE_WASM=${body}: ${url.pathname} not found (run npm run build:wasm)`);
    return undefined;
  }
  assertCompiles(body);
  return instantiate(new WebAssembly.Module(fs.readFileSync(url)), body);
}

/** Loads a body (by default chooseBody()) asynchronously: fs in Node, fetch in a browser. */
export async function loadWasmAsync(body: WasmBody = chooseBody()): Promise<WasmModule> {
  const url = wasmUrl(body);
  assertCompiles(body);
  if (url.protocol === 'file:') {
    const fs = await import('node:fs');
    return instantiate(await WebAssembly.compile(fs.readFileSync(url)), body);
  }
  const res = await fetch(url);
  if (!res.ok) throw new EdgespikeError(`loadWasmAsync: fetching ${url.href} gave HTTP ${res.status}, expected the compiled kernels (npm run build:wasm)`);
  return instantiate(await WebAssembly.compile(await res.arrayBuffer()), body);
}
