/**
 * A split: the folder `edgespike split` writes and `edgespike device` / `fuse` / `infer` read.
 *
 *   DIR/split.json        the manifest below
 *   DIR/<sub>.es          one pruned sub-model per device (an ordinary model file: conv stack, flatten,
 *                         a |C| + 1-way head); the device runs it up to `feature_node`
 *   DIR/fusion.es         the fusion MLP: input [D] = the sub-models' features concatenated in manifest
 *                         order, run over time ([T, N, D], one step per step), logits averaged over T
 *   DIR/report.json       what the split measured (accuracies, shrink ratio, ATSAN, SOPs, energy, latency)
 *
 * `hash` is the SHA-256 of the sub-model and fusion files' bytes in manifest order: every message between
 * processes carries it, so a process running other weights is refused.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { EdgespikeError } from '../util/errors.js';
import { readInput } from '../util/fsx.js';
import { writeFileAtomic } from '../util/atomic.js';

/** A device the split may use: a name, a memory budget and optional energy/ops budgets and speed. */
export interface DeviceSpec {
  readonly name: string;
  /** Bytes the sub-model's weights may take. */
  readonly memory_bytes: number;
  /** Relative speed (1 = this machine); scales the measured latency. */
  readonly speed?: number;
  /** Energy budget per inference in joules. */
  readonly energy_j?: number;
  /** Operations budget per inference. */
  readonly ops?: number;
}

/** One sub-model and where it runs. */
export interface SubModelEntry {
  /** Name, also the file stem: sub-0, sub-1, … */
  readonly name: string;
  readonly file: string;
  /** The classes it recognises (its head has one output per class, plus "other" first). */
  readonly classes: readonly number[];
  /** The node whose output (spikes over time, flattened) is the features sent to the fusion. */
  readonly feature_node: string;
  /** Features per step. */
  readonly feature_size: number;
  /** The device it is assigned to. */
  readonly device: string;
  /** The APoZ threshold (percent) its pruning used. */
  readonly zeta: number;
  /** Weight bytes of the sub-model (float32). */
  readonly memory_bytes: number;
}

/** The manifest. */
export interface SplitManifest {
  readonly format: 'edgespike-split';
  readonly version: 1;
  readonly dataset: string;
  /** One input sample's shape. */
  readonly input: readonly number[];
  readonly classes: number;
  readonly T: number;
  readonly classNames?: readonly string[];
  readonly normalize?: unknown;
  readonly submodels: readonly SubModelEntry[];
  readonly devices: readonly DeviceSpec[];
  readonly fusion: { readonly file: string };
  /** SHA-256 (hex) of the model files in manifest order (sub-models, then the fusion). */
  readonly hash: string;
}

/** The SHA-256 of the split's model files in manifest order. */
export function splitHash(dir: string, m: Pick<SplitManifest, 'submodels' | 'fusion'>): string {
  const h = createHash('sha256');
  for (const f of [...m.submodels.map((s) => s.file), m.fusion.file]) h.update(readInput(join(dir, f), 'model file'));
  return h.digest('hex');
}

/** Checks a devices file's content: a non-empty list of devices with unique names and positive budgets. */
export function checkDevices(v: unknown, file: string): DeviceSpec[] {
  if (!Array.isArray(v) || v.length === 0) throw new EdgespikeError(`${file}: expected a JSON list of devices, e.g. [{"name": "pi-1", "memory_bytes": 4000000}]`);
  const seen = new Set<string>();
  return v.map((d, i) => {
    const bad = (why: string): never => { throw new EdgespikeError(`${file}: device ${i + 1} ${why}`); };
    if (d === null || typeof d !== 'object') bad('is not an object');
    if (typeof d.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(d.name)) bad(`needs a name of letters, digits, ".", "_" or "-", got ${JSON.stringify(d.name)}`);
    if (seen.has(d.name)) bad(`repeats the name "${d.name}"`);
    seen.add(d.name);
    const pos = (k: string, need: boolean): void => {
      const x = d[k];
      if (x === undefined && !need) return;
      if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) bad(`"${d.name}" needs ${k} as a number > 0, got ${JSON.stringify(x)}`);
    };
    pos('memory_bytes', true); pos('speed', false); pos('energy_j', false); pos('ops', false);
    return { name: d.name, memory_bytes: d.memory_bytes, ...(d.speed ? { speed: d.speed } : {}), ...(d.energy_j ? { energy_j: d.energy_j } : {}), ...(d.ops ? { ops: d.ops } : {}) };
  });
}

/** Reads and checks DIR/split.json, and that its files are there with the hash it states. */
export function readSplit(dir: string): SplitManifest {
  const file = join(dir, 'split.json');
  let m: SplitManifest;
  try {
    m = JSON.parse(readInput(file, 'split manifest', 16 << 20).toString('utf8')) as SplitManifest;
  } catch (e) {
    if (e instanceof EdgespikeError) throw e;
    throw new EdgespikeError(`${file}: not a JSON split manifest (${(e as Error).message})`);
  }
  const bad = (why: string): never => { throw new EdgespikeError(`${file}: ${why}`); };
  if (m?.format !== 'edgespike-split' || m.version !== 1) bad(`not an edgespike split manifest of version 1 (format ${JSON.stringify(m?.format)}, version ${JSON.stringify(m?.version)})`);
  if (!Array.isArray(m.submodels) || m.submodels.length === 0) bad('lists no sub-models');
  if (!Array.isArray(m.input) || !Number.isInteger(m.T) || m.T < 1 || !Number.isInteger(m.classes)) bad('needs input, T and classes');
  checkDevices(m.devices, file);
  const names = new Set<string>();
  for (const s of m.submodels) {
    if (typeof s?.name !== 'string' || typeof s.file !== 'string' || /[\\/]/.test(s.file) || typeof s.feature_node !== 'string' || !Number.isInteger(s.feature_size) || typeof s.device !== 'string') {
      bad(`sub-model ${JSON.stringify(s?.name)} needs name, file (in the split folder), feature_node, feature_size and device`);
    }
    if (names.has(s.name)) bad(`repeats the sub-model "${s.name}"`);
    names.add(s.name);
    if (!m.devices.some((d) => d.name === s.device)) bad(`sub-model "${s.name}" runs on "${s.device}", which is not a listed device`);
  }
  if (typeof m.fusion?.file !== 'string' || /[\\/]/.test(m.fusion.file)) bad('needs fusion.file');
  const actual = splitHash(dir, m);
  if (actual !== m.hash) bad(`the model files' SHA-256 is ${actual.slice(0, 12)}…, the manifest says ${String(m.hash).slice(0, 12)}… (a file was changed or replaced)`);
  return m;
}

/** Writes DIR/split.json with the hash of the files already in DIR (atomically). */
export function writeSplit(dir: string, m: Omit<SplitManifest, 'hash' | 'format' | 'version'>): SplitManifest {
  const full: SplitManifest = { format: 'edgespike-split', version: 1, ...m, hash: splitHash(dir, m) };
  writeFileAtomic(join(dir, 'split.json'), JSON.stringify(full, null, 2) + '\n');
  return full;
}
