// Input gradient of one batch item from the non-zeros of dy alone (behind a 2×2 max pool, 3 of 4 are zero).
// Non-zero dy[co][oy][ox] adds v·w[co][·][ky][·] to one row of an NHWC accumulator [grp][h][w][cinG] as one
// contiguous run of kw·cinG floats. Each 32 (or 8) accumulator floats are summed in registers over every
// term that reaches them, each term reading that many floats of its zero-padded kernel row (so edge slices
// need no clipping); then the accumulator is transposed into dx's planes.
import { Conv, f4, madd, transposeStrided } from './geom';
import { InputPlan } from './plan';

/**
 * Fraction of non-zeros in an item's dy below which the sparse path beats the dense body, for kernel rows
 * that fill whole runs (crossover scales it for rows that do not).
 */
const CROSSOVER: f32 = 0.42;
/**
 * Shortest kernel row (kw·cinG floats) for which the sparse path is taken: shorter rows (3×3 kernels over 3
 * input channels, depthwise kernels) lose to the dense body however sparse dy is.
 */
const MIN_ROW: i32 = 16;
/** Zero floats before and after each kernel row of the sparse weight layout (≥ the widest run). */
const PAD: i32 = 32;
/** Bytes before the kernel rows: i32 1 when every weight is finite, then the f32 crossover density. */
const HEAD: usize = 64;

/** Accumulator floats summed in registers at a time: 32, or 8 when a kernel row is shorter than 32. */
@inline function runOf(g: Conv): i32 { return g.kw * (g.cin / g.groups) >= 32 ? 32 : 8; }
/** Floats of one padded kernel row: PAD, kw·cinG weights, PAD. */
@inline function rowFloats(g: Conv): i32 { return g.kw * (g.cin / g.groups) + 2 * PAD; }
/** Floats of one accumulator row (w·cinG rounded up to whole runs). */
@inline function accRow(g: Conv): i32 { const r = runOf(g); return (g.w * (g.cin / g.groups) + r - 1) / r * r; }

/** Bytes of the sparse weight layout: HEAD, then [cout][kh][PAD + kw·cinG + PAD]. */
export function sparseInputWeightBytes(g: Conv): i32 {
  return <i32>HEAD + g.cout * g.kh * rowFloats(g) * 4;
}

/** True when the sparse path may take items of this shape: kernel rows of at least MIN_ROW floats. */
export function sparseInputApplies(g: Conv): bool {
  return g.kw * (g.cin / g.groups) >= MIN_ROW;
}

/**
 * Lays out the sparse path's scratch in p (its dyT, starts, terms and reach) and returns its bytes: the
 * accumulator [groups][h][accRow] at 0, one group's dy pixel-major [oh·ow][coutG], term starts [oh·ow + 1],
 * terms [oh·ow·coutG + 1] of 8 bytes, one Reach per run of a row.
 */
export function planSparseInput(p: InputPlan): i32 {
  const ohw = p.oh * p.ow, coutG = p.cout / p.groups;
  p.dyT = p.groups * p.h * accRow(p) * 4;
  p.starts = p.dyT + ohw * coutG * 4;
  p.terms = p.starts + (ohw + 1) * 4;
  p.reach = p.terms + (ohw * coutG + 1) * 8;
  return p.reach + accRow(p) / runOf(p) * offsetof<Reach>();
}

/**
 * The density below which an item takes the sparse path: CROSSOVER divided by the floats a kernel row
 * reads (whole runs) per float it needs, averaged over the output columns.
 */
function crossover(g: Conv): f32 {
  // a row's first float lies at (ox·sW − pW)·cinG, whose remainder by the run repeats within 32 columns
  const len = g.kw * (g.cin / g.groups), run = runOf(g), cols = min(g.ow, 32);
  let read = 0;
  for (let ox = 0; ox < cols; ox++) {
    const o = ((ox * g.sW - g.pW) * (g.cin / g.groups)) & (run - 1);
    read += ((o + len - 1) / run + 1) * run;
  }
  return CROSSOVER * <f32>(cols * len) / <f32>read;
}

/**
 * Writes w [cout][cinG][kh][kw] after HEAD as zero-padded kernel rows [cout][kh][PAD + (kx, ci) + PAD], and
 * the head: the finite flag (an infinite weight times a zero dy is NaN, which skipping the zeros would
 * lose) and the crossover density.
 */
export function sparseInputPackWeights(w: usize, ws: usize, g: Conv): void {
  const cinG = g.cin / g.groups, rf = rowFloats(g), rows = ws + HEAD;
  let finite = true;
  memory.fill(ws, 0, <usize>sparseInputWeightBytes(g));
  for (let co = 0; co < g.cout; co++) {
    for (let ci = 0; ci < cinG; ci++) {
      for (let ky = 0; ky < g.kh; ky++) {
        const dst = rows + f4((co * g.kh + ky) * rf + PAD + ci), src = w + f4(((co * cinG + ci) * g.kh + ky) * g.kw);
        for (let kx = 0; kx < g.kw; kx++) {
          const x = load<f32>(src + f4(kx));
          store<f32>(dst + f4(kx * cinG), x);
          finite = finite && x - x == 0;
        }
      }
    }
  }
  store<i32>(ws, <i32>finite);
  store<f32>(ws, crossover(g), 4);
}

