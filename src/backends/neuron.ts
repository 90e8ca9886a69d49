/**
 * The active body of the fused neuron kernels: the WebAssembly one when the wasm backend is active,
 * else the reference one. Tests can force either.
 */
import type { NeuronKernels } from '../kernels/neuron.js';
import { refNeuronKernels } from './ref/neuron.js';
import { activeWasm } from './index.js';
import { wasmNeuronKernels, type NeuronExports } from './wasm/neuron.js';

let override: NeuronKernels | null = null;
const bound = new WeakMap<object, NeuronKernels>();

/** The neuron kernels of the active backend. */
export function neuronKernels(): NeuronKernels {
  if (override) return override;
  const w = activeWasm();
  if (!w) return refNeuronKernels;
  let k = bound.get(w);
  if (!k) { k = wasmNeuronKernels(w.wasm.exports as unknown as NeuronExports, w.arena, w); bound.set(w, k); }
  return k;
}

/** Forces a body (tests that hold one body to the other); null restores the backend's own. */
export function forceNeuronKernels(k: NeuronKernels | null): void { override = k; }
