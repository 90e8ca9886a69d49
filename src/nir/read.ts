/**
 * Reads a NIR file (HDF5: /version, /node = the top-level NIRGraph) and checks it node by node: every node
 * type NIR serialises, the datasets each needs (optional ones may be absent: v_reset, w_in, input_shape,
 * input_type), their element kinds and ranks, and edges that name nodes of their own graph. Files of every
 * version share this layout ("0.1.1", "0.2.0", "1.x"); the version is kept, not interpreted. Anything wrong is
 * one EdgespikeError naming the node and the dataset.
 */
import { basename } from 'node:path';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { readH5Tree, type H5Tree, type H5Value } from './h5.js';
import type { NirArray, NirField, NirFile, NirGraph, NirLeaf, NirMeta, NirNode } from './types.js';

/** What each node type holds: required and optional datasets. */
const FIELDS: Readonly<Record<string, { readonly required: readonly string[]; readonly optional: readonly string[] }>> = {
  Input: { required: ['shape'], optional: [] },
  Output: { required: ['shape'], optional: [] },
  Affine: { required: ['weight', 'bias'], optional: [] },
  Linear: { required: ['weight'], optional: [] },
  Scale: { required: ['scale'], optional: [] },
  Conv1d: { required: ['weight', 'bias', 'stride', 'padding', 'dilation', 'groups'], optional: ['input_shape'] },
  Conv2d: { required: ['weight', 'bias', 'stride', 'padding', 'dilation', 'groups'], optional: ['input_shape'] },
  SumPool2d: { required: ['kernel_size', 'stride', 'padding'], optional: [] },
  AvgPool2d: { required: ['kernel_size', 'stride', 'padding'], optional: [] },
  Flatten: { required: ['start_dim', 'end_dim'], optional: ['input_type'] },
  Delay: { required: ['delay'], optional: [] },
  Threshold: { required: ['threshold'], optional: [] },
  I: { required: ['r'], optional: [] },
  IF: { required: ['r', 'v_threshold'], optional: ['v_reset'] },
  LI: { required: ['tau', 'r', 'v_leak'], optional: [] },
  LIF: { required: ['tau', 'r', 'v_leak', 'v_threshold'], optional: ['v_reset'] },
  CubaLI: { required: ['tau_syn', 'tau_mem', 'r', 'v_leak'], optional: ['w_in'] },
  CubaLIF: { required: ['tau_syn', 'tau_mem', 'r', 'v_leak', 'v_threshold'], optional: ['v_reset', 'w_in'] },
};

/** The node types NIR serialises (NIRGraph included). */
export const NIR_TYPES: readonly string[] = [...Object.keys(FIELDS), 'NIRGraph'];

/** Neuron types: parameters of one shape (the layer's). */
export const NEURON_TYPES: readonly string[] = ['I', 'IF', 'LI', 'LIF', 'CubaLI', 'CubaLIF'];

/** A read file and what was tolerated in it. */
export interface ReadResult { readonly file: NirFile; readonly warnings: string[] }

