// The spike convolution's two forward paths (table rows per kernel row, or gathered active taps) chosen
// per item by density: batches that mix sparse and dense items, at shapes where the table applies, must
// equal the reference within 1e-5 of the sum of absolute terms (as parity.test.ts), on 1 and 2 threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refKernels } from '../../src/backends/ref/index.js';
import { wasmBackendSync } from '../../src/backends/wasm/index.js';
import { convGeom, convSizes, rng, type ConvOpts } from './geom.js';

const backend = wasmBackendSync();
if (backend === undefined) throw new Error('spike-table: build/edgespike.wasm is missing (run node scripts/build-wasm.mjs)');

// 16 items or more: the table is only built for batches that large (smaller ones gather every item)
const SHAPES: ConvOpts[] = [
  { n: 16, cin: 3, h: 12, w: 12, cout: 16, kh: 5, kw: 5 },
  { n: 16, cin: 5, h: 9, w: 11, cout: 8, kh: 3, kw: 3, pad: 1 },
  { n: 20, cin: 4, h: 10, w: 10, cout: 20, kh: 3, kw: 3, stride: 2, pad: 1 },
  { n: 16, cin: 6, h: 7, w: 9, cout: 12, kh: 3, kw: 2, groups: 3 },
  { n: 16, cin: 2, h: 13, w: 50, cout: 4, kh: 6, kw: 6, pad: 2 },
  { n: 17, cin: 2, h: 5, w: 5, cout: 36, kh: 1, kw: 1 },
  { n: 4, cin: 3, h: 12, w: 12, cout: 16, kh: 5, kw: 5 },
  { n: 16, cin: 70, h: 6, w: 20, cout: 20, kh: 3, kw: 3, pad: 1 },
];

test('spike conv forward: items of every density, either path, equal the reference', () => {
  for (const threads of [1, 2]) {
    backend.settings.threads = threads;
    backend.settings.minParallelWork = 0;
    SHAPES.forEach((o, si) => {
      const g = convGeom(o), z = convSizes(g), r = rng(100 + si), per = z.x / g.n;
      // item densities from 0 to 0.9: the sparse ones gather, the dense ones add table rows
      const s = Float32Array.from({ length: z.x }, (_, i) => ((r() + 1) / 2 < (Math.floor(i / per) % 4) * 0.3 ? 1 : 0));
      const w = Float32Array.from({ length: z.w }, r);
      const want = new Float32Array(z.y), scale = new Float32Array(z.y), got = new Float32Array(z.y).fill(NaN);
      refKernels.conv2dForward(s, w, want, g);
      refKernels.conv2dForward(s, w.map(Math.abs), scale, g);
      backend.kernels.spikeConv2dForward(s, w, got, g);
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-5 * scale[i]! + 1e-30, `shape ${si} threads ${threads} y[${i}] = ${got[i]}, reference ${want[i]}`);
      }
    });
  }
});
