// Winograd F(2×2, 3×3) forward for 3×3 stride-1 convolutions of one group with many channels. Each 3×3
// kernel becomes U = G g Gᵀ and each 4×4 input tile d becomes V = Bᵀ d B (4×4 each); the 16 positions are 16
// GEMMs M = U · V over the input channels, and Y = Aᵀ M A gives the tile's 2×2 outputs: 16 multiplies per
// (tile, cin, cout) where the direct form needs 36. The transforms only add, subtract and halve.
import { MR, NR, packA, packB, packedBytes, gemmPacked } from './gemm';
import { Conv, f4 } from './geom';
import { Plan, WinogradPlan, WinogradWeightPlan, viewAs } from './plan';

const TMP_BYTES: usize = 256;

/**
 * True when conv2dForward takes this path: 3×3, stride 1, one group, at least 32 channels in and out (the
 * spike/dense choice in src/ops/conv.ts knows these shapes as winogradShape).
 */
export function winogradApplies(g: Conv): bool {
  return g.groups == 1 && g.kh == 3 && g.kw == 3 && g.sH == 1 && g.sW == 1 && g.cin >= 32 && g.cout >= 32 && g.oh > 0 && g.ow > 0;
}

@inline function tilesOf(g: Conv): i32 { return ((g.oh + 1) >> 1) * ((g.ow + 1) >> 1); }

/** Rows and row length of the zero-bordered item copy: every tile's 4×4 window, and 12-float reads, inside. */
@inline function padRows(g: Conv): i32 { return 2 * ((g.oh + 1) >> 1) + 2; }
@inline function padCols(g: Conv): i32 { return (max(g.w + g.pW, 2 * ((g.ow + 1) >> 1) + 2) + 8 + 3) & ~3; }

/**
 * Fills the WinogradPlan of p's geometry (all but the path): weights are 16 packed A operands [cout, cin],
 * then room to build them; scratch a GEMM tile, 16 packed V operands, 16 products M [cout, tiles], the item copy.
 */
export function planWinogradForward(p: Plan): void {
  const w = viewAs<WinogradPlan>(p), T = tilesOf(w);
  w.operand = packedBytes(w.cout, w.cin, MR);
  w.vOperand = packedBytes(T, w.cin, NR);
  w.weightBytes = 16 * w.operand + 16 * w.cout * w.cin * 4;
  w.v = <i32>TMP_BYTES;
  w.m = w.v + 16 * w.vOperand;
  w.xp = w.m + 16 * w.cout * T * 4;
  w.scratchBytes = w.xp + w.cin * padRows(w) * padCols(w) * 4;
}

/** U = G g Gᵀ for every (cout, cin), as 16 packed A operands [cout, cin] (one per position). */
export function winogradPackWeights(w: usize, pa: usize, g: WinogradPlan): void {
  const cin = g.cin, cout = g.cout, plane = <usize>(cout * cin) << 2, u = pa + <usize>(16 * g.operand);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      const k = w + f4((co * cin + ci) * 9), o = u + f4(co * cin + ci);
      // t = G g (4×3), rows of G: [1 0 0], [½ ½ ½], [½ −½ ½], [0 0 1]
      for (let c = 0; c < 3; c++) {
        const g0 = load<f32>(k + f4(c)), g1 = load<f32>(k + f4(3 + c)), g2 = load<f32>(k + f4(6 + c));
        store<f32>(o + plane * <usize>(c), g0);
        store<f32>(o + plane * <usize>(4 + c), (g0 + g1 + g2) * 0.5);
        store<f32>(o + plane * <usize>(8 + c), (g0 - g1 + g2) * 0.5);
        store<f32>(o + plane * <usize>(12 + c), g2);
      }
      // U = t Gᵀ: each row (t0, t1, t2) → (t0, (t0 + t1 + t2)/2, (t0 − t1 + t2)/2, t2)
      for (let r = 0; r < 4; r++) {
        const b = o + plane * <usize>(4 * r);
        const t0 = load<f32>(b), t1 = load<f32>(b + plane), t2 = load<f32>(b + 2 * plane);
        store<f32>(b, t0);
        store<f32>(b + plane, (t0 + t1 + t2) * 0.5);
        store<f32>(b + 2 * plane, (t0 - t1 + t2) * 0.5);
        store<f32>(b + 3 * plane, t2);
      }
    }
  }
  for (let p = 0; p < 16; p++) packA(u + <usize>p * plane, cin, 1, cout, cin, pa + <usize>(p * g.operand), cin, 0);
}

