// Spike-fed linear bodies: inputs are exactly 0 or 1, so each active input adds a contiguous weight vector
// (f32x4, no multiplies) and silent inputs are skipped four at a time. The spike convolutions are in
// spike-conv.ts.
import { f4, nonZero16 } from './geom';

/**
 * Writes, for every non-zero float s[p] (p < k), p·stride to list (i32) and returns their count: 16 inputs per
 * SIMD test, whose set bits are listed one by one (a branch per input mispredicts at spike densities).
 * stride 1 lists indices; the quantized kernels list byte offsets of code rows.
 */
export function activeOffsets(s: usize, k: i32, list: usize, stride: i32): i32 {
  let cnt = 0, p = 0;
  for (; p + 16 <= k; p += 16) cnt = listBits(nonZero16(s + f4(p)), p, list, cnt, stride);
  for (; p < k; p++) if (load<f32>(s + f4(p)) != 0) store<i32>(list + f4(cnt++), p * stride);
  return cnt;
}

/**
 * activeOffsets of the k spikes packed one bit each from bit o on at sb (bit j & 7 of byte j >> 3): 16 inputs per
 * u32 read.
 */
export function activePacked(sb: usize, o: i32, k: i32, list: usize, stride: i32): i32 {
  let cnt = 0;
  for (let p = 0; p < k; p += 16) {
    const at = o + p;
    cnt = listBits((load<u32>(sb + <usize>(at >>> 3)) >>> <u32>(at & 7)) & (k - p >= 16 ? 0xffff : (1 << (k - p)) - 1), p, list, cnt, stride);
  }
  return cnt;
}

/** Lists (p + j)·stride for each set bit j of mask after the cnt entries at list; returns the new count. */
@inline function listBits(mask: i32, p: i32, list: usize, cnt: i32, stride: i32): i32 {
  while (mask != 0) {
    store<i32>(list + f4(cnt++), (p + <i32>ctz(mask)) * stride);
    mask &= mask - 1;
  }
  return cnt;
}

/** The indices of the non-zero entries of s[0..k), written to list (i32); returns their count. */
@inline function activeList(s: usize, k: i32, list: usize): i32 {
  return activeOffsets(s, k, list, 1);
}

/** The first `rem` (1 … 3) floats at p in the low lanes of a vector, the others 0 (no read past them). */
@inline function loadPart(p: usize, rem: i32): v128 {
  if (rem == 1) return v128.load32_zero(p);
  if (rem == 2) return v128.load64_zero(p);
  return v128.load32_lane(p, v128.load64_zero(p), 2, 8);
}

/** Stores the low `rem` (1 … 3) lanes of a at p. */
@inline function storePart(p: usize, a: v128, rem: i32): void {
  if (rem == 1) { v128.store32_lane(p, a, 0); return; }
  v128.store64_lane(p, a, 0);
  if (rem == 3) v128.store32_lane(p, a, 2, 8);
}

/**
 * out[c] for the columns c of nv whole vectors (0 … 4, a constant) from col on, and with `part` (a constant)
 * the rem (1 … 3) columns after them: each a chain of adds in list order, the chains side by side so that
 * their latencies overlap.
 */
@inline function sumCols(col: usize, ld: i32, list: usize, cnt: i32, out: usize, nv: i32, part: bool, rem: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
  const po = <usize>(nv << 4);
  for (let t = 0; t < cnt; t++) {
    const r = col + f4(load<i32>(list + f4(t)) * ld);
    if (nv > 0) a0 = f32x4.add(a0, v128.load(r));
    if (nv > 1) a1 = f32x4.add(a1, v128.load(r, 16));
    if (nv > 2) a2 = f32x4.add(a2, v128.load(r, 32));
    if (nv > 3) a3 = f32x4.add(a3, v128.load(r, 48));
    if (part) a4 = f32x4.add(a4, loadPart(r + po, rem));
  }
  if (nv > 0) v128.store(out, a0);
  if (nv > 1) v128.store(out, a1, 16);
  if (nv > 2) v128.store(out, a2, 32);
  if (nv > 3) v128.store(out, a3, 48);
  if (part) storePart(out + po, a4, rem);
}

/** sumCols over the `tail` (< 32) columns from col on: passes of four vectors, the last with the columns left over. */
function tailCols(col: usize, ld: i32, list: usize, cnt: i32, out: usize, tail: i32): void {
  let nv = tail >> 2;
  const rem = tail & 3;
  for (; nv > 4; nv -= 4, col += 64, out += 64) sumCols(col, ld, list, cnt, out, 4, false, 0);
  if (rem == 0) {
    if (nv == 4) sumCols(col, ld, list, cnt, out, 4, false, 0);
    else if (nv == 3) sumCols(col, ld, list, cnt, out, 3, false, 0);
    else if (nv == 2) sumCols(col, ld, list, cnt, out, 2, false, 0);
    else if (nv == 1) sumCols(col, ld, list, cnt, out, 1, false, 0);
  } else {
    if (nv == 4) sumCols(col, ld, list, cnt, out, 4, true, rem);
    else if (nv == 3) sumCols(col, ld, list, cnt, out, 3, true, rem);
    else if (nv == 2) sumCols(col, ld, list, cnt, out, 2, true, rem);
    else if (nv == 1) sumCols(col, ld, list, cnt, out, 1, true, rem);
    else sumCols(col, ld, list, cnt, out, 0, true, rem);
  }
}

/**
 * out[0..n) = Σ over the cnt listed rows r of src[r·ld .. r·ld + n), each column summed in list order: 32
 * columns held in registers at a time, then the rest in one or two passes (tailCols).
 */
