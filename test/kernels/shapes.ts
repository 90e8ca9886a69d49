// The convolution shapes of the parity test (parity.test.ts), shared with the plan test (plan.test.ts), which
// reports the path each of them takes.
import type { ConvOpts } from './geom.js';

/** Convolution shapes every convolution kernel is held to the reference on. */
export const CONVS: ConvOpts[] = [
  { n: 2, cin: 3, h: 7, w: 9, cout: 5, kh: 3, kw: 3, pad: 1 },
  { n: 3, cin: 4, h: 9, w: 8, cout: 6, kh: 3, kw: 2, stride: 2 },
  { n: 2, cin: 4, h: 6, w: 6, cout: 6, kh: 3, kw: 3, stride: 2, pad: 1, groups: 2 },
  { n: 2, cin: 5, h: 7, w: 7, cout: 5, kh: 3, kw: 3, pad: 1, groups: 5 },
  { n: 1, cin: 3, h: 5, w: 6, cout: 6, kh: 3, kw: 3, pad: 2, groups: 3 },
  { n: 2, cin: 8, h: 4, w: 4, cout: 3, kh: 1, kw: 1 },
  { n: 3, cin: 3, h: 12, w: 12, cout: 16, kh: 5, kw: 5 },
  { n: 2, cin: 2, h: 10, w: 17, cout: 7, kh: 3, kw: 3, pad: 1 },
  { n: 2, cin: 3, h: 16, w: 33, cout: 4, kh: 3, kw: 3, stride: 2, pad: 1 },
  { n: 2, cin: 2, h: 2, w: 2, cout: 3, kh: 3, kw: 3, pad: 1 },
  { n: 8, cin: 16, h: 32, w: 32, cout: 8, kh: 3, kw: 3, pad: 1 },
  { n: 2, cin: 2, h: 3, w: 70, cout: 20, kh: 3, kw: 3, pad: 1 },
  { n: 3, cin: 1, h: 28, w: 19, cout: 6, kh: 5, kw: 4 },
  { n: 2, cin: 6, h: 9, w: 10, cout: 9, kh: 2, kw: 3, groups: 3 },
  { n: 3, cin: 8, h: 10, w: 11, cout: 6, kh: 3, kw: 4, groups: 2 },
  { n: 2, cin: 4, h: 12, w: 12, cout: 16, kh: 5, kw: 5 },
  { n: 3, cin: 4, h: 8, w: 16, cout: 8, kh: 5, kw: 5, pad: 2, groups: 2 },
  { n: 2, cin: 3, h: 6, w: 8, cout: 5, kh: 3, kw: 3, pad: 1 },
  { n: 2, cin: 3, h: 8, w: 8, cout: 20, kh: 3, kw: 3, pad: 1 },
  { n: 3, cin: 2, h: 18, w: 10, cout: 4, kh: 3, kw: 3 },
  // 3×3, stride 1, 32 channels or more: the Winograd forward, four tiles at a time (tile rows of a multiple
  // of four) and one at a time, whole and partial 2×2 tiles, partial weight panels
  { n: 2, cin: 32, h: 16, w: 16, cout: 33, kh: 3, kw: 3, pad: 1 },
  { n: 2, cin: 33, h: 9, w: 11, cout: 32, kh: 3, kw: 3 },
  { n: 1, cin: 32, h: 7, w: 20, cout: 32, kh: 3, kw: 3, pad: 1 },
  { n: 2, cin: 32, h: 15, w: 16, cout: 34, kh: 3, kw: 3, pad: 1 },
  { n: 1, cin: 32, h: 3, w: 3, cout: 32, kh: 3, kw: 3, pad: 2 },
  // their input gradients by Winograd too (padding 2 − pad): heights and widths padded differently; weight
  // gradients by Winograd summed over items (17 items: more than one per fixed group)
  { n: 2, cin: 32, h: 6, w: 9, cout: 32, kh: 3, kw: 3, pad: 1, padW: 2 },
  { n: 1, cin: 33, h: 7, w: 5, cout: 32, kh: 3, kw: 3, pad: 0, padW: 1 },
  { n: 17, cin: 32, h: 4, w: 8, cout: 32, kh: 3, kw: 3, pad: 1 },
  // 40 channels or more: the implicit forward's 5-row panels, whole (45) and with a 1-row tail (41), padded or not
  { n: 2, cin: 3, h: 10, w: 10, cout: 41, kh: 3, kw: 3 },
  { n: 2, cin: 2, h: 8, w: 8, cout: 45, kh: 3, kw: 3, pad: 1, groups: 1 },
  { n: 2, cin: 4, h: 10, w: 10, cout: 32, kh: 3, kw: 3, pad: 1, groups: 2 },
  { n: 2, cin: 3, h: 9, w: 13, cout: 16, kh: 7, kw: 7, pad: 1 },
  { n: 2, cin: 2, h: 18, w: 10, cout: 16, kh: 3, kw: 3 },
  { n: 2, cin: 3, h: 9, w: 9, cout: 16, kh: 2, kw: 2 },
  { n: 2, cin: 4, h: 10, w: 10, cout: 32, kh: 3, kw: 3, groups: 2 },
  // the spike forward's channel lists (padded rows wider than 16): masks of two and three words, positions
  // with more than 8 active channels and windows of more than 12 (at density 0.2), a stride of 2, rows wider
  // than one 56-bit read
  { n: 2, cin: 70, h: 3, w: 17, cout: 18, kh: 3, kw: 3, pad: 1 },
  { n: 2, cin: 130, h: 2, w: 17, cout: 21, kh: 1, kw: 1 },
  { n: 2, cin: 66, h: 5, w: 18, cout: 16, kh: 3, kw: 3, stride: 2, pad: 1 },
  { n: 1, cin: 16, h: 2, w: 121, cout: 5, kh: 2, kw: 3, pad: 1 },
  // the spike weight gradient's lists one item at a time (a bordered dyᵀ of 138 KB), 2 items per fixed group
  { n: 9, cin: 16, h: 20, w: 20, cout: 60, kh: 3, kw: 3, pad: 1 },
  // the dense forward's GEMM panels packed straight from x (a padded item past 1 MiB, whole 8-pixel rows)
  { n: 1, cin: 16, h: 126, w: 128, cout: 2, kh: 3, kw: 3, pad: 1 },
  // batches of 16 items: the spike forward may add table rows, beside narrowed and plain row-mask gathers
  { n: 16, cin: 3, h: 8, w: 8, cout: 8, kh: 3, kw: 3, pad: 1 },
  { n: 16, cin: 4, h: 6, w: 20, cout: 8, kh: 3, kw: 3, pad: 1 },
];

/** A case label: [n,cin,h,w]→cout kh×kw, stride, padding (height, width), groups. */
export const label = (o: ConvOpts): string =>
  `[${o.n},${o.cin},${o.h},${o.w}]→${o.cout} ${o.kh}x${o.kw} s${o.stride ?? 1} p${o.pad ?? 0}${o.padW === undefined ? '' : `,${o.padW}`} g${o.groups ?? 1}`;
