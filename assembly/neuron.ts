// Fused multi-step neuron kernels (see src/kernels/neuron.ts for the equations): four neurons per
// f32x4 lane group, all T steps of a group in registers, then a scalar tail. Same names and argument
// meaning as src/backends/ref/neuron.ts; spikes and membranes match the reference bit for bit.

const HALF_PI: f32 = 1.5707963267948966;

const ONE: f32 = 1.0;
const TWO: f32 = 2.0;
const ZERO: f32 = 0.0;

// @ts-ignore: decorator
@inline function logistic(x: f32): f32 {
  return x >= ZERO ? ONE / (ONE + Mathf.exp(-x)) : Mathf.exp(x) / (ONE + Mathf.exp(x));
}

// @ts-ignore: decorator
@inline function sigmoidGrad(u: f32, a: f32): f32 {
  const s: f32 = logistic(a * u);
  return a * s * (ONE - s);
}

/**
 * σ'(u) of built-in surrogate `id` on four lanes: the formulas and ids of SURROGATES (src/kernels/surrogate.ts),
 * each written once; the scalar tails take lane 0 of a splat. Sigmoid, the slow one, is checked after the
 * others; id 5 (straight-through) is the last case: callers pass only SURROGATES' ids.
 */
// @ts-ignore: decorator
@inline function surrogateGrad(id: i32, u: v128, a: f32): v128 {
  if (id == 0) { // atan
    const z = f32x4.mul(u, f32x4.splat(HALF_PI * a));
    return f32x4.div(f32x4.splat(a / TWO), f32x4.add(f32x4.splat(ONE), f32x4.mul(z, z)));
  }
  if (id == 2) { // fast-sigmoid
    const d = f32x4.add(f32x4.splat(ONE), f32x4.mul(f32x4.splat(a), f32x4.abs(u)));
    return f32x4.div(f32x4.splat(ONE), f32x4.mul(d, d));
  }
  if (id == 3) { // triangle
    return f32x4.div(f32x4.max(f32x4.splat(ZERO), f32x4.sub(f32x4.splat(a), f32x4.abs(u))), f32x4.splat(a * a));
  }
  if (id == 4) { // rectangular
    return v128.and(f32x4.lt(f32x4.abs(u), f32x4.splat(a / TWO)), f32x4.splat(ONE / a));
  }
  if (id == 1) { // sigmoid: exp has no SIMD form, so lane by lane
    let r = f32x4.splat(0);
    r = f32x4.replace_lane(r, 0, sigmoidGrad(f32x4.extract_lane(u, 0), a));
    r = f32x4.replace_lane(r, 1, sigmoidGrad(f32x4.extract_lane(u, 1), a));
    r = f32x4.replace_lane(r, 2, sigmoidGrad(f32x4.extract_lane(u, 2), a));
    r = f32x4.replace_lane(r, 3, sigmoidGrad(f32x4.extract_lane(u, 3), a));
    return r;
  }
  return f32x4.splat(ONE); // straight-through
}

/** surrogateGrad at one u (the scalar tails). */
// @ts-ignore: decorator
@inline function surrogateGradAt(id: i32, u: f32, a: f32): f32 {
  return f32x4.extract_lane(surrogateGrad(id, f32x4.splat(u), a), 0);
}

/** An index into the threshold pattern past its end wrapped to the start (k is j + 1 … j + 4 for some j < period). */
// @ts-ignore: decorator
@inline function wrap(k: i32, period: i32): i32 {
  while (k >= period) k -= period;
  return k;
}

/**
 * The thresholds of four neurons from the per-neuron pattern at thr (f32 × period), the first neuron's at
 * index j < period: one load when the four lie within the period, else lane by lane around its end.
 */
