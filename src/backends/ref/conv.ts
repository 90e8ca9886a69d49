/**
 * Reference 2-d convolution (NCHW, weight [cout, cin/groups, kh, kw], zero padding, stride, groups):
 * forward, input gradient and weight gradient, each one walk over every (output, window cell) pair.
 */
import type { ConvGeom } from '../../kernels/contract.js';

/**
 * Calls `visit(xi, wi, yi)` with the flat indices into x, w and y of every tap: each output position
 * paired with each window cell that falls inside the input (padding cells contribute zero, so are skipped).
 * Output channel co of group co/(cout/groups) reads input channels of that group only.
 */
export function forEachTap(g: ConvGeom, visit: (xi: number, wi: number, yi: number) => void): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups;
  for (let b = 0; b < g.n; b++) {
    for (let co = 0; co < g.cout; co++) {
      const c0 = Math.floor(co / coutG) * cinG;
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          const yi = ((b * g.cout + co) * g.oh + oy) * g.ow + ox;
          for (let cl = 0; cl < cinG; cl++) {
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.strideH - g.padH + ky;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.strideW - g.padW + kx;
                if (ix < 0 || ix >= g.w) continue;
                const xi = ((b * g.cin + c0 + cl) * g.h + iy) * g.w + ix;
                const wi = ((co * cinG + cl) * g.kh + ky) * g.kw + kx;
                visit(xi, wi, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** y[n,cout,oh,ow] = Σ x·w over the window (zero padding), grouped. Overwrites y. */
export function conv2dForward(x: Float32Array, w: Float32Array, y: Float32Array, g: ConvGeom): void {
  const acc = new Float64Array(y.length);
  forEachTap(g, (xi, wi, yi) => { acc[yi] += x[xi] * w[wi]; });
  y.set(acc);
}

/** dx[n,cin,h,w] = Σ dy·w over every output whose window covers the input cell. Overwrites dx. */
export function conv2dBackwardInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: ConvGeom): void {
  const acc = new Float64Array(dx.length);
  forEachTap(g, (xi, wi, yi) => { acc[xi] += dy[yi] * w[wi]; });
  dx.set(acc);
}

/** dw[cout,cin/groups,kh,kw] (+)= Σ dy·x over batch and output positions; beta 0 overwrites, 1 accumulates. */
export function conv2dBackwardWeight(x: Float32Array, dy: Float32Array, dw: Float32Array, g: ConvGeom, beta: 0 | 1): void {
  const acc = new Float64Array(dw.length);
  forEachTap(g, (xi, wi, yi) => { acc[wi] += dy[yi] * x[xi]; });
  for (let i = 0; i < dw.length; i++) dw[i] = beta === 1 ? dw[i] + acc[i] : acc[i];
}
