/**
 * The wasm body of the fused neuron kernels: inputs copied into the arena unless they already live in wasm
 * memory, the SIMD kernel, outputs copied back unless written in place.
 */
import type { NeuronKernels } from '../../kernels/neuron.js';
import type { Arena } from './arena.js';

/** The neuron exports of build/edgespike.wasm (assembly/neuron.ts). */
export interface NeuronExports {
  neuronForward(x: number, v: number, s: number, h: number, T: number, m: number, stat: number,
    a: number, b: number, c: number, th: number, vr: number, reset: number, thk: number, strict: number, keepH: number): number;
  neuronBackward(gs: number, h: number, s: number, x: number, v0: number, gx: number, T: number, m: number, stat: number,
    a: number, b: number, th: number, vr: number, reset: number, k: number, detach: number, sid: number, alpha: number,
    sigma: number, decay: number, gp: number): void;
}

/** Binds the neuron kernels to a module's exports and arena. */
export function wasmNeuronKernels(exp: NeuronExports, arena: Arena): NeuronKernels {
  const scoped = (fn: () => void): void => { const mark = arena.mark(); try { fn(); } finally { arena.release(mark); } };
  const out = arena.out.bind(arena), copyOut = arena.copyOut.bind(arena);
  return {
    neuronForward(x, v, s, h, T, m, staticInput, p) {
      let count = 0;
      scoped(() => {
        const px = arena.put(x, staticInput ? m : T * m), pv = arena.put(v, m);
        const keepH = h.length > 0;
        const ps = out(s, T * m), ph = keepH ? out(h, T * m) : 0;
        count = exp.neuronForward(px, pv, ps, ph, T, m, staticInput ? 1 : 0, p.a, p.b, p.c, p.vth, p.vReset, p.reset,
          Math.fround(p.vth * p.resetScale), p.strict ? 1 : 0, keepH ? 1 : 0);
        copyOut(v, pv, m); copyOut(s, ps, T * m);
        if (keepH) copyOut(h, ph, T * m);
      });
      return count;
    },
    neuronBackward(gs, h, s, x, v0, gx, T, m, staticInput, p, gp) {
      scoped(() => {
        const pgs = arena.put(gs, T * m), ph = arena.put(h, T * m), ps = arena.put(s, T * m);
        // x and v0 only feed the gradients of a learnable leak.
        const px = p.decayGrads ? arena.put(x, staticInput ? m : T * m) : 0, pv = p.decayGrads ? arena.put(v0, m) : 0;
        const pgx = out(gx, staticInput ? m : T * m), pgp = arena.alloc(32);
        new Float64Array(arena.memory.buffer, pgp, 4).fill(0);
        exp.neuronBackward(pgs, ph, ps, px, pv, pgx, T, m, staticInput ? 1 : 0, p.a, p.b, p.vth, p.vReset, p.reset,
          p.resetScale, p.detachReset ? 1 : 0, p.surrogate, p.alpha, p.sigmaPath ? 1 : 0, p.decayGrads ? 1 : 0, pgp);
        copyOut(gx, pgx, staticInput ? m : T * m);
        gp.set(new Float64Array(arena.memory.buffer, pgp, 4));
      });
    },
  };
}