// @ts-ignore: decorator
@inline function thresholds4(thr: usize, j: i32, period: i32): v128 {
  if (j + 4 <= period) return v128.load(thr + (<usize>j << 2));
  let r = f32x4.splat(load<f32>(thr + (<usize>j << 2)));
  r = f32x4.replace_lane(r, 1, load<f32>(thr + (<usize>wrap(j + 1, period) << 2)));
  r = f32x4.replace_lane(r, 2, load<f32>(thr + (<usize>wrap(j + 2, period) << 2)));
  r = f32x4.replace_lane(r, 3, load<f32>(thr + (<usize>wrap(j + 3, period) << 2)));
  return r;
}

/**
 * Forward over T steps for neurons i0 ≤ i < i1 of m: x [T,m] (or [m] when stat), v [m] in/out, s and (when
 * keepH) h [T,m] out; the spike count of the range is stored (i32) at cnt. With thr ≠ 0, neuron i has threshold
 * thr[i % period] and soft-reset amount thks[i % period] (f32 each) instead of th and thk.
 */
export function neuronForward(x: usize, v: usize, s: usize, h: usize, T: i32, m: i32, stat: i32,
  a: f32, b: f32, c: f32, th: f32, vr: f32, reset: i32, thk: f32, strict: i32, keepH: i32, thr: usize, thks: usize, period: i32,
  i0: i32, i1: i32, cnt: usize): void {
  // Two inlined copies: in the scalar one (thr = 0) the per-neuron branches fold away, leaving the loop as it was.
  if (thr) forwardRange(x, v, s, h, T, m, stat, a, b, c, th, vr, reset, thk, strict, keepH, thr, thks, period, i0, i1, cnt);
  else forwardRange(x, v, s, h, T, m, stat, a, b, c, th, vr, reset, thk, strict, keepH, 0, 0, 1, i0, i1, cnt);
}

/** The body of neuronForward (inlined into both copies). */
// @ts-ignore: decorator
@inline function forwardRange(x: usize, v: usize, s: usize, h: usize, T: i32, m: i32, stat: i32,
  a: f32, b: f32, c: f32, th: f32, vr: f32, reset: i32, thk: f32, strict: i32, keepH: i32, thr: usize, thks: usize, period: i32,
  i0: i32, i1: i32, cnt: usize): void {
  let count = i32x4.splat(0), tail = 0;
  const va = f32x4.splat(a), vb = f32x4.splat(b), vc = f32x4.splat(c), vth = f32x4.splat(th);
  const vvr = f32x4.splat(vr), vthk = f32x4.splat(thk), one = f32x4.splat(1.0), zero = f32x4.splat(0);
  const row = <usize>m << 2;
  let i = i0, j = thr ? i0 % period : 0; // j: index of neuron i in the threshold pattern
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    let th4 = vth, thk4 = vthk;
    if (thr) { th4 = thresholds4(thr, j, period); thk4 = thresholds4(thks, j, period); j = wrap(j + 4, period); }
    let vi = v128.load(v + o);
    for (let t = 0; t < T; t++) {
      const ot = o + <usize>t * row;
      const xi = v128.load(x + (stat ? o : ot));
      const hi = f32x4.add(f32x4.add(f32x4.mul(va, vi), f32x4.mul(vb, xi)), vc);
      const u = f32x4.sub(hi, th4);
      const mask = strict ? f32x4.gt(u, zero) : f32x4.ge(u, zero);
      const si = v128.and(mask, one);
      if (keepH) v128.store(h + ot, hi);
      v128.store(s + ot, si);
      count = i32x4.sub(count, mask); // mask lanes are −1 where a spike fired
      if (reset == 0) vi = f32x4.sub(hi, f32x4.mul(si, thk4));
      else if (reset == 1) vi = v128.bitselect(vvr, hi, mask);
      else vi = hi;
    }
    v128.store(v + o, vi);
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    let thi = th, thki = thk;
    if (thr) { thi = load<f32>(thr + (<usize>j << 2)); thki = load<f32>(thks + (<usize>j << 2)); j = wrap(j + 1, period); }
    let vi = load<f32>(v + o);
    for (let t = 0; t < T; t++) {
      const ot = o + <usize>t * row;
      const xi = load<f32>(x + (stat ? o : ot));
      const hi = (a * vi + b * xi) + c;
      const u = hi - thi;
      const si: f32 = (strict ? u > 0 : u >= 0) ? 1.0 : 0.0;
      if (keepH) store<f32>(h + ot, hi);
      store<f32>(s + ot, si);
      if (si != 0) tail++;
      vi = reset == 0 ? hi - si * thki : reset == 1 ? (si != 0 ? vr : hi) : hi;
    }
    store<f32>(v + o, vi);
  }
  store<i32>(cnt, i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3) + tail);
}

