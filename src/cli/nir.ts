/**
 * `edgespike nir`: the neuromorphic intermediate representation (NIR) files snnTorch, SpikingJelly, Norse,
 * Sinabs, Rockpool, Spyx and Lava exchange. inspect lists a file's nodes, edges and what would not import;
 * run feeds one input sequence through a file; import turns a file into a model file; export writes a
 * model file as NIR.
 */
import { defineCommand } from 'citty';
import { basename } from 'node:path';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { checkOutputFile, readInput } from '../util/fsx.js';
import { loadNet, saveNet } from '../train/model-file.js';
import { npyValues, parseNpyHeader } from '../data/events/_npy-header.js';
import { readNir } from '../nir/read.js';
import { nirToNet, type Imported } from '../nir/import.js';
import { netToNir, writeNir } from '../nir/write.js';
import { runSequence } from '../nir/run.js';
import { EXPORT_PRESETS, IMPORT_PRESETS, PRESET_DT } from '../nir/presets.js';
import { isArray, isGraph, type NirGraph, type NirMeta } from '../nir/types.js';
import { checkFlags, choice, num, optNum, printJson } from './_args.js';

const importFlags = {
  dt: { type: 'string', description: 'step in seconds (default 1e-4; the preset\'s own with --preset)' },
  method: { type: 'string', description: 'euler (default) or exp (exact exponential decay)' },
  preset: { type: 'string', description: `run neurons as a library does: ${IMPORT_PRESETS.join(', ')} (default nir: the file as written)` },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

/** The import settings of the flags. */
function importOptions(a: Record<string, unknown>): { preset: (typeof IMPORT_PRESETS)[number]; dt?: number; method: 'euler' | 'exp' } {
  const preset = a.preset === undefined ? 'nir' : choice('preset', a.preset, IMPORT_PRESETS);
  const method = a.method === undefined ? 'euler' : choice('method', a.method, ['euler', 'exp'] as const);
  const dt = optNum('dt', a.dt, { min: Number.MIN_VALUE, max: 1e6 });
  if (dt !== undefined && !(dt > 0)) throw new EdgespikeError(`--dt: expected a number > 0, got ${String(a.dt)}`);
  return { preset, method, ...(dt !== undefined ? { dt } : {}) };
}

/** A line per warning on stderr (the JSON output carries them instead). */
function warn(lines: readonly string[], json: boolean): void {
  if (!json) for (const w of lines) process.stderr.write(`warning: ${w}\n`);
}

// ---------------------------------------------------------------- inspect

interface NodeRow { name: string; type: string; fields: Record<string, { shape: number[]; dtype: string; sum: number; values?: number[] } | string> }

function rows(g: NirGraph, prefix: string, out: NodeRow[], edges: [string, string][]): void {
  for (const [a, b] of g.edges) edges.push([prefix + a, prefix + b]);
  for (const [name, n] of Object.entries(g.nodes)) {
    if (isGraph(n)) {
      out.push({ name: prefix + name, type: 'NIRGraph', fields: {} });
      rows(n, `${prefix}${name}/`, out, edges);
      continue;
    }
    const fields: NodeRow['fields'] = {};
    for (const [k, v] of Object.entries(n.fields)) {
      if (typeof v === 'string') { fields[k] = v; continue; }
      let s = 0;
      for (let i = 0; i < v.data.length; i++) s += v.data[i]!;
      // small fields (shapes, strides, single parameters) also list their values
      fields[k] = { shape: [...v.shape], dtype: v.dtype, sum: s, ...(v.data.length <= 8 ? { values: Array.from(v.data) } : {}) };
    }
    out.push({ name: prefix + name, type: n.type, fields });
  }
}

function metaKeys(m: NirMeta): string[] {
  return Object.keys(m).sort();
}

const inspectArgs = { file: { type: 'positional', description: 'NIR file (.nir, HDF5)', required: true }, ...importFlags } as const;

const inspectCommand = defineCommand({
  meta: { name: 'inspect', description: 'Nodes (type, parameter shapes and sums), edges, metadata and warnings of a NIR file' },
  args: inspectArgs,
  async run({ args: a, rawArgs }) {
    checkFlags('nir inspect', rawArgs, inspectArgs);
    const o = importOptions(a);
    const file = String(a.file);
    const { file: nir, warnings } = await readNir(file);
    const nodes: NodeRow[] = [], edges: [string, string][] = [];
    rows(nir.graph, '', nodes, edges);
    // shapes that do not chain are reported, not fatal: inspect shows what is there
    let imported: Imported | null = null;
    const all = [...warnings];
    try {
      imported = nirToNet(nir, o);
      all.push(...imported.warnings);
    } catch (e) {
      if (!(e instanceof EdgespikeError)) throw e;
      all.push(`does not import: ${e.message}`);
    }
    const out = {
      file, version: nir.version, nodes, edges, metadata: metaKeys(nir.graph.metadata),
      written_by_edgespike: nir.graph.metadata.edgespike_format !== undefined,
      imports: imported !== null, ...(imported ? { input: imported.net.config.input, output: imported.net.info.shapes.get(imported.net.graph.output), restored: imported.restored } : {}),
      warnings: all,
    };
    if (a.json) { printJson(out); return; }
    process.stdout.write(`${basename(file)}: NIR ${nir.version ?? '(no version)'}, ${nodes.length} nodes, ${edges.length} edges${out.written_by_edgespike ? ', written by edgespike' : ''}\n`);
    for (const n of nodes) {
      const f = Object.entries(n.fields).map(([k, v]) => (typeof v === 'string' ? `${k}="${v}"` : (v.values ? `${k}=${v.shape.length ? fmtShape(v.values) : v.values[0]}` : `${k}${fmtShape(v.shape)} Σ=${Number(v.sum.toPrecision(6))}`))).join(' ');
      process.stdout.write(`  ${n.name.padEnd(20)} ${n.type.padEnd(10)} ${f}\n`);
    }
    process.stdout.write(`edges: ${edges.map(([x, y]) => `${x}→${y}`).join(', ')}\n`);
    if (imported) process.stdout.write(`runs as: input ${fmtShape(imported.net.config.input)} → output ${fmtShape(out.output ?? [])}${imported.restored ? ' (restored from edgespike metadata)' : ''}\n`);
    for (const w of all) process.stdout.write(`warning: ${w}\n`);
  },
});

// ---------------------------------------------------------------- run

/** A float .npy array (little-endian float32 or float64) and its shape. */
function readNpyFloat(path: string): { data: Float32Array; shape: number[] } {
  const bytes = readInput(path, '.npy file');
  let h: ReturnType<typeof parseNpyHeader>;
  try { h = parseNpyHeader(bytes, path, bytes.length); } catch (e) {
    if (e instanceof EdgespikeError) throw new EdgespikeError(`--input ${e.message}`);
    throw e;
  }
  if (h.fields || (h.descr !== '<f4' && h.descr !== '<f8')) throw new EdgespikeError(`--input ${path}: holds ${h.descr.slice(0, 40)}, expected float32 ('<f4') or float64 ('<f8') values`);
  return { data: npyValues(bytes, h, h.shape.reduce((a, b) => a * b, 1)), shape: [...h.shape] };
}

const runArgs = {
  file: { type: 'positional', description: 'NIR file', required: true },
  input: { type: 'string', description: '.npy of float32 [T, …input shape]: the value held at each step', required: true },
  ...importFlags,
} as const;

const runCommand = defineCommand({
  meta: { name: 'run', description: 'Run a NIR file on one input sequence: spike counts and spike steps per output neuron' },
  args: runArgs,
  async run({ args: a, rawArgs }) {
    checkFlags('nir run', rawArgs, runArgs);
    const o = importOptions(a);
    const x = readNpyFloat(String(a.input));
    const { file: nir, warnings } = await readNir(String(a.file));
    const imported = nirToNet(nir, o);
    const r = runSequence(imported.net, x.data, x.shape);
    const final = r.spiking ? [] : Array.from(r.steps.subarray(r.steps.length - r.steps.length / r.T));
    const out = {
      file: String(a.file), T: r.T, dt: imported.semantics.dt, method: imported.semantics.method, preset: imported.semantics.preset, restored: imported.restored,
      input_shape: imported.net.config.input, output_shape: r.outputShape, spiking: r.spiking,
      ...(r.spiking ? { counts: r.counts, spike_steps: r.spikeSteps } : { final }),
      warnings: [...warnings, ...imported.warnings],
    };
    if (a.json) { printJson(out); return; }
    warn(out.warnings, false);
    process.stdout.write(`${basename(String(a.file))}: ${r.T} steps of dt ${out.dt} s (${out.method}${out.restored ? ', edgespike semantics' : ''}), output ${fmtShape(r.outputShape)}\n`);
    if (r.spiking) {
      const total = r.counts!.reduce((s, c) => s + c, 0);
      process.stdout.write(`spikes: ${total} in all; per output neuron: ${r.counts!.join(' ')}\n`);
    } else process.stdout.write(`output at the last step: ${final.map((v) => v.toPrecision(6)).join(' ')}\n`);
  },
});

// ---------------------------------------------------------------- import and export

const importArgs = {
  file: { type: 'positional', description: 'NIR file', required: true },
  out: { type: 'string', description: 'model file to write (.es)', required: true },
  T: { type: 'string', description: 'time steps of the model\'s runs (default: the restored model\'s, else 10)' },
  ...importFlags,
} as const;

const importCommand = defineCommand({
  meta: { name: 'import', description: 'Turn a NIR file into a model file (eval, profile, quantize, predict take it)' },
  args: importArgs,
  async run({ args: a, rawArgs }) {
    checkFlags('nir import', rawArgs, importArgs);
    const o = importOptions(a);
    const T = optNum('T', a.T, { int: true, min: 1, max: 100_000 });
    const out = String(a.out);
    checkOutputFile('--out', out);
    const { file: nir, warnings } = await readNir(String(a.file));
    const imported = nirToNet(nir, { ...o, ...(T !== undefined ? { T } : {}) });
    const s = imported.semantics;
    const training = { imported_from_nir: basename(String(a.file)), nir_version: nir.version, dt: s.dt, method: s.method, preset: s.preset, restored: imported.restored };
    const extra = imported.restored ? { ...imported.extra, training: { ...((imported.extra.training as object | undefined) ?? {}), ...training } } : { training };
    saveNet(out, imported.net, extra);
    const all = [...warnings, ...imported.warnings];
    const summary = {
      model: out, from: String(a.file), restored: imported.restored, nodes: imported.net.graph.nodes.length, input: imported.net.config.input,
      classes: imported.net.classes, timesteps: imported.net.config.T, dt: s.dt, method: s.method, preset: s.preset, warnings: all,
    };
    if (a.json) { printJson(summary); return; }
    warn(all, false);
    process.stdout.write(`${out}: ${summary.nodes} nodes, input ${fmtShape(summary.input)}, ${summary.classes} outputs, T ${summary.timesteps}, ` +
      `${imported.restored ? 'restored bit for bit from edgespike metadata' : `dt ${s.dt} s (${s.method}, ${s.preset})`}\n`);
  },
});

const exportArgs = {
  model: { type: 'positional', description: 'model file (.es)', required: true },
  out: { type: 'string', description: 'NIR file to write', required: true },
  preset: { type: 'string', description: `how neurons are written: ${EXPORT_PRESETS.join(', ')} (default snntorch)` },
  dt: { type: 'string', description: 'the step the time constants assume (default 1e-4; norse 1e-3)' },
  gzip: { type: 'boolean', description: 'chunk and gzip the arrays (smaller, slower to write)' },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

const exportCommand = defineCommand({
  meta: { name: 'export', description: 'Write a model file as NIR (our discrete semantics kept in its metadata)' },
  args: exportArgs,
  async run({ args: a, rawArgs }) {
    checkFlags('nir export', rawArgs, exportArgs);
    const preset = a.preset === undefined ? 'snntorch' : choice('preset', a.preset, EXPORT_PRESETS);
    const dt = a.dt === undefined ? undefined : num('dt', a.dt, { min: Number.MIN_VALUE, max: 1e6 });
    const out = String(a.out);
    checkOutputFile('--out', out);
    const { net, meta } = loadNet(String(a.model));
    const { graph: _g, config: _c, ...extra } = meta;
    void _g; void _c;
    const ex = netToNir(net, { preset, ...(dt !== undefined ? { dt } : {}), extra });
    await writeNir(out, ex.file, { compress: !!a.gzip });
    const nodes = Object.keys(ex.file.graph.nodes).length;
    const summary = {
      nir: out, from: String(a.model), version: ex.file.version, nodes, edges: ex.file.graph.edges.length, preset, dt: dt ?? (preset === 'norse' ? 1e-3 : PRESET_DT.snntorch),
      metadata_tensors: isArray(ex.file.graph.metadata.edgespike_tensor_data) ? ex.file.graph.metadata.edgespike_tensor_data.data.length : 0, lost: ex.warnings,
    };
    if (a.json) { printJson(summary); return; }
    for (const w of ex.warnings) process.stderr.write(`warning: NIR cannot express ${w}; edgespike restores it from the metadata, other tools will not\n`);
    process.stdout.write(`${out}: NIR ${summary.version}, ${nodes} nodes, ${summary.edges} edges, neurons as ${preset} writes them (dt ${summary.dt} s)\n`);
  },
});

export const nirCommand = defineCommand({
  meta: { name: 'nir', description: 'Read, run, import and export NIR files (the neuromorphic intermediate representation)' },
  subCommands: { inspect: inspectCommand, run: runCommand, import: importCommand, export: exportCommand },
});
