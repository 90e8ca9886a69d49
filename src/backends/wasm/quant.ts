/**
 * The wasm body of the quantized kernels (assembly/quant.ts, quant-conv.ts, quant-windows.ts, qlif.ts): inputs
 * copied into the arena unless they already live in wasm memory (lent by a workspace), codes re-laid on the
 * first call with a q array and kept for later calls with the same q and scale arrays (QuantKernels), in wasm
 * memory of their own from the second call on; rows, items or neurons split over the threads when the work is
 * large, outputs copied back unless written in place. qlifForward on grids of up to QLIF_STEP_LEVELS levels takes
 * the step path of assembly/qlif.ts with the breakpoints qlifStepTable finds (once per parameter set), and for a
 * static input from the level of 0 the pattern path with qlifPatternTable's intervals.
 */
import type { ConvGeom } from '../../kernels/contract.js';
import { EdgespikeError } from '../../util/errors.js';
import { refQuantKernels } from '../ref/quant.js';
import { packedBytes, type QlifParams, type QuantKernels } from '../../kernels/quant.js';
import type { Arena } from './arena.js';
import type { ThreadSettings } from './kernels.js';
import type { WasmExports } from './loader.js';
import { writePlan } from './plan.js';
import type { ParallelExport, ThreadPool } from './threads.js';

/** The quantized exports of build/edgespike.wasm (pointers are byte offsets; bits is 2, 4 or 8). */
export interface QuantExports {
  spikeLinearQPackedBytes(n: number, k: number): number;
  spikeLinearQScratchBytes(k: number): number;
  spikeLinearQPack(q: number, scale: number, packed: number, n: number, k: number): void;
  spikeLinearQ(s: number, sb: number, packed: number, y: number, m: number, n: number, k: number, bits: number, i0: number, i1: number, scratch: number): void;
  spikeConvQPack(q: number, scale: number, wr: number, plan: number): void;
  spikeConv2dQ(s: number, sb: number, wr: number, y: number, gate: number, plan: number, b0: number, b1: number, scratch: number): void;
  qlifForward(x: number, level: number, s: number, T: number, m: number, stat: number, tau: number, thresh: number, lb: number,
    interval: number, levels: number, tab: number, i0: number, i1: number, cnt: number, sb: number, pt: number): void;
}

/** How the kernels may split: the pool and the settings read on every call (absent: one thread). */
export interface QuantThreads { readonly pool: ThreadPool; readonly settings: ThreadSettings }

/** Step-path tables kept by the quantized kernels (one per quantized-membrane layer of the nets in use). */
const STEP_TABLES = 256;

/** Work per neuron and step of qlifForward, in the units of ThreadSettings.minParallelWork (about its float operations). */
const WORK_PER_UPDATE = 20;

/** Re-laid codes of one layout: the scale array they were made with, the bytes, and their offset in wasm memory once pinned (else −1). */
interface PackEntry { readonly scale: Float32Array; readonly bytes: Uint8Array; pinned: number }
/** Re-laid codes by the q array they came from, per layout key. */
type PackCache = WeakMap<Int8Array, Map<string, PackEntry>>;

/** Most bytes of re-laid codes kept in wasm memory for good (beyond it they are copied in on every call). */
const PIN_LIMIT = 64 << 20;

