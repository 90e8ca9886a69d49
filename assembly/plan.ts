// Plan records: each convolution call chooses its path once. The JS side writes the geometry (the Conv fields)
// at the head of a record of PLAN_BYTES and calls the kernel's planner (planConvForward, …), which fills in
// the path, the bytes of the packed weights and of one thread's scratch, and where each of their areas
// starts. The pack and the body read the record (worker threads get its address with the other arguments),
// and the JS side reads the two sizes from it, so none of them can disagree about the path or the layout.
// Each path reads the record through its own view below: the header (Plan), then its own fields.
import { Conv } from './geom';

/** Bytes of a plan record: the plan (at most INNER bytes), then room for an inner plan at INNER. */
export const PLAN_BYTES: i32 = 256;

/** Bytes of a plan record (for the JS side, which allocates them). */
export function planBytes(): i32 {
  return PLAN_BYTES;
}

/**
 * Byte offset of the inner plan: the convolution a path runs on another geometry (the padded implicit
 * forward's padded item, the Winograd input gradient's forward on dy).
 */
export const INNER: usize = 128;

/** The header of every plan, after the geometry: i32 fields 14 to 17 (src/backends/wasm/plan.ts reads them). */
@unmanaged export class Plan extends Conv {
  /** The path the body takes: one of the kernel's path constants below. */
  path: i32;
  /** Per-item alternatives the data may still choose (ITEM_* bits): the static part of those choices. */
  itemPaths: i32;
  /** Bytes of the packed weights. */
  weightBytes: i32;
  /** Bytes of one thread's scratch. */
  scratchBytes: i32;
}

/** The plan record at `at` read through view T (a compile error when T's fields would pass INNER). */
@inline export function planAt<T>(at: usize): T {
  if (offsetof<T>() > INNER) ERROR('plan.ts: a plan view must end within INNER bytes');
  return changetype<T>(at);
}

/** The same record as `p`, read through view T. */
@inline export function viewAs<T>(p: Plan): T {
  return planAt<T>(changetype<usize>(p));
}

/** The inner plan of `p`, read through view T. */
@inline export function innerOf<T>(p: Plan): T {
  return planAt<T>(changetype<usize>(p) + INNER);
}

/** Bytes rounded up to a multiple of 64. */
@inline export function align64(bytes: i32): i32 {
  return (bytes + 63) & ~63;
}

// conv2dForward paths
/** Winograd F(2×2, 3×3) (conv-winograd.ts). */
export const FWD_WINOGRAD: i32 = 1;
/** Implicit GEMM straight from x (conv-implicit.ts). */
export const FWD_IMPLICIT: i32 = 2;
/** Each item copied into a zero border, then the implicit GEMM on it (the inner plan). */
export const FWD_PADDED: i32 = 3;
/** GEMM panels packed straight from x (whole 8-pixel panels in one row). */
export const FWD_DIRECT: i32 = 4;
/** GEMM panels packed from an im2col matrix. */
export const FWD_IM2COL: i32 = 5;

/**
 * FWD_WINOGRAD, and the inner plan of the Winograd input gradient: the weights are 16 packed A operands of
 * `operand` bytes (then room to build them); scratch holds a GEMM tile at 0, 16 packed V operands of
 * `vOperand` bytes at v, the 16 products at m and the zero-bordered item at xp.
 */
@unmanaged export class WinogradPlan extends Plan {
  operand: i32; vOperand: i32; v: i32; m: i32; xp: i32;
}

/**
 * FWD_IMPLICIT, and the inner plan of FWD_PADDED: weights in `panels` panels of `rows` rows per group;
 * scratch holds a tail tile at 0 and the tap table at tab.
 */
@unmanaged export class ImplicitPlan extends Plan {
  rows: i32; panels: i32; tab: i32;
}

/**
 * FWD_PADDED: scratch holds the zero-bordered item at 0 and the inner plan's scratch at `inner`; the inner
 * plan (at INNER) is an ImplicitPlan of one padded item.
 */
@unmanaged export class PaddedPlan extends Plan {
  inner: i32;
}

/**
 * FWD_DIRECT and FWD_IM2COL: `groupBytes` of packed weights per group; scratch holds a GEMM tile at 0, the
 * B panels of `chunk` pixel panels at pb and (FWD_IM2COL) the im2col matrix at col.
 */