/**
 * True when item b of a sparseInputApplies shape takes sparseInputItem (ws from sparseInputPackWeights):
 * finite weights, and dy finite (a NaN or ∞ times the zero padding of a kernel row would reach inputs outside
 * its window) with fewer non-zeros than the crossover density. Values are checked four at a time; x − x is
 * NaN exactly when x is not finite.
 */
export function sparseWins(dy: usize, ws: usize, g: Conv, b: i32): bool {
  if (load<i32>(ws) == 0) return false;
  const n = g.cout * g.oh * g.ow, p = dy + f4(b * n), z = f32x4.splat(0);
  let acc = i32x4.splat(0), bad = z, i = 0, cnt = 0;
  for (; i + 4 <= n; i += 4) {
    const x = v128.load(p + f4(i));
    acc = i32x4.sub(acc, f32x4.ne(x, z));
    bad = v128.or(bad, f32x4.ne(f32x4.sub(x, x), z));
  }
  for (; i < n; i++) {
    const x = load<f32>(p + f4(i));
    if (x != 0) cnt++;
    if (x - x != 0) return false;
  }
  if (v128.any_true(bad)) return false;
  cnt += i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  return <f32>cnt < <f32>n * load<f32>(ws, 4);
}

/**
 * Lists the non-zeros of one group of item b pixel by pixel (row-major), co ascending, from dyT (the
 * group's dy pixel-major, [oh·ow][coutG]): the terms of output pixel p are entries starts[p] ≤ i <
 * starts[p + 1], each (i32 byte address of w[co]'s padded rows minus ox·sW·cinG floats, f32 v). With the
 * column folded into the address, the terms of consecutive pixels of a row read their slice at one
 * offset. Zero quads are skipped; within a quad every value is written and the end advances only past
 * non-zeros (no branch per value).
 */
function listTerms(dyT: usize, ws0: usize, g: Conv, starts: usize, terms: usize): void {
  const coutG = g.cout / g.groups, wBytes = <i32>(g.kh * rowFloats(g)) << 2, step = <i32>f4(g.sW * (g.cin / g.groups));
  const z = f32x4.splat(0);
  let n = 0, src = dyT;
  store<i32>(starts, 0);
  for (let oy = 0, p = 0; oy < g.oh; oy++) {
    for (let ox = 0; ox < g.ow; ox++, p++) {
      const base = <i32>ws0 - ox * step;
      for (let c0 = 0; c0 < coutG; c0 += 4) {
        if (c0 + 4 <= coutG && !v128.any_true(f32x4.ne(v128.load(src + f4(c0)), z))) continue;
        for (let co = c0; co < min(coutG, c0 + 4); co++) {
          const v = load<f32>(src + f4(co)), e = terms + (<usize>n << 3);
          store<i32>(e, base + co * wBytes);
          store<f32>(e, v, 4);
          n += <i32>(v != 0);
        }
      }
      src += f4(coutG);
      store<i32>(starts + f4(p + 1), n);
    }
  }
}

/**
 * Where a run of the accumulator row finds its terms: the first kernel row ky0 and output row oy0 that
 * reach input row iy (ky += sH, oy −= 1 after), the output columns [oxLo, oxHi] whose kernel rows overlap
 * the run, and the byte offset `off0` of the run's slice in the padded kernel row of output column 0.
 */
@unmanaged class Reach {
  ky0: i32; oy0: i32; oxLo: i32; oxHi: i32; off0: i32;
}

/** Fills one Reach per run of a row (the same for every row) from the geometry; returns the run count. */
function fillReach(g: Conv, tab: usize): i32 {
  const cinG = g.cin / g.groups, run = runOf(g), runs = accRow(g) / run;
  for (let c = 0; c < runs; c++) {
    const r = changetype<Reach>(tab + <usize>(c * offsetof<Reach>())), j0 = c * run;
    // pixels pxA..pxB of the run; output column ox covers input pixels ox·sW − pW … ox·sW − pW + kw − 1
    const pxA = j0 / cinG, pxB = min(g.w - 1, (j0 + run - 1) / cinG), t = pxA - g.kw + 1 + g.pW;
    r.oxHi = min(g.ow - 1, (pxB + g.pW) / g.sW);
    r.oxLo = min(r.oxHi + 1, t <= 0 ? 0 : (t + g.sW - 1) / g.sW);
    r.off0 = <i32>f4(PAD + j0 + g.pW * cinG);
  }
  return runs;
}

