/**
 * Bilinear resize of a single-channel float32 matrix with OpenCV's cv2.resize INTER_LINEAR rules for
 * float images: half-pixel centres (src = (dst + 0.5)·in/out − 0.5), edge clamping, no antialiasing,
 * single-precision weights, a horizontal pass then a vertical pass.
 */
import { EdgespikeError } from '../../util/errors.js';

/** Source index pairs and weights along one axis: out[d] = w0[d]·in[i0[d]] + w1[d]·in[i1[d]]. */
interface AxisTaps { i0: Int32Array; i1: Int32Array; w0: Float32Array; w1: Float32Array }

function axisTaps(inSize: number, outSize: number): AxisTaps {
  const f = Math.fround;
  const scale = 1 / (outSize / inSize); // OpenCV: 1 / inv_scale
  const taps: AxisTaps = {
    i0: new Int32Array(outSize), i1: new Int32Array(outSize), w0: new Float32Array(outSize), w1: new Float32Array(outSize),
  };
  for (let d = 0; d < outSize; d++) {
    let pos = f((d + 0.5) * scale - 0.5);
    let s = Math.floor(pos);
    pos = f(pos - s);
    if (s < 0) { s = 0; pos = 0; }
    if (s >= inSize - 1) { s = inSize - 1; pos = 0; }
    taps.i0[d] = s;
    taps.i1[d] = Math.min(s + 1, inSize - 1);
    taps.w0[d] = f(1 - pos);
    taps.w1[d] = pos;
  }
  return taps;
}

/**
 * Resizes `mat` ([rows, cols], row-major) to [outRows, outCols]; cv2.resize(mat, (outCols, outRows),
 * interpolation=INTER_LINEAR). Equal sizes return a copy.
 */
export function resizeBilinear(mat: Float32Array, rows: number, cols: number, outRows: number, outCols: number): Float32Array {
  const dims = [rows, cols, outRows, outCols];
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new EdgespikeError(`resizeBilinear: sizes must be positive integers, got ${rows}×${cols} → ${outRows}×${outCols}`);
  }
  if (mat.length !== rows * cols) {
    throw new EdgespikeError(`resizeBilinear: expected ${rows}×${cols} = ${rows * cols} values, got ${mat.length}`);
  }
  if (rows === outRows && cols === outCols) return mat.slice();
  const f = Math.fround;
  const tx = axisTaps(cols, outCols), ty = axisTaps(rows, outRows);
  const horiz = new Float32Array(rows * outCols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let d = 0; d < outCols; d++) {
      horiz[r * outCols + d] = f(f(mat[base + tx.i0[d]] * tx.w0[d]) + f(mat[base + tx.i1[d]] * tx.w1[d]));
    }
  }
  const out = new Float32Array(outRows * outCols);
  for (let d = 0; d < outRows; d++) {
    const r0 = ty.i0[d] * outCols, r1 = ty.i1[d] * outCols, b0 = ty.w0[d], b1 = ty.w1[d];
    for (let c = 0; c < outCols; c++) out[d * outCols + c] = f(f(horiz[r0 + c] * b0) + f(horiz[r1 + c] * b1));
  }
  return out;
}
