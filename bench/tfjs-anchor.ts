/**
 * The tfjs WebAssembly backend (XNNPACK, SIMD, one thread in Node) on the engine benchmark's shapes, in
 * this process: the same instruction set as ours, so the fair kernel-for-kernel reference.
 */
import type { ConvShape } from './engine.js';

type Row = Record<string, string | number | boolean>;

/** JSON rows for the anchor (or one skipped row) and gflops by bench key ('gemm', 'fwd b,cin,hw,k'). */
export async function tfjsAnchor(gemm: { m: number; k: number; n: number }, shapes: ConvShape[]):
  Promise<{ rows: Row[]; gflops: Map<string, number> }> {
  const gflops = new Map<string, number>(), rows: Row[] = [];
  let tf: typeof import('@tensorflow/tfjs-core');
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
    await tf.ready();
  } catch (e) {
    return { rows: [{ anchor: 'tfjs-wasm', skipped: String((e as Error).message ?? e).split('\n')[0] }], gflops };
  }
  const { medianMs } = await import('./engine.js');
  const { m, k, n } = gemm;
  const a = tf.randomUniform([m, k]), b = tf.randomUniform([k, n]);
  const ms = medianMs(() => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); });
  gflops.set('gemm', 2 * m * k * n / ms / 1e6);
  rows.push({ anchor: 'tfjs-wasm', bench: 'gemm', m, k, n, threads: 1, ms: Number(ms.toFixed(3)), gflops: Number(gflops.get('gemm')!.toFixed(2)) });
  a.dispose(); b.dispose();
  for (const s of shapes) {
    const x = tf.randomUniform([s.batch, s.hw, s.hw, s.cin]) as import('@tensorflow/tfjs-core').Tensor4D;
    const w = tf.randomUniform([s.k, s.k, s.cin, s.cout]) as import('@tensorflow/tfjs-core').Tensor4D;
    const ho = s.pad ? s.hw : s.hw - s.k + 1, flops = 2 * s.batch * s.cout * ho * ho * s.cin * s.k * s.k;
    const t = medianMs(() => { const y = tf.conv2d(x, w, 1, s.pad ? 'same' : 'valid'); y.dataSync(); y.dispose(); }, 5);
    const key = `fwd ${s.batch},${s.cin},${s.hw},${s.k}`;
    gflops.set(key, flops / t / 1e6);
    rows.push({ anchor: 'tfjs-wasm', bench: 'conv2d_fwd', ...s, layout: 'NHWC', threads: 1, ms: Number(t.toFixed(3)), gflops: Number(gflops.get(key)!.toFixed(2)) });
    x.dispose(); w.dispose();
  }
  return { rows, gflops };
}