/** Binds the quantized kernels to a module's exports and arena; with `threads`, large calls split over the pool. */
export function wasmQuantKernels(exports: WasmExports, arena: Arena, threads?: QuantThreads): QuantKernels {
  const exp = exports as unknown as QuantExports & WasmExports;
  const packs: PackCache = new WeakMap();
  // codes used a second time are copied once into memory reserved for good (up to PIN_LIMIT bytes in all), so that
  // later calls read them in place instead of copying them in (at batch 1 the copy costs as much as a layer's sums)
  const pending: PackEntry[] = [];
  let pinnedBytes = 0;
  /**
   * The re-laid codes of (q, scale) for layout `key` (bytes long) at a new arena offset: copied from the cache
   * when this q and scale were re-laid for the key before, else made by `pack` (given the arena offsets of q and
   * scale, and where to write) and kept. Inference calls a layer's kernel with the same arrays every time, and
   * re-laying the codes then costs more than the sums at batch 1.
   */
  const packed = (q: Int8Array, scale: Float32Array, key: string, bytes: number, pack: (pq: number, psc: number, dst: number) => void): number => {
    let byKey = packs.get(q);
    const hit = byKey?.get(key);
    if (hit && hit.scale === scale) {
      if (hit.pinned >= 0) return hit.pinned;
      const at = arena.alloc(bytes);
      arena.u8(at, bytes).set(hit.bytes);
      if (pinnedBytes + bytes <= PIN_LIMIT) pending.push(hit);
      return at;
    }
    const at = arena.alloc(bytes);
    pack(arena.put(q), arena.put(scale), at);
    if (!byKey) { byKey = new Map(); packs.set(q, byKey); }
    byKey.set(key, { scale, bytes: arena.u8(at, bytes).slice(), pinned: -1 });
    return at;
  };
  /** Gives the codes met again since the last call memory of their own, outside any kernel scope. */
  const pin = (): void => {
    for (const e of pending.splice(0)) {
      if (e.pinned >= 0 || pinnedBytes + e.bytes.length > PIN_LIMIT) continue;
      e.pinned = arena.reserve(e.bytes.length);
      arena.u8(e.pinned, e.bytes.length).set(e.bytes);
      pinnedBytes += e.bytes.length;
    }
  };
  const scoped = (fn: () => void): void => {
    const mark = arena.mark();
    try { fn(); } finally { arena.release(mark); }
    if (pending.length) pin();
  };
  /** Threads for `work` units over `items` pieces (1 below minParallelWork or without a pool). */
  const threadsFor = (work: number, items: number): number => {
    const cfg = threads?.settings;
    if (!cfg || items < 2 || work < cfg.minParallelWork) return 1;
    return threads!.pool.usable(Math.min(cfg.threads, items));
  };
  /**
   * Runs body `name` over [0, items), its last args (from, to, scratch), with one scratch area per thread; the
   * range is cut into chunks the threads claim one at a time (the bodies write apart, so the bits do not depend
   * on who took which chunk).
   */
  const split = (name: ParallelExport, work: number, items: number, scratchBytes: number, head: number[]): void => {
    const parts = threadsFor(work, items), scratch = Array.from({ length: parts }, () => arena.alloc(scratchBytes));
    if (parts === 1) { (exp[name as keyof QuantExports] as (...a: number[]) => void)(...head, 0, items, scratch[0]!); return; }
    threads!.pool.run(name, parts, 0, items, (p, from, to) => [...head, from, to, scratch[p]!], parts * threads!.settings.chunksPerThread);
  };
  /**
   * The step path's tables by parameter set (inference calls each layer with its own parameters every time, and
   * finding a table costs about as much as a batch-1 layer); at most STEP_TABLES kept, the oldest dropped first.
   */
  const steps: { p: QlifParams; table: Float32Array | undefined; patterns: Map<number, Uint8Array | undefined> }[] = [];
  const same = (a: QlifParams, b: QlifParams): boolean => Object.is(a.tau, b.tau) && Object.is(a.thresh, b.thresh) && Object.is(a.lb, b.lb)
    && Object.is(a.interval, b.interval) && a.levels === b.levels;
  const stepTable = (p: QlifParams): Float32Array | undefined => entry(p).table;
  // a parameter set is found by its values, not the object (callers build a new one per call)
  const entry = (p: QlifParams): (typeof steps)[number] => {
    for (let i = steps.length - 1; i >= 0; i--) if (same(steps[i]!.p, p)) return steps[i]!;
    const e = { p: { tau: p.tau, thresh: p.thresh, lb: p.lb, interval: p.interval, levels: p.levels }, table: qlifStepTable(p), patterns: new Map() };
    if (steps.length >= STEP_TABLES) steps.shift();
    steps.push(e);
    return e;
  };
  /** The pattern path's table for static inputs over T steps, kept with the parameter set's step table. */
  const patternTable = (p: QlifParams, T: number, table: Float32Array): Uint8Array | undefined => {
    const byT = entry(p).patterns;
    if (!byT.has(T)) byT.set(T, qlifPatternTable(p, T, table));
    return byT.get(T);
  };
  return {
    spikeLinearQ: (s, q, scale, y, m, n, k, bits, packedSpikes) => scoped(() => {
      const ps = arena.put(s, m * k), py = arena.out(y, m * n);
      const pk = packed(q.length === n * k ? q : q.subarray(0, n * k), scale.length === n ? scale : scale.subarray(0, n), `linear ${n} ${k}`,
        exp.spikeLinearQPackedBytes(n, k), (pq, psc, dst) => exp.spikeLinearQPack(pq, psc, dst, n, k));
      const psb = packedSpikes && packedSpikes.length >= packedBytes(m * k) ? arena.put(packedSpikes) : 0;
      split('spikeLinearQ', m * n * k, m, exp.spikeLinearQScratchBytes(k), [ps, psb, pk, py, m, n, k, bits]);
      arena.copyOut(y, py, m * n);
    }),
    spikeConv2dQ: (s, q, scale, y, g, bits, gate, packedSpikes) => scoped(() => {
      const plan = writePlan(exp, arena, 'planSpikeConvQ', g, [bits, gate ? 1 : 0]);
      const nx = g.n * g.cin * g.h * g.w, ny = g.n * g.cout * g.oh * g.ow, nw = g.cout * (g.cin / g.groups) * g.kh * g.kw;
      const ps = arena.put(s, nx), py = arena.out(y, ny);
      const pg = gate ? arena.put(gate, g.n * g.cout) : 0;
      // the layout depends on the geometry but not on the batch (n) or the gate flag's scratch
      const key = `conv ${g.cin} ${g.h} ${g.w} ${g.cout} ${g.kh} ${g.kw} ${g.strideH} ${g.strideW} ${g.padH} ${g.padW} ${g.groups} ${bits} ${plan.path}`;
      const wr = packed(q.length === nw ? q : q.subarray(0, nw), scale.length === g.cout ? scale : scale.subarray(0, g.cout), key, plan.weightBytes,
        (pq, psc, dst) => exp.spikeConvQPack(pq, psc, dst, plan.at));
      const psb = packedSpikes && packedSpikes.length >= packedBytes(nx) ? arena.put(packedSpikes) : 0;
      split('spikeConv2dQ', convAdds(g), g.n, plan.scratchBytes, [ps, psb, wr, py, pg, plan.at]);
      arena.copyOut(y, py, ny);
    }),
    qlifForward: (x, level, s, T, m, staticInput, p, packed) => {
      let count = 0;
      if (packed && packed.length < packedBytes(T * m)) throw new EdgespikeError(`qlifForward: packed spikes need ${packedBytes(T * m)} bytes, got ${packed.length}`);
      scoped(() => {
        const px = arena.put(x, staticInput ? m : T * m), pl = arena.put(level, m), ps = arena.out(s, T * m);
        const psb = packed ? arena.put(packed) : 0;
        // with packed spikes, threads take whole blocks of 16 neurons (m a multiple of 16) so that none shares a byte
        const unit = packed ? 16 : 4, blocks = Math.ceil(m / unit);
        const parts = m < 8 || (packed && m % 16 !== 0) ? 1 : threadsFor(WORK_PER_UPDATE * T * m, blocks), cnt = arena.alloc(32 * parts);
        // per part 32 bytes: its spike count at 0, a vector counter at 16 (assembly/qlif.ts)
        arena.i32(cnt, 8 * parts).fill(0);
        const table = stepTable(p), tab = table ? arena.put(table) : 0;
        const pattern = table && staticInput ? patternTable(p, T, table) : undefined, pt = pattern ? arena.put(pattern) : 0;
        const args = (q: number, b0: number, b1: number): number[] => [px, pl, ps, T, m, staticInput ? 1 : 0, p.tau, p.thresh, p.lb,
          p.interval, p.levels, tab, unit * b0, Math.min(m, unit * b1), cnt + 32 * q, psb, pt];
        if (parts === 1) exp.qlifForward(...(args(0, 0, blocks) as Parameters<QuantExports['qlifForward']>));
        else threads!.pool.run('qlifForward', parts, 0, blocks, args);
        const counts = arena.i32(cnt, 8 * parts);
        for (let q = 0; q < parts; q++) count += counts[8 * q]!;
        arena.copyOut(level, pl, m);
        arena.copyOut(s, ps, T * m);
        if (packed) arena.copyOut(packed, psb);
      });
      return count;
    },
  };
}