/** The state that entered step t of lane group at byte offset o (see the reference body). */
// @ts-ignore: decorator
@inline function prevState(h: usize, s: usize, v0: usize, o: usize, ot: usize, row: usize, t: i32,
  reset: i32, undecayed: bool, vthk: v128, vvr: v128): v128 {
  if (t == 0) return v128.load(v0 + o);
  const hp = v128.load(h + ot - row);
  if (undecayed || reset == 2) return hp;
  const sp = v128.load(s + ot - row);
  if (reset == 0) return f32x4.sub(hp, f32x4.mul(sp, vthk));
  return v128.bitselect(vvr, hp, f32x4.ne(sp, f32x4.splat(0)));
}

/**
 * Backward over T steps for neurons i0 ≤ i < i1 of m: gx [T,m] (or [m]) written, parameter gradients
 * [a, b, c, θ] of the range added into the four f64 at gp. With thr ≠ 0, neuron i has threshold thr[i % period]
 * and its threshold gradient is stored at gth + 4·i (when gth ≠ 0) instead of added to gp[3].
 */
export function neuronBackward(gs: usize, h: usize, s: usize, x: usize, v0: usize, gx: usize, T: i32, m: i32, stat: i32,
  a: f32, b: f32, th: f32, vr: f32, reset: i32, k: f32, detach: i32, sid: i32, alpha: f32, sigma: i32, decay: i32,
  thr: usize, period: i32, gth: usize, gp: usize, i0: i32, i1: i32): void {
  // Two copies of the body, as in neuronForward, but in functions of their own: V8 compiled the one-threshold
  // loop slower when it shared a function with the per-neuron one.
  if (thr) backwardPerNeuron(gs, h, s, x, v0, gx, T, m, stat, a, b, th, vr, reset, k, detach, sid, alpha, sigma, decay, thr, period, gth, gp, i0, i1);
  else backwardOneThreshold(gs, h, s, x, v0, gx, T, m, stat, a, b, th, vr, reset, k, detach, sid, alpha, sigma, decay, gp, i0, i1);
}

/** neuronBackward with one threshold for the layer: the per-neuron branches fold away. */
function backwardOneThreshold(gs: usize, h: usize, s: usize, x: usize, v0: usize, gx: usize, T: i32, m: i32, stat: i32,
  a: f32, b: f32, th: f32, vr: f32, reset: i32, k: f32, detach: i32, sid: i32, alpha: f32, sigma: i32, decay: i32,
  gp: usize, i0: i32, i1: i32): void {
  backwardRange(gs, h, s, x, v0, gx, T, m, stat, a, b, th, vr, reset, k, detach, sid, alpha, sigma, decay, 0, 1, 0, gp, i0, i1);
}

/** neuronBackward with per-neuron thresholds (thr ≠ 0). */
function backwardPerNeuron(gs: usize, h: usize, s: usize, x: usize, v0: usize, gx: usize, T: i32, m: i32, stat: i32,
  a: f32, b: f32, th: f32, vr: f32, reset: i32, k: f32, detach: i32, sid: i32, alpha: f32, sigma: i32, decay: i32,
  thr: usize, period: i32, gth: usize, gp: usize, i0: i32, i1: i32): void {
  backwardRange(gs, h, s, x, v0, gx, T, m, stat, a, b, th, vr, reset, k, detach, sid, alpha, sigma, decay, thr, period, gth, gp, i0, i1);
}