/** Zeroes what padItem does not write: the rows above and below each plane's input, and the columns beside it. */
function zeroBorders(xp: usize, g: Conv): void {
  const rows = padRows(g), cols = padCols(g), top = min(rows, g.pH), end = min(rows, g.pH + g.h), right = min(cols, g.pW + g.w);
  for (let ci = 0; ci < g.cin; ci++) {
    const plane = xp + f4(ci * rows * cols);
    memory.fill(plane, 0, f4(top * cols));
    memory.fill(plane + f4(end * cols), 0, f4((rows - end) * cols));
    for (let r = top; r < end; r++) {
      memory.fill(plane + f4(r * cols), 0, f4(g.pW));
      memory.fill(plane + f4(r * cols + right), 0, f4(cols - right));
    }
  }
}

/** Copies item xb into the interior of the zero-bordered buffer xp (zeroBorders clears the rest). */
function padItem(xb: usize, g: Conv, xp: usize): void {
  const rows = padRows(g), cols = padCols(g);
  for (let ci = 0; ci < g.cin; ci++) {
    for (let iy = 0; iy < g.h && iy + g.pH < rows; iy++) {
      const src = xb + f4((ci * g.h + iy) * g.w), dst = xp + f4((ci * rows + iy + g.pH) * cols + g.pW);
      const n = min(g.w, cols - g.pW);
      let i = 0;
      for (; i + 4 <= n; i += 4) v128.store(dst + f4(i), v128.load(src + f4(i)));
      for (; i < n; i++) store<f32>(dst + f4(i), load<f32>(src + f4(i)));
    }
  }
}

/**
 * V = Bᵀ d B of every (cin, tile) of the padded item xp into the 16 packed B operands at v (vOperand bytes
 * each), or with vOperand 0 into 16 plain matrices [cin, tiles]. Four tiles along a row at a time: their
 * windows start 2 floats apart, so three 4-float loads per input row, split into even and odd lanes, give the
 * four columns of all four windows.
 */
function inputTransform(xp: usize, g: Conv, v: usize, vOperand: i32): void {
  const tw = (g.ow + 1) >> 1, th = (g.oh + 1) >> 1, cin = g.cin, rows = padRows(g), cols = padCols(g), T = tw * th;
  const plain = vOperand == 0, vb = plain ? <usize>(cin * T) << 2 : <usize>vOperand;
  const quads = (tw & 3) == 0 ? tw : 0;
  for (let ci = 0; ci < cin; ci++) {
    const xc = xp + f4(ci * rows * cols);
    for (let ty = 0; ty < th; ty++) {
      const r0 = xc + f4(2 * ty * cols), rs = f4(cols);
      let tx = 0;
      for (; tx < quads; tx += 4) {
        const tile = ty * tw + tx, dst = v + f4(plain ? ci * T + tile : ((tile >> 3) * cin + ci) * NR + (tile & 7));
        // columns c = 0…3 of the four windows, for input rows 0…3
        let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        let c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (let r = 0; r < 4; r++) {
          const q = r0 + <usize>r * rs + f4(2 * tx);
          const v0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32);
          const e = i32x4.shuffle(v0, v1, 0, 2, 4, 6), o = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
          const e2 = i32x4.shuffle(v1, v2, 0, 2, 4, 6), o2 = i32x4.shuffle(v1, v2, 1, 3, 5, 7);
          const d2 = i32x4.shuffle(e, e2, 1, 2, 3, 6), d3 = i32x4.shuffle(o, o2, 1, 2, 3, 6);
          if (r == 0) { c00 = e; c01 = o; c02 = d2; c03 = d3; }
          else if (r == 1) { c10 = e; c11 = o; c12 = d2; c13 = d3; }
          else if (r == 2) { c20 = e; c21 = o; c22 = d2; c23 = d3; }
          else { c30 = e; c31 = o; c32 = d2; c33 = d3; }
        }
        // t = Bᵀ d (rows), then V = t B (columns), four tiles per vector
        winoRow(dst, vb, 0, f32x4.sub(c00, c20), f32x4.sub(c01, c21), f32x4.sub(c02, c22), f32x4.sub(c03, c23));
        winoRow(dst, vb, 4, f32x4.add(c10, c20), f32x4.add(c11, c21), f32x4.add(c12, c22), f32x4.add(c13, c23));
        winoRow(dst, vb, 8, f32x4.sub(c20, c10), f32x4.sub(c21, c11), f32x4.sub(c22, c12), f32x4.sub(c23, c13));
        winoRow(dst, vb, 12, f32x4.sub(c10, c30), f32x4.sub(c11, c31), f32x4.sub(c12, c32), f32x4.sub(c13, c33));
      }
      for (; tx < tw; tx++) {
        const tile = ty * tw + tx, dst = v + f4(plain ? ci * T + tile : ((tile >> 3) * cin + ci) * NR + (tile & 7)), q = r0 + f4(2 * tx);
        for (let r = 0; r < 4; r++) {
          const t0 = load<f32>(q + f4(r)), t1 = load<f32>(q + rs + f4(r)), t2 = load<f32>(q + 2 * rs + f4(r)), t3 = load<f32>(q + 3 * rs + f4(r));
          // column r of t = Bᵀ d, kept at positions r, 4 + r, 8 + r, 12 + r until the row pass
          store<f32>(dst + vb * <usize>r, t0 - t2);
          store<f32>(dst + vb * <usize>(4 + r), t1 + t2);
          store<f32>(dst + vb * <usize>(8 + r), t2 - t1);
          store<f32>(dst + vb * <usize>(12 + r), t1 - t3);
        }
        for (let r = 0; r < 4; r++) {
          const b = dst + vb * <usize>(4 * r);
          const t0 = load<f32>(b), t1 = load<f32>(b + vb), t2 = load<f32>(b + 2 * vb), t3 = load<f32>(b + 3 * vb);
          store<f32>(b, t0 - t2);
          store<f32>(b + vb, t1 + t2);
          store<f32>(b + 2 * vb, t2 - t1);
          store<f32>(b + 3 * vb, t1 - t3);
        }
      }
    }
  }
}

