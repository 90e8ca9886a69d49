/**
 * The wasm kernel table: each kernel copies its inputs into the arena, calls the SIMD body (split over
 * threads when the work is large enough), copies the outputs back and releases the arena to its mark.
 */
import type { ConvGeom, Kernels, PoolGeom } from '../../kernels/contract.js';
import type { Arena } from './arena.js';
import type { WasmExports } from './loader.js';
import type { ParallelExport, ThreadPool } from './threads.js';

const TILE = 256;

/** Threading settings read on every call: wanted threads and the least work (in flops or adds) worth a split. */
export interface ThreadSettings {
  threads: number;
  minParallelWork: number;
}

/** Writes a ConvGeom as the 14-field i32 record the wasm bodies read. */
function convRecord(arena: Arena, g: ConvGeom): number {
  return arena.record([g.n, g.cin, g.h, g.w, g.cout, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW, g.groups, g.oh, g.ow]);
}

/** Writes a PoolGeom as the 12-field i32 record the wasm bodies read. */
function poolRecord(arena: Arena, g: PoolGeom): number {
  return arena.record([g.n, g.c, g.h, g.w, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW, g.oh, g.ow]);
}

/** Builds the wasm Kernels over one module instance, its arena and its thread pool. */
export function kernelTable(exp: WasmExports, arena: Arena, pool: ThreadPool, cfg: ThreadSettings): Kernels {
  /** Runs `fn` and releases every arena allocation it made. */
  const MR = exp.panelRows(), NR = exp.panelCols();
  const scoped = (fn: () => void): void => {
    const mark = arena.mark();
    try { fn(); } finally { arena.release(mark); }
  };
  /** Threads for `work` units spread over `items` pieces. */
  const threadsFor = (work: number, items: number): number =>
    (items < 2 || work < cfg.minParallelWork ? 1 : pool.usable(Math.min(cfg.threads, items)));
  /** Runs a body over [0, items) with one scratch area per part; body args end (from, to, scratch). */
  const split = (name: ParallelExport, work: number, items: number, scratchBytes: number, head: number[]): void => {
    const parts = threadsFor(work, items);
    const scratch = Array.from({ length: parts }, () => arena.alloc(scratchBytes));
    pool.run(name, parts, 0, items, (p, from, to) => [...head, from, to, scratch[p]]);
  };
  const convSizes = (g: ConvGeom) => ({
    x: g.n * g.cin * g.h * g.w, w: g.cout * (g.cin / g.groups) * g.kh * g.kw, y: g.n * g.cout * g.oh * g.ow,
    flops: 2 * g.n * g.cout * g.oh * g.ow * (g.cin / g.groups) * g.kh * g.kw,
  });
  /** Forward convolution of arena-resident x and w into py (the caller's scope releases the scratch). */
  const forward = (px: number, pw: number, py: number, g: ConvGeom): void => {
    const geom = convRecord(arena, g), packW = arena.alloc(exp.convWeightBytes(geom, false));
    exp.convPackWeights(pw, packW, geom, false);
    split('conv2dForward', convSizes(g).flops, g.n, exp.convScratchBytes(geom, 0), [px, packW, py, geom]);
  };
  const copyOut = (dst: Float32Array, off: number, length: number): void => { dst.set(arena.f32(off, length)); };

  return {
    gemm(a, b, c, m, n, k, transA, transB, beta) {
      scoped(() => {
        const pa = arena.put(a, m * k), pb = arena.put(b, k * n);
        const pc = beta === 1 ? arena.put(c, m * n) : arena.alloc(4 * m * n);
        const packA = arena.alloc(exp.packedBytes(m, k, MR)), packB = arena.alloc(exp.packedBytes(n, k, NR));
        const mp = Math.ceil(m / MR), np = Math.ceil(n / NR);
        exp.packA(pa, transA ? 1 : k, transA ? m : 1, m, k, packA, k, 0);
        exp.packB(pb, transB ? 1 : n, transB ? k : 1, k, n, packB, k, 0, 0, np);
        const byRows = mp >= np || mp >= 8, parts = threadsFor(2 * m * n * k, byRows ? mp : np);
        const tmp = Array.from({ length: parts }, () => arena.alloc(TILE));
        pool.run('gemmPacked', parts, 0, byRows ? mp : np, (p, from, to) => (byRows
          ? [packA, packB, pc, m, n, k, n, beta, from, to, 0, np, tmp[p]]
          : [packA, packB, pc, m, n, k, n, beta, 0, mp, from, to, tmp[p]]));
        copyOut(c, pc, m * n);
      });
    },

    conv2dForward(x, w, y, g) {
      scoped(() => {
        const s = convSizes(g);
        const py = arena.alloc(4 * s.y);
        forward(arena.put(x, s.x), arena.put(w, s.w), py, g);
        copyOut(y, py, s.y);
      });
    },

    conv2dBackwardInput(dy, w, dx, g) {
      scoped(() => {
        const s = convSizes(g), geom = convRecord(arena, g);
        const pdy = arena.put(dy, s.y), pw = arena.put(w, s.w), pdx = arena.alloc(4 * s.x);
        const packW = arena.alloc(exp.convWeightBytes(geom, true));
        exp.convPackWeights(pw, packW, geom, true);
        split('conv2dBackwardInput', s.flops, g.n, exp.convScratchBytes(geom, 1), [pdy, packW, pdx, geom]);
        copyOut(dx, pdx, s.x);
      });
    },

    conv2dBackwardWeight(x, dy, dw, g, beta) {
      scoped(() => {
        const s = convSizes(g), geom = convRecord(arena, g);
        const px = arena.put(x, s.x), pdy = arena.put(dy, s.y);
        const parts = threadsFor(s.flops, g.n), bytes = exp.convScratchBytes(geom, 2);
        const outs = Array.from({ length: parts }, (_, p) => (p === 0 && beta === 1 ? arena.put(dw, s.w) : arena.alloc(4 * s.w)));
        const scratch = outs.map(() => arena.alloc(bytes));
        pool.run('conv2dBackwardWeight', parts, 0, g.n, (p, from, to) =>
          [px, pdy, outs[p], geom, p === 0 ? beta : 0, from, to, scratch[p]]);
        for (let p = 1; p < parts; p++) exp.addInto(outs[0], outs[p], s.w);
        copyOut(dw, outs[0], s.w);
      });
    },

    spikeLinear(s, w, y, m, n, k) {
      scoped(() => {
        const ps = arena.put(s, m * k), pw = arena.put(w, n * k), wT = arena.alloc(4 * n * k), py = arena.alloc(4 * m * n);
        exp.transpose(pw, wT, n, k);
        split('spikeLinear', m * n * k, m, 4 * k, [ps, wT, py, m, n, k]);
        copyOut(y, py, m * n);
      });
    },

    spikeLinearBackwardWeight(s, dy, dw, m, n, k, beta) {
      scoped(() => {
        const ps = arena.put(s, m * k), pdy = arena.put(dy, m * n);
        const pdw = beta === 1 ? arena.put(dw, n * k) : arena.alloc(4 * n * k);
        split('spikeLinearBackwardWeight', m * n * k, k, 4 * (m + n), [ps, pdy, pdw, m, n, k, beta]);
        copyOut(dw, pdw, n * k);
      });
    },

    spikeConv2dForward(s, w, y, g) {
      scoped(() => {
        const z = convSizes(g), geom = convRecord(arena, g);
        const ps = arena.put(s, z.x), pw = arena.put(w, z.w), wr = arena.alloc(4 * z.w), py = arena.alloc(4 * z.y);
        exp.spikeConvPackWeights(pw, wr, geom, !exp.spikeConvGathers(geom));
        split('spikeConv2dForward', z.flops / 2, g.n, exp.spikeConvScratchBytes(geom), [ps, wr, py, geom]);
        copyOut(y, py, z.y);
      });
    },

    spikeConv2dBackwardWeight(s, dy, dw, g, beta) {
      scoped(() => {
        const z = convSizes(g), geom = convRecord(arena, g);
        const ps = arena.put(s, z.x), pdy = arena.put(dy, z.y), pdw = beta === 1 ? arena.put(dw, z.w) : arena.alloc(4 * z.w);
        const parts = threadsFor(z.flops / 2, g.n);
        const acc = Array.from({ length: parts }, () => arena.alloc(4 * z.w));
        const scratch = acc.map(() => arena.alloc(4 * g.cout * g.oh * g.ow));
        for (const a of acc) exp.zero(a, z.w);
        pool.run('spikeConv2dBackwardWeight', parts, 0, g.n, (p, from, to) => [ps, pdy, acc[p], geom, from, to, scratch[p]]);
        acc.forEach((a, p) => exp.spikeConvUnpackWeights(a, pdw, geom, p === 0 ? beta : 1));
        copyOut(dw, pdw, z.w);
      });
    },

    maxPool2dForward(x, y, arg, g) {
      scoped(() => {
        const nx = g.n * g.c * g.h * g.w, ny = g.n * g.c * g.oh * g.ow, geom = poolRecord(arena, g);
        const px = arena.put(x, nx), py = arena.alloc(4 * ny), pa = arena.alloc(4 * ny);
        split('maxPool2dForward', ny * g.kh * g.kw, g.n * g.c, 0, [px, py, pa, geom]);
        copyOut(y, py, ny);
        arg.set(arena.i32(pa, ny));
      });
    },

    maxPool2dBackward(dy, arg, dx, g) {
      scoped(() => {
        const nx = g.n * g.c * g.h * g.w, ny = g.n * g.c * g.oh * g.ow, geom = poolRecord(arena, g);
        const pdy = arena.put(dy, ny), pa = arena.put(arg, ny), pdx = arena.alloc(4 * nx);
        split('maxPool2dBackward', nx + ny, g.n * g.c, 0, [pdy, pa, pdx, geom]);
        copyOut(dx, pdx, nx);
      });
    },

    avgPool2dForward(x, y, g) {
      scoped(() => {
        const nx = g.n * g.c * g.h * g.w, ny = g.n * g.c * g.oh * g.ow, geom = poolRecord(arena, g);
        const px = arena.put(x, nx), py = arena.alloc(4 * ny);
        split('avgPool2dForward', ny * g.kh * g.kw, g.n * g.c, 0, [px, py, geom]);
        copyOut(y, py, ny);
      });
    },

    avgPool2dBackward(dy, dx, g) {
      scoped(() => {
        const nx = g.n * g.c * g.h * g.w, ny = g.n * g.c * g.oh * g.ow, geom = poolRecord(arena, g);
        const pdy = arena.put(dy, ny), pdx = arena.alloc(4 * nx);
        split('avgPool2dBackward', ny * g.kh * g.kw, g.n * g.c, 0, [pdy, pdx, geom]);
        copyOut(dx, pdx, nx);
      });
    },
  };
}