/** Adds of a spike convolution at full density (the dense forward's multiply-adds): the work that decides a split. */
function convAdds(g: ConvGeom): number {
  return g.n * g.cout * g.oh * g.ow * (g.cin / g.groups) * g.kh * g.kw;
}

/** Most levels the step path of assembly/qlif.ts takes (its STEP_LEVELS). */
export const QLIF_STEP_LEVELS = 8;

const fr = Math.fround;

/** The level the reference body (src/backends/ref/quant.ts) gives a neuron that does not fire at charge h, rounded as it rounds. */
function levelOf(h: number, lb: number, th: number, iv: number, top: number): number {
  const c = Math.min(Math.max(h, lb), th);
  const u = Math.floor(fr(fr(c - lb) / iv));
  const k = Number.isNaN(u) ? 0 : Math.min(Math.max(u, 0), top);
  const lo = fr(lb + fr(k * iv)), hi = fr(lo + iv);
  return Math.abs(fr(c - hi)) < Math.abs(fr(c - lo)) ? k + 1 : k;
}

/** Float32 values ordered as integers: o ≥ 0 is the float with bits o, o < 0 minus the float with bits −o; −0 and +0 are both 0. */
const ORD_INF = 0x7f800000;
const ordBits = new Uint32Array(1), ordFloat = new Float32Array(ordBits.buffer);
function fromOrd(o: number): number {
  ordBits[0] = o >= 0 ? o : (-o | 0x80000000) >>> 0;
  return ordFloat[0]!;
}