/** Row `first / 4` of V = t B for four tiles: (t0 − t2, t1 + t2, t2 − t1, t1 − t3) to positions first … first + 3. */
@inline function winoRow(dst: usize, vb: usize, first: i32, t0: v128, t1: v128, t2: v128, t3: v128): void {
  v128.store(dst + vb * <usize>first, f32x4.sub(t0, t2));
  v128.store(dst + vb * <usize>(first + 1), f32x4.add(t1, t2));
  v128.store(dst + vb * <usize>(first + 2), f32x4.sub(t2, t1));
  v128.store(dst + vb * <usize>(first + 3), f32x4.sub(t1, t3));
}

/** Y = Aᵀ M A of every (cout, tile) into item yb [cout, oh, ow] (outputs past oh or ow dropped). */
function outputTransform(m: usize, g: Conv, yb: usize): void {
  const tw = (g.ow + 1) >> 1, th = (g.oh + 1) >> 1, T = tw * th, plane = <usize>(g.cout * T) << 2;
  // four tiles at a time when tile rows come in fours and hold whole 2×2 outputs (even ow)
  const quads = (tw & 3) == 0 && (g.ow & 1) == 0 ? tw : 0;
  for (let co = 0; co < g.cout; co++) {
    const yc = yb + f4(co * g.oh * g.ow);
    for (let ty = 0; ty < th; ty++) {
      let tx = 0;
      for (; tx < quads; tx += 4) {
        const src = m + f4(co * T + ty * tw + tx);
        let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        for (let c = 0; c < 4; c++) {
          const m0 = v128.load(src + plane * <usize>c), m1 = v128.load(src + plane * <usize>(4 + c));
          const m2 = v128.load(src + plane * <usize>(8 + c)), m3 = v128.load(src + plane * <usize>(12 + c));
          const a = f32x4.add(f32x4.add(m0, m1), m2), b = f32x4.sub(f32x4.sub(m1, m2), m3);
          if (c == 0) { s00 = a; s10 = b; } else if (c == 1) { s01 = a; s11 = b; } else if (c == 2) { s02 = a; s12 = b; } else { s03 = a; s13 = b; }
        }
        const oy = 2 * ty, o = yc + f4(oy * g.ow + 2 * tx);
        // outputs (0, 0) and (0, 1) of the four tiles interleave into 8 neighbouring columns
        const y00 = f32x4.add(f32x4.add(s00, s01), s02), y01 = f32x4.sub(f32x4.sub(s01, s02), s03);
        v128.store(o, i32x4.shuffle(y00, y01, 0, 4, 1, 5));
        v128.store(o, i32x4.shuffle(y00, y01, 2, 6, 3, 7), 16);
        if (oy + 1 < g.oh) {
          const y10 = f32x4.add(f32x4.add(s10, s11), s12), y11 = f32x4.sub(f32x4.sub(s11, s12), s13), o1 = o + f4(g.ow);
          v128.store(o1, i32x4.shuffle(y10, y11, 0, 4, 1, 5));
          v128.store(o1, i32x4.shuffle(y10, y11, 2, 6, 3, 7), 16);
        }
      }
      for (; tx < tw; tx++) {
        const src = m + f4(co * T + ty * tw + tx);
        // s = Aᵀ M (rows m0 + m1 + m2 and m1 − m2 − m3), then times A on the right
        let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s03: f32 = 0, s10: f32 = 0, s11: f32 = 0, s12: f32 = 0, s13: f32 = 0;
        for (let c = 0; c < 4; c++) {
          const m0 = load<f32>(src + plane * <usize>c), m1 = load<f32>(src + plane * <usize>(4 + c));
          const m2 = load<f32>(src + plane * <usize>(8 + c)), m3 = load<f32>(src + plane * <usize>(12 + c));
          const a = m0 + m1 + m2, b = m1 - m2 - m3;
          if (c == 0) { s00 = a; s10 = b; } else if (c == 1) { s01 = a; s11 = b; } else if (c == 2) { s02 = a; s12 = b; } else { s03 = a; s13 = b; }
        }
        const oy = 2 * ty, ox = 2 * tx, o = yc + f4(oy * g.ow + ox);
        store<f32>(o, s00 + s01 + s02);
        if (ox + 1 < g.ow) store<f32>(o, s01 - s02 - s03, 4);
        if (oy + 1 < g.oh) {
          store<f32>(o + f4(g.ow), s10 + s11 + s12);
          if (ox + 1 < g.ow) store<f32>(o + f4(g.ow), s11 - s12 - s13, 4);
        }
      }
    }
  }
}