/** Reads and checks the NIR file at `path`. */
export async function readNir(path: string): Promise<ReadResult> {
  const label = `NIR file "${basename(path)}"`;
  return nirFromTree(await readH5Tree(path, label), label);
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Checks an HDF5 tree as a NIR file; `label` starts every message. */
export function nirFromTree(tree: H5Tree, label: string): ReadResult {
  const warnings: string[] = [];
  const root = groupOf(tree, label, 'the file root');
  const top = root.get('node');
  if (!top) throw new EdgespikeError(`${label}: has no group "/node" (the top-level graph); not a NIR file`);
  let version: string | null = null;
  const v = root.get('version');
  if (v) {
    if (!('value' in v) || typeof v.value !== 'string') throw new EdgespikeError(`${label}: dataset "/version" is not a string`);
    version = v.value;
  }
  const node = readNode(top, [], { label, warnings });
  if (node.type !== 'NIRGraph') throw new EdgespikeError(`${label}: "/node" is a ${node.type} node; the top level must be a NIRGraph`);
  return { file: { version, graph: node as NirGraph }, warnings };
}

interface Ctx { readonly label: string; readonly warnings: string[] }

function groupOf(t: H5Tree, label: string, what: string): ReadonlyMap<string, H5Tree> {
  if (!('group' in t)) throw new EdgespikeError(`${label}: ${what} is a dataset, expected a group`);
  return t.group;
}

/** "node "lif1/lif" (CubaLIF)": how messages name a node. */
const where = (path: readonly string[], type?: string): string => `node "${path.length ? path.join('/') : '/'}"${type ? ` (${type})` : ''}`;

function readNode(t: H5Tree, path: string[], c: Ctx): NirNode {
  const here = where(path);
  const g = groupOf(t, c.label, here);
  const typeDs = g.get('type');
  if (!typeDs) throw new EdgespikeError(`${c.label}: ${here}: dataset "type" is missing`);
  if (!('value' in typeDs) || typeof typeDs.value !== 'string') throw new EdgespikeError(`${c.label}: ${here}: dataset "type" is not a string`);
  const type = typeDs.value;
  const meta = g.get('metadata');
  const metadata = meta ? readMeta(meta, c.label, `${here}: metadata`) : {};
  if (type === 'NIRGraph') return readGraph(g, path, metadata, c);
  const spec = FIELDS[type];
  if (!spec) throw new EdgespikeError(`${c.label}: ${here}: unknown node type "${type}" (NIR types: ${NIR_TYPES.join(', ')})`);
  const at = `${c.label}: ${where(path, type)}`;
  const fields: Record<string, NirField> = {};
  for (const name of spec.required) {
    const d = g.get(name);
    if (!d) throw new EdgespikeError(`${at}: dataset "${name}" is missing`);
    fields[name] = fieldValue(d, `${at}: dataset "${name}"`);
  }
  for (const name of spec.optional) {
    const d = g.get(name);
    if (d) fields[name] = fieldValue(d, `${at}: dataset "${name}"`);
  }
  for (const name of g.keys()) {
    if (name !== 'type' && name !== 'metadata' && !spec.required.includes(name) && !spec.optional.includes(name)) {
      c.warnings.push(`${where(path, type)}: dataset "${name}" is not a ${type} field; ignored`);
    }
  }
  checkLeaf(type, fields, at);
  return { type, fields, metadata } satisfies NirLeaf;
}

function fieldValue(t: H5Tree, at: string): NirField {
  if (!('value' in t)) throw new EdgespikeError(`${at} is a group, expected a dataset`);
  const v = t.value;
  if (typeof v === 'string' || 'dtype' in v) return v;
  throw new EdgespikeError(`${at} is a list of strings, expected numbers`);
}

function readGraph(g: ReadonlyMap<string, H5Tree>, path: string[], metadata: NirMeta, c: Ctx): NirGraph {
  const at = `${c.label}: ${where(path, 'NIRGraph')}`;
  const nodesT = g.get('nodes');
  if (!nodesT) throw new EdgespikeError(`${at}: group "nodes" is missing`);
  const nodes: Record<string, NirNode> = {};
  for (const [name, child] of groupOf(nodesT, c.label, `${where(path, 'NIRGraph')}: "nodes"`)) nodes[name] = readNode(child, [...path, name], c);
  const edgesT = g.get('edges');
  if (!edgesT) throw new EdgespikeError(`${at}: dataset "edges" is missing`);
  if (!('value' in edgesT)) throw new EdgespikeError(`${at}: "edges" is a group, expected a dataset of names`);
  const edges = readEdges(edgesT.value, at);
  const seen = new Set<string>(), kept: [string, string][] = [];
  edges.forEach(([a, b], i) => {
    for (const name of [a, b]) {
      if (!Object.hasOwn(nodes, name)) throw new EdgespikeError(`${at}: edge ${i} ("${a}" → "${b}") names "${name}", which is not a node of this graph`);
    }
    const key = `${a}\u0000${b}`;
    if (seen.has(key)) { c.warnings.push(`${where(path, 'NIRGraph')}: edge "${a}" → "${b}" appears more than once; counted once`); return; }
    seen.add(key);
    kept.push([a, b]);
  });
  return { type: 'NIRGraph', nodes, edges: kept, metadata };
}

function readEdges(v: H5Value, at: string): [string, string][] {
  if (typeof v === 'string' || 'dtype' in v) {
    if (typeof v !== 'string' && v.data.length === 0) return [];
    throw new EdgespikeError(`${at}: dataset "edges" must hold names (strings), shape (E, 2)`);
  }
  const ok = (v.shape.length === 2 && v.shape[1] === 2) || (v.shape.length === 1 && v.shape[0] === 0);
  if (!ok) throw new EdgespikeError(`${at}: dataset "edges" has shape ${fmtShape(v.shape)}, expected (E, 2)`);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < v.data.length; i += 2) out.push([v.data[i]!, v.data[i + 1]!]);
  return out;
}