/**
 * The least o in [−ORD_INF, ORD_INF] where `holds` (false below some o, true from it on; true at ORD_INF) is true:
 * a binary search over float32 in value order.
 */
function leastOrd(holds: (o: number) => boolean): number {
  let below = -ORD_INF - 1, at = ORD_INF;
  while (at - below > 1) {
    const mid = Math.floor((below + at) / 2);
    if (holds(mid)) at = mid; else below = mid;
  }
  return at;
}

/**
 * The table of qlifForward's step path (assembly/qlif.ts), or undefined where that path does not apply: more than
 * QLIF_STEP_LEVELS levels, or parameters under which the next level might not be a step function of the charge.
 * 4-byte slots: the breakpoints b_1 … b_{levels−1} from 0 (float32; b_j the least float32 h whose level is ≥ j, NaN
 * where no h reaches j), at 16 the charge τ·(lb + k·interval) of level 0 (float32), at 16 + k the bits of level k's
 * charge minus those of level k − 1's (int32, wrapping), at 32 the bits of the charge of the level of 0 minus those
 * of the level of θ (int32), at 33 the level of 0 minus the level of θ, at 34 the number of breakpoints.
 *
 * Why the level is a step function of h here: c = min(max(h, lb), θ) never decreases as h grows, nor does
 * k = floor((c − lb)/interval) clamped (every rounding is monotone, interval > 0). For one k, with lo ≤ hi its grid
 * values (lo ≥ lb), the test |c − hi| < |c − lo| is false below lo (c − hi ≤ c − lo ≤ 0 after rounding), turns true
 * at most once on [lo, hi] (|c − hi| falls, |c − lo| grows), and above hi it holds unless c − hi and c − lo round to
 * the same float: that cannot happen when hi − lo exceeds the spacing of float32 at |θ − lb| (each difference is
 * at most θ − lb and rounds by at most half that spacing), or when hi = lo (never true). So within one k the level
 * goes from k to k + 1 at most once, and from one k to the next it never falls. Grids that fail the spacing test
 * (θ far above the top level next to a fine interval) keep the general path.
 */
export function qlifStepTable(p: QlifParams): Float32Array | undefined {
  const lb = fr(p.lb), th = fr(p.thresh), iv = fr(p.interval), tau = fr(p.tau), L = p.levels, top = L - 2;
  if (!Number.isInteger(L) || L < 2 || L > QLIF_STEP_LEVELS || !Number.isFinite(lb) || !Number.isFinite(th) || !Number.isFinite(iv) || !(iv > 0)) return undefined;
  const span = Math.abs(th - lb);
  if (!(span < 2 ** 127)) return undefined;
  // the spacing of float32 in the binade [2^e, 2^(e+1)) that holds span (2^−149 at the least)
  let e = span === 0 ? -149 : Math.floor(Math.log2(span));
  if (span !== 0) { if (2 ** (e + 1) <= span) e++; else if (2 ** e > span) e--; }
  const spacing = 2 ** Math.max(e - 23, -149);
  for (let k = 0; k <= top; k++) {
    const lo = fr(lb + fr(k * iv)), hi = fr(lo + iv);
    if (hi !== lo && !(hi - lo > spacing)) return undefined;
  }
  const table = new Float32Array(35), level = (o: number): number => levelOf(fromOrd(o), lb, th, iv, top);
  for (let j = 1; j < L; j++) {
    table[j - 1] = level(ORD_INF) < j ? NaN : fromOrd(leastOrd((o) => level(o) >= j));
  }
  // the charges of the levels as bits: tv_0, then the differences of neighbours (wrapping, as the i32 lanes add them)
  const word = new Int32Array(table.buffer), bits = new Int32Array(1), asFloat = new Float32Array(bits.buffer);
  const chargeBits = (k: number): number => { asFloat[0] = fr(tau * fr(lb + fr(k * iv))); return bits[0]!; };
  word[16] = chargeBits(0);
  for (let k = 1; k < L; k++) word[16 + k] = chargeBits(k) - chargeBits(k - 1);
  // a spike: from the level of θ (all breakpoints that some h reaches lie at or below θ) to the level of 0
  const zero = levelOf(0, lb, th, iv, top), atTh = levelOf(th, lb, th, iv, top);
  word[32] = chargeBits(zero) - chargeBits(atTh);
  word[33] = zero - atTh;
  word[34] = L - 1;
  return table;
}