/** y[b] for b0 ≤ b < b1 from weights packed by winogradPackWeights; scratch as planWinogradForward lays it out. */
export function winogradForward(x: usize, pa: usize, y: usize, g: WinogradPlan, b0: i32, b1: i32, scratch: usize): void {
  const T = tilesOf(g), tmp = scratch, v = scratch + <usize>g.v, m = scratch + <usize>g.m, xp = scratch + <usize>g.xp;
  const ip = (g.cout + MR - 1) / MR, jp = (T + NR - 1) / NR, hw = g.h * g.w, ohw = g.oh * g.ow;
  if (T % NR != 0) memory.fill(v, 0, <usize>(16 * g.vOperand)); // the last panel's columns past T stay zero
  zeroBorders(xp, g); // items fill the interior only
  for (let b = b0; b < b1; b++) {
    padItem(x + f4(b * g.cin * hw), g, xp);
    inputTransform(xp, g, v, g.vOperand);
    for (let p = 0; p < 16; p++) {
      gemmPacked(pa + <usize>(p * g.operand), v + <usize>(p * g.vOperand), m + f4(p * g.cout * T), g.cout, T, g.cin, T, 0, 0, ip, 0, jp, tmp);
    }
    outputTransform(m, g, y + f4(b * g.cout * ohw));
  }
}

/**
 * Fills the WinogradWeightPlan of p's geometry (all but the path): no packed weights; scratch holds a GEMM
 * tile, the padded item, V and dM of one item (16 × [cin or cout, tiles] each), one packed pair of GEMM
 * operands, and the 16 sums dU [cout, cin].
 */
export function planWinogradWeight(p: Plan): void {
  const w = viewAs<WinogradWeightPlan>(p), T = tilesOf(w);
  w.weightBytes = 0;
  w.xp = <i32>TMP_BYTES;
  w.v = w.xp + w.cin * padRows(w) * padCols(w) * 4;
  w.dm = w.v + 16 * w.cin * T * 4;
  w.pa = w.dm + 16 * w.cout * T * 4;
  w.pb = w.pa + packedBytes(w.cout, T, MR);
  w.du = w.pb + packedBytes(w.cin, T, NR);
  w.scratchBytes = w.du + 16 * w.cout * w.cin * 4;
}

