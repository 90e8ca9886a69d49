/**
 * Accounting from the architecture alone: per layer and in total, spiking neurons, parameters,
 * dense MACs per time step, and memory of weights and membrane state, MB = count × bits / 8 / 10^6.
 * Which layers the totals count follows the papers' conventions (ARCH_CONVENTIONS).
 */
import { EdgespikeError } from '../util/errors.js';
import { isWeighted, readoutIndex, type LayerSpec, type ModelSpec } from '../notation/spec.js';
import { layerToken } from '../notation/format.js';
import { checkInput, layerOutputShape, size } from '../notation/shapes.js';

export { formatArchTable } from './_table.js';

/** Which layers the totals count. Rows always carry every layer's own figures. */
export interface ArchConvention {
  /** Spiking neurons: every layer followed by a neuron, or all but the encoder (first weighted layer). */
  readonly neurons: 'all' | 'no-encoder';
  /** MACs: every conv/dense (shortcuts included), or hidden ones only (no encoder, no readout). */
  readonly macs: 'all' | 'hidden';
  /** Weight memory: all weights, conv weights (1×1 shortcuts included), or conv without shortcuts. */
  readonly weightMemory: 'all' | 'conv' | 'conv-no-shortcut';
}

/**
 * The seeds' conventions. spquant: Umem = all spiking neurons, weight memory = conv weights incl. 1×1
 * shortcuts (ResNet-19 table); lt-snn: "12.31M" = 3×3 conv weights only; sg-lenet / sg-vgg: MACs without
 * encoder and readout, neurons with the encoder (LeNet plot) or without it (VGG plot); ec-snn: all.
 */
export const ARCH_CONVENTIONS = {
  all: { neurons: 'all', macs: 'all', weightMemory: 'all' },
  'ec-snn': { neurons: 'all', macs: 'all', weightMemory: 'all' },
  spquant: { neurons: 'all', macs: 'all', weightMemory: 'conv' },
  'lt-snn': { neurons: 'all', macs: 'all', weightMemory: 'conv-no-shortcut' },
  'sg-lenet': { neurons: 'all', macs: 'hidden', weightMemory: 'all' },
  'sg-vgg': { neurons: 'no-encoder', macs: 'hidden', weightMemory: 'all' },
} as const satisfies Record<string, ArchConvention>;

/** Name of a preset convention. */
export type ArchConventionName = keyof typeof ARCH_CONVENTIONS;

/** Options of archReport. Defaults: 32-bit weights and membranes, T = 1, convention "all". */
export interface ArchOptions {
  readonly weightBits?: number;
  readonly membraneBits?: number;
  /** Time steps; total MACs over the run = MACs per step × T. */
  readonly T?: number;
  readonly convention?: ArchConventionName | ArchConvention;
}

/** What a layer is for the conventions. */
export type LayerRole = 'encoder' | 'hidden' | 'readout' | 'shortcut' | 'none';

/** One row per layer (residual blocks: body rows, shortcut rows, then a row for the sum). */
export interface LayerRow {
  /** 1-based position: "3", or "5.body.1" / "5.shortcut.1" inside residual block 5. */
  readonly path: string;
  /** Notation token ("64C3p1n", "AP2") or "residual" for a block's sum. */
  readonly label: string;
  readonly kind: LayerSpec['kind'];
  readonly role: LayerRole;
  readonly outShape: number[];
  /** Spiking neurons after this layer (its output size when a neuron follows, else 0). */
  readonly neurons: number;
  readonly weights: number;
  readonly biases: number;
  /** Batch-norm affine parameters (γ and β: 2 per channel); running statistics are not parameters. */
  readonly bn: number;
  readonly params: number;
  /** Multiply-accumulates of one time step with dense input (pooling and BN count 0). */
  readonly macs: number;
  /** Weight memory of this layer at weightBits, MB. */
  readonly weightMb: number;
  /** Membrane memory of this layer's neurons at membraneBits, MB. */
  readonly membraneMb: number;
}

