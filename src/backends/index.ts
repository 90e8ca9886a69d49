/**
 * The active kernel backend. Only the reference bodies are wired so far; the WebAssembly body follows.
 */
import type { Kernels } from '../kernels/contract.js';
import { refKernels } from './ref/index.js';

/** The kernels of the active backend. */
export function kernels(): Kernels {
  return refKernels;
}

/** Fraction of non-zero entries of a: the spike density of a binary tensor. */
export function spikeDensity(a: Float32Array): number {
  let nz = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) nz++;
  return a.length === 0 ? 0 : nz / a.length;
}

/** True when the spike kernel is expected to beat the dense kernel at this density. */
export function preferSpike(kind: 'linear' | 'conv', density: number): boolean {
  return density <= (kind === 'linear' ? 0.3 : 0.3);
}
