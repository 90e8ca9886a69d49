/**
 * The active body of the quantized kernels: the WebAssembly one when the wasm backend is active, else the
 * reference one. Tests can force either.
 */
import type { QuantKernels } from '../kernels/quant.js';
import { refQuantKernels } from './ref/quant.js';
import { activeWasm } from './index.js';
import { wasmQuantKernels } from './wasm/quant.js';

let override: QuantKernels | null = null;
const bound = new WeakMap<object, QuantKernels>();

/** The quantized kernels of the active backend. */
export function quantKernels(): QuantKernels {
  if (override) return override;
  const w = activeWasm();
  if (!w) return refQuantKernels;
  let k = bound.get(w);
  if (!k) { k = wasmQuantKernels(w.wasm.exports, w.arena, w); bound.set(w, k); }
  return k;
}

/** Forces a body (tests that hold one body to the other); null restores the backend's own. */
export function forceQuantKernels(k: QuantKernels | null): void { override = k; }
