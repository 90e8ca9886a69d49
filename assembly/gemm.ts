// GEMM body: operands are packed into panels (A: MR-row panels, B: NR-column panels, both k-major), then a
// 5x8 register-blocked micro-kernel (10 f32x4 accumulators, madd) sweeps cache-sized blocks of them.
// 5x8 rather than 6x8: with mul + add V8 needs a temporary register, and 6x8 spills its accumulators
// (docs/kernels.md).
// Pointers are byte offsets into the shared memory; nothing is allocated here.
import { madd } from './geom';

/** Rows of an A panel. */
export const MR: i32 = 5;
/** Columns of a B panel. */
export const NR: i32 = 8;
const KC_MAX: i32 = 512;
const BLOCK_B_BYTES: i32 = 512 * 1024;

/** Rows of an A panel (for the JS side). */
export function panelRows(): i32 { return MR; }

/** Columns of a B panel (for the JS side). */
export function panelCols(): i32 { return NR; }

/** Bytes of a packed operand with `rows` rows (A) or columns (B) over k, rounded up to whole panels. */
export function packedBytes(rows: i32, k: i32, r: i32): i32 {
  return ((rows + r - 1) / r) * r * k * 4;
}

/**
 * Packs A(i,p) = a[i·rs + p·cs] for i < m, p < k into MR-row panels of a packed operand spanning kTot
 * columns, starting at column p0. Rows past m are zero. rs = k, cs = 1 for a plain A; rs = 1, cs = m for Aᵀ.
 */
export function packA(a: usize, rs: i32, cs: i32, m: i32, k: i32, pa: usize, kTot: i32, p0: i32): void {
  const panels = (m + MR - 1) / MR;
  for (let ip = 0; ip < panels; ip++) {
    const i0 = ip * MR, rows = min(MR, m - i0);
    const dst = pa + (<usize>(ip * kTot + p0) * MR << 2);
    if (rs == 1 && rows == MR) {
      for (let p = 0; p < k; p++) {
        const src = a + (<usize>(i0 + p * cs) << 2), d = dst + (<usize>(p * MR) << 2);
        v128.store(d, v128.load(src));
        store<f32>(d, load<f32>(src, 16), 16);
      }
      continue;
    }
    for (let r = 0; r < MR; r++) {
      if (r >= rows) {
        for (let p = 0; p < k; p++) store<f32>(dst + (<usize>(p * MR + r) << 2), 0);
        continue;
      }
      const src = a + (<usize>((i0 + r) * rs) << 2);
      for (let p = 0; p < k; p++) {
        store<f32>(dst + (<usize>(p * MR + r) << 2), load<f32>(src + (<usize>(p * cs) << 2)));
      }
    }
  }
}

/** Stores the transpose of the 4x4 block with rows r0…r3 as four rows of a B panel (stride NR floats) at d. */
@inline function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, d: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), NR * 4);
  v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), NR * 8);
  v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), NR * 12);
}

/**
 * Packs B(p,j) = b[p·rs + j·cs] for p < k, j < n into NR-column panels of a packed operand spanning kTot
 * rows, starting at row p0; only panels jp0 ≤ jp < jp1 are written. Columns past n are zero.
 * rs = n, cs = 1 for a plain B; rs = 1, cs = k for Bᵀ.
 */
export function packB(b: usize, rs: i32, cs: i32, k: i32, n: i32, pb: usize, kTot: i32, p0: i32, jp0: i32, jp1: i32): void {
  for (let jp = jp0; jp < jp1; jp++) {
    const j0 = jp * NR, cols = min(NR, n - j0);
    const dst = pb + (<usize>(jp * kTot + p0) * NR << 2);
    if (cs == 1 && cols == NR) {
      for (let p = 0; p < k; p++) {
        const src = b + (<usize>(p * rs + j0) << 2), d = dst + (<usize>(p * NR) << 2);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
      }
      continue;
    }
    let p4 = 0;
    if (rs == 1 && cols == NR) {
      // Bᵀ: columns are contiguous; 4x4 blocks are transposed in registers
      for (; p4 + 4 <= k; p4 += 4) {
        for (let c = 0; c < NR; c += 4) {
          const src = b + (<usize>((j0 + c) * cs + p4) << 2), d = dst + (<usize>(p4 * NR + c) << 2), ld = <usize>cs << 2;
          transpose4(v128.load(src), v128.load(src + ld), v128.load(src + 2 * ld), v128.load(src + 3 * ld), d);
        }
      }
    }
    for (let c = 0; c < NR; c++) {
      if (c >= cols) {
        for (let p = 0; p < k; p++) store<f32>(dst + (<usize>(p * NR + c) << 2), 0);
        continue;
      }
      const src = b + (<usize>((j0 + c) * cs) << 2);
      for (let p = p4; p < k; p++) {
        store<f32>(dst + (<usize>(p * NR + c) << 2), load<f32>(src + (<usize>(p * rs) << 2)));
      }
    }
  }
}

