/**
 * Event data sets read from a local directory in the original layout, framed into [T, C, H, W]
 * samples: N-MNIST, CIFAR10-DVS, DVS128 Gesture, N-Caltech101 and SHD. Files are listed once;
 * a sample is decoded, optionally transformed (seeded) and framed each time it is read.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../dataset.js';
import { EdgespikeError } from '../../util/errors.js';
import { readAedat2 } from './aedat2.js';
import { readAedat3 } from './aedat3.js';
import { readAtis } from './atis.js';
import { sortByTime, type Events, type SensorSize } from './events.js';
import { framing as makeFraming, type Framing, type FramingSpec } from './framing.js';
import { cutGestures, readGestureLabels, type GestureSpan } from './gesture-labels.js';
import { createRng, type Rng } from './rng.js';
import { openShd } from './shd.js';

/** The data sets eventDataset knows. */
export const EVENT_DATASETS = ['nmnist', 'cifar10dvs', 'dvsgesture', 'ncaltech101', 'shd'] as const;
/** One of EVENT_DATASETS. */
export type EventDatasetName = (typeof EVENT_DATASETS)[number];

/** Options of an event data set. */
export interface EventDatasetOptions {
  /** How a sample becomes T frames, e.g. { kind: 'number', frames: 5 }. */
  readonly framing: FramingSpec | Framing;
  /** Event transform applied before framing (augmentation); gets the data set's seeded Rng. */
  readonly transform?: (ev: Events, rng: Rng) => Events;
  /** Seed of the transform's Rng (default 0). */
  readonly seed?: number;
  /** Train fraction of the per-class splits (CIFAR10-DVS, N-Caltech101; default 0.8, ⌈ratio·n⌉ first files). */
  readonly trainRatio?: number;
  /** Sensor the frames are drawn on (after the transform); defaults to the data set's. */
  readonly sensor?: SensorSize;
  /** Clamp counts to 1 (binary frames). */
  readonly binary?: boolean;
  /** Multiply every value (after clamping); default 1. */
  readonly scale?: number;
}

/** A framed event data set, with its sensor and the events of each sample. */
export interface EventDataset extends Dataset {
  readonly sensor: SensorSize;
  /** Raw (untransformed) events of sample i. */
  events(i: number): Events;
}

/** What a loader provides: sample count, labels, classes, native sensor and an event reader. */
interface Source {
  readonly length: number;
  readonly labels: readonly number[];
  readonly classNames: readonly string[];
  readonly sensor: SensorSize;
  events(i: number): Events;
}

const GESTURES = ['hand_clapping', 'right_hand_wave', 'left_hand_wave', 'right_arm_clockwise', 'right_arm_counter_clockwise',
  'left_arm_clockwise', 'left_arm_counter_clockwise', 'arm_roll', 'air_drums', 'air_guitar', 'other'];

function bad(name: string, what: string): EdgespikeError {
  return new EdgespikeError(`eventDataset ${name}: ${what}`);
}

function subdirs(dir: string): string[] {
  return readdirSync(dir).filter((d) => !d.startsWith('.') && statSync(join(dir, d)).isDirectory()).sort();
}

function filesIn(dir: string, ext: string): string[] {
  return readdirSync(dir).filter((f) => f.toLowerCase().endsWith(ext) && !f.startsWith('.')).sort();
}

/** Class folders of `root`, each with its files; the first ⌈ratio·n⌉ per class (or the rest) are kept. */
function classFolders(name: string, root: string, ext: string, keep: 'all' | 'train' | 'test', ratio: number) {
  const classes = subdirs(root).filter((c) => filesIn(join(root, c), ext).length > 0);
  if (classes.length === 0) throw bad(name, `expected class folders of ${ext} files in "${root}", found none`);
  const files: string[] = [], labels: number[] = [];
  classes.forEach((c, label) => {
    const all = filesIn(join(root, c), ext), cut = Math.ceil(ratio * all.length);
    const mine = keep === 'all' ? all : keep === 'train' ? all.slice(0, cut) : all.slice(cut);
    for (const f of mine) { files.push(join(root, c, f)); labels.push(label); }
  });
  return { classes, files, labels };
}

function nmnist(dir: string, split: 'train' | 'test'): Source {
  const root = join(dir, split === 'train' ? 'Train' : 'Test');
  if (!existsSync(root)) throw bad('nmnist', `expected folder "${root}" with digit subfolders 0 … 9`);
  const digits = subdirs(root);
  const odd = digits.find((d) => !/^[0-9]$/.test(d));
  if (odd !== undefined || digits.length === 0) {
    throw bad('nmnist', `expected digit folders 0 … 9 in "${root}", found ${digits.join(', ') || 'none'}`);
  }
  const files: string[] = [], labels: number[] = [];
  for (const d of digits) for (const f of filesIn(join(root, d), '.bin')) { files.push(join(root, d, f)); labels.push(Number(d)); }
  const names = Array.from({ length: 10 }, (_, i) => String(i));
  return { length: files.length, labels, classNames: names, sensor: [34, 34, 2], events: (i) => readAtis(files[i]) };
}

