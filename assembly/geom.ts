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

/**
 * c + a·b on 4 lanes: one fused multiply-add in the relaxed-SIMD build (edgespike-relaxed.wasm), a multiply
 * and an add in the SIMD128 build. Only the dense GEMM and convolution tiles use it; the neuron kernels keep
 * separate roundings, so spikes do not depend on the build.
 */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** dst[0..n) += src[0..n), 4 lanes at a time. */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + f4(i), f32x4.add(v128.load(dst + f4(i)), v128.load(src + f4(i))));
  for (; i < n; i++) store<f32>(dst + f4(i), load<f32>(dst + f4(i)) + load<f32>(src + f4(i)));
}

/** Number of non-zero floats in p[0..n) (−0 counts as zero). */
export function countNonZero(p: usize, n: i32): i32 {
  const z = f32x4.splat(0);
  let acc = i32x4.splat(0), i = 0, cnt = 0;
  for (; i + 4 <= n; i += 4) acc = i32x4.sub(acc, f32x4.ne(v128.load(p + f4(i)), z));
  for (; i < n; i++) if (load<f32>(p + f4(i)) != 0) cnt++;
  return cnt + i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
}

/** Bit i set when the float p[i] ≠ 0, for i < 16: four compares narrowed to one byte mask. */
@inline export function nonZero16(p: usize): i32 {
  const z = f32x4.splat(0);
  const lo = i16x8.narrow_i32x4_s(f32x4.ne(v128.load(p), z), f32x4.ne(v128.load(p, 16), z));
  const hi = i16x8.narrow_i32x4_s(f32x4.ne(v128.load(p, 32), z), f32x4.ne(v128.load(p, 48), z));
  return i8x16.bitmask(i8x16.narrow_i16x8_s(lo, hi));
}

/** dst[0..n) = 0. */
export function zero(dst: usize, n: i32): void {
  memory.fill(dst, 0, f4(n));
}

/** n bytes from dst on set to v (JavaScript's fill of a view of shared memory stores one element at a time). */
export function fillBytes(dst: usize, v: i32, n: i32): void {
  memory.fill(dst, <u8>v, <usize>n);
}

