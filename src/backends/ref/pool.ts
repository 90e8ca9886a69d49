/**
 * Reference 2-d pooling over NCHW planes: max (with the argmax index within each [h·w] plane, padding −∞,
 * the first maximum in row-major window order wins) and average (padding counts as zero, divisor kh·kw).
 */
import type { PoolGeom } from '../../kernels/contract.js';

/**
 * Calls `visit(plane, oi, ii)` for every output cell and every window cell inside the input, in
 * row-major window order: `plane` is the (n·c) plane index, `oi` the output index within the plane's
 * [oh·ow] block and `ii` the input index within its [h·w] block.
 */
function forEachWindowCell(g: PoolGeom, visit: (plane: number, oi: number, ii: number) => void): void {
  for (let plane = 0; plane < g.n * g.c; plane++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.strideH - g.padH + ky;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.strideW - g.padW + kx;
            if (ix < 0 || ix >= g.w) continue;
            visit(plane, oy * g.ow + ox, iy * g.w + ix);
          }
        }
      }
    }
  }
}

/** Max pooling; y gets each window's maximum and arg its index in the [h·w] plane (−1 if the window is all padding). */
export function maxPool2dForward(x: Float32Array, y: Float32Array, argOut: Int32Array | null, g: PoolGeom): void {
  const outPlane = g.oh * g.ow, inPlane = g.h * g.w, arg = argOut ?? new Int32Array(y.length);
  y.fill(-Infinity);
  arg.fill(-1);
  forEachWindowCell(g, (plane, oi, ii) => {
    const v = x[plane * inPlane + ii], o = plane * outPlane + oi;
    if (arg[o] < 0 || v > y[o]) { y[o] = v; arg[o] = ii; }
  });
}

/** dx = 0, then dx[argmax] += dy for every output (windows that overlap may route to the same cell). */
export function maxPool2dBackward(dy: Float32Array, arg: Int32Array, dx: Float32Array, g: PoolGeom): void {
  const outPlane = g.oh * g.ow, inPlane = g.h * g.w;
  dx.fill(0);
  for (let plane = 0; plane < g.n * g.c; plane++) {
    for (let oi = 0; oi < outPlane; oi++) {
      const a = arg[plane * outPlane + oi];
      if (a >= 0) dx[plane * inPlane + a] += dy[plane * outPlane + oi];
    }
  }
}

/** Average pooling: y = (Σ of the window's cells inside the input) / (kh·kw). */
export function avgPool2dForward(x: Float32Array, y: Float32Array, g: PoolGeom): void {
  const outPlane = g.oh * g.ow, inPlane = g.h * g.w;
  const acc = new Float64Array(y.length);
  forEachWindowCell(g, (plane, oi, ii) => { acc[plane * outPlane + oi] += x[plane * inPlane + ii]; });
  for (let i = 0; i < y.length; i++) y[i] = acc[i] / (g.kh * g.kw);
}

/** dx = Σ over the windows covering each cell of dy / (kh·kw). Overwrites dx. */
export function avgPool2dBackward(dy: Float32Array, dx: Float32Array, g: PoolGeom): void {
  const outPlane = g.oh * g.ow, inPlane = g.h * g.w;
  const acc = new Float64Array(dx.length);
  forEachWindowCell(g, (plane, oi, ii) => { acc[plane * inPlane + ii] += dy[plane * outPlane + oi]; });
  for (let i = 0; i < dx.length; i++) dx[i] = acc[i] / (g.kh * g.kw);
}