function perClass(name: 'cifar10dvs' | 'ncaltech101', dir: string, split: 'train' | 'test', ratio: number): Source {
  const sub = join(dir, 'Caltech101');
  const root = name === 'ncaltech101' && existsSync(sub) ? sub : dir;
  const ext = name === 'cifar10dvs' ? '.aedat' : '.bin';
  const { classes, files, labels } = classFolders(name, root, ext, split, ratio);
  const sensor: SensorSize = name === 'cifar10dvs' ? [128, 128, 2] : [240, 180, 2];
  const read = name === 'cifar10dvs' ? (f: string) => readAedat2(f)
    : (f: string) => readAtis(f, { label: 'N-Caltech101', sensor });
  return { length: files.length, labels, classNames: classes, sensor, events: (i) => read(files[i]) };
}

function gesture(dir: string, split: 'train' | 'test'): Source {
  const list = split === 'train' ? 'trials_to_train.txt' : 'trials_to_test.txt';
  const root = [dir, join(dir, 'DvsGesture')].find((d) => existsSync(join(d, list)));
  if (!root) throw bad('dvsgesture', `expected "${list}" in "${dir}" (or its DvsGesture folder)`);
  const trials = readFileSync(join(root, list), 'latin1').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.endsWith('.aedat'));
  const samples: Array<{ file: string; span: GestureSpan; k: number }> = [];
  for (const trial of trials) {
    const file = join(root, trial);
    if (!existsSync(file)) throw bad('dvsgesture', `"${list}" names "${trial}", which is not in "${root}"`);
    readGestureLabels(file.replace(/\.aedat$/, '_labels.csv')).forEach((span, k) => samples.push({ file, span, k }));
  }
  let cached: { file: string; parts: ReturnType<typeof cutGestures> } | null = null;
  const events = (i: number): Events => {
    const s = samples[i];
    if (cached?.file !== s.file) {
      const spans = samples.filter((o) => o.file === s.file).map((o) => o.span);
      cached = { file: s.file, parts: cutGestures(readAedat3(s.file), spans) };
    }
    return cached.parts[s.k].events;
  };
  return { length: samples.length, labels: samples.map((s) => s.span.label), classNames: GESTURES, sensor: [128, 128, 2], events };
}

async function shd(dir: string, split: 'train' | 'test'): Promise<Source> {
  const file = join(dir, `shd_${split}.h5`);
  if (!existsSync(file)) throw bad('shd', `expected "${file}" (unpacked from shd_${split}.h5.gz)`);
  const f = await openShd(file);
  const labels = Array.from({ length: f.length }, (_, i) => f.label(i));
  const n = Math.max(20, ...labels.map((l) => l + 1));
  return { length: f.length, labels, classNames: Array.from({ length: n }, (_, i) => String(i)), sensor: f.sensor, events: (i) => f.events(i) };
}

async function source(name: EventDatasetName, dir: string, split: 'train' | 'test', ratio: number): Promise<Source> {
  switch (name) {
    case 'nmnist': return nmnist(dir, split);
    case 'cifar10dvs': case 'ncaltech101': return perClass(name, dir, split, ratio);
    case 'dvsgesture': return gesture(dir, split);
    case 'shd': return shd(dir, split);
  }
}

/**
 * Opens an event data set from `dir` in its original layout. Throws EdgespikeError for an unknown
 * name, a missing directory or a layout that does not match.
 */
export async function eventDataset(name: string, dir: string, split: 'train' | 'test', opts: EventDatasetOptions): Promise<EventDataset> {
  if (!(EVENT_DATASETS as readonly string[]).includes(name)) {
    throw new EdgespikeError(`eventDataset: unknown data set "${name}", expected one of ${EVENT_DATASETS.join(', ')}`);
  }
  if (split !== 'train' && split !== 'test') throw bad(name, `split must be "train" or "test", got "${split}"`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw bad(name, `directory "${dir}" not found`);
  const ratio = opts.trainRatio ?? 0.8;
  if (!(ratio > 0 && ratio < 1)) throw bad(name, `trainRatio must be in (0, 1), got ${ratio}`);
  const src = await source(name as EventDatasetName, dir, split, ratio);
  if (src.length === 0) throw bad(name, `no samples for split "${split}" in "${dir}"`);
  return frameSource(`${name}/${split}`, src, opts);
}

/** Wraps a Source as a Dataset of frames [T, C, H, W]. */
function frameSource(name: string, src: Source, opts: EventDatasetOptions): EventDataset {
  const fr = 'write' in opts.framing ? opts.framing : makeFraming(opts.framing);
  const sensor = opts.sensor ?? src.sensor, rng = createRng(opts.seed ?? 0);
  const shape = [fr.frames, fr.channels(sensor), sensor[1], sensor[0]];
  const size = shape.reduce((a, b) => a * b, 1), scale = opts.scale ?? 1;
  return {
    name, length: src.length, shape, temporal: true, numClasses: src.classNames.length, classNames: src.classNames, sensor,
    label: (i) => src.labels[i],
    events: (i) => src.events(i),
    read(i, out, offset) {
      let ev = sortByTime(src.events(i));
      if (opts.transform) ev = sortByTime(opts.transform(ev, rng));
      fr.write(ev, sensor, out, offset);
      if (!opts.binary && scale === 1) return;
      for (let k = offset; k < offset + size; k++) out[k] = (opts.binary ? Math.min(out[k], 1) : out[k]) * scale;
    },
  };
}
