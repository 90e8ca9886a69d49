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
 * at every step, and its gradient is summed over T. θ is one number for the layer, or one per neuron
 * from a repeating pattern `thr` (per-channel thresholds).
 */

/** Coefficients and switches of a neuron layer, as the kernels see them. */
export interface NeuronKernelParams {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  /** θ of every neuron, unless `thr` is given. */
  readonly vth: number;
  /**
   * Per-neuron thresholds: neuron i (0 ≤ i < m) has θ = thr[i % period], period = thr.length ≥ 1, and its
   * soft reset subtracts θ·k. A per-channel θ over steps laid out [N, C, inner] is C·inner values, each
   * channel's repeated `inner` times (period C·inner divides m); period m gives each neuron its own.
   * Any period is valid: the SIMD body reads a lane group's four thresholds once for all T steps, with one
   * load when they lie within one period (always so when period % 4 === 0 or period === m), else lane by lane.
   */
  readonly thr?: Float32Array;
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
  /** LT-SNN: add −Σ_{u ≥ 0} ∂L/∂u · logistic(u) to the threshold gradient (each neuron's own with `thr`). */
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
   * writes into `gp` the parameter gradients [∂L/∂a, ∂L/∂b, ∂L/∂c, ∂L/∂θ]. With `p.thr` the threshold
   * gradient stays per neuron: gth [m] (when given) gets each neuron's ∂L/∂θ summed over T and gp[3] is 0.
   * No sum over neurons is taken, so threads write apart and any number of them gives the same bits.
   */
  neuronBackward(gs: Float32Array, h: Float32Array, s: Float32Array, x: Float32Array, v0: Float32Array,
    gx: Float32Array, T: number, m: number, staticInput: boolean, p: NeuronKernelParams, gp: Float64Array, gth?: Float32Array): void;
}