/** The 4×4 block at s (rows lsb bytes apart) transposed to d (rows ldb bytes apart), in registers. */
@inline function block4(s: usize, lsb: usize, d: usize, ldb: usize): void {
  const r0 = v128.load(s), r1 = v128.load(s + lsb), r2 = v128.load(s + 2 * lsb), r3 = v128.load(s + 3 * lsb);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(d + ldb, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(d + 2 * ldb, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(d + 3 * ldb, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** dst[j·ld + i] = src[i·ls + j] for i < rows, j < cols (floats): 4x4 blocks in registers, scalar edges. */
export function transposeStrided(src: usize, ls: i32, dst: usize, ld: i32, rows: i32, cols: i32): void {
  const r4 = rows & ~3, c4 = cols & ~3, lsb = <usize>ls << 2, ldb = <usize>ld << 2;
  for (let i = 0; i < r4; i += 4) {
    for (let j = 0; j < c4; j += 4) block4(src + f4(i * ls + j), lsb, dst + f4(j * ld + i), ldb);
    for (let j = c4; j < cols; j++) {
      for (let k = i; k < i + 4; k++) store<f32>(dst + f4(j * ld + k), load<f32>(src + f4(k * ls + j)));
    }
  }
  for (let i = r4; i < rows; i++) {
    for (let j = 0; j < cols; j++) store<f32>(dst + f4(j * ld + i), load<f32>(src + f4(i * ls + j)));
  }
}

/**
 * As transposeStrided, four columns at a time down all rows: the destination rows are written one block of four
 * after another, each front to back (for destination rows far apart, as channel planes are).
 */
export function transposeCols(src: usize, ls: i32, dst: usize, ld: i32, rows: i32, cols: i32): void {
  const r4 = rows & ~3, c4 = cols & ~3, lsb = <usize>ls << 2, ldb = <usize>ld << 2;
  for (let j = 0; j < c4; j += 4) {
    for (let i = 0; i < r4; i += 4) block4(src + f4(i * ls + j), lsb, dst + f4(j * ld + i), ldb);
    for (let k = j; k < j + 4; k++) {
      for (let i = r4; i < rows; i++) store<f32>(dst + f4(k * ld + i), load<f32>(src + f4(i * ls + k)));
    }
  }
  for (let j = c4; j < cols; j++) {
    for (let i = 0; i < rows; i++) store<f32>(dst + f4(j * ld + i), load<f32>(src + f4(i * ls + j)));
  }
}

/** dst[cols, rows] = src[rows, cols]ᵀ. */
export function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  transposeStrided(src, cols, dst, rows, rows, cols);
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

@inline function lo8(a: v128, b: v128): v128 {
  return v128.shuffle<u8>(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

@inline function hi8(a: v128, b: v128): v128 {
  return v128.shuffle<u8>(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

/** Row i of the transposed block (16 bytes) at d + i·ld. */
@inline function putRow(d: usize, ld: usize, i: i32, r: v128): void {
  v128.store(d + <usize>i * ld, r);
}

/**
 * The 16×16 block of bytes at s (rows ls bytes apart) transposed to d (rows ld bytes apart): four rounds of
 * interleaving rows i and i + 8 (after which row i holds column i), in registers.
 */
@inline export function transpose16(s: usize, ls: usize, d: usize, ld: usize): void {
  const a0 = v128.load(s), a1 = v128.load(s + ls), a2 = v128.load(s + 2 * ls), a3 = v128.load(s + 3 * ls);
  const a4 = v128.load(s + 4 * ls), a5 = v128.load(s + 5 * ls), a6 = v128.load(s + 6 * ls), a7 = v128.load(s + 7 * ls);
  const a8 = v128.load(s + 8 * ls), a9 = v128.load(s + 9 * ls), a10 = v128.load(s + 10 * ls), a11 = v128.load(s + 11 * ls);
  const a12 = v128.load(s + 12 * ls), a13 = v128.load(s + 13 * ls), a14 = v128.load(s + 14 * ls), a15 = v128.load(s + 15 * ls);
  const b0 = lo8(a0, a8), b1 = hi8(a0, a8), b2 = lo8(a1, a9), b3 = hi8(a1, a9), b4 = lo8(a2, a10), b5 = hi8(a2, a10), b6 = lo8(a3, a11), b7 = hi8(a3, a11);
  const b8 = lo8(a4, a12), b9 = hi8(a4, a12), b10 = lo8(a5, a13), b11 = hi8(a5, a13), b12 = lo8(a6, a14), b13 = hi8(a6, a14), b14 = lo8(a7, a15), b15 = hi8(a7, a15);
  const c0 = lo8(b0, b8), c1 = hi8(b0, b8), c2 = lo8(b1, b9), c3 = hi8(b1, b9), c4 = lo8(b2, b10), c5 = hi8(b2, b10), c6 = lo8(b3, b11), c7 = hi8(b3, b11);
  const c8 = lo8(b4, b12), c9 = hi8(b4, b12), c10 = lo8(b5, b13), c11 = hi8(b5, b13), c12 = lo8(b6, b14), c13 = hi8(b6, b14), c14 = lo8(b7, b15), c15 = hi8(b7, b15);
  const d0 = lo8(c0, c8), d1 = hi8(c0, c8), d2 = lo8(c1, c9), d3 = hi8(c1, c9), d4 = lo8(c2, c10), d5 = hi8(c2, c10), d6 = lo8(c3, c11), d7 = hi8(c3, c11);
  const d8 = lo8(c4, c12), d9 = hi8(c4, c12), d10 = lo8(c5, c13), d11 = hi8(c5, c13), d12 = lo8(c6, c14), d13 = hi8(c6, c14), d14 = lo8(c7, c15), d15 = hi8(c7, c15);
  putRow(d, ld, 0, lo8(d0, d8)); putRow(d, ld, 1, hi8(d0, d8)); putRow(d, ld, 2, lo8(d1, d9)); putRow(d, ld, 3, hi8(d1, d9));
  putRow(d, ld, 4, lo8(d2, d10)); putRow(d, ld, 5, hi8(d2, d10)); putRow(d, ld, 6, lo8(d3, d11)); putRow(d, ld, 7, hi8(d3, d11));
  putRow(d, ld, 8, lo8(d4, d12)); putRow(d, ld, 9, hi8(d4, d12)); putRow(d, ld, 10, lo8(d5, d13)); putRow(d, ld, 11, hi8(d5, d13));
  putRow(d, ld, 12, lo8(d6, d14)); putRow(d, ld, 13, hi8(d6, d14)); putRow(d, ld, 14, lo8(d7, d15)); putRow(d, ld, 15, hi8(d7, d15));
}