@inline function row(c: usize, lo: v128, hi: v128): void {
  v128.store(c, lo);
  v128.store(c, hi, 16);
}

/** C tile (5x8 at c, row stride ldc bytes) = packed A slice · packed B slice over kc. */
function kernel5x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    pa += 20; pb += 32;
  }
  row(c, c00, c01); row(c + ldc, c10, c11); row(c + 2 * ldc, c20, c21);
  row(c + 3 * ldc, c30, c31); row(c + 4 * ldc, c40, c41);
}

/**
 * One tile. Full tiles that overwrite go straight to C; the others go through the MR x NR buffer `tmp`
 * (160 bytes) and are then added or copied. NOTE: accumulating inside the micro-kernel (C loaded into
 * the accumulators, or added in its epilogue) made V8 spill the accumulators.
 */
function tile(pa: usize, pb: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, acc: bool, tmp: usize): void {
  const full = rows == MR && cols == NR;
  if (full && !acc) {
    kernel5x8(pa, pb, kc, c, <usize>ldc << 2);
    return;
  }
  kernel5x8(pa, pb, kc, tmp, 32);
  for (let r = 0; r < rows; r++) {
    const cr = c + (<usize>(r * ldc) << 2), tr = tmp + (<usize>(r * NR) << 2);
    if (full) {
      v128.store(cr, f32x4.add(v128.load(cr), v128.load(tr)));
      v128.store(cr, f32x4.add(v128.load(cr, 16), v128.load(tr, 16)), 16);
      continue;
    }
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(cr + o, acc ? load<f32>(cr + o) + load<f32>(tr + o) : load<f32>(tr + o));
    }
  }
}

/**
 * C[m,n] (row stride ldc floats) (+)= packed A · packed B for row panels ip0 ≤ ip < ip1 and column
 * panels jp0 ≤ jp < jp1; beta 0 overwrites, 1 accumulates. `tmp` is a 160-byte scratch tile.
 */
export function gemmPacked(pa: usize, pb: usize, c: usize, m: i32, n: i32, k: i32, ldc: i32, beta: i32,
  ip0: i32, ip1: i32, jp0: i32, jp1: i32, tmp: usize): void {
  if (k == 0) {
    if (beta == 0) {
      for (let i = ip0 * MR; i < min(m, ip1 * MR); i++) {
        for (let j = jp0 * NR; j < min(n, jp1 * NR); j++) store<f32>(c + (<usize>(i * ldc + j) << 2), 0);
      }
    }
    return;
  }
  const blocks = (k + KC_MAX - 1) / KC_MAX;
  const kcStep = (k + blocks - 1) / blocks;
  const panelsPerBlock = max(1, BLOCK_B_BYTES / (kcStep * NR * 4));
  for (let pc = 0; pc < k; pc += kcStep) {
    const kc = min(kcStep, k - pc), acc = beta != 0 || pc > 0;
    for (let jc = jp0; jc < jp1; jc += panelsPerBlock) {
      const jend = min(jp1, jc + panelsPerBlock);
      for (let ip = ip0; ip < ip1; ip++) {
        const sa = pa + (<usize>(ip * k + pc) * MR << 2), rows = min(MR, m - ip * MR);
        for (let jp = jc; jp < jend; jp++) {
          const sb = pb + (<usize>(jp * k + pc) * NR << 2);
          const ct = c + (<usize>(ip * MR * ldc + jp * NR) << 2);
          tile(sa, sb, kc, ct, ldc, rows, min(NR, n - jp * NR), acc, tmp);
        }
      }
    }
  }
}

/** gemmPacked over row panels ip0 ≤ i < ip1 and all np column panels (a thread's share; tmp last, as split bodies). */
export function gemmRowPanels(pa: usize, pb: usize, c: usize, m: i32, n: i32, k: i32, ldc: i32, beta: i32, np: i32,
  ip0: i32, ip1: i32, tmp: usize): void {
  gemmPacked(pa, pb, c, m, n, k, ldc, beta, ip0, ip1, 0, np, tmp);
}

/** gemmPacked over all mp row panels and column panels jp0 ≤ j < jp1 (for few rows). */
export function gemmColPanels(pa: usize, pb: usize, c: usize, m: i32, n: i32, k: i32, ldc: i32, beta: i32, mp: i32,
  jp0: i32, jp1: i32, tmp: usize): void {
  gemmPacked(pa, pb, c, m, n, k, ldc, beta, 0, mp, jp0, jp1, tmp);
}