/** The body of neuronBackward (inlined into both copies). */
// @ts-ignore: decorator
@inline function backwardRange(gs: usize, h: usize, s: usize, x: usize, v0: usize, gx: usize, T: i32, m: i32, stat: i32,
  a: f32, b: f32, th: f32, vr: f32, reset: i32, k: f32, detach: i32, sid: i32, alpha: f32, sigma: i32, decay: i32,
  thr: usize, period: i32, gth: usize, gp: usize, i0: i32, i1: i32): void {
  const thk = th * k, undecayed = reset == 0 && k != 1.0;
  const va = f32x4.splat(a), vb = f32x4.splat(b), vth = f32x4.splat(th), vvr = f32x4.splat(vr);
  const vthk = f32x4.splat(thk), vk = f32x4.splat(k), one = f32x4.splat(1.0), zero = f32x4.splat(0);
  const row = <usize>m << 2;
  let gA: f64 = 0, gB: f64 = 0, gC: f64 = 0, gT: f64 = 0;
  let i = i0, j = thr ? i0 % period : 0; // j: index of neuron i in the threshold pattern
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    let th4 = vth, thk4 = vthk;
    if (thr) { th4 = thresholds4(thr, j, period); thk4 = f32x4.mul(th4, vk); j = wrap(j + 4, period); }
    let gV = zero, gxs = zero, aA = zero, aB = zero, aC = zero, aT = zero;
    for (let t = T - 1; t >= 0; t--) {
      const ot = o + <usize>t * row;
      const hi = v128.load(h + ot), si = v128.load(s + ot);
      const u = f32x4.sub(hi, th4);
      const sg = surrogateGrad(sid, u, alpha);
      let dvdh = one, dvds = zero, dvdth = zero;
      if (reset == 0) { dvds = detach ? zero : f32x4.neg(thk4); dvdth = f32x4.neg(f32x4.mul(si, vk)); }
      else if (reset == 1) { dvdh = f32x4.sub(one, si); dvds = detach ? zero : f32x4.sub(vvr, hi); }
      const gU = f32x4.mul(f32x4.add(v128.load(gs + ot), f32x4.mul(gV, dvds)), sg);
      const gH = f32x4.add(gU, f32x4.mul(gV, dvdh));
      aT = f32x4.add(aT, f32x4.sub(f32x4.mul(gV, dvdth), gU));
      if (sigma) {
        const u0 = f32x4.extract_lane(u, 0), u1 = f32x4.extract_lane(u, 1), u2 = f32x4.extract_lane(u, 2), u3 = f32x4.extract_lane(u, 3);
        let w = zero;
        w = f32x4.replace_lane(w, 0, u0 >= 0 ? logistic(u0) : 0);
        w = f32x4.replace_lane(w, 1, u1 >= 0 ? logistic(u1) : 0);
        w = f32x4.replace_lane(w, 2, u2 >= 0 ? logistic(u2) : 0);
        w = f32x4.replace_lane(w, 3, u3 >= 0 ? logistic(u3) : 0);
        aT = f32x4.sub(aT, f32x4.mul(gU, w));
      }
      if (decay) {
        const vPrev = prevState(h, s, v0, o, ot, row, t, reset, undecayed, thk4, vvr);
        const xi = v128.load(x + (stat ? o : ot));
        aA = f32x4.add(aA, f32x4.mul(gH, vPrev));
        aB = f32x4.add(aB, f32x4.mul(gH, xi));
        aC = f32x4.add(aC, gH);
      }
      if (stat) gxs = f32x4.add(gxs, f32x4.mul(gH, vb));
      else v128.store(gx + ot, f32x4.mul(gH, vb));
      gV = f32x4.mul(gH, va);
    }
    if (stat) v128.store(gx + o, gxs);
    gA += <f64>(f32x4.extract_lane(aA, 0) + f32x4.extract_lane(aA, 1)) + <f64>(f32x4.extract_lane(aA, 2) + f32x4.extract_lane(aA, 3));
    gB += <f64>(f32x4.extract_lane(aB, 0) + f32x4.extract_lane(aB, 1)) + <f64>(f32x4.extract_lane(aB, 2) + f32x4.extract_lane(aB, 3));
    gC += <f64>(f32x4.extract_lane(aC, 0) + f32x4.extract_lane(aC, 1)) + <f64>(f32x4.extract_lane(aC, 2) + f32x4.extract_lane(aC, 3));
    if (!thr) gT += <f64>(f32x4.extract_lane(aT, 0) + f32x4.extract_lane(aT, 1)) + <f64>(f32x4.extract_lane(aT, 2) + f32x4.extract_lane(aT, 3));
    else if (gth) v128.store(gth + o, aT);
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    let thi = th, thki = thk;
    if (thr) { thi = load<f32>(thr + (<usize>j << 2)); thki = thi * k; j = wrap(j + 1, period); }
    let gV: f32 = 0, gxs: f32 = 0, gTi: f32 = 0;
    for (let t = T - 1; t >= 0; t--) {
      const ot = o + <usize>t * row;
      const hi = load<f32>(h + ot), si = load<f32>(s + ot), u = hi - thi;
      const sg = surrogateGradAt(sid, u, alpha);
      let dvdh: f32 = 1, dvds: f32 = 0, dvdth: f32 = 0;
      if (reset == 0) { dvds = detach ? 0 : -thki; dvdth = -si * k; }
      else if (reset == 1) { dvdh = 1 - si; dvds = detach ? 0 : vr - hi; }
      const gU = (load<f32>(gs + ot) + gV * dvds) * sg;
      const gH = gU + gV * dvdh;
      const gUs: f32 = sigma && u >= 0 ? gU * logistic(u) : 0; // the σ path
      if (thr) { gTi += gV * dvdth - gU; gTi -= gUs; } // as the lanes add it
      else { gT += <f64>(gV * dvdth - gU); if (sigma && u >= 0) gT -= <f64>gUs; }
      if (decay) {
        let vPrev: f32;
        if (t == 0) vPrev = load<f32>(v0 + o);
        else {
          const hp = load<f32>(h + ot - row), sp = load<f32>(s + ot - row);
          vPrev = undecayed || reset == 2 ? hp : reset == 0 ? hp - sp * thki : (sp != 0 ? vr : hp);
        }
        const xi = load<f32>(x + (stat ? o : ot));
        gA += <f64>(gH * vPrev); gB += <f64>(gH * xi); gC += <f64>gH;
      }
      if (stat) gxs += gH * b; else store<f32>(gx + ot, gH * b);
      gV = gH * a;
    }
    if (stat) store<f32>(gx + o, gxs);
    if (thr && gth) store<f32>(gth + o, gTi);
  }
  store<f64>(gp, load<f64>(gp) + gA);
  store<f64>(gp + 8, load<f64>(gp + 8) + gB);
  store<f64>(gp + 16, load<f64>(gp + 16) + gC);
  store<f64>(gp + 24, load<f64>(gp + 24) + gT);
}

/**
 * neuronBackward over groups k0 ≤ k < k1 of `per` blocks of four neurons each, group k's parameter-gradient
 * sums into gps + 32·k (zeroed by the caller): each group's sums are the same whichever thread takes it, so
 * the caller adds them in group order and gets the same bits on any number of threads. `scratch` is unused
 * (split bodies end with it).
 */
export function neuronBackwardGroups(gs: usize, h: usize, s: usize, x: usize, v0: usize, gx: usize, T: i32, m: i32, stat: i32,
  a: f32, b: f32, th: f32, vr: f32, reset: i32, k: f32, detach: i32, sid: i32, alpha: f32, sigma: i32, decay: i32,
  thr: usize, period: i32, gth: usize, gps: usize, per: i32, k0: i32, k1: i32, scratch: usize): void {
  for (let g = k0; g < k1; g++) {
    neuronBackward(gs, h, s, x, v0, gx, T, m, stat, a, b, th, vr, reset, k, detach, sid, alpha, sigma, decay, thr, period, gth,
      gps + (<usize>g << 5), 4 * g * per, min(m, 4 * (g + 1) * per));
  }
}
