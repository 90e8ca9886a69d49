/**
 * The active body of the fused neuron kernels (reference or WebAssembly), chosen with the rest of
 * the backend.
 */
import type { NeuronKernels } from '../kernels/neuron.js';
import { refNeuronKernels } from './ref/neuron.js';

let active: NeuronKernels = refNeuronKernels;
let override: NeuronKernels | null = null;

/** The neuron kernels of the active backend. */
export function neuronKernels(): NeuronKernels { return override ?? active; }

/** @internal Installs the neuron kernels of a backend (called by the backend switch). */
export function _setNeuronKernels(k: NeuronKernels): void { active = k; }

/** Forces a body (tests that hold one body to the other); null restores the backend's own. */
export function forceNeuronKernels(k: NeuronKernels | null): void { override = k; }
