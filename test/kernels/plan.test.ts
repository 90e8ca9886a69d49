// The plan records of the convolution kernels (assembly/plan.ts): each call's path is chosen once, by its
// planner. The paths must be the ones the per-function predicates chose before the plans (written out below
// as `chosen`, from the AssemblyScript they replaced), on the parity shapes and on a grid of geometries; every
// path of every kernel must be taken by at least one parity shape; and the sizes must cover the layout. The
// path of each parity shape is printed as a diagnostic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outSize, type ConvGeom } from '../../src/kernels/contract.js';
import { wasmBackendSync } from '../../src/backends/wasm/index.js';
import { ITEM_PATHS, PLAN_PATHS, writePlan, type Planner } from '../../src/backends/wasm/plan.js';
import { convGeom, rng } from './geom.js';
import { CONVS, label } from './shapes.js';

const backend = wasmBackendSync();
if (backend === undefined) throw new Error('plan: build/edgespike.wasm is missing (run node scripts/build-wasm.mjs)');

/** The kernels that plan, by planner export. */
const PLANNERS: Record<string, Planner> = {
  conv2dForward: 'planConvForward',
  conv2dBackwardInput: 'planConvBackwardInput',
  conv2dBackwardWeight: 'planConvBackwardWeight',
  spikeConv2dForward: 'planSpikeConvForward',
  spikeConv2dBackwardWeight: 'planSpikeConvBackwardWeight',
};
type Kernel = keyof typeof PLANNERS;

/**
 * Every path of each kernel, with the per-item alternative ('+ sparse items', '+ table items') it allows.
 * (Winograd input gradients always allow sparse items: their kernel rows are 3·cin ≥ 96 floats long.)
 */
const PATHS: Record<Kernel, string[]> = {
  conv2dForward: ['winograd', 'implicit', 'padded implicit', 'direct pack', 'im2col'],
  conv2dBackwardInput: ['implicit', 'im2col', 'winograd + sparse items', 'implicit + sparse items', 'im2col + sparse items'],
  conv2dBackwardWeight: ['winograd', 'implicit', 'im2col'],
  spikeConv2dForward: ['lists', 'narrow masks', 'masks', 'scatter', 'lists + table items', 'narrow masks + table items', 'masks + table items'],
  spikeConv2dBackwardWeight: ['lists', 'masks', 'scatter'],
};

/** The path a kernel's plan names for g, with its per-item alternative. */
function planned(kernel: Kernel, g: ConvGeom): { path: string; weightBytes: number; scratchBytes: number } {
  const mark = backend!.arena.mark();
  try {
    const p = writePlan(backend!.wasm.exports, backend!.arena, PLANNERS[kernel]!, g);
    const name = PLAN_PATHS[p.path];
    assert.ok(name !== undefined, `${kernel}: unknown path ${p.path}`);
    const items = p.itemPaths & ITEM_PATHS.sparse ? ' + sparse items' : p.itemPaths & ITEM_PATHS.table ? ' + table items' : '';
    return { path: name + items, weightBytes: p.weightBytes, scratchBytes: p.scratchBytes };
  } finally { backend!.arena.release(mark); }
}

// The predicates each function evaluated before the plans (assembly/*.ts), with the constants they used.
const NR = 8;
const implicitForward = (g: ConvGeom): boolean => g.strideH === 1 && g.strideW === 1 && g.padH === 0 && g.padW === 0 && g.ow % NR === 0;
const winogradApplies = (g: ConvGeom): boolean => g.groups === 1 && g.kh === 3 && g.kw === 3 && g.strideH === 1 && g.strideW === 1
  && g.cin >= 32 && g.cout >= 32 && g.oh > 0 && g.ow > 0;
const paddedImplicit = (g: ConvGeom): boolean => g.strideH === 1 && g.strideW === 1 && (g.padH > 0 || g.padW > 0) && g.ow % NR === 0
  && g.cin * (g.h + 2 * g.padH) * (g.w + 2 * g.padW) * 4 <= 1 << 20;
const implicitInput = (g: ConvGeom): boolean => implicitForward(g) && ((g.cin / g.groups) * g.kw) % 4 === 0
  && (g.cout / g.groups <= 16 || g.oh * g.ow <= 64);
const winogradInput = (g: ConvGeom): boolean => winogradApplies(g) && g.padH <= 2 && g.padW <= 2 && g.h > 0 && g.w > 0;
const gathers = (g: ConvGeom): boolean => g.w <= 56 && g.w + g.padW <= 64 && g.kw < 64;
const lutBytes = (g: ConvGeom): number => (g.kw > 6 ? Infinity : g.cin * g.kh * (1 << g.kw) * (g.cout / g.groups) * 4);
const tableForward = (g: ConvGeom): boolean => g.n >= 16 && gathers(g) && (g.cout / g.groups) % 4 === 0 && g.kw <= 6
  && lutBytes(g) <= 512 << 10 && (g.ow - 1) * g.strideW < 64;