/** Most breakpoints of qlifForward's pattern path: its K + 1 intervals index a 16-entry swizzle. */
export const QLIF_PATTERN_BREAKS = 15;

/**
 * The table of qlifForward's pattern path (assembly/qlif.ts) for a static input over T ≤ 8 steps from the level of
 * 0, or undefined where it does not apply (no step table, more than QLIF_PATTERN_BREAKS breakpoints, T > 8).
 *
 * From a level k, a step's outcome depends on the input x only through h = fround(tv_k + x) > θ (a spike) and
 * h ≥ b_j (the next level, see qlifStepTable), and each of those holds exactly for x at or above the least float32
 * X where it holds (h never decreases as x grows). So with X_1 < … < X_K every such X of every level, the whole
 * trajectory of T steps is the same for all x in [X_k, X_k+1): the count of X at or below x (0 for NaN, for which
 * every test fails, as it does below X_1) indexes its spikes and final level, found by running the reference body
 * from X_k (from NaN for the first interval); neighbouring intervals that end alike are merged. 4-byte slots:
 * X_1 … X_K from 0 (NaN after), at byte 64 the 16 spike patterns (bit t: a spike at step t), at 80 the 16 final
 * levels, at 96 K (i32), at 100 the level of 0.
 */
export function qlifPatternTable(p: QlifParams, T: number, steps: Float32Array): Uint8Array | undefined {
  if (!Number.isInteger(T) || T < 1 || T > 8) return undefined;
  const lb = fr(p.lb), th = fr(p.thresh), iv = fr(p.interval), tau = fr(p.tau), L = p.levels;
  const breaks = Array.from({ length: L - 1 }, (_, j) => steps[j]!).filter((b) => !Number.isNaN(b));
  const tests: ((h: number) => boolean)[] = [(h) => h > th, ...breaks.map((b) => (h: number) => h >= b)];
  const found = new Set<number>();
  for (let k = 0; k < L; k++) {
    const tv = fr(tau * fr(lb + fr(k * iv)));
    if (!Number.isFinite(tv)) return undefined;
    for (const holds of tests) {
      const at = (o: number): boolean => holds(fr(tv + fromOrd(o)));
      if (at(ORD_INF)) found.add(fromOrd(leastOrd(at)) + 0);
    }
  }
  if (found.size > QLIF_PATTERN_BREAKS) return undefined;
  const X = [...found].sort((a, b) => a - b), zero = levelOf(0, lb, th, iv, L - 2), s = new Float32Array(T), level = new Int8Array(1);
  // each interval's spikes and final level; a breakpoint between two intervals that end alike is dropped
  const kept: number[] = [], spikes: number[] = [], levels: number[] = [];
  for (let k = 0; k <= X.length; k++) {
    level[0] = zero;
    refQuantKernels.qlifForward(Float32Array.of(k === 0 ? NaN : X[k - 1]!), level, s, T, 1, true, p);
    let pattern = 0;
    for (let t = 0; t < T; t++) if (s[t] !== 0) pattern |= 1 << t;
    if (k > 0 && pattern === spikes[spikes.length - 1] && level[0] === levels[levels.length - 1]) continue;
    if (k > 0) kept.push(X[k - 1]!);
    spikes.push(pattern);
    levels.push(level[0]!);
  }
  const table = new Uint8Array(112), f32 = new Float32Array(table.buffer, 0, 16), i32 = new Int32Array(table.buffer, 96, 2);
  f32.fill(NaN);
  f32.set(kept);
  spikes.forEach((v, k) => { table[64 + k] = v; table[80 + k] = levels[k]! & 0xff; });
  i32[0] = kept.length;
  i32[1] = zero;
  return table;
}