function sumRows(src: usize, ld: i32, list: usize, cnt: i32, out: usize, n: i32): void {
  let j = 0;
  for (; j + 32 <= n; j += 32) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    const col = src + f4(j);
    for (let t = 0; t < cnt; t++) {
      const r = col + f4(load<i32>(list + f4(t)) * ld);
      a0 = f32x4.add(a0, v128.load(r)); a1 = f32x4.add(a1, v128.load(r, 16));
      a2 = f32x4.add(a2, v128.load(r, 32)); a3 = f32x4.add(a3, v128.load(r, 48));
      a4 = f32x4.add(a4, v128.load(r, 64)); a5 = f32x4.add(a5, v128.load(r, 80));
      a6 = f32x4.add(a6, v128.load(r, 96)); a7 = f32x4.add(a7, v128.load(r, 112));
    }
    const o = out + f4(j);
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
  }
  if (j < n) tailCols(src + f4(j), ld, list, cnt, out + f4(j), n - j);
}

/** y[i,:] = Σ_{s[i,p] = 1} wT[p,:] for rows i0 ≤ i < i1; wT is w [n,k] transposed to [k,n]; scratch ≥ 4k bytes. */
export function spikeLinear(s: usize, wT: usize, y: usize, m: i32, n: i32, k: i32, i0: i32, i1: i32, scratch: usize): void {
  for (let i = i0; i < i1; i++) {
    const cnt = activeList(s + f4(i * k), k, scratch);
    sumRows(wT, n, scratch, cnt, y + f4(i * n), n);
  }
}

/**
 * y[i,:] for rows i0 ≤ i < i1 straight from w [n,k], without transposing it: each output sums the weights of
 * the row's active inputs (scalar loads). For a few rows (batch-1 inference), where transposing w costs more
 * than the sums; scratch ≥ 4k bytes.
 */
export function spikeLinearRows(s: usize, w: usize, y: usize, m: i32, n: i32, k: i32, i0: i32, i1: i32, scratch: usize): void {
  for (let i = i0; i < i1; i++) {
    const cnt = activeList(s + f4(i * k), k, scratch), yi = y + f4(i * n);
    for (let j = 0; j < n; j++) {
      const wj = w + f4(j * k);
      let a0: f32 = 0, a1: f32 = 0, t = 0;
      for (; t + 2 <= cnt; t += 2) {
        a0 += load<f32>(wj + f4(load<i32>(scratch + f4(t))));
        a1 += load<f32>(wj + f4(load<i32>(scratch + f4(t + 1))));
      }
      if (t < cnt) a0 += load<f32>(wj + f4(load<i32>(scratch + f4(t))));
      store<f32>(yi + f4(j), a0 + a1);
    }
  }
}

/** Scratch bytes per thread of spikeLinearBackwardWeight: column bitmasks of up to k inputs and one row list. */
export function spikeLinearWeightScratchBytes(m: i32, k: i32): i32 {
  return k * ((m + 63) >> 6) * 8 + 4 * m + 64;
}

/** Sets bit i of the column masks of the active inputs p0 ≤ p < p1 of row i (16 inputs per SIMD test). */
@inline function rowBits(row: usize, i: i32, p0: i32, p1: i32, words: i32, bits: usize): void {
  const wi = <usize>(i >> 6) << 3, bit: u64 = <u64>1 << <u64>(i & 63);
  let p = p0;
  for (; p + 16 <= p1; p += 16) {
    let mask = nonZero16(row + f4(p));
    while (mask != 0) {
      const a = bits + (<usize>((p - p0 + <i32>ctz(mask)) * words) << 3) + wi;
      mask &= mask - 1;
      store<u64>(a, load<u64>(a) | bit);
    }
  }
  for (; p < p1; p++) {
    if (load<f32>(row + f4(p)) == 0) continue;
    const a = bits + (<usize>((p - p0) * words) << 3) + wi;
    store<u64>(a, load<u64>(a) | bit);
  }
}

/** Inputs per block of spikeLinearBackwardWeight's range: two 16-input SIMD tests per row of s. */
const INPUT_BLOCK: i32 = 32;

/** Blocks of spikeLinearBackwardWeight's range for k inputs. */
export function spikeLinearWeightBlocks(k: i32): i32 {
  return (k + INPUT_BLOCK - 1) / INPUT_BLOCK;
}

/**
 * dwT[p,:] = Σ_{s[i,p] = 1} dy[i,:] for the inputs p of blocks q0 ≤ q < q1 (INPUT_BLOCK inputs each): the
 * transposed weight gradient dwT [k,n], from s [m,k] as it is. One pass over s sets, per input of the range,
 * a bitmask of the rows where it is active; each input then lists its rows from the mask and sums them like
 * spikeLinear. Scratch: spikeLinearWeightScratchBytes.
 */
export function spikeLinearBackwardWeight(s: usize, dy: usize, dwT: usize, m: i32, n: i32, k: i32, q0: i32, q1: i32, scratch: usize): void {
  const p0 = q0 * INPUT_BLOCK, p1 = min(k, q1 * INPUT_BLOCK);
  const words = (m + 63) >> 6, bits = scratch, list = scratch + (<usize>((p1 - p0) * words) << 3);
  memory.fill(bits, 0, <usize>((p1 - p0) * words) << 3);
  for (let i = 0; i < m; i++) rowBits(s + f4(i * k), i, p0, p1, words, bits);
  for (let p = p0; p < p1; p++) {
    const col = bits + (<usize>((p - p0) * words) << 3);
    let cnt = 0;
    for (let w = 0; w < words; w++) {
      let x = load<u64>(col + (<usize>w << 3));
      while (x != 0) {
        store<i32>(list + f4(cnt++), (w << 6) + <i32>ctz(x));
        x &= x - 1;
      }
    }
    sumRows(dy, n, list, cnt, dwT + f4(p * n), n);
  }
}
