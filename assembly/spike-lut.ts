// Spike convolution by table: with binary inputs, the kw taps of one kernel row (c, ky) read kw bits of one
// input row mask, so their sum over the active ones is one of 2^kw vectors that can be added up beforehand.
// Each output then adds one table row per (c, ky), whatever the density: no multiplies, no branches on
// spike bits, and 1/kw of the loads of a dense convolution.
import { Conv, f4 } from './geom';

/** Largest table (bytes) worth building: it must stay in the second-level cache. */
const MAX_TABLE_BYTES: i32 = 512 << 10;

/** Bytes of one (c, ky) table: 2^kw rows of coutG floats. */
@inline function rowTableBytes(g: Conv): i32 { return (1 << g.kw) * (g.cout / g.groups) * 4; }

/** Bytes of the whole table [cin][kh][2^kw][coutG]. */
export function lutBytes(g: Conv): i32 {
  return g.kw > 6 ? i32.MAX_VALUE : g.cin * g.kh * rowTableBytes(g);
}

/** True when the table path applies: output channels per group in whole vectors, kw ≤ 6, a table that fits. */
export function lutApplies(g: Conv): bool {
  return (g.cout / g.groups) % 4 == 0 && g.kw <= 6 && lutBytes(g) <= MAX_TABLE_BYTES;
}

/**
 * Builds the table from weights wq in the [c][ky][kx][coutG] layout: row p of table (c, ky) is the sum of
 * the taps kx whose bit is set in p, each row made from a smaller one plus one tap.
 */
export function buildLut(wq: usize, tab: usize, g: Conv): void {
  const coutG = g.cout / g.groups, P = 1 << g.kw, rowBytes = <usize>coutG << 2;
  for (let r = 0; r < g.cin * g.kh; r++) {
    const t = tab + <usize>r * <usize>rowTableBytes(g), w = wq + <usize>(r * g.kw) * rowBytes;
    memory.fill(t, 0, rowBytes);
    for (let p = 1; p < P; p++) {
      const dst = t + <usize>p * rowBytes, prev = t + <usize>(p & (p - 1)) * rowBytes;
      const tap = w + <usize>ctz(p) * rowBytes;
      for (let j: usize = 0; j < rowBytes; j += 16) v128.store(dst + j, f32x4.add(v128.load(prev + j), v128.load(tap + j)));
    }
  }
}

/** Table bytes one pass over an item's outputs reads: small enough to stay in the first-level cache. */
const PASS_BYTES: i32 = 24 << 10;

/** Bytes of the pattern offsets lutItem needs in scratch: one i32 per (c, padded row, ox). */
export function lutOffsetBytes(g: Conv): i32 {
  return 4 * g.cin * (g.h + 2 * g.pH) * g.ow;
}

/** offs[(c·hp + r)·ow + ox] = byte offset within a (c, ky) table of the row masks' kw bits at ox·sW. */
function patternOffsets(masks: usize, g: Conv, offs: usize): void {
  const km: u64 = (<u64>1 << <u64>g.kw) - 1, pBytes = (g.cout / g.groups) << 2, rows = g.cin * (g.h + 2 * g.pH);
  for (let r = 0; r < rows; r++) {
    const m = load<u64>(masks + (<usize>r << 3)), o = offs + f4(r * g.ow);
    for (let ox = 0; ox < g.ow; ox++) store<i32>(o + f4(ox), <i32>((m >> <u64>(ox * g.sW)) & km) * pBytes);
  }
}

/** acc[o..o+16) (+)= the four sums (first pass: =). */
@inline function put16(o: usize, a0: v128, a1: v128, a2: v128, a3: v128, first: bool): void {
  if (!first) {
    a0 = f32x4.add(a0, v128.load(o)); a1 = f32x4.add(a1, v128.load(o, 16));
    a2 = f32x4.add(a2, v128.load(o, 32)); a3 = f32x4.add(a3, v128.load(o, 48));
  }
  v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
}

/**
 * Every output of one item into the NHWC accumulator acc [oh·ow][cout], from its row masks (buildMasks:
 * padding built in, bit ix + padW of row c·(h + 2·padH) + iy + padH). Output (oy, ox) reads, per (c, ky),
 * the kw bits of row oy·sH + ky starting at bit ox·sW (offsets into the tables listed once per item). The input channels go in passes whose tables fit the
 * first-level cache, each pass adding its sums to acc; two pixels at a time for 16 channels, one for 4.
 */
export function lutItem(masks: usize, tab: usize, g: Conv, acc: usize, offs: usize): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups, hp = g.h + 2 * g.pH, kh = g.kh;
  const tBytes = <usize>rowTableBytes(g), ow = g.ow, owBytes = <usize>ow << 2;
  patternOffsets(masks, g, offs);
  const pass = max(1, PASS_BYTES / (kh * rowTableBytes(g)));
  for (let grp = 0; grp < g.groups; grp++) {
    for (let c0 = 0; c0 < cinG; c0 += pass) {
      const c1 = min(cinG, c0 + pass), first = c0 == 0;
      for (let oy = 0; oy < g.oh; oy++) {
        let co = 0;
        for (; co + 16 <= coutG; co += 16) {
          let ox = 0;
          for (; ox + 2 <= g.ow; ox += 2) {
            let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (let cl = c0; cl < c1; cl++) {
              const c = grp * cinG + cl;
              let t = tab + <usize>(c * kh) * tBytes + f4(co), orow = offs + f4((c * hp + oy * g.sH) * ow + ox);
              for (let ky = 0; ky < kh; ky++, t += tBytes, orow += owBytes) {
                const p = t + <usize>load<i32>(orow), q = t + <usize>load<i32>(orow, 4);
                a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
                a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
                b0 = f32x4.add(b0, v128.load(q)); b1 = f32x4.add(b1, v128.load(q, 16));
                b2 = f32x4.add(b2, v128.load(q, 32)); b3 = f32x4.add(b3, v128.load(q, 48));
              }
            }
            const o = acc + f4((oy * g.ow + ox) * g.cout + grp * coutG + co);
            put16(o, a0, a1, a2, a3, first);
            put16(o + f4(g.cout), b0, b1, b2, b3, first);
          }
          if (ox < g.ow) {
            let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
            for (let cl = c0; cl < c1; cl++) {
              const c = grp * cinG + cl;
              let t = tab + <usize>(c * kh) * tBytes + f4(co), orow = offs + f4((c * hp + oy * g.sH) * ow + ox);
              for (let ky = 0; ky < kh; ky++, t += tBytes, orow += owBytes) {
                const p = t + <usize>load<i32>(orow);
                a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
                a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
              }
            }
            put16(acc + f4((oy * g.ow + ox) * g.cout + grp * coutG + co), a0, a1, a2, a3, first);
          }
        }
        for (; co < coutG; co += 4) {
          for (let ox = 0; ox < g.ow; ox++) {
            let a0 = f32x4.splat(0);
            for (let cl = c0; cl < c1; cl++) {
              const c = grp * cinG + cl;
              let t = tab + <usize>(c * kh) * tBytes + f4(co), orow = offs + f4((c * hp + oy * g.sH) * ow + ox);
              for (let ky = 0; ky < kh; ky++, t += tBytes, orow += owBytes) {
                a0 = f32x4.add(a0, v128.load(t + <usize>load<i32>(orow)));
              }
            }
            const o = acc + f4((oy * g.ow + ox) * g.cout + grp * coutG + co);
            v128.store(o, first ? a0 : f32x4.add(a0, v128.load(o)));
          }
        }
      }
    }
  }
}
