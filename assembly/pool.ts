// Pooling bodies over NCHW planes p0 ≤ plane < p1: max (argmax within the plane, first maximum wins,
// padding −∞) and average (padding counts as zero, divisor kh·kw), with their backward passes.
import { Pool, f4 } from './geom';

/** Max pooling of planes p0 ≤ plane < p1: y and arg (index within the [h·w] plane, −1 if none). */
export function maxPool2dForward(x: usize, y: usize, arg: usize, geom: usize, p0: i32, p1: i32): void {
  const g = changetype<Pool>(geom), inPlane = g.h * g.w, outPlane = g.oh * g.ow;
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + f4(pl * inPlane);
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        let best: f32 = -Infinity, at = -1;
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sH - g.pH + ky;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.sW - g.pW + kx;
            if (ix < 0 || ix >= g.w) continue;
            const v = load<f32>(xp + f4(iy * g.w + ix));
            if (at < 0 || v > best) { best = v; at = iy * g.w + ix; }
          }
        }
        const o = pl * outPlane + oy * g.ow + ox;
        store<f32>(y + f4(o), best);
        store<i32>(arg + f4(o), at);
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
