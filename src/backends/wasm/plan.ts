/**
 * Plan records of the convolution kernels (assembly/plan.ts): the geometry is written at the head of a record,
 * the kernel's planner export fills in its path, the bytes of its packed weights and of one thread's scratch,
 * and where their areas start. Pack, body and the sizes read here all come from that one record.
 */
import type { ConvGeom } from '../../kernels/contract.js';
import type { Arena } from './arena.js';
import type { WasmExports } from './loader.js';

/** The planner exports, one per kernel that plans. */
export type Planner = 'planConvForward' | 'planConvBackwardInput' | 'planConvBackwardWeight' | 'planSpikeConvForward'
  | 'planSpikeConvBackwardWeight' | 'planSpikeConvQ';

/** i32 fields of the header after the 14 geometry fields (assembly/plan.ts, class Plan). */
const FIELD = { path: 14, itemPaths: 15, weightBytes: 16, scratchBytes: 17 } as const;

/** Path names by the code a plan holds (assembly/plan.ts): for tests and messages. */
export const PLAN_PATHS: Readonly<Record<number, string>> = {
  1: 'winograd', 2: 'implicit', 3: 'padded implicit', 4: 'direct pack', 5: 'im2col',
  11: 'winograd', 12: 'implicit', 13: 'im2col',
  21: 'winograd', 22: 'implicit', 23: 'im2col',
  31: 'lists', 32: 'narrow masks', 33: 'masks', 34: 'scatter',
  41: 'lists', 42: 'masks', 43: 'scatter',
  51: 'lists', 52: 'windows', 53: 'tables',
};

/** itemPaths bits: the per-item alternatives a plan allows. */
export const ITEM_PATHS = { sparse: 1, table: 2 } as const;

/** A written plan: its byte offset (passed to the pack and the body) and the header fields. */
export interface Plan {
  readonly at: number;
  readonly path: number;
  readonly itemPaths: number;
  readonly weightBytes: number;
  readonly scratchBytes: number;
}

/**
 * Writes g at the head of a new plan record in the arena (the rest zeroed), then `inputs` (the planner's other
 * arguments, as the kernel's view reads them) right after the header, has `planner` fill it in, and returns
 * its header.
 */
export function writePlan(exp: WasmExports, arena: Arena, planner: Planner, g: ConvGeom, inputs: readonly number[] = []): Plan {
  const bytes = exp.planBytes(), at = arena.alloc(bytes), rec = arena.i32(at, bytes / 4);
  rec.fill(0);
  rec.set([g.n, g.cin, g.h, g.w, g.cout, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW, g.groups, g.oh, g.ow]);
  rec.set(inputs, FIELD.scratchBytes + 1);
  exp[planner](at);
  const f = arena.i32(at, FIELD.scratchBytes + 1);
  return { at, path: f[FIELD.path]!, itemPaths: f[FIELD.itemPaths]!, weightBytes: f[FIELD.weightBytes]!, scratchBytes: f[FIELD.scratchBytes]! };
}