/** Totals; `neurons`, `macs` and `memoryWeights` follow the convention, the `all*` fields do not. */
export interface ArchTotals {
  readonly neurons: number;
  readonly allNeurons: number;
  readonly weights: number;
  readonly convWeights: number;
  readonly denseWeights: number;
  readonly shortcutWeights: number;
  readonly biases: number;
  readonly bn: number;
  readonly params: number;
  /** MACs per time step (convention). */
  readonly macs: number;
  readonly allMacs: number;
  /** MACs over T steps (convention). */
  readonly macsT: number;
  /** Weight count behind weightMb (convention). */
  readonly memoryWeights: number;
  readonly weightMb: number;
  readonly membraneMb: number;
  /** The papers' two-decimal truncation of weightMb and membraneMb. */
  readonly weightMbText: string;
  readonly membraneMbText: string;
  readonly weightBits: number;
  readonly membraneBits: number;
  readonly T: number;
  readonly convention: ArchConvention;
}

/** The result of archReport. */
export interface ArchReport {
  readonly layers: LayerRow[];
  readonly total: ArchTotals;
}

/** Megabytes (10^6 bytes) of `count` values of `bits` bits each. */
export function megabytes(count: number, bits: number): number {
  return (count * bits) / 8 / 1e6;
}

/**
 * Truncates (never rounds) to two decimals as the papers print MB: 3.6864 → "3.68", 49.945 → "49.94".
 * The value is first fixed to 12 decimals so binary noise (0.29 = 0.28999…) does not lose a cent.
 */
export function mbTrunc2(x: number): string {
  if (!Number.isFinite(x) || x < 0) throw new EdgespikeError(`mbTrunc2: expected a finite number ≥ 0, got ${x}`);
  const fixed = x.toFixed(12);
  return fixed.slice(0, fixed.indexOf('.') + 3);
}

/**
 * Per-layer and total accounting of `spec` on `input` ([C, H, W]).
 * @example archReport(zoo('vgg9-48').spec, [3, 48, 48], { membraneBits: 2 }).total.membraneMbText === '0.23'
 */
export function archReport(spec: ModelSpec, input: readonly number[], opts: ArchOptions = {}): ArchReport {
  checkInput(input, 'archReport');
  const weightBits = checkPositive(opts.weightBits ?? 32, 'weightBits');
  const membraneBits = checkPositive(opts.membraneBits ?? 32, 'membraneBits');
  const T = opts.T ?? 1;
  if (!Number.isSafeInteger(T) || T < 1) throw new EdgespikeError(`archReport: T must be a positive integer, got ${T}`);
  const convention = resolveConvention(opts.convention ?? 'all');
  const rows: LayerRow[] = [];
  const ctx: WalkContext = { rows, readout: readoutIndex(spec), encoderSeen: false, weightBits, membraneBits };
  walk(spec.layers, input, '', false, ctx);
  return { layers: rows, total: totals(rows, convention, weightBits, membraneBits, T) };
}

function checkPositive(v: number, name: string): number {
  if (!(Number.isFinite(v) && v > 0)) throw new EdgespikeError(`archReport: ${name} must be a number > 0, got ${v}`);
  return v;
}

function resolveConvention(c: ArchConventionName | ArchConvention): ArchConvention {
  if (typeof c !== 'string') return c;
  if (!Object.hasOwn(ARCH_CONVENTIONS, c)) {
    throw new EdgespikeError(`archReport: unknown convention "${c}" (expected one of ${Object.keys(ARCH_CONVENTIONS).join(', ')})`);
  }
  return ARCH_CONVENTIONS[c];
}

interface WalkContext {
  readonly rows: LayerRow[];
  readonly readout: number;
  encoderSeen: boolean;
  readonly weightBits: number;
  readonly membraneBits: number;
}

