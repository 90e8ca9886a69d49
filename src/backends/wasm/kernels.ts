/**
 * The wasm kernel table: each kernel copies its inputs into the arena (unless they already live in wasm memory,
 * as arrays lent by a workspace do), calls the SIMD body (split over threads when the work is large enough),
 * copies the outputs back (unless written in place) and releases the arena to its mark.
 */
import type { ConvGeom, Kernels, PoolGeom } from '../../kernels/contract.js';
import type { Arena } from './arena.js';
import type { WasmExports } from './loader.js';
import { writePlan, type Plan, type Planner } from './plan.js';
import { fixedGroups, type ParallelExport, type ThreadPool } from './threads.js';

const TILE = 256;

/** Item groups of the convolution weight gradients (fewer when their buffers would pass GROUP_BYTES). */
const WEIGHT_GROUPS = 8;
const GROUP_BYTES = 16 << 20;

/** Groups for n items of a weight with w floats: WEIGHT_GROUPS, at most n, and buffers within GROUP_BYTES. */
function weightGroups(n: number, w: number): number {
  return Math.max(1, Math.min(WEIGHT_GROUPS, n, Math.floor(GROUP_BYTES / (4 * w))));
}

/** Rows below which spikeLinear sums straight from w instead of transposing it first (batch-1 inference at T ≤ 8). */
const FEW_ROWS = 16;

/** Threading settings read on every call: wanted threads and the least work (in flops or adds) worth a split. */
export interface ThreadSettings {
  threads: number;
  minParallelWork: number;
  /** Chunks per thread of a dynamic split (more: finer balancing between cores, more calls). */
  chunksPerThread: number;
}

/** Element counts and forward flops of a convolution. */
function convSizes(g: ConvGeom): { x: number; w: number; y: number; flops: number } {
  const k = (g.cin / g.groups) * g.kh * g.kw;
  return { x: g.n * g.cin * g.h * g.w, w: g.cout * k, y: g.n * g.cout * g.oh * g.ow, flops: 2 * g.n * g.cout * g.oh * g.ow * k };
}

/** What every kernel body needs: the exports, the arena, the pool and the settings, plus small helpers. */
class Ctx {
  constructor(readonly exp: WasmExports, readonly arena: Arena, readonly pool: ThreadPool, readonly cfg: ThreadSettings) {}

  /** Runs `fn` and releases every arena allocation it made. */
  scoped(fn: () => void): void {
    const mark = this.arena.mark();
    try { fn(); } finally { this.arena.release(mark); }
  }

  /** Threads for `work` units spread over `items` pieces (1 below cfg.minParallelWork). */
  threadsFor(work: number, items: number): number {
    return items < 2 || work < this.cfg.minParallelWork ? 1 : this.pool.usable(Math.min(this.cfg.threads, items));
  }

  /**
   * Runs a body over [0, items), its last args (from, to, scratch), with one scratch area per thread. The
   * items are cut into cfg.chunksPerThread chunks per thread, claimed one at a time, so a slower core takes
   * fewer. Only for bodies whose calls on disjoint item ranges are independent and write disjoint outputs,
   * so results do not depend on which thread took which chunk. (Sums over items, as the weight gradients,
   * go to one buffer per fixed group of items, added in group order.)
   */
  splitDynamic(name: ParallelExport, work: number, items: number, scratchBytes: number, head: number[]): void {
    const parts = this.threadsFor(work, items);
    const scratch = Array.from({ length: parts }, () => this.arena.alloc(scratchBytes));
    this.pool.run(name, parts, 0, items, (p, from, to) => [...head, from, to, scratch[p]], parts * this.cfg.chunksPerThread);
  }