function readMeta(t: H5Tree, label: string, at: string): NirMeta {
  if (!('group' in t)) throw new EdgespikeError(`${label}: ${at} is a dataset, expected a group`);
  const out: Record<string, NirMeta[string]> = {};
  for (const [k, child] of t.group) {
    if ('group' in child) out[k] = readMeta(child, label, `${at}/${k}`);
    else out[k] = typeof child.value === 'string' || 'dtype' in child.value ? child.value : child.value.data;
  }
  return out;
}

/** The numbers of a field, or an error naming it. */
function numbers(fields: Readonly<Record<string, NirField>>, name: string, at: string): NirArray {
  const f = fields[name]!;
  if (typeof f === 'string') throw new EdgespikeError(`${at}: dataset "${name}" is a string ("${f.slice(0, 40)}"), expected numbers`);
  return f;
}

/** Integers of a scalar or 1-d field with `n` entries (a scalar stands for n equal ones), each ≥ `min`. */
export function intList(fields: Readonly<Record<string, NirField>>, name: string, n: number, min: number, at: string): number[] {
  const f = numbers(fields, name, at);
  const vals = Array.from(f.data);
  const okShape = f.shape.length === 0 || (f.shape.length === 1 && (f.shape[0] === n || f.shape[0] === 1));
  if (!okShape) throw new EdgespikeError(`${at}: dataset "${name}" has shape ${fmtShape(f.shape)}, expected a number or ${n} of them`);
  if (!vals.every((v) => Number.isSafeInteger(v) && v >= min)) throw new EdgespikeError(`${at}: dataset "${name}" must hold integers ≥ ${min}, got [${vals.slice(0, 4).join(', ')}]`);
  return vals.length === n ? vals : Array.from({ length: n }, () => vals[0]!);
}

/** Every value finite, or an error naming the field and the index. */
function finite(a: NirArray, name: string, at: string): void {
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i]!)) throw new EdgespikeError(`${at}: dataset "${name}" holds ${a.data[i]} at index ${i}; values must be finite`);
  }
}

