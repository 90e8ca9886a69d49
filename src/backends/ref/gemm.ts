/**
 * Reference GEMM: the readable definition of `Kernels.gemm`, a plain triple loop summed in float64.
 */

/** c[m,n] = op(a)·op(b) + beta·c; op(a) = a [m,k] or aᵀ (a stored [k,m]); op(b) = b [k,n] or bᵀ (b stored [n,k]). */
export function gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number,
  transA: boolean, transB: boolean, beta: 0 | 1): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i] : a[i * k + p];
        const bv = transB ? b[j * k + p] : b[p * n + j];
        sum += av * bv;
      }
      c[i * n + j] = beta === 1 ? c[i * n + j] + sum : sum;
    }
  }
}
