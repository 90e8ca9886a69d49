/**
 * Reference bodies of the fused neuron kernels (see src/kernels/neuron.ts for the equations).
 * The forward rounds like float32 at every step so that spikes match the SIMD body bit for bit.
 */
import type { NeuronKernelParams, NeuronKernels } from '../../kernels/neuron.js';
import { logistic, surrogateById } from '../../kernels/surrogate.js';

const f = Math.fround;

/** Forward over T steps; see NeuronKernels.neuronForward. */
export function neuronForward(x: Float32Array, v: Float32Array, s: Float32Array, h: Float32Array, T: number, m: number,
  staticInput: boolean, p: NeuronKernelParams): number {
  const a = f(p.a), b = f(p.b), c = f(p.c), vr = f(p.vReset), thr = p.thr;
  let count = 0;
  const keepH = h.length > 0;
  for (let i = 0; i < m; i++) {
    const th = thr ? thr[i % thr.length]! : f(p.vth), thk = f((thr ? th : p.vth) * p.resetScale);
    let vi = v[i]!;
    for (let t = 0; t < T; t++) {
      const o = t * m + i;
      const xi = staticInput ? x[i]! : x[o]!;
      const hi = f(f(f(a * vi) + f(b * xi)) + c);
      const u = f(hi - th);
      const si = (p.strict ? u > 0 : u >= 0) ? 1 : 0;
      if (keepH) h[o] = hi;
      s[o] = si;
      count += si;
      vi = p.reset === 0 ? f(hi - si * thk) : p.reset === 1 ? (si ? vr : hi) : hi;
    }
    v[i] = vi;
  }
  return count;
}

/** Backward over T steps; see NeuronKernels.neuronBackward. */
export function neuronBackward(gs: Float32Array, h: Float32Array, s: Float32Array, x: Float32Array, v0: Float32Array,
  gx: Float32Array, T: number, m: number, staticInput: boolean, p: NeuronKernelParams, gp: Float64Array, gth?: Float32Array): void {
  const grad = surrogateById(p.surrogate).grad, alpha = p.alpha;
  neuronBackwardWith((u) => grad(u, alpha), gs, h, s, x, v0, gx, T, m, staticInput, p, gp, gth);
}

/** neuronBackward with an arbitrary surrogate derivative σ'(u) (user-supplied surrogates). */
export function neuronBackwardWith(sgOf: (u: number) => number, gs: Float32Array, h: Float32Array, s: Float32Array,
  x: Float32Array, v0: Float32Array, gx: Float32Array, T: number, m: number, staticInput: boolean,
  p: NeuronKernelParams, gp: Float64Array, gth?: Float32Array): void {
  const { a, b, vReset: vr, reset, detachReset, sigmaPath, thr } = p;
  const undecayed = reset === 0 && p.resetScale !== 1;
  let gA = 0, gB = 0, gC = 0, gT = 0;
  if (staticInput) gx.fill(0, 0, m);
  for (let i = 0; i < m; i++) {
    const th = thr ? thr[i % thr.length]! : p.vth, thk = th * p.resetScale;
    let gV = 0, gTi = 0;
    for (let t = T - 1; t >= 0; t--) {
      const o = t * m + i;
      const hi = h[o]!, si = s[o]!, u = hi - th;
      const sg = sgOf(u);
      // Partial derivatives of the reset v = R(h, s; θ).
      let dvdh = 1, dvds = 0, dvdth = 0;
      if (reset === 0) { dvds = detachReset ? 0 : -thk; dvdth = -si * p.resetScale; }
      else if (reset === 1) { dvdh = 1 - si; dvds = detachReset ? 0 : vr - hi; }
      const gU = (gs[o]! + gV * dvds) * sg;
      const gH = gU + gV * dvdh;
      gTi += -gU + gV * dvdth;
      if (sigmaPath && u >= 0) gTi -= gU * logistic(u);
      if (p.decayGrads) {
        // The state that entered step t (for ∂h/∂a); with the undecayed soft reset a·v = a·h − s·θ.
        let vPrev: number;
        if (t === 0) vPrev = v0[i]!;
        else {
          const hp = h[o - m]!, sp = s[o - m]!;
          vPrev = undecayed ? hp : reset === 0 ? hp - sp * thk : reset === 1 ? (sp ? vr : hp) : hp;
        }
        const xi = staticInput ? x[i]! : x[o]!;
        gA += gH * vPrev; gB += gH * xi; gC += gH;
      }
      if (staticInput) gx[i]! += gH * b; else gx[o] = gH * b;
      gV = gH * a;
    }
    if (!thr) gT += gTi;
    else if (gth) gth[i] = gTi;
  }
  gp[0] = gA; gp[1] = gB; gp[2] = gC; gp[3] = gT;
}

/** The reference neuron kernels. */
export const refNeuronKernels: NeuronKernels = { neuronForward, neuronBackward };
