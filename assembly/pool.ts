// Pooling bodies over NCHW planes p0 ≤ plane < p1: max (argmax within the plane, first maximum wins,
// padding −∞) and average (padding counts as zero, divisor kh·kw), with their backward passes.
import { Pool, f4 } from './geom';

/** Max pooling of planes p0 ≤ plane < p1: y and arg (index within the [h·w] plane, −1 if none). */
export function maxPool2dForward(x: usize, y: usize, arg: usize, geom: usize, p0: i32, p1: i32): void {
  const g = changetype<Pool>(geom);
  // Geometry in locals: the loops below must not re-read the record on every element.
  const h = g.h, w = g.w, oh = g.oh, ow = g.ow, kh = g.kh, kw = g.kw, sH = g.sH, sW = g.sW, pH = g.pH, pW = g.pW;
  if (kh == 2 && kw == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0) {
    if (arg != 0) maxPool2x2(x, y, arg, h, w, oh, ow, p0, p1);
    else maxPool2x2Values(x, y, h, w, oh, ow, p0, p1);
    return;
  }
  const inPlane = h * w, outPlane = oh * ow;
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + f4(pl * inPlane);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best: f32 = -Infinity, at = -1;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sH - pH + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sW - pW + kx;
            if (ix < 0 || ix >= w) continue;
            const v = load<f32>(xp + f4(iy * w + ix));
            if (at < 0 || v > best) { best = v; at = iy * w + ix; }
          }
        }
        const o = pl * outPlane + oy * ow + ox;
        store<f32>(y + f4(o), best);
        if (arg != 0) store<i32>(arg + f4(o), at);
      }
    }
  }
}

/**
 * The common 2×2 window, stride 2, no padding: scan order (0,0), (0,1), (1,0), (1,1), first maximum
 * wins (a later value replaces only if strictly greater). Four outputs at a time, branch-free: even
 * and odd input columns are split with shuffles and merged with compare masks.
 */
function maxPool2x2(x: usize, y: usize, arg: usize, h: i32, w: i32, oh: i32, ow: i32, p0: i32, p1: i32): void {
  const inPlane = h * w, outPlane = oh * ow;
  const lanes = i32x4(0, 2, 4, 6), one = i32x4.splat(1), down = i32x4.splat(w);
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + f4(pl * inPlane);
    for (let oy = 0; oy < oh; oy++) {
      const r0 = 2 * oy * w, r1 = r0 + w;
      let o = pl * outPlane + oy * ow, ox = 0;
      for (; ox + 4 <= ow; ox += 4, o += 4) {
        const c = 2 * ox;
        const a0 = v128.load(xp + f4(r0 + c)), a1 = v128.load(xp + f4(r0 + c + 4));
        const b0 = v128.load(xp + f4(r1 + c)), b1 = v128.load(xp + f4(r1 + c + 4));
        const e0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), d0 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        const e1 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), d1 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        const base = i32x4.add(i32x4.splat(r0 + c), lanes);
        let best = e0, at = base;
        let m = f32x4.gt(d0, best);
        best = v128.bitselect(d0, best, m); at = v128.bitselect(i32x4.add(base, one), at, m);
        m = f32x4.gt(e1, best);
        best = v128.bitselect(e1, best, m); at = v128.bitselect(i32x4.add(base, down), at, m);
        m = f32x4.gt(d1, best);
        best = v128.bitselect(d1, best, m); at = v128.bitselect(i32x4.add(i32x4.add(base, down), one), at, m);
        v128.store(y + f4(o), best);
        v128.store(arg + f4(o), at);
      }
      for (; ox < ow; ox++, o++) {
        const c = 2 * ox;
        let best = load<f32>(xp + f4(r0 + c)), at = r0 + c;
        const b = load<f32>(xp + f4(r0 + c + 1));
        if (b > best) { best = b; at = r0 + c + 1; }
        const d = load<f32>(xp + f4(r1 + c));
        if (d > best) { best = d; at = r1 + c; }
        const e = load<f32>(xp + f4(r1 + c + 1));
        if (e > best) { best = e; at = r1 + c + 1; }
        store<f32>(y + f4(o), best);
        store<i32>(arg + f4(o), at);
      }
    }
  }
}