/**
 * dM = A dY Aᵀ of every (cout, tile) of item dyb [cout, oh, ow] into 16 matrices [cout, tiles] at dm: the
 * gradient of M for Y = Aᵀ M A (outputs past oh or ow count as 0). Rows of A dY: (dY0, dY0 + dY1, dY0 − dY1,
 * −dY1); each row (a, b) times Aᵀ: (a, a + b, a − b, −b).
 */
function outputGradTransform(dyb: usize, g: Conv, dm: usize): void {
  const tw = (g.ow + 1) >> 1, th = (g.oh + 1) >> 1, T = tw * th, plane = <usize>(g.cout * T) << 2;
  const quads = (tw & 3) == 0 && (g.ow & 1) == 0 ? tw : 0, z = f32x4.splat(0);
  for (let co = 0; co < g.cout; co++) {
    const dc = dyb + f4(co * g.oh * g.ow);
    for (let ty = 0; ty < th; ty++) {
      const oy = 2 * ty, last = oy + 1 >= g.oh;
      let tx = 0;
      for (; tx < quads; tx += 4) {
        // outputs (r, 0) and (r, 1) of four tiles: the even and odd lanes of 8 neighbouring columns
        const r0 = dc + f4(oy * g.ow + 2 * tx), p0 = v128.load(r0), q0 = v128.load(r0, 16);
        const a0 = i32x4.shuffle(p0, q0, 0, 2, 4, 6), b0 = i32x4.shuffle(p0, q0, 1, 3, 5, 7);
        let a1 = z, b1 = z;
        if (!last) {
          const p1 = v128.load(r0 + f4(g.ow)), q1 = v128.load(r0 + f4(g.ow), 16);
          a1 = i32x4.shuffle(p1, q1, 0, 2, 4, 6); b1 = i32x4.shuffle(p1, q1, 1, 3, 5, 7);
        }
        const dst = dm + f4(co * T + ty * tw + tx);
        gradRow(dst, plane, 0, a0, b0);
        gradRow(dst, plane, 4, f32x4.add(a0, a1), f32x4.add(b0, b1));
        gradRow(dst, plane, 8, f32x4.sub(a0, a1), f32x4.sub(b0, b1));
        gradRow(dst, plane, 12, f32x4.neg(a1), f32x4.neg(b1));
      }
      for (; tx < tw; tx++) {
        const ox = 2 * tx, o = dc + f4(oy * g.ow + ox), right = ox + 1 < g.ow;
        const d00 = load<f32>(o), d01: f32 = right ? load<f32>(o, 4) : 0;
        const d10: f32 = last ? 0 : load<f32>(o + f4(g.ow)), d11: f32 = last || !right ? 0 : load<f32>(o + f4(g.ow), 4);
        const dst = dm + f4(co * T + ty * tw + tx);
        gradRowScalar(dst, plane, 0, d00, d01);
        gradRowScalar(dst, plane, 4, d00 + d10, d01 + d11);
        gradRowScalar(dst, plane, 8, d00 - d10, d01 - d11);
        gradRowScalar(dst, plane, 12, -d10, -d11);
      }
    }
  }
}

/** Row (a, b) of A dY times Aᵀ for four tiles: (a, a + b, a − b, −b) to positions first … first + 3. */
@inline function gradRow(dst: usize, plane: usize, first: i32, a: v128, b: v128): void {
  v128.store(dst + plane * <usize>first, a);
  v128.store(dst + plane * <usize>(first + 1), f32x4.add(a, b));
  v128.store(dst + plane * <usize>(first + 2), f32x4.sub(a, b));
  v128.store(dst + plane * <usize>(first + 3), f32x4.neg(b));
}

/** gradRow for one tile. */
@inline function gradRowScalar(dst: usize, plane: usize, first: i32, a: f32, b: f32): void {
  store<f32>(dst + plane * <usize>first, a);
  store<f32>(dst + plane * <usize>(first + 1), a + b);
  store<f32>(dst + plane * <usize>(first + 2), a - b);
  store<f32>(dst + plane * <usize>(first + 3), -b);
}

