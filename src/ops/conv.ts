/**
 * 2-d convolution over NCHW tensors: stride, zero padding, dilation 1, groups (depthwise when
 * groups = channels). Binary (spike) inputs use the spike kernels when the measured density pays.
 */
import { Tensor } from '../tensor/tensor.js';
import { accumulateOwned, record } from '../tensor/tape.js';
import { floatsFor } from '../tensor/storage.js';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { kernels, preferSpike, spikeDensity, winogradShape } from '../backends/index.js';
import { outSize, type ConvGeom } from '../kernels/contract.js';

/** Options of conv2d; numbers apply to both axes. */
export interface Conv2dOptions {
  readonly stride?: number | readonly [number, number];
  readonly padding?: number | readonly [number, number];
  readonly groups?: number;
}

const pair = (v: number | readonly [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** Checks shapes and returns the convolution geometry (errors name the argument). */
export function convGeom(xs: readonly number[], ws: readonly number[], opts: Conv2dOptions = {}): ConvGeom {
  if (xs.length !== 4) throw new EdgespikeError(`conv2d: input must be [N, C, H, W], got ${fmtShape(xs)}`);
  if (ws.length !== 4) throw new EdgespikeError(`conv2d: weight must be [Cout, Cin/groups, kH, kW], got ${fmtShape(ws)}`);
  const [n, cin, h, w] = xs as [number, number, number, number];
  const [cout, cpg, kh, kw] = ws as [number, number, number, number];
  const groups = opts.groups ?? 1;
  const [strideH, strideW] = pair(opts.stride, 1);
  const [padH, padW] = pair(opts.padding, 0);
  if (!Number.isInteger(groups) || groups < 1 || cin % groups !== 0 || cout % groups !== 0) {
    throw new EdgespikeError(`conv2d: groups ${groups} must divide input channels ${cin} and output channels ${cout}`);
  }
  if (cpg !== cin / groups) throw new EdgespikeError(`conv2d: weight ${fmtShape(ws)} expects ${cpg * groups} input channels (groups ${groups}), input ${fmtShape(xs)} has ${cin}`);
  if (strideH < 1 || strideW < 1 || padH < 0 || padW < 0) throw new EdgespikeError(`conv2d: stride must be ≥ 1 and padding ≥ 0, got stride ${strideH}×${strideW}, padding ${padH}×${padW}`);
  const oh = outSize(h, kh, strideH, padH), ow = outSize(w, kw, strideW, padW);
  if (oh < 1 || ow < 1) throw new EdgespikeError(`conv2d: kernel ${kh}×${kw} does not fit input ${h}×${w} with padding ${padH}×${padW}`);
  return { n, cin, h, w, cout, kh, kw, strideH, strideW, padH, padW, groups, oh, ow };
}

/** y = x + b per channel: x [N, C, …], b [C]. */
export function channelBias(x: Tensor, b: Tensor): Tensor {
  if (x.rank < 2 || b.rank !== 1 || b.shape[0] !== x.shape[1]) throw new EdgespikeError(`channelBias: bias must be [${x.shape[1]}] for input ${fmtShape(x.shape)}, got ${fmtShape(b.shape)}`);
  const K = kernels(), n = x.shape[0]!, c = x.shape[1]!, plane = x.size / Math.max(1, n * c);
  const y = floatsFor(x.size);
  K.biasAdd(x.data, b.data, y, n, c, plane);
  return record(new Tensor(y, x.shape), 'channelBias', [x, b], (g) => {
    if (b.requiresGrad) { const gb = new Float32Array(c); K.biasGrad(g, gb, n, c, plane, 0); accumulateOwned(b, gb); }
    // Adopted, not copied: the tape drops the output's gradient after this node (bias summed above).
    if (x.requiresGrad) accumulateOwned(x, g);
  });
}

/** y = conv(x, w) + b: x [N, C, H, W], w [Cout, C/groups, kH, kW], b [Cout] → [N, Cout, OH, OW]. */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const g = convGeom(x.shape, w.shape, opts);
  if (b && (b.rank !== 1 || b.shape[0] !== g.cout)) throw new EdgespikeError(`conv2d: bias must be [${g.cout}], got ${fmtShape(b.shape)}`);
  const K = kernels();
  const plane = g.oh * g.ow;
  const y = floatsFor(g.n * g.cout * plane);
  const spikes = x.binary && preferSpike(winogradShape(g) ? 'conv3x3' : 'conv', x.density ?? spikeDensity(x.data));
  if (spikes) K.spikeConv2dForward(x.data, w.data, y, g);
  else K.conv2dForward(x.data, w.data, y, g);
  if (b) K.biasAdd(y, b.data, y, g.n, g.cout, plane);
  const out = new Tensor(y, [g.n, g.cout, g.oh, g.ow]);
  const inputs = b ? [x, w, b] : [x, w];
  return record(out, spikes ? 'conv2d(spike)' : 'conv2d', inputs, (gy) => {
    if (x.requiresGrad) { const gx = floatsFor(x.size); K.conv2dBackwardInput(gy, w.data, gx, g); accumulateOwned(x, gx); }
    if (w.requiresGrad) {
      const gw = new Float32Array(w.size);
      if (spikes) K.spikeConv2dBackwardWeight(x.data, gy, gw, g, 0);
      else K.conv2dBackwardWeight(x.data, gy, gw, g, 0);
      accumulateOwned(w, gw);
    }
    if (b && b.requiresGrad) { const gb = new Float32Array(g.cout); K.biasGrad(gy, gb, g.n, g.cout, plane, 0); accumulateOwned(b, gb); }
  });
}
