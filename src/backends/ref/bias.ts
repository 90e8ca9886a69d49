/**
 * Per-channel bias over [n, c, plane] tensors: added (forward) and summed (its gradient).
 */

/** y[i,ch,j] = x[i,ch,j] + b[ch]. x may be y. */
export function biasAdd(x: Float32Array, b: Float32Array, y: Float32Array, n: number, c: number, plane: number): void {
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const o = (i * c + ch) * plane, v = b[ch]!;
      for (let j = 0; j < plane; j++) y[o + j] = x[o + j]! + v;
    }
  }
}

/** db[ch] (+)= Σ dy[i,ch,j] over items and plane, summed in float64. */
export function biasGrad(dy: Float32Array, db: Float32Array, n: number, c: number, plane: number, beta: 0 | 1): void {
  const acc = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const o = (i * c + ch) * plane;
      for (let j = 0; j < plane; j++) acc[ch]! += dy[o + j]!;
    }
  }
  for (let ch = 0; ch < c; ch++) db[ch] = beta === 1 ? db[ch]! + acc[ch]! : acc[ch]!;
}
