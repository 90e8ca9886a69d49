/**
 * The wasm body of the quantized kernels (assembly/quant.ts, quant-conv.ts, quant-windows.ts, qlif.ts): inputs
 * copied into the arena unless they already live in wasm memory (lent by a workspace), codes re-laid once per
 * call, rows, items or neurons split over the threads when the work is large, outputs copied back unless
 * written in place.
 */
import type { ConvGeom } from '../../kernels/contract.js';
import type { QuantKernels } from '../../kernels/quant.js';
import type { Arena } from './arena.js';
import type { ThreadSettings } from './kernels.js';
import type { WasmExports } from './loader.js';
import { writePlan } from './plan.js';
import type { ParallelExport, ThreadPool } from './threads.js';

/** The quantized exports of build/edgespike.wasm (pointers are byte offsets; bits is 2, 4 or 8). */
export interface QuantExports {
  spikeLinearQPackedBytes(n: number, k: number, bits: number): number;
  spikeLinearQScratchBytes(k: number): number;
  spikeLinearQPack(q: number, scale: number, packed: number, n: number, k: number, bits: number): void;
  spikeLinearQ(s: number, packed: number, y: number, m: number, n: number, k: number, bits: number, i0: number, i1: number, scratch: number): void;
  spikeConvQPack(q: number, scale: number, wr: number, plan: number): void;
  spikeConv2dQ(s: number, wr: number, y: number, gate: number, plan: number, b0: number, b1: number, scratch: number): void;
  qlifForward(x: number, level: number, s: number, T: number, m: number, stat: number, tau: number, thresh: number, lb: number,
    interval: number, levels: number, i0: number, i1: number, cnt: number): void;
}

/** How the kernels may split: the pool and the settings read on every call (absent: one thread). */
export interface QuantThreads { readonly pool: ThreadPool; readonly settings: ThreadSettings }

/** Work per neuron and step of qlifForward, in the units of ThreadSettings.minParallelWork (about its float operations). */
const WORK_PER_UPDATE = 20;

/** Binds the quantized kernels to a module's exports and arena; with `threads`, large calls split over the pool. */
export function wasmQuantKernels(exports: WasmExports, arena: Arena, threads?: QuantThreads): QuantKernels {
  const exp = exports as unknown as QuantExports & WasmExports;
  const scoped = (fn: () => void): void => { const mark = arena.mark(); try { fn(); } finally { arena.release(mark); } };
  /** Threads for `work` units over `items` pieces (1 below minParallelWork or without a pool). */
  const threadsFor = (work: number, items: number): number => {
    const cfg = threads?.settings;
    if (!cfg || items < 2 || work < cfg.minParallelWork) return 1;
    return threads!.pool.usable(Math.min(cfg.threads, items));
  };
  /**
   * Runs body `name` over [0, items), its last args (from, to, scratch), with one scratch area per thread; the
   * range is cut into chunks the threads claim one at a time (the bodies write apart, so the bits do not depend
   * on who took which chunk).
   */
  const split = (name: ParallelExport, work: number, items: number, scratchBytes: number, head: number[]): void => {
    const parts = threadsFor(work, items), scratch = Array.from({ length: parts }, () => arena.alloc(scratchBytes));
    if (parts === 1) { (exp[name as keyof QuantExports] as (...a: number[]) => void)(...head, 0, items, scratch[0]!); return; }
    threads!.pool.run(name, parts, 0, items, (p, from, to) => [...head, from, to, scratch[p]!], parts * threads!.settings.chunksPerThread);
  };
  return {
    spikeLinearQ: (s, q, scale, y, m, n, k, bits) => scoped(() => {
      const ps = arena.put(s, m * k), pq = arena.put(q, n * k), psc = arena.put(scale, n), py = arena.out(y, m * n);
      const packed = arena.alloc(exp.spikeLinearQPackedBytes(n, k, bits));
      exp.spikeLinearQPack(pq, psc, packed, n, k, bits);
      split('spikeLinearQ', m * n * k, m, exp.spikeLinearQScratchBytes(k), [ps, packed, py, m, n, k, bits]);
      arena.copyOut(y, py, m * n);
    }),
    spikeConv2dQ: (s, q, scale, y, g, bits, gate) => scoped(() => {
      const plan = writePlan(exp, arena, 'planSpikeConvQ', g, [bits, gate ? 1 : 0]);
      const nx = g.n * g.cin * g.h * g.w, ny = g.n * g.cout * g.oh * g.ow, nw = g.cout * (g.cin / g.groups) * g.kh * g.kw;
      const ps = arena.put(s, nx), pq = arena.put(q, nw), psc = arena.put(scale, g.cout), py = arena.out(y, ny);
      const pg = gate ? arena.put(gate, g.n * g.cout) : 0, wr = arena.alloc(plan.weightBytes);
      exp.spikeConvQPack(pq, psc, wr, plan.at);
      split('spikeConv2dQ', convAdds(g), g.n, plan.scratchBytes, [ps, wr, py, pg, plan.at]);
      arena.copyOut(y, py, ny);
    }),
    qlifForward: (x, level, s, T, m, staticInput, p) => {
      let count = 0;
      scoped(() => {
        const px = arena.put(x, staticInput ? m : T * m), pl = arena.put(level, m), ps = arena.out(s, T * m);
        const blocks = Math.ceil(m / 4), parts = m < 8 ? 1 : threadsFor(WORK_PER_UPDATE * T * m, blocks), cnt = arena.alloc(32 * parts);
        // per part 32 bytes: its spike count at 0, a vector counter at 16 (assembly/qlif.ts)
        arena.i32(cnt, 8 * parts).fill(0);
        const args = (q: number, b0: number, b1: number): number[] => [px, pl, ps, T, m, staticInput ? 1 : 0, p.tau, p.thresh, p.lb,
          p.interval, p.levels, 4 * b0, Math.min(m, 4 * b1), cnt + 32 * q];
        if (parts === 1) exp.qlifForward(...(args(0, 0, blocks) as Parameters<QuantExports['qlifForward']>));
        else threads!.pool.run('qlifForward', parts, 0, blocks, args);
        const counts = arena.i32(cnt, 8 * parts);
        for (let q = 0; q < parts; q++) count += counts[8 * q]!;
        arena.copyOut(level, pl, m);
        arena.copyOut(s, ps, T * m);
      });
      return count;
    },
  };
}

/** Adds of a spike convolution at full density (the dense forward's multiply-adds): the work that decides a split. */
function convAdds(g: ConvGeom): number {
  return g.n * g.cout * g.oh * g.ow * (g.cin / g.groups) * g.kh * g.kw;
}
