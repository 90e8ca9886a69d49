/**
 * A graph as a reader sees it: one row per node with its op in a few words, what it reads, its output
 * shape and its tensors; as JSON rows or as a text table.
 */
import { checkGraph, INPUT, tensorsOf, type GraphNode, type ModelGraph, type WeightQuantAttr } from './graph.js';

/** One node, described. */
export interface NodeRow {
  readonly id: string;
  readonly op: GraphNode['op'];
  /** The attributes in a few words ("16 filters 5×5", "max 2×2 /2", "β 0.9, θ 1, soft reset"). */
  readonly detail: string;
  readonly inputs: readonly string[];
  readonly recurrent: readonly string[];
  /** Output shape of one sample. */
  readonly shape: number[];
  /** Tensors by full name with their shapes. */
  readonly tensors: Record<string, number[]>;
  /** Values in the node's tensors. */
  readonly values: number;
}

const x = (a: readonly number[]): string => a.join('×');

/** A weight quantization in a few words: "ternary weights (2 bits, frozen)". */
function quantText(q: WeightQuantAttr): string {
  const name = q.kind === 'sawb' ? 'SAWB' : q.kind === 'sawb-symm' ? 'symmetric SAWB' : q.kind === 'ternary' ? 'ternary' : 'unscaled ternary';
  return `${name} weights (${q.bits} bits${q.frozen ? ', frozen' : ', trained quantized'})`;
}

/** The attributes of `n` in a few words. */
export function nodeDetail(n: GraphNode): string {
  switch (n.op) {
    case 'conv': {
      const a = n.attrs, parts = [`${a.out} filters ${x(a.kernel)}`];
      if (a.stride[0] !== 1 || a.stride[1] !== 1) parts.push(`stride ${x(a.stride)}`);
      if (a.pad[0] !== 0 || a.pad[1] !== 0) parts.push(`pad ${x(a.pad)}`);
      if (a.groups !== 1) parts.push(`groups ${a.groups}`);
      if (a.bias) parts.push('bias');
      if (a.quant) parts.push(quantText(a.quant));
      return parts.join(', ');
    }
    case 'dense': return `${n.attrs.out} outputs${n.attrs.bias ? ', bias' : ''}${n.attrs.quant ? `, ${quantText(n.attrs.quant)}` : ''}`;
    case 'gate': return `channel gate on ${n.side?.[0] ?? '?'}, BCE to ${n.attrs.ratio} of the mass × ${n.attrs.lossWeight}`;
    case 'bn': return `eps ${n.attrs.eps}, momentum ${n.attrs.momentum}`;
    case 'bias': return n.attrs.of ? `bias of ${n.attrs.of}, after its max pool` : 'per channel';
    case 'pool': return `${n.attrs.kind} ${n.attrs.k}×${n.attrs.k} /${n.attrs.stride}`;
    case 'dropout': return `p ${n.attrs.p}`;
    case 'clamp': return `[${n.attrs.lo}, ${n.attrs.hi}]`;
    case 'quant': return `k ${n.attrs.k}, B ${n.attrs.B} (step 1/${2 ** n.attrs.k})`;
    case 'neuron': {
      const p = n.neuron;
      const leak = p.charge === 'multiplicative' ? `β ${p.beta}` : `τ ${p.tau}${p.charge === 'decay-noinput' ? ' (no input decay)' : ''}`;
      const learned = [p.learnDecay ? 'leak' : '', p.learnThreshold ? 'threshold' : ''].filter(Boolean);
      const mem = p.membrane ? `, membrane on ${p.membrane.levels} levels from ${p.membrane.lb} by ${p.membrane.interval}${p.membrane.levels === 3 ? ' (ternary)' : ''}` : '';
      return `${leak}, θ ${n.attrs.threshold === 'channel' ? 'per channel' : p.vth}, fire ${p.fire}, ${p.reset} reset, ${String(typeof p.surrogate === 'string' ? p.surrogate : 'custom')} surrogate${learned.length ? `, learns ${learned.join(' and ')}` : ''}${mem}`;
    }
    default: return '';
  }
}

/** One row per node, in graph order. */
export function describeGraph(g: ModelGraph): NodeRow[] {
  const info = checkGraph(g);
  return g.nodes.map((n) => {
    const tensors: Record<string, number[]> = {};
    let values = 0;
    for (const t of tensorsOf(n, info)) {
      tensors[t.name] = t.shape;
      values += t.shape.reduce((a, b) => a * b, 1);
    }
    return { id: n.id, op: n.op, detail: nodeDetail(n), inputs: n.inputs, recurrent: n.recurrent ?? [], shape: info.shapes.get(n.id)!, tensors, values };
  });
}

/** The graph as a text table: node, op, details, inputs (when not the node above), output shape, values. */
export function formatGraph(g: ModelGraph): string {
  const rows = describeGraph(g);
  const lines = [['node', 'op', 'reads', 'output', 'values', 'details']];
  rows.forEach((r, i) => {
    const prev = i === 0 ? INPUT : rows[i - 1]!.id;
    const reads = r.inputs.length === 1 && r.inputs[0] === prev && r.recurrent.length === 0 ? '' : [...r.inputs, ...r.recurrent.map((s) => `${s}@t-1`)].join(' + ');
    lines.push([r.id, r.op, reads, x(r.shape), r.values ? r.values.toLocaleString('en-US') : '', r.detail]);
  });
  const w = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const fmt = (l: string[]): string => l.map((cell, c) => (c === 4 ? cell.padStart(w[c]!) : cell.padEnd(w[c]!))).join('  ').trimEnd();
  return [fmt(lines[0]!), w.map((n) => '-'.repeat(n)).join('  '), ...lines.slice(1).map(fmt), `output: ${g.output}, input ${x(g.input)}`].join('\n');
}
