/**
 * The fused multi-step neuron kernels: forward and backward of a whole layer of spiking neurons
 * over T steps in one call. Every neuron model (IF, LIF in both conventions, PLIF, learnable
 * threshold) is one update written with the coefficients below:
 *
 *   h[t] = (a·v[t−1] + b·x[t]) + c                       charge (h: membrane before reset)
 *   s[t] = H(h[t] − θ)   (≥, or > when strict)           fire; backward uses the surrogate σ'
 *   v[t] = h − s·(θ·k) | s ? v_reset : h | h              reset: soft | hard | none
 *
 * k = 1 for the usual soft reset; k = 1/a gives snnTorch's convention, where the subtraction of θ
 * happens after the leak (U = βU + I − S·θ). Static input (direct encoding): x has one frame used
 * at every step, and its gradient is summed over T.
 */

/** Coefficients and switches of a neuron layer, as the kernels see them. */
export interface NeuronKernelParams {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly vth: number;
  readonly vReset: number;
  /** 0 soft (subtract θ·k), 1 hard (to vReset), 2 none. */
  readonly reset: 0 | 1 | 2;
  /** k of the soft reset. */
  readonly resetScale: number;
  /** Reset path carries no gradient. */
  readonly detachReset: boolean;
  /** Fire on h − θ > 0 instead of ≥ 0. */
  readonly strict: boolean;
  /** Built-in surrogate id (SURROGATES in kernels/surrogate.ts). */
  readonly surrogate: number;
  readonly alpha: number;
  /** LT-SNN: add −Σ_{u ≥ 0} ∂L/∂u · logistic(u) to the threshold gradient. */
  readonly sigmaPath: boolean;
  /** Compute ∂L/∂a, ∂L/∂b, ∂L/∂c (a learnable leak); when false they are 0 and backward reads neither x nor v0. */
  readonly decayGrads: boolean;
}

/** Fused neuron kernels. m = neurons per step; arrays are [T, m] unless said otherwise. */
export interface NeuronKernels {
  /**
   * Runs T steps. x: [T, m], or [m] when `staticInput`. v: [m] initial state in, final state out.
   * Writes s (0/1) and h (membrane before reset) for every step; returns the number of spikes.
   * An empty h (length 0) means the membranes are not wanted (inference without monitors).
   */
  neuronForward(x: Float32Array, v: Float32Array, s: Float32Array, h: Float32Array, T: number, m: number,
    staticInput: boolean, p: NeuronKernelParams): number;
  /**
   * Backpropagation through the T steps given gs = ∂L/∂s [T, m], the saved h and s, the input x
   * and the initial state v0 [m]. Overwrites gx ([T, m], or [m] summed over T when staticInput) and
   * writes into `gp` the parameter gradients [∂L/∂a, ∂L/∂b, ∂L/∂c, ∂L/∂θ].
   */
  neuronBackward(gs: Float32Array, h: Float32Array, s: Float32Array, x: Float32Array, v0: Float32Array,
    gx: Float32Array, T: number, m: number, staticInput: boolean, p: NeuronKernelParams, gp: Float64Array): void;
}
