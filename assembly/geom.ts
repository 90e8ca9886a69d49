// Geometry records read straight from memory: the JS side writes 14 (conv) or 12 (pool) i32 fields.

/** Convolution geometry, field order as in ConvGeom. */
@unmanaged export class Conv {
  n: i32; cin: i32; h: i32; w: i32; cout: i32; kh: i32; kw: i32;
  sH: i32; sW: i32; pH: i32; pW: i32; groups: i32; oh: i32; ow: i32;
}

/** Pooling geometry, field order as in PoolGeom. */
@unmanaged export class Pool {
  n: i32; c: i32; h: i32; w: i32; kh: i32; kw: i32; sH: i32; sW: i32; pH: i32; pW: i32; oh: i32; ow: i32;
}

/** Byte offset of float index i. */
@inline export function f4(i: i32): usize {
  return <usize>i << 2;
}

/** dst[0..n) += src[0..n), 4 lanes at a time. */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + f4(i), f32x4.add(v128.load(dst + f4(i)), v128.load(src + f4(i))));
  for (; i < n; i++) store<f32>(dst + f4(i), load<f32>(dst + f4(i)) + load<f32>(src + f4(i)));
}

/** dst[0..n) = 0. */
export function zero(dst: usize, n: i32): void {
  memory.fill(dst, 0, f4(n));
}

/** dst[cols, rows] = src[rows, cols]ᵀ. */
export function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) store<f32>(dst + f4(j * rows + i), load<f32>(src + f4(i * cols + j)));
  }
}

/** First output index o ≥ 0 whose tap o·s − p + k is ≥ 0. */
@inline export function validLo(p: i32, k: i32, s: i32): i32 {
  const t = p - k;
  return t > 0 ? (t + s - 1) / s : 0;
}

/** One past the last output index o < outN whose tap o·s − p + k is < size. */
@inline export function validHi(size: i32, p: i32, k: i32, s: i32, outN: i32): i32 {
  const t = size - 1 + p - k;
  return t < 0 ? 0 : min(outN, t / s + 1);
}