/**
 * dw = the weight gradient of items b0 ≤ b < b1 (overwritten; scratch as planWinogradWeight lays it out):
 * per item, V = Bᵀ d B of x's tiles and dM = A dY Aᵀ of dy's, then dU[p] += dM[p] · V[p]ᵀ over the tiles for
 * the 16 positions p, and at the end dw = Gᵀ dU G for every (cout, cin): 16 multiplies per (tile, cin, cout)
 * where the direct form needs 36.
 */
export function winogradBackwardWeight(x: usize, dy: usize, dw: usize, g: WinogradWeightPlan, b0: i32, b1: i32, scratch: usize): void {
  const T = tilesOf(g), cin = g.cin, cout = g.cout, tmp = scratch, xp = scratch + <usize>g.xp, v = scratch + <usize>g.v;
  const dm = scratch + <usize>g.dm, pa = scratch + <usize>g.pa, pb = scratch + <usize>g.pb, du = scratch + <usize>g.du;
  const ip = (cout + MR - 1) / MR, jp = (cin + NR - 1) / NR, hw = g.h * g.w, ohw = g.oh * g.ow, plane = <usize>(cout * cin) << 2;
  if (b1 > b0) zeroBorders(xp, g);
  for (let b = b0; b < b1; b++) {
    padItem(x + f4(b * cin * hw), g, xp);
    inputTransform(xp, g, v, 0);
    outputGradTransform(dy + f4(b * cout * ohw), g, dm);
    for (let p = 0; p < 16; p++) {
      // A = dM[p] [cout, T] by rows, B = V[p]ᵀ [T, cin]
      packA(dm + f4(p * cout * T), T, 1, cout, T, pa, T, 0);
      packB(v + f4(p * cin * T), 1, T, T, cin, pb, T, 0, 0, jp);
      gemmPacked(pa, pb, du + plane * <usize>p, cout, cin, T, cin, b > b0 ? 1 : 0, 0, ip, 0, jp, tmp);
    }
  }
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      const o = dw + f4((co * cin + ci) * 9), u = du + f4(co * cin + ci);
      // rows of Gᵀ dU: (d0 + (d1 + d2)/2, (d1 − d2)/2, (d1 + d2)/2 + d3) over each column
      let t00: f32 = 0, t01: f32 = 0, t02: f32 = 0, t03: f32 = 0, t10: f32 = 0, t11: f32 = 0, t12: f32 = 0, t13: f32 = 0;
      let t20: f32 = 0, t21: f32 = 0, t22: f32 = 0, t23: f32 = 0;
      for (let c = 0; c < 4; c++) {
        let d0: f32 = 0, d1: f32 = 0, d2: f32 = 0, d3: f32 = 0;
        if (b1 > b0) {
          d0 = load<f32>(u + plane * <usize>c); d1 = load<f32>(u + plane * <usize>(4 + c));
          d2 = load<f32>(u + plane * <usize>(8 + c)); d3 = load<f32>(u + plane * <usize>(12 + c));
        }
        const r0 = d0 + (d1 + d2) * 0.5, r1 = (d1 - d2) * 0.5, r2 = (d1 + d2) * 0.5 + d3;
        if (c == 0) { t00 = r0; t10 = r1; t20 = r2; } else if (c == 1) { t01 = r0; t11 = r1; t21 = r2; }
        else if (c == 2) { t02 = r0; t12 = r1; t22 = r2; } else { t03 = r0; t13 = r1; t23 = r2; }
      }
      // each row (e0 … e3) times G: (e0 + (e1 + e2)/2, (e1 − e2)/2, (e1 + e2)/2 + e3)
      gradKernelRow(o, t00, t01, t02, t03);
      gradKernelRow(o + 12, t10, t11, t12, t13);
      gradKernelRow(o + 24, t20, t21, t22, t23);
    }
  }
}

/** One row of the 3×3 kernel gradient, at p, from a row (e0 … e3) of Gᵀ dU. */
@inline function gradKernelRow(p: usize, e0: f32, e1: f32, e2: f32, e3: f32): void {
  store<f32>(p, e0 + (e1 + e2) * 0.5);
  store<f32>(p, (e1 - e2) * 0.5, 4);
  store<f32>(p, (e1 + e2) * 0.5 + e3, 8);
}