@unmanaged export class PackedPlan extends Plan {
  groupBytes: i32; chunk: i32; pb: i32; col: i32;
}

// conv2dBackwardInput paths (the dense body; items with sparse dy may take the sparse path, ITEM_SPARSE)
/** The Winograd forward on dy with the kernels flipped and transposed (the inner plan). */
export const INPUT_WINOGRAD: i32 = 11;
/** Implicit GEMM adding straight into dx rows (conv-implicit-input.ts). */
export const INPUT_IMPLICIT: i32 = 12;
/** GEMM into an im2col-shaped dcol, then col2im. */
export const INPUT_IM2COL: i32 = 13;
/** itemPaths bit: items whose dy is sparse enough take the sparse path (conv-sparse-input.ts). */
export const ITEM_SPARSE: i32 = 1;

/**
 * Every conv2dBackwardInput plan: the sparse path's weight layout starts at sparseWeights of the packed
 * weights (after the dense body's); the sparse path's scratch (ITEM_SPARSE) holds its accumulator at 0, dy
 * pixel-major at dyT, term starts at starts, terms at terms and its Reach table at reach; the dense body's
 * scratch starts at `dense`.
 */
@unmanaged export class InputPlan extends Plan {
  sparseWeights: i32; dense: i32; dyT: i32; starts: i32; terms: i32; reach: i32;
}

/** INPUT_WINOGRAD: the flipped kernels at `flipped` of the packed weights (the Winograd operands at 0). */
@unmanaged export class WinogradInputPlan extends InputPlan {
  flipped: i32;
}

/** INPUT_IMPLICIT: the dense scratch holds a tile at 0, the depth table at dtab and the row table at rtab. */
@unmanaged export class ImplicitInputPlan extends InputPlan {
  dtab: i32; rtab: i32;
}

/** INPUT_IM2COL: `groupBytes` of packed Wᵀ per group; the dense scratch holds a tile at 0, B panels at pb, dcol at dcol. */
@unmanaged export class PackedInputPlan extends InputPlan {
  groupBytes: i32; pb: i32; dcol: i32;
}

// conv2dBackwardWeight paths (no packed weights: weightBytes is 0)
/** Winograd: 16 GEMMs dU += dM · Vᵀ over the tiles, then dw = Gᵀ dU G. */
export const WEIGHT_WINOGRAD: i32 = 21;
/** Implicit: dwᵀ tiles summed straight from x (conv-implicit.ts). */
export const WEIGHT_IMPLICIT: i32 = 22;
/** im2col of chunks of items, then one GEMM per chunk. */
export const WEIGHT_IM2COL: i32 = 23;

/**
 * WEIGHT_WINOGRAD: scratch holds a GEMM tile at 0, the padded item at xp, V at v, dM at dm, one packed pair
 * of GEMM operands at pa and pb, and the 16 sums dU at du.
 */
@unmanaged export class WinogradWeightPlan extends Plan {
  xp: i32; v: i32; dm: i32; pa: i32; pb: i32; du: i32;
}

/** WEIGHT_IMPLICIT: `items` per chunk; scratch holds the tap table at 0, the pixel table at pix, dyᵀ at dyT, dwᵀ at dwT. */
@unmanaged export class ImplicitWeightPlan extends Plan {
  items: i32; pix: i32; dyT: i32; dwT: i32;
}

/** WEIGHT_IM2COL: `chunk` items per GEMM; scratch holds a GEMM tile at 0, A panels at pa, B panels at pb, im2col at col. */
@unmanaged export class PackedWeightPlan extends Plan {
  chunk: i32; pa: i32; pb: i32; col: i32;
}

// spikeConv2dForward paths (how sparse items are summed; dense items may add table rows, ITEM_TABLE)
/** Channel lists per input position (spike-lists.ts). */
export const SPIKE_LISTS: i32 = 31;
/** Row-mask gather with narrowed tap words (spike-masks gatherNarrow). */
export const SPIKE_NARROW: i32 = 32;
/** Row-mask gather (spike-masks gatherItem). */
export const SPIKE_MASKS: i32 = 33;
/** Each active input scatters its weights into an accumulator. */
export const SPIKE_SCATTER: i32 = 34;
/** itemPaths bit: items with at least minActive active inputs add table rows instead (spike-lut.ts). */
export const ITEM_TABLE: i32 = 2;