/**
 * maxPool2x2 without the argmax (inference): the same compares in the same order, so the same maxima (a NaN
 * first in its window stays; a later NaN never replaces).
 */
function maxPool2x2Values(x: usize, y: usize, h: i32, w: i32, oh: i32, ow: i32, p0: i32, p1: i32): void {
  const inPlane = h * w, outPlane = oh * ow;
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + f4(pl * inPlane);
    for (let oy = 0; oy < oh; oy++) {
      const r0 = xp + f4(2 * oy * w), r1 = r0 + f4(w);
      let o = y + f4(pl * outPlane + oy * ow), ox = 0;
      for (; ox + 4 <= ow; ox += 4, o += 16) {
        const c = f4(2 * ox);
        const a0 = v128.load(r0 + c), a1 = v128.load(r0 + c, 16), b0 = v128.load(r1 + c), b1 = v128.load(r1 + c, 16);
        const e0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), d0 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        const e1 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), d1 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        let best = v128.bitselect(d0, e0, f32x4.gt(d0, e0));
        best = v128.bitselect(e1, best, f32x4.gt(e1, best));
        v128.store(o, v128.bitselect(d1, best, f32x4.gt(d1, best)));
      }
      for (; ox < ow; ox++, o += 4) {
        const c = f4(2 * ox);
        let best = load<f32>(r0 + c);
        const b = load<f32>(r0 + c, 4);
        if (b > best) best = b;
        const d = load<f32>(r1 + c);
        if (d > best) best = d;
        const e = load<f32>(r1 + c, 4);
        if (e > best) best = e;
        store<f32>(o, best);
      }
    }
  }
}

/** dx planes zeroed, then dx[argmax] += dy. */
export function maxPool2dBackward(dy: usize, arg: usize, dx: usize, geom: usize, p0: i32, p1: i32): void {
  const g = changetype<Pool>(geom), inPlane = g.h * g.w, outPlane = g.oh * g.ow;
  memory.fill(dx + f4(p0 * inPlane), 0, f4((p1 - p0) * inPlane));
  for (let pl = p0; pl < p1; pl++) {
    for (let o = pl * outPlane; o < (pl + 1) * outPlane; o++) {
      const a = load<i32>(arg + f4(o));
      if (a < 0) continue;
      const d = dx + f4(pl * inPlane + a);
      store<f32>(d, load<f32>(d) + load<f32>(dy + f4(o)));
    }
  }
}

/** Average pooling: window sum (inside cells) / (kh·kw). */
export function avgPool2dForward(x: usize, y: usize, geom: usize, p0: i32, p1: i32): void {
  const g = changetype<Pool>(geom), inPlane = g.h * g.w, outPlane = g.oh * g.ow, area = <f32>(g.kh * g.kw);
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + f4(pl * inPlane);
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        let sum: f32 = 0;
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sH - g.pH + ky;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.sW - g.pW + kx;
            if (ix >= 0 && ix < g.w) sum += load<f32>(xp + f4(iy * g.w + ix));
          }
        }
        store<f32>(y + f4(pl * outPlane + oy * g.ow + ox), sum / area);
      }
    }
  }
}

/** dx planes zeroed, then every inside cell of each window gets dy / (kh·kw). */
export function avgPool2dBackward(dy: usize, dx: usize, geom: usize, p0: i32, p1: i32): void {
  const g = changetype<Pool>(geom), inPlane = g.h * g.w, outPlane = g.oh * g.ow, area = <f32>(g.kh * g.kw);
  memory.fill(dx + f4(p0 * inPlane), 0, f4((p1 - p0) * inPlane));
  for (let pl = p0; pl < p1; pl++) {
    const dxp = dx + f4(pl * inPlane);
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const v = load<f32>(dy + f4(pl * outPlane + oy * g.ow + ox)) / area;
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sH - g.pH + ky;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.sW - g.pW + kx;
            if (ix >= 0 && ix < g.w) store<f32>(dxp + f4(iy * g.w + ix), load<f32>(dxp + f4(iy * g.w + ix)) + v);
          }
        }
      }
    }
  }
}