/** Sets the first kernel row and output row that reach input row iy in every Reach. */
function setRow(g: Conv, tab: usize, runs: i32, iy: i32): void {
  const ky0 = (iy + g.pH) % g.sH, oy0 = (iy + g.pH - ky0) / g.sH;
  for (let c = 0; c < runs; c++) {
    const r = changetype<Reach>(tab + <usize>(c * offsetof<Reach>()));
    r.ky0 = ky0;
    r.oy0 = oy0;
  }
}

/** One 32-float run at d: Σ over the terms that reach it of v · (the run's slice of their kernel row). */
function run32(d: usize, r: Reach, g: Conv, starts: usize, terms: usize): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const rowBytes = rowFloats(g) << 2;
  for (let ky = r.ky0, oy = r.oy0; ky < g.kh && oy >= 0; ky += g.sH, oy--) {
    if (oy >= g.oh) continue;
    const p = starts + f4(oy * g.ow), off = <usize>(r.off0 + ky * rowBytes);
    const end = terms + (<usize>load<i32>(p + f4(r.oxHi + 1)) << 3);
    for (let e = terms + (<usize>load<i32>(p + f4(r.oxLo)) << 3); e < end; e += 8) {
      const v = v128.load32_splat(e, 4), s = <usize>load<i32>(e) + off;
      a0 = madd(v, v128.load(s), a0); a1 = madd(v, v128.load(s, 16), a1);
      a2 = madd(v, v128.load(s, 32), a2); a3 = madd(v, v128.load(s, 48), a3);
      a4 = madd(v, v128.load(s, 64), a4); a5 = madd(v, v128.load(s, 80), a5);
      a6 = madd(v, v128.load(s, 96), a6); a7 = madd(v, v128.load(s, 112), a7);
    }
  }
  v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
  v128.store(d, a4, 64); v128.store(d, a5, 80); v128.store(d, a6, 96); v128.store(d, a7, 112);
}

/** As run32 for an 8-float run (short kernel rows, where 32-float slices would be mostly padding). */
function run8(d: usize, r: Reach, g: Conv, starts: usize, terms: usize): void {
  let a0 = f32x4.splat(0), a1 = a0;
  const rowBytes = rowFloats(g) << 2;
  for (let ky = r.ky0, oy = r.oy0; ky < g.kh && oy >= 0; ky += g.sH, oy--) {
    if (oy >= g.oh) continue;
    const p = starts + f4(oy * g.ow), off = <usize>(r.off0 + ky * rowBytes);
    const end = terms + (<usize>load<i32>(p + f4(r.oxHi + 1)) << 3);
    for (let e = terms + (<usize>load<i32>(p + f4(r.oxLo)) << 3); e < end; e += 8) {
      const v = v128.load32_splat(e, 4), s = <usize>load<i32>(e) + off;
      a0 = madd(v, v128.load(s), a0); a1 = madd(v, v128.load(s, 16), a1);
    }
  }
  v128.store(d, a0); v128.store(d, a1, 16);
}

/** Copies one group's accumulator [h][accRow] (pixels [w][cinG] first in each row) into dx planes [cinG][h][w]. */
function toPlanes(acc: usize, dxg: usize, g: Conv): void {
  const cinG = g.cin / g.groups, hw = g.h * g.w, row = accRow(g);
  if (row == g.w * cinG) { transposeStrided(acc, cinG, dxg, hw, hw, cinG); return; }
  for (let iy = 0; iy < g.h; iy++) transposeStrided(acc + f4(iy * row), cinG, dxg + f4(iy * g.w), hw, g.w, cinG);
}

/**
 * dx[b] (overwritten) from the non-zeros of dy[b], weights from sparseInputPackWeights, scratch as
 * planSparseInput lays it out: per group, list the terms, sum every run of every accumulator row, transpose.
 */
export function sparseInputItem(dy: usize, ws: usize, dx: usize, g: InputPlan, b: i32, scratch: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, ohw = g.oh * g.ow, row = accRow(g), run = runOf(g);
  const dyT = scratch + <usize>g.dyT, starts = scratch + <usize>g.starts, terms = scratch + <usize>g.terms;
  const tab = scratch + <usize>g.reach;
  const runs = fillReach(g, tab), wBytes = <usize>(g.kh * rowFloats(g)) << 2, rows = ws + HEAD;
  for (let grp = 0; grp < g.groups; grp++) {
    const acc = scratch + f4(grp * g.h * row);
    transposeStrided(dy + f4((b * g.cout + grp * coutG) * ohw), ohw, dyT, coutG, coutG, ohw);
    listTerms(dyT, rows + wBytes * (grp * coutG), g, starts, terms);
    for (let iy = 0; iy < g.h; iy++) {
      setRow(g, tab, runs, iy);
      for (let c = 0; c < runs; c++) {
        const r = changetype<Reach>(tab + <usize>(c * offsetof<Reach>())), d = acc + f4(iy * row + c * run);
        if (run == 32) run32(d, r, g, starts, terms); else run8(d, r, g, starts, terms);
      }
    }
    toPlanes(acc, dx + f4((b * g.cin + grp * cinG) * g.h * g.w), g);
  }
}