/** Checks the fields of a non-graph node: kinds, ranks, ranges. */
function checkLeaf(type: string, f: Readonly<Record<string, NirField>>, at: string): void {
  const rank = (name: string, r: number): NirArray => {
    const a = numbers(f, name, at);
    if (a.shape.length !== r) throw new EdgespikeError(`${at}: dataset "${name}" has shape ${fmtShape(a.shape)}, expected ${r} dimensions`);
    finite(a, name, at);
    return a;
  };
  switch (type) {
    case 'Input': case 'Output': {
      const s = numbers(f, 'shape', at);
      if (s.shape.length > 1 || !Array.from(s.data).every((d) => Number.isSafeInteger(d) && d >= 1) || s.data.length === 0) {
        throw new EdgespikeError(`${at}: dataset "shape" must list positive integers, got ${fmtShape(Array.from(s.data))}`);
      }
      return;
    }
    case 'Affine': case 'Linear': {
      const w = rank('weight', 2);
      if (type === 'Affine') {
        const b = rank('bias', 1);
        if (b.shape[0] !== w.shape[0]) throw new EdgespikeError(`${at}: bias has ${b.shape[0]} values, weight ${fmtShape(w.shape)} has ${w.shape[0]} outputs`);
      }
      return;
    }
    case 'Conv1d': case 'Conv2d': {
      const d = type === 'Conv1d' ? 1 : 2;
      const w = rank('weight', d + 2), b = rank('bias', 1);
      if (b.shape[0] !== w.shape[0]) throw new EdgespikeError(`${at}: bias has ${b.shape[0]} values, weight ${fmtShape(w.shape)} has ${w.shape[0]} output channels`);
      if (w.shape.some((s) => s < 1)) throw new EdgespikeError(`${at}: weight has an empty axis, shape ${fmtShape(w.shape)}`);
      intList(f, 'stride', d, 1, at);
      intList(f, 'dilation', d, 1, at);
      const [groups] = intList(f, 'groups', 1, 1, at);
      if (w.shape[0]! % groups! !== 0) throw new EdgespikeError(`${at}: groups ${groups} does not divide the ${w.shape[0]} output channels`);
      const p = f.padding!;
      if (typeof p === 'string') {
        if (p !== 'same' && p !== 'valid') throw new EdgespikeError(`${at}: dataset "padding" is "${p.slice(0, 20)}", expected numbers, "same" or "valid"`);
      } else intList(f, 'padding', d, 0, at);
      if (f.input_shape !== undefined) intList(f, 'input_shape', d, 1, at);
      return;
    }
    case 'SumPool2d': case 'AvgPool2d':
      intList(f, 'kernel_size', 2, 1, at);
      intList(f, 'stride', 2, 1, at);
      intList(f, 'padding', 2, 0, at);
      return;
    case 'Flatten':
      for (const name of ['start_dim', 'end_dim']) {
        const a = numbers(f, name, at);
        if (a.data.length !== 1 || !Number.isSafeInteger(a.data[0])) throw new EdgespikeError(`${at}: dataset "${name}" must be one integer`);
      }
      if (f.input_type !== undefined) {
        const s = numbers(f, 'input_type', at);
        if (!Array.from(s.data).every((d) => Number.isSafeInteger(d) && d >= 1)) throw new EdgespikeError(`${at}: dataset "input_type" must list positive integers`);
      }
      return;
    case 'Scale': case 'Threshold': case 'Delay': {
      const name = type.toLowerCase();
      finite(numbers(f, name, at), name, at);
      return;
    }
    default: {
      // neurons: every parameter numeric and finite, of the layer's size or a single value (broadcast)
      const arrays = Object.keys(f).map((name) => [name, numbers(f, name, at)] as const);
      const big = arrays.reduce((m, [, a]) => (size(a.shape) > size(m.shape) ? a : m), arrays[0]![1]);
      for (const [name, a] of arrays) {
        finite(a, name, at);
        if (size(a.shape) !== size(big.shape) && size(a.shape) !== 1) {
          throw new EdgespikeError(`${at}: parameter "${name}" has shape ${fmtShape(a.shape)}, another ${fmtShape(big.shape)}; a neuron's parameters share one shape`);
        }
        if (name.startsWith('tau')) {
          const i = a.data.findIndex((x) => !(x > 0));
          if (i >= 0) throw new EdgespikeError(`${at}: dataset "${name}" holds ${a.data[i]} at index ${i}; a time constant must be > 0`);
        }
      }
    }
  }
}