/**
 * spikeConv2dForward: the packed weights hold the [c][ky][kx][coutG] layout at 0 (scatter, row-mask gather,
 * and the table's build), the table at `table` and the narrow or list layout at rowWeights. Scratch holds
 * the accumulator at 0; the row-mask paths (and table items) their row masks at masks, the collected rows
 * and tap words at rows and words, one plane's bits at bits and the table offsets at offs; the lists their
 * channel masks at listMasks, position records at positions, offset lists at listOffsets, a pixel's list at
 * list and one plane's bits at listBits.
 */
@unmanaged export class SpikeForwardPlan extends Plan {
  minActive: i32; table: i32; rowWeights: i32;
  masks: i32; rows: i32; words: i32; bits: i32; offs: i32;
  listMasks: i32; positions: i32; listOffsets: i32; list: i32; listBits: i32;
}

// spikeConv2dBackwardWeight paths (no packed weights)
/** Lists of each channel's active inputs over bordered dyᵀ (spike-lists listWeights). */
export const SPIKE_WEIGHT_LISTS: i32 = 41;
/** Every weight tap gathers its terms through row masks (spike-masks gatherWeights). */
export const SPIKE_WEIGHT_MASKS: i32 = 42;
/** Every active input scatters its output gradient into its taps. */
export const SPIKE_WEIGHT_SCATTER: i32 = 43;

/**
 * spikeConv2dBackwardWeight: `chunk` items at a time, each with `itemBytes` of dyᵀ (SPIKE_WEIGHT_LISTS: inside
 * a zero border; SPIKE_WEIGHT_MASKS: after `lead` bytes of a zero output row when kernel rows go in pairs)
 * and, for the masks, maskBytes of row masks at 0. Scratch holds the dyᵀ of the chunk at dyT, the lists'
 * active inputs at list and one plane's bits at bits.
 */
@unmanaged export class SpikeWeightPlan extends Plan {
  chunk: i32; itemBytes: i32; lead: i32; maskBytes: i32; dyT: i32; list: i32; bits: i32;
}

// spikeConv2dQ paths (the quantized spike convolution: quant-conv.ts, quant-windows.ts)
/** Channel lists per input position, each pixel summing the code rows its window's lists name (quant-conv.ts). */
export const QUANT_LISTS: i32 = 51;
/** Row-mask words over the windows of up to four neighbouring pixels, their set bits summed (quant-windows.ts). */
export const QUANT_WINDOWS: i32 = 52;
/** Tables of each kernel row's 2^kw tap sums, one row added per kernel row and pixel (quant-lut.ts). */
export const QUANT_LUT: i32 = 53;

/**
 * Every spikeConv2dQ plan. The caller writes bits (2, 4 or 8) and gated (1 when the call has a gate) before
 * planning. Packed weights: per group `rows` rows of `width` lanes (output channels rounded up to 16; i8
 * lanes for bits 2, else i16), groupBytes per group, then `width` scales per group at `scale`. Scratch holds
 * the i32 carries at 0 (CARRY_BYTES), then the f32 sums ([pixels][width]), the item's open channels at open,
 * when gated the open channels' weights and scales compacted right after them (the packed layout, quant-conv
 * compactAt), and one plane's bits at planeBits.
 */
@unmanaged export class SpikeConvQPlan extends Plan {
  bits: i32; gated: i32;
  width: i32; rows: i32; groupBytes: i32; scale: i32;
  open: i32; planeBits: i32;
}

/**
 * QUANT_LISTS: scratch holds the channel masks at listMasks, position records and offset lists, and a pixel's
 * list; spans = 1 when a pixel copies its list as kh spans of consecutive position lists (quant-conv spanList).
 */
@unmanaged export class QuantListsPlan extends SpikeConvQPlan {
  listMasks: i32; positions: i32; listOffsets: i32; list: i32; spans: i32;
}

/**
 * QUANT_WINDOWS: `pixels` neighbouring pixels share each word; scratch holds the row masks at masks, one output
 * row's 16-bit kernel rows at rows16 and the tap words at words.
 */
@unmanaged export class QuantWindowsPlan extends SpikeConvQPlan {
  masks: i32; rows16: i32; words: i32; pixels: i32;
}

/** QUANT_LUT: scratch holds the windows' row masks at masks (the other windows fields unused). */
@unmanaged export class QuantLutPlan extends QuantWindowsPlan {}
