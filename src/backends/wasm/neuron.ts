/**
 * The wasm body of the fused neuron kernels: inputs copied into the arena unless they already live in wasm
 * memory, the SIMD kernel, outputs copied back unless written in place.
 */
import type { NeuronKernels } from '../../kernels/neuron.js';
import { surrogateById } from '../../kernels/surrogate.js';
import type { Arena } from './arena.js';
import type { ThreadSettings } from './kernels.js';
import { fixedGroups, type ThreadPool } from './threads.js';

/** The neuron exports of build/edgespike.wasm (assembly/neuron.ts): neurons i0 ≤ i < i1 of m. */
export interface NeuronExports {
  /** With thr ≠ 0: per-neuron thresholds thr[i % period] and soft-reset amounts thks[i % period]. */
  neuronForward(x: number, v: number, s: number, h: number, T: number, m: number, stat: number,
    a: number, b: number, c: number, th: number, vr: number, reset: number, thk: number, strict: number, keepH: number,
    thr: number, thks: number, period: number, i0: number, i1: number, cnt: number): void;
  /**
   * The backward over groups k0 ≤ k < k1 of `per` blocks of four neurons, group k's parameter-gradient sums
   * (f64 ×4) at gps + 32·k; with thr ≠ 0 each neuron's threshold gradient at gth + 4·i (when gth ≠ 0).
   * Its 28 arguments are the most a worker's control block carries (CTL.maxArgs in threads.ts).
   */
  neuronBackwardGroups(gs: number, h: number, s: number, x: number, v0: number, gx: number, T: number, m: number, stat: number,
    a: number, b: number, th: number, vr: number, reset: number, k: number, detach: number, sid: number, alpha: number,
    sigma: number, decay: number, thr: number, period: number, gth: number, gps: number, per: number, k0: number, k1: number,
    scratch: number): void;
}

/** How the neuron kernels may split: the pool and the settings read on every call (absent: one thread). */
export interface NeuronThreads { readonly pool: ThreadPool; readonly settings: ThreadSettings }

/** Work per neuron and step, in the units of ThreadSettings.minParallelWork (about the flops of one update). */
const WORK_PER_UPDATE = 10;

/**
 * Groups of four-neuron blocks whose parameter-gradient sums the backward keeps apart (fewer for small
 * layers): the sums are added in group order, so they do not depend on the number of threads.
 */
const BACKWARD_GROUPS = 16;

/** Binds the neuron kernels to a module's exports and arena; with `threads`, large layers split over the pool. */
export function wasmNeuronKernels(exp: NeuronExports, arena: Arena, threads?: NeuronThreads): NeuronKernels {
  const scoped = (fn: () => void): void => { const mark = arena.mark(); try { fn(); } finally { arena.release(mark); } };
  const out = arena.out.bind(arena), copyOut = arena.copyOut.bind(arena);
  /** Parts for m neurons over T steps, split in groups of four neurons. */
  const partsFor = (T: number, m: number): number => {
    const cfg = threads?.settings;
    if (!cfg || m < 8 || WORK_PER_UPDATE * T * m < cfg.minParallelWork) return 1;
    return threads!.pool.usable(Math.min(cfg.threads, Math.ceil(m / 4)));
  };
  /** Runs the forward over neurons [0, m) in `parts` ranges of whole groups of four; args(part, i0, i1). */
  const splitForward = (parts: number, m: number, args: (p: number, i0: number, i1: number) => number[]): void => {
    const range = (g0: number, g1: number): [number, number] => [4 * g0, Math.min(m, 4 * g1)];
    if (parts === 1) { (exp.neuronForward as (...a: number[]) => void)(...args(0, 0, m)); return; }
    threads!.pool.run('neuronForward', parts, 0, Math.ceil(m / 4), (p, g0, g1) => args(p, ...range(g0, g1)));
  };
  /** The soft-reset amounts θ·k of a threshold pattern, rounded as the reference body rounds them (thr itself when k = 1). */
  const resetAmounts = (thr: Float32Array, pthr: number, k: number): number => {
    if (k === 1) return pthr;
    const off = arena.alloc(4 * thr.length), view = arena.f32(off, thr.length);
    for (let j = 0; j < thr.length; j++) view[j] = Math.fround(thr[j]! * k);
    return off;
  };
  return {
    neuronForward(x, v, s, h, T, m, staticInput, p) {
      let count = 0;
      scoped(() => {
        const px = arena.put(x, staticInput ? m : T * m), pv = arena.put(v, m);
        const keepH = h.length > 0;
        const ps = out(s, T * m), ph = keepH ? out(h, T * m) : 0;
        const thr = p.thr, pthr = thr ? arena.put(thr) : 0, pthk = thr ? resetAmounts(thr, pthr, p.resetScale) : 0;
        const parts = partsFor(T, m), cnt = arena.alloc(4 * parts);
        splitForward(parts, m, (q, i0, i1) => [px, pv, ps, ph, T, m, staticInput ? 1 : 0, p.a, p.b, p.c, p.vth, p.vReset, p.reset,
          Math.fround(p.vth * p.resetScale), p.strict ? 1 : 0, keepH ? 1 : 0, pthr, pthk, thr?.length ?? 0, i0, i1, cnt + 4 * q]);
        for (const c of arena.i32(cnt, parts)) count += c;
        copyOut(v, pv, m); copyOut(s, ps, T * m);
        if (keepH) copyOut(h, ph, T * m);
      });
      return count;
    },
    neuronBackward(gs, h, s, x, v0, gx, T, m, staticInput, p, gp, gth) {
      surrogateById(p.surrogate); // an unknown id is an error, as in the reference body
      scoped(() => {
        const pgs = arena.put(gs, T * m), ph = arena.put(h, T * m), ps = arena.put(s, T * m);
        // x and v0 only feed the gradients of a learnable leak.
        const px = p.decayGrads ? arena.put(x, staticInput ? m : T * m) : 0, pv = p.decayGrads ? arena.put(v0, m) : 0;
        const pgx = out(gx, staticInput ? m : T * m), blocks = Math.ceil(m / 4);
        const thr = p.thr, pthr = thr ? arena.put(thr) : 0, pgth = thr && gth ? out(gth, m) : 0;
        const { per, groups } = fixedGroups(blocks, Math.min(BACKWARD_GROUPS, blocks));
        const pgp = arena.alloc(32 * groups), sums = (): Float64Array => new Float64Array(arena.memory.buffer, pgp, 4 * groups);
        sums().fill(0);
        const args = (k0: number, k1: number): number[] => [pgs, ph, ps, px, pv, pgx, T, m, staticInput ? 1 : 0, p.a, p.b, p.vth, p.vReset,
          p.reset, p.resetScale, p.detachReset ? 1 : 0, p.surrogate, p.alpha, p.sigmaPath ? 1 : 0, p.decayGrads ? 1 : 0,
          pthr, thr?.length ?? 0, pgth, pgp, per, k0, k1, 0];
        const parts = partsFor(T, m);
        if (parts === 1) exp.neuronBackwardGroups(...(args(0, groups) as Parameters<NeuronExports['neuronBackwardGroups']>));
        else threads!.pool.run('neuronBackwardGroups', parts, 0, groups, (_q, k0, k1) => args(k0, k1), groups);
        copyOut(gx, pgx, staticInput ? m : T * m);
        if (pgth) copyOut(gth!, pgth, m);
        const g = sums();
        gp.fill(0);
        for (let q = 0; q < groups; q++) for (let j = 0; j < 4; j++) gp[j]! += g[4 * q + j]!;
      });
    },
  };
}
