/**
 * Test helpers: build ConvGeom / PoolGeom records from the few numbers a case names.
 */
import { outSize, type ConvGeom, type PoolGeom } from '../../src/kernels/contract.js';

/** Options of a convolution case; stride, pad and groups default to 1, 0, 1; padW (default pad) pads the width. */
export interface ConvOpts {
  n: number; cin: number; h: number; w: number; cout: number; kh: number; kw: number;
  stride?: number; pad?: number; padW?: number; groups?: number;
}

/** The full geometry of a convolution case. */
export function convGeom(o: ConvOpts): ConvGeom {
  const s = o.stride ?? 1, p = o.pad ?? 0, pw = o.padW ?? p;
  return {
    n: o.n, cin: o.cin, h: o.h, w: o.w, cout: o.cout, kh: o.kh, kw: o.kw, strideH: s, strideW: s, padH: p, padW: pw,
    groups: o.groups ?? 1, oh: outSize(o.h, o.kh, s, p), ow: outSize(o.w, o.kw, s, pw),
  };
}

/** The full geometry of a pooling case (square window, same stride and pad on both axes). */
export function poolGeom(n: number, c: number, h: number, w: number, k: number, stride: number, pad: number): PoolGeom {
  return {
    n, c, h, w, kh: k, kw: k, strideH: stride, strideW: stride, padH: pad, padW: pad,
    oh: outSize(h, k, stride, pad), ow: outSize(w, k, stride, pad),
  };
}

/** Element counts of x, w and y for a convolution geometry. */
export function convSizes(g: ConvGeom): { x: number; w: number; y: number } {
  return { x: g.n * g.cin * g.h * g.w, w: g.cout * (g.cin / g.groups) * g.kh * g.kw, y: g.n * g.cout * g.oh * g.ow };
}

/** Deterministic uniform numbers in [−1, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return (((r ^ (r >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}