  /**
   * A weight gradient as a sum over the n items of a batch: the items are cut into weightGroups(n, floats)
   * fixed groups, body `name` (args: inputs…, buffers, plan, items per group, then from, to, scratch over
   * group indices) writes group k's sum to the k-th buffer of `floats`, the groups are split dynamically,
   * and the buffers are added in group order. The bits depend neither on which thread took which group nor
   * on the number of threads. Returns the offset of the sum (the first buffer).
   */
  groupSums(name: ParallelExport, work: number, n: number, floats: number, scratchBytes: number, inputs: number[], plan: number): number {
    const { per, groups } = fixedGroups(n, weightGroups(n, floats)), accs = this.arena.alloc(4 * floats * groups);
    this.splitDynamic(name, work, groups, scratchBytes, [...inputs, accs, plan, per]);
    for (let k = 1; k < groups; k++) this.exp.addInto(accs, accs + 4 * floats * k, floats);
    return accs;
  }

  /** The plan record of a convolution call: path, sizes and layout chosen once by the kernel's planner. */
  plan(planner: Planner, g: ConvGeom): Plan {
    return writePlan(this.exp, this.arena, planner, g);
  }

  /** Writes a PoolGeom as the 12-field i32 record the wasm bodies read. */
  pool2d(g: PoolGeom): number {
    return this.arena.record([g.n, g.c, g.h, g.w, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW, g.oh, g.ow]);
  }
}

/** gemm: both operands packed once, then row panels (or column panels when there are few rows) split dynamically. */
function gemmKernels(ctx: Ctx): Pick<Kernels, 'gemm'> {
  const { exp, arena, pool } = ctx;
  const MR = exp.panelRows(), NR = exp.panelCols();
  return {
    gemm: (a, b, c, m, n, k, transA, transB, beta) => ctx.scoped(() => {
      const pa = arena.put(a, m * k), pb = arena.put(b, k * n);
      const pc = beta === 1 ? arena.put(c, m * n) : arena.out(c, m * n);
      const packA = arena.alloc(exp.packedBytes(m, k, MR)), packB = arena.alloc(exp.packedBytes(n, k, NR));
      const mp = Math.ceil(m / MR), np = Math.ceil(n / NR);
      exp.packA(pa, transA ? 1 : k, transA ? m : 1, m, k, packA, k, 0);
      exp.packB(pb, transB ? 1 : n, transB ? k : 1, k, n, packB, k, 0, 0, np);
      const byRows = mp >= np || mp >= 8, parts = ctx.threadsFor(2 * m * n * k, byRows ? mp : np);
      const tmp = Array.from({ length: parts }, () => arena.alloc(TILE));
      // panels are independent: threads claim them in chunks, so a slower core takes fewer
      pool.run(byRows ? 'gemmRowPanels' : 'gemmColPanels', parts, 0, byRows ? mp : np,
        (p, from, to) => [packA, packB, pc, m, n, k, n, beta, byRows ? np : mp, from, to, tmp[p]], parts * ctx.cfg.chunksPerThread);
      arena.copyOut(c, pc, m * n);
    }),
  };
}

type ConvNames = 'conv2dForward' | 'conv2dBackwardInput' | 'conv2dBackwardWeight';

/** Convolutions: each call planned once, weights packed once per call, batch items split over threads. */
function convKernels(ctx: Ctx): Pick<Kernels, ConvNames> {
  const { exp, arena } = ctx;
  /** Plans the call, packs the weights as the plan lays them out and runs body `name` over the batch. */
  const run = (name: ParallelExport, planner: Planner, pin: number, pw: number, pout: number, g: ConvGeom): void => {
    const plan = ctx.plan(planner, g), packW = arena.alloc(plan.weightBytes);
    exp.convPackWeights(pw, packW, plan.at);
    ctx.splitDynamic(name, convSizes(g).flops, g.n, plan.scratchBytes, [pin, packW, pout, plan.at]);
  };
  return {
    conv2dForward: (x, w, y, g) => ctx.scoped(() => {
      const s = convSizes(g), py = arena.out(y, s.y);
      run('conv2dForward', 'planConvForward', arena.put(x, s.x), arena.put(w, s.w), py, g);
      arena.copyOut(y, py, s.y);
    }),
    conv2dBackwardInput: (dy, w, dx, g) => ctx.scoped(() => {
      const s = convSizes(g), pdx = arena.out(dx, s.x);
      run('conv2dBackwardInput', 'planConvBackwardInput', arena.put(dy, s.y), arena.put(w, s.w), pdx, g);
      arena.copyOut(dx, pdx, s.x);
    }),
    conv2dBackwardWeight: (x, dy, dw, g, beta) => ctx.scoped(() => {
      const s = convSizes(g), plan = ctx.plan('planConvBackwardWeight', g), px = arena.put(x, s.x), pdy = arena.put(dy, s.y);
      const accs = ctx.groupSums('conv2dWeightGroups', s.flops, g.n, s.w, plan.scratchBytes, [px, pdy], plan.at);
      if (beta === 1) exp.addInto(accs, arena.put(dw, s.w), s.w);
      arena.copyOut(dw, accs, s.w);
    }),
  };
}

