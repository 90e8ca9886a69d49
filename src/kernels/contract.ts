/**
 * The kernel contract: every computation a backend must provide, written once.
 *
 * Two bodies implement it: `src/backends/ref` (plain TypeScript, the readable definition) and
 * `src/backends/wasm` (AssemblyScript SIMD in `assembly/`, optionally split over worker threads).
 * Arrays are dense and row-major. Kernels write into the outputs they are given and never allocate
 * tensors; they do not check shapes (the ops in `src/ops` do).
 */

/** Geometry of a 2-d convolution, NCHW input [n, cin, h, w], weight [cout, cin/groups, kh, kw]. */
export interface ConvGeom {
  readonly n: number;
  readonly cin: number;
  readonly h: number;
  readonly w: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly groups: number;
  /** Output height: floor((h + 2·padH − kh) / strideH) + 1. */
  readonly oh: number;
  /** Output width: floor((w + 2·padW − kw) / strideW) + 1. */
  readonly ow: number;
}

/** Geometry of a 2-d pooling window over NCHW input [n, c, h, w]. */
export interface PoolGeom {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly oh: number;
  readonly ow: number;
}

/** The kernels every backend provides. */
export interface Kernels {
  /**
   * General matrix multiply: c[m,n] = op(a)·op(b) + beta·c[m,n], with
   * op(a) = a [m,k] or aᵀ (a stored [k,m]) when `transA`; op(b) = b [k,n] or bᵀ (b stored [n,k]).
   * `beta` is 0 (overwrite; c's old content is ignored, even NaN) or 1 (accumulate).
   */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number,
    transA: boolean, transB: boolean, beta: 0 | 1): void;

  /** y[n,cout,oh,ow] = Σ x·w over the window (zero padding), grouped. Overwrites y. No bias. */
  conv2dForward(x: Float32Array, w: Float32Array, y: Float32Array, g: ConvGeom): void;
  /** dx = ∂L/∂x given dy [n,cout,oh,ow] and w. Overwrites dx [n,cin,h,w]. */
  conv2dBackwardInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: ConvGeom): void;
  /** dw (+)= ∂L/∂w given x and dy; `beta` 0 overwrites dw, 1 accumulates into it. */
  conv2dBackwardWeight(x: Float32Array, dy: Float32Array, dw: Float32Array, g: ConvGeom, beta: 0 | 1): void;

  /**
   * Linear layer fed by spikes: y[m,n] = Σ_k s[m,k]·w[n,k] where every s is exactly 0 or 1
   * (weight w in the [out, in] layout). Only the weights of active inputs are accumulated:
   * no multiplies, zeros skipped. Overwrites y. Must equal gemm(s, w, y, m, n, k, false, true, 0).
   */
  spikeLinear(s: Float32Array, w: Float32Array, y: Float32Array, m: number, n: number, k: number): void;
  /**
   * Weight gradient of a spike-fed linear layer: dw[n,k] (+)= Σ_m dy[m,n]·s[m,k], summed only over
   * active inputs. Must equal gemm(dy, s, dw, n, k, m, true, false, beta).
   */
  spikeLinearBackwardWeight(s: Float32Array, dy: Float32Array, dw: Float32Array, m: number, n: number,
    k: number, beta: 0 | 1): void;
  /** conv2dForward for binary input: active inputs scatter their weights. Must equal conv2dForward. */
  spikeConv2dForward(s: Float32Array, w: Float32Array, y: Float32Array, g: ConvGeom): void;
  /** conv2dBackwardWeight for binary input, summing over active inputs only. */
  spikeConv2dBackwardWeight(s: Float32Array, dy: Float32Array, dw: Float32Array, g: ConvGeom, beta: 0 | 1): void;

  /**
   * Max pooling; writes y and, per output, the flat index (within its [h·w] plane) of the max in `arg` (null when
   * no gradient will be routed: inference). Padding is −∞.
   */
  maxPool2dForward(x: Float32Array, y: Float32Array, arg: Int32Array | null, g: PoolGeom): void;
  /** Routes dy to the argmax positions: dx is overwritten (zeroed, then accumulated). */
  maxPool2dBackward(dy: Float32Array, arg: Int32Array, dx: Float32Array, g: PoolGeom): void;
  /** Average pooling; padded cells count as zeros and the divisor is always kh·kw. */
  avgPool2dForward(x: Float32Array, y: Float32Array, g: PoolGeom): void;
  /** Backward of avgPool2dForward; overwrites dx. */
  avgPool2dBackward(dy: Float32Array, dx: Float32Array, g: PoolGeom): void;

  /** y[i,ch,j] = x[i,ch,j] + b[ch] over [n, c, plane] (plane 1: the rows of a linear layer). x may be y. */
  biasAdd(x: Float32Array, b: Float32Array, y: Float32Array, n: number, c: number, plane: number): void;
  /** db[ch] (+)= Σ over i and j of dy[i,ch,j]; `beta` 0 overwrites db, 1 accumulates into it. */
  biasGrad(dy: Float32Array, db: Float32Array, n: number, c: number, plane: number, beta: 0 | 1): void;
}

/** The names of all kernels, for tests that must enumerate the contract. */
export type KernelName = keyof Kernels;

/** Output size of a convolution or pooling window along one axis. */
export function outSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}
