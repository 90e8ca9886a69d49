/**
 * Accounting from the architecture alone (a model graph, or the graph a spec builds): per layer and in total, spiking neurons, parameters,
 * dense MACs per time step, and memory of weights and membrane state, MB = count × bits / 8 / 10^6.
 * Which layers the totals count follows the papers' conventions (ARCH_CONVENTIONS).
 */
import { EdgespikeError } from '../util/errors.js';
import type { LayerSpec, ModelSpec } from '../notation/spec.js';
import { checkInput, size } from '../notation/shapes.js';
import { NEURON_DEFAULTS } from '../neurons/neuron.js';
import { checkGraph, type GraphInfo, type GraphNode, type ModelGraph, type NodeOp } from '../graph/graph.js';
import { graphFromSpec } from '../graph/build.js';

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
  /** Bits per weight and per membrane of single nodes (a model's stored widths), overriding the two above. */
  readonly bitsOf?: { readonly weight?: (node: string) => number | undefined; readonly membrane?: (node: string) => number | undefined };
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
  readonly kind: LayerSpec['kind'] | NodeOp;
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
  /** Weight memory of this layer at its bits, MB. */
  readonly weightMb: number;
  /** Membrane memory of this layer's neurons at their bits, MB. */
  readonly membraneMb: number;
  /** Bits of this layer's weights and of its membranes (count × bits), for exact totals. */
  readonly weightBitCount: number;
  readonly membraneBitCount: number;
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
 * Per-layer and total accounting of `spec` on `input` ([C, H, W]): the accounting of the graph the spec
 * builds (neurons where the network has them: after a conv's max pools).
 * @example archReport(zoo('vgg9-48').spec, [3, 48, 48], { membraneBits: 2 }).total.membraneMbText === '0.23'
 */
export function archReport(spec: ModelSpec, input: readonly number[], opts: ArchOptions = {}): ArchReport {
  checkInput(input, 'archReport');
  return graphArchReport(graphFromSpec(spec, { input, neuron: NEURON_DEFAULTS }).graph, opts);
}

/**
 * Per-layer and total accounting of a model graph. Rows group the nodes built from one notation layer
 * (a conv with its batch norm, moved bias and neuron); nodes without one get a row each when they
 * weigh, hold neurons or change the shape.
 */
export function graphArchReport(graph: ModelGraph, opts: ArchOptions = {}): ArchReport {
  const weightBits = checkPositive(opts.weightBits ?? 32, 'weightBits');
  const membraneBits = checkPositive(opts.membraneBits ?? 32, 'membraneBits');
  const T = opts.T ?? 1;
  if (!Number.isSafeInteger(T) || T < 1) throw new EdgespikeError(`archReport: T must be a positive integer, got ${T}`);
  const convention = resolveConvention(opts.convention ?? 'all');
  const info = checkGraph(graph);
  const weighted = graph.nodes.filter((n) => n.op === 'conv' || n.op === 'dense');
  const plain = weighted.filter((n) => !isShortcut(n));
  const encoder = plain[0]?.id, readout = plain.at(-1)?.id;
  const groups = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) {
    const key = n.layer ?? `#${n.id}`;
    const g = groups.get(key);
    if (g) g.push(n); else groups.set(key, [n]);
  }
  const rows: LayerRow[] = [];
  for (const [key, nodes] of groups) {
    const r = groupRow(key, nodes, info, { encoder, readout, weightBits, membraneBits, bitsOf: opts.bitsOf });
    if (r) rows.push(r);
  }
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

const isShortcut = (n: GraphNode): boolean => n.block?.endsWith('.shortcut') ?? false;

/** The row of one group of nodes, or null for a group that neither weighs, fires nor reshapes. */
function groupRow(key: string, nodes: GraphNode[], info: GraphInfo,
  c: { encoder?: string; readout?: string; weightBits: number; membraneBits: number; bitsOf?: ArchOptions['bitsOf'] }): LayerRow | null {
  const main = nodes.find((n) => n.op === 'conv' || n.op === 'dense') ?? nodes[0]!;
  const last = nodes.at(-1)!;
  let weights = 0, biases = 0, bn = 0, macs = 0, neurons = 0, weightBitCount = 0, membraneBitCount = 0;
  const addWeights = (n: GraphNode, count: number): void => { weights += count; weightBitCount += count * (c.bitsOf?.weight?.(n.id) ?? c.weightBits); };
  for (const n of nodes) {
    const x = info.inShapes.get(n.id)!, out = info.shapes.get(n.id)!;
    if (n.op === 'conv') {
      const a = n.attrs;
      addWeights(n, a.out * (x[0]! / a.groups) * a.kernel[0] * a.kernel[1]);
      macs += size(out) * (x[0]! / a.groups) * a.kernel[0] * a.kernel[1];
      if (a.bias) biases += a.out;
    } else if (n.op === 'dense') {
      addWeights(n, n.attrs.out * size(x));
      macs += n.attrs.out * size(x);
      if (n.attrs.bias) biases += n.attrs.out;
    } else if (n.op === 'bias') biases += x[0] ?? 1;
    else if (n.op === 'bn') bn += 2 * (x[0] ?? 1);
    else if (n.op === 'neuron') {
      neurons += size(out);
      membraneBitCount += size(out) * (c.bitsOf?.membrane?.(n.id) ?? c.membraneBits);
    }
  }
  const role: LayerRole = main.op !== 'conv' && main.op !== 'dense' ? 'none'
    : isShortcut(main) ? 'shortcut' : main.id === c.readout ? 'readout' : main.id === c.encoder ? 'encoder' : 'hidden';
  const sum = nodes.find((n) => n.inputs.length > 1);
  const reshapes = ['pool', 'gap', 'flatten', 'dropout'].includes(main.op);
  if (!weights && !neurons && !bn && !biases && !reshapes && !sum && key.startsWith('#')) return null;
  return {
    path: key.startsWith('#') ? key.slice(1) : key, label: sum && main === sum ? 'residual' : nodeLabel(main, nodes, role === 'readout'),
    kind: sum && main === sum ? 'residual' : (main.op as LayerRow['kind']), role, outShape: info.shapes.get(sum && main === sum ? last.id : main.id)!, neurons,
    weights, biases, bn, params: weights + biases + bn, macs,
    weightMb: weightBitCount / 8 / 1e6, membraneMb: membraneBitCount / 8 / 1e6, weightBitCount, membraneBitCount,
  };
}

/** The notation token of a group's main node ("64C3p1n", "AP2", "10b"), or its op for nodes the notation lacks. */
function nodeLabel(main: GraphNode, group: GraphNode[], readout: boolean): string {
  const has = (op: string): boolean => group.some((n) => n.op === op);
  const flags = (bias: boolean): string => `${bias || has('bias') ? 'b' : ''}${has('bn') ? 'n' : ''}${!has('neuron') && !has('relu') && !readout ? 'l' : ''}`;
  switch (main.op) {
    case 'conv': {
      const a = main.attrs, k = a.kernel[0] === a.kernel[1] ? `${a.kernel[0]}` : `${a.kernel[0]}x${a.kernel[1]}`;
      const s = a.stride[0] !== 1 || a.stride[1] !== 1 ? `s${a.stride[0] === a.stride[1] ? a.stride[0] : a.stride.join('x')}` : '';
      const p = a.pad[0] !== 0 || a.pad[1] !== 0 ? `p${a.pad[0] === a.pad[1] ? a.pad[0] : a.pad.join('x')}` : '';
      return `${a.out}C${k}${s}${p}${a.groups !== 1 ? `g${a.groups}` : ''}${flags(a.bias)}`;
    }
    case 'dense': return `${main.attrs.out}${flags(main.attrs.bias)}`;
    case 'pool': {
      const name = main.attrs.kind === 'avg' ? 'AP' : 'P';
      return main.attrs.k === main.attrs.stride ? `${name}${main.attrs.stride}` : `${main.attrs.k}${name}${main.attrs.stride}`;
    }
    case 'dropout': return `D${main.attrs.p}`;
    case 'flatten': return 'F';
    case 'gap': return 'GAP';
    default: return main.op;
  }
}

function totals(rows: LayerRow[], c: ArchConvention, weightBits: number, membraneBits: number, T: number): ArchTotals {
  const sum = (f: (r: LayerRow) => number, keep: (r: LayerRow) => boolean = () => true): number =>
    rows.reduce((a, r) => (keep(r) ? a + f(r) : a), 0);
  const convWeights = sum((r) => r.weights, (r) => r.kind === 'conv');
  const shortcutWeights = sum((r) => r.weights, (r) => r.role === 'shortcut');
  const weights = sum((r) => r.weights);
  const countsNeurons = (r: LayerRow): boolean => c.neurons === 'all' || r.role !== 'encoder';
  const neurons = sum((r) => r.neurons, countsNeurons);
  const macs = sum((r) => r.macs, (r) => c.macs === 'all' || (r.role !== 'encoder' && r.role !== 'readout'));
  const inMemory = (r: LayerRow): boolean => c.weightMemory === 'all' || (r.kind === 'conv' && (c.weightMemory === 'conv' || r.role !== 'shortcut'));
  const memoryWeights = sum((r) => r.weights, inMemory);
  const weightMb = sum((r) => r.weightBitCount, inMemory) / 8 / 1e6, membraneMb = sum((r) => r.membraneBitCount, countsNeurons) / 8 / 1e6;
  return {
    neurons, allNeurons: sum((r) => r.neurons), weights, convWeights, denseWeights: weights - convWeights,
    shortcutWeights, biases: sum((r) => r.biases), bn: sum((r) => r.bn), params: sum((r) => r.params),
    macs, allMacs: sum((r) => r.macs), macsT: macs * T, memoryWeights, weightMb, membraneMb,
    weightMbText: mbTrunc2(weightMb), membraneMbText: mbTrunc2(membraneMb),
    weightBits, membraneBits, T, convention: c,
  };
}