type SpikeNames = 'spikeLinear' | 'spikeLinearBackwardWeight' | 'spikeConv2dForward' | 'spikeConv2dBackwardWeight';

/** Spike-fed kernels: weights re-laid so active inputs add contiguous vectors; rows or items split. */
function spikeKernels(ctx: Ctx): Pick<Kernels, SpikeNames> {
  const { exp, arena } = ctx;
  return {
    spikeLinear: (s, w, y, m, n, k) => ctx.scoped(() => {
      if (m < FEW_ROWS) {
        // a few rows (batch-1 inference): summing straight from w beats transposing it
        const ps = arena.put(s, m * k), pw = arena.put(w, n * k), py = arena.out(y, m * n);
        exp.spikeLinearRows(ps, pw, py, m, n, k, 0, m, arena.alloc(4 * k));
        arena.copyOut(y, py, m * n);
        return;
      }
      const ps = arena.put(s, m * k), pw = arena.put(w, n * k), wT = arena.alloc(4 * n * k), py = arena.out(y, m * n);
      exp.transpose(pw, wT, n, k);
      ctx.splitDynamic('spikeLinear', m * n * k, m, 4 * k, [ps, wT, py, m, n, k]);
      arena.copyOut(y, py, m * n);
    }),
    spikeLinearBackwardWeight: (s, dy, dw, m, n, k, beta) => ctx.scoped(() => {
      // sums land in dwT [k, n] rows (contiguous), transposed into dw at the end
      const ps = arena.put(s, m * k), pdy = arena.put(dy, m * n);
      const dwT = arena.alloc(4 * n * k), pdw = arena.alloc(4 * n * k);
      // split by blocks of inputs: each call scans every row of s for its inputs, 16 at a time
      ctx.splitDynamic('spikeLinearBackwardWeight', m * n * k, exp.spikeLinearWeightBlocks(k), exp.spikeLinearWeightScratchBytes(m, k), [ps, pdy, dwT, m, n, k]);
      exp.transpose(dwT, pdw, k, n);
      if (beta === 1) exp.addInto(pdw, arena.put(dw, n * k), n * k);
      arena.copyOut(dw, pdw, n * k);
    }),
    spikeConv2dForward: (s, w, y, g) => ctx.scoped(() => {
      const z = convSizes(g), plan = ctx.plan('planSpikeConvForward', g);
      const ps = arena.put(s, z.x), pw = arena.put(w, z.w), wr = arena.alloc(plan.weightBytes), py = arena.out(y, z.y);
      exp.spikeConvForwardPack(pw, wr, plan.at);
      ctx.splitDynamic('spikeConv2dForward', z.flops / 2, g.n, plan.scratchBytes, [ps, wr, py, plan.at]);
      arena.copyOut(y, py, z.y);
    }),
    spikeConv2dBackwardWeight: (s, dy, dw, g, beta) => ctx.scoped(() => {
      const z = convSizes(g), plan = ctx.plan('planSpikeConvBackwardWeight', g);
      const ps = arena.put(s, z.x), pdy = arena.put(dy, z.y), pdw = beta === 1 ? arena.put(dw, z.w) : arena.alloc(4 * z.w);
      const accs = ctx.groupSums('spikeConvWeightGroups', z.flops / 2, g.n, z.w, plan.scratchBytes, [ps, pdy], plan.at);
      exp.spikeConvUnpackWeights(accs, pdw, plan.at, beta);
      arena.copyOut(dw, pdw, z.w);
    }),
  };
}