/** Appends rows for `layers`; returns the output shape. Top level when prefix is "". */
function walk(layers: readonly LayerSpec[], input: readonly number[], prefix: string, shortcut: boolean, ctx: WalkContext): number[] {
  let shape = input.slice();
  layers.forEach((layer, i) => {
    const path = prefix ? `${prefix}.${i + 1}` : `${i + 1}`;
    const out = layerOutputShape(layer, shape, path);
    if (layer.kind === 'residual') {
      walk(layer.body, shape, `${path}.body`, shortcut, ctx);
      walk(layer.shortcut, shape, `${path}.shortcut`, true, ctx);
    }
    ctx.rows.push(row(layer, shape, out, path, role(layer, prefix === '' && i === ctx.readout, shortcut, ctx), ctx));
    shape = out;
  });
  return shape;
}

function role(layer: LayerSpec, isReadout: boolean, shortcut: boolean, ctx: WalkContext): LayerRole {
  if (!isWeighted(layer)) return 'none';
  if (shortcut) return 'shortcut';
  if (isReadout) return 'readout';
  if (!ctx.encoderSeen) {
    ctx.encoderSeen = true;
    return 'encoder';
  }
  return 'hidden';
}

/** Figures of one layer from its input and output shapes. */
function row(layer: LayerSpec, input: readonly number[], out: number[], path: string, r: LayerRole, ctx: WalkContext): LayerRow {
  let weights = 0, biases = 0, bn = 0, macs = 0, spike = false;
  if (layer.kind === 'conv' || layer.kind === 'dense') {
    const fanIn = layer.kind === 'conv' ? (input[0] / layer.groups) * layer.k * layer.k : size(input);
    weights = layer.out * fanIn;
    biases = layer.bias ? layer.out : 0;
    bn = layer.bn ? 2 * layer.out : 0;
    macs = (size(out) / layer.out) * weights;
    spike = layer.spike;
  } else if (layer.kind === 'residual') {
    spike = layer.spike;
  }
  const neurons = spike ? size(out) : 0;
  return {
    path, label: layerToken(layer, r === 'readout'), kind: layer.kind, role: r, outShape: out, neurons,
    weights, biases, bn, params: weights + biases + bn, macs,
    weightMb: megabytes(weights, ctx.weightBits), membraneMb: megabytes(neurons, ctx.membraneBits),
  };
}

function totals(rows: LayerRow[], c: ArchConvention, weightBits: number, membraneBits: number, T: number): ArchTotals {
  const sum = (f: (r: LayerRow) => number, keep: (r: LayerRow) => boolean = () => true): number =>
    rows.reduce((a, r) => (keep(r) ? a + f(r) : a), 0);
  const convWeights = sum((r) => r.weights, (r) => r.kind === 'conv');
  const shortcutWeights = sum((r) => r.weights, (r) => r.role === 'shortcut');
  const weights = sum((r) => r.weights);
  const neurons = sum((r) => r.neurons, (r) => c.neurons === 'all' || r.role !== 'encoder');
  const macs = sum((r) => r.macs, (r) => c.macs === 'all' || (r.role !== 'encoder' && r.role !== 'readout'));
  const memoryWeights = c.weightMemory === 'all' ? weights
    : c.weightMemory === 'conv' ? convWeights : convWeights - shortcutWeights;
  const weightMb = megabytes(memoryWeights, weightBits), membraneMb = megabytes(neurons, membraneBits);
  return {
    neurons, allNeurons: sum((r) => r.neurons), weights, convWeights, denseWeights: weights - convWeights,
    shortcutWeights, biases: sum((r) => r.biases), bn: sum((r) => r.bn), params: sum((r) => r.params),
    macs, allMacs: sum((r) => r.macs), macsT: macs * T, memoryWeights, weightMb, membraneMb,
    weightMbText: mbTrunc2(weightMb), membraneMbText: mbTrunc2(membraneMb),
    weightBits, membraneBits, T, convention: c,
  };
}