const listGathers = (g: ConvGeom): boolean => g.groups === 1 && g.cin >= 16;
const narrowGathers = (g: ConvGeom): boolean => g.kw <= 8 && g.w + 2 * g.padW <= 16 && (g.ow - 1) * g.strideW + g.kw <= 16;
const narrowForward = (g: ConvGeom): boolean => gathers(g) && narrowGathers(g) && !(listGathers(g) && g.cin >= 32 && g.kw <= 3);
const listWeightGathers = (g: ConvGeom): boolean => listGathers(g) && g.strideH === 1 && g.strideW === 1
  && (g.w + 2 * g.padW > 16 || (g.cin >= 32 && g.kw <= 3));

/** The path the old predicates chose for each kernel. */
function chosen(kernel: Kernel, g: ConvGeom): string {
  switch (kernel) {
    case 'conv2dForward':
      if (winogradApplies(g)) return 'winograd';
      if (implicitForward(g)) return 'implicit';
      if (paddedImplicit(g)) return 'padded implicit';
      return g.strideW === 1 && g.ow % NR === 0 ? 'direct pack' : 'im2col';
    case 'conv2dBackwardInput': {
      const dense = winogradInput(g) ? 'winograd' : implicitInput(g) ? 'implicit' : 'im2col';
      return g.kw * (g.cin / g.groups) >= 16 ? `${dense} + sparse items` : dense;
    }
    case 'conv2dBackwardWeight':
      return winogradApplies(g) ? 'winograd' : implicitForward(g) ? 'implicit' : 'im2col';
    case 'spikeConv2dForward': {
      const path = narrowForward(g) ? 'narrow masks' : listGathers(g) ? 'lists' : gathers(g) ? 'masks' : 'scatter';
      return tableForward(g) ? `${path} + table items` : path;
    }
    default:
      if (listWeightGathers(g)) return 'lists';
      return gathers(g) && g.strideW === 1 && g.ow > 0 && g.ow < 64 ? 'masks' : 'scatter';
  }
}

/** Geometries beside the parity shapes: both benchmark layers and a seeded grid around every threshold. */
function moreGeometries(): ConvGeom[] {
  const out: ConvGeom[] = [
    convGeom({ n: 128, cin: 16, h: 12, w: 12, cout: 16, kh: 5, kw: 5 }),
    convGeom({ n: 32, cin: 64, h: 32, w: 32, cout: 64, kh: 3, kw: 3, pad: 1 }),
  ];
  const r = rng(7), pick = <T>(xs: readonly T[]): T => xs[Math.floor(((r() + 1) / 2) * xs.length)]!;
  while (out.length < 600) {
    const groups = pick([1, 1, 1, 2, 4]), cinG = pick([1, 3, 4, 8, 16, 32, 40]), coutG = pick([3, 4, 16, 20, 32, 40, 64]);
    const kh = pick([1, 2, 3, 5, 7]), kw = pick([1, 3, 5, 7]), s = pick([1, 1, 1, 2]), sw = pick([s, s, 1]);
    const ph = pick([0, 0, 1, 2, 3]), pw = pick([ph, ph, 0, 1]), h = pick([2, 4, 8, 12, 16, 32]), w = pick([4, 8, 9, 12, 16, 17, 32, 56, 60, 70]);
    const oh = outSize(h, kh, s, ph), ow = outSize(w, kw, sw, pw);
    if (oh <= 0 || ow <= 0) continue;
    out.push({ n: pick([1, 2, 16, 17, 40]), cin: groups * cinG, h, w, cout: groups * coutG, kh, kw, strideH: s, strideW: sw,
      padH: ph, padW: pw, groups, oh, ow });
  }
  return out;
}

test('each kernel plans the path its old predicates chose, on the parity shapes and a grid of geometries', () => {
  for (const g of [...CONVS.map(convGeom), ...moreGeometries()]) {
    for (const kernel of Object.keys(PLANNERS) as Kernel[]) {
      assert.equal(planned(kernel, g).path, chosen(kernel, g), `${kernel} ${JSON.stringify(g)}`);
    }
  }
});

test('every path of every kernel is taken by at least one parity shape', (t) => {
  const seen = new Map<string, string[]>();
  for (const o of CONVS) {
    const g = convGeom(o), row = (Object.keys(PLANNERS) as Kernel[]).map((k) => {
      const { path } = planned(k, g);
      seen.set(`${k}: ${path}`, [...(seen.get(`${k}: ${path}`) ?? []), label(o)]);
      return `${k} ${path}`;
    });
    t.diagnostic(`${label(o)}: ${row.join('; ')}`);
  }
  for (const [kernel, paths] of Object.entries(PATHS)) {
    for (const path of paths) assert.ok(seen.has(`${kernel}: ${path}`), `no parity shape takes ${kernel}: ${path}`);
  }
});

test('plans size what their paths use: weights for the packing kernels, scratch for every one', () => {
  for (const g of moreGeometries()) {
    for (const kernel of Object.keys(PLANNERS) as Kernel[]) {
      const { weightBytes, scratchBytes } = planned(kernel, g), packs = kernel === 'conv2dForward' || kernel === 'conv2dBackwardInput';
      assert.ok(scratchBytes > 0 && Number.isInteger(scratchBytes), `${kernel} scratch ${scratchBytes}`);
      assert.ok(packs || kernel === 'spikeConv2dForward' ? weightBytes > 0 : weightBytes === 0, `${kernel} weights ${weightBytes}`);
    }
  }
});