type PoolNames = 'maxPool2dForward' | 'maxPool2dBackward' | 'avgPool2dForward' | 'avgPool2dBackward';

/** Pooling: planes split over threads. */
function poolKernels(ctx: Ctx): Pick<Kernels, PoolNames> {
  const { arena } = ctx;
  const sizes = (g: PoolGeom) => ({ nx: g.n * g.c * g.h * g.w, ny: g.n * g.c * g.oh * g.ow, planes: g.n * g.c });
  return {
    maxPool2dForward: (x, y, arg, g) => ctx.scoped(() => {
      const { nx, ny, planes } = sizes(g), px = arena.put(x, nx), py = arena.out(y, ny), pa = arg ? arena.out(arg, ny) : 0;
      ctx.splitDynamic('maxPool2dForward', ny * g.kh * g.kw, planes, 0, [px, py, pa, ctx.pool2d(g)]);
      arena.copyOut(y, py, ny);
      if (arg) arena.copyOut(arg, pa, ny);
    }),
    maxPool2dBackward: (dy, arg, dx, g) => ctx.scoped(() => {
      const { nx, ny, planes } = sizes(g), pdy = arena.put(dy, ny), pa = arena.put(arg, ny), pdx = arena.out(dx, nx);
      ctx.splitDynamic('maxPool2dBackward', nx + ny, planes, 0, [pdy, pa, pdx, ctx.pool2d(g)]);
      arena.copyOut(dx, pdx, nx);
    }),
    avgPool2dForward: (x, y, g) => ctx.scoped(() => {
      const { nx, ny, planes } = sizes(g), px = arena.put(x, nx), py = arena.out(y, ny);
      ctx.splitDynamic('avgPool2dForward', ny * g.kh * g.kw, planes, 0, [px, py, ctx.pool2d(g)]);
      arena.copyOut(y, py, ny);
    }),
    avgPool2dBackward: (dy, dx, g) => ctx.scoped(() => {
      const { nx, ny, planes } = sizes(g), pdy = arena.put(dy, ny), pdx = arena.out(dx, nx);
      ctx.splitDynamic('avgPool2dBackward', ny * g.kh * g.kw, planes, 0, [pdy, pdx, ctx.pool2d(g)]);
      arena.copyOut(dx, pdx, nx);
    }),
  };
}

/** Per-channel bias: one thread (memory-bound, and small beside the convolutions it follows). */
function biasKernels(ctx: Ctx): Pick<Kernels, 'biasAdd' | 'biasGrad'> {
  const { exp, arena } = ctx;
  return {
    biasAdd: (x, b, y, n, c, plane) => ctx.scoped(() => {
      const len = n * c * plane, px = arena.put(x, len), pb = arena.put(b, c), py = arena.out(y, len);
      exp.biasAdd(px, pb, py, n, c, plane);
      arena.copyOut(y, py, len);
    }),
    biasGrad: (dy, db, n, c, plane, beta) => ctx.scoped(() => {
      const pdy = arena.put(dy, n * c * plane), pdb = beta === 1 ? arena.put(db, c) : arena.out(db, c);
      exp.biasGrad(pdy, pdb, n, c, plane, beta, arena.alloc(8 * c));
      arena.copyOut(db, pdb, c);
    }),
  };
}

/** Builds the wasm Kernels over one module instance, its arena, its thread pool and its settings. */
export function kernelTable(exp: WasmExports, arena: Arena, pool: ThreadPool, cfg: ThreadSettings): Kernels {
  const ctx = new Ctx(exp, arena, pool, cfg);
  return { ...gemmKernels(ctx), ...convKernels(ctx), ...spikeKernels(ctx), ...poolKernels(ctx), ...biasKernels(ctx) };
}
