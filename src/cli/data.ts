/**
 * `edgespike data`: inspect an event file, draw its frames, and make an event data set offline from
 * images by simulated saccades (as N-MNIST was recorded).
 */
import { defineCommand } from 'citty';
import { EdgespikeError } from '../util/errors.js';
import { inspect, readEvents } from '../data/events/inspect.js';
import { toFrame } from '../data/events/frame.js';
import { sliceEventsBy, type SliceSpec } from '../data/events/slice.js';
import { checkStrip, framesToPng } from '../data/events/png.js';
import { emulateImageSet, estimateEmulation } from '../data/events/emulate-set.js';
import { CountProgress } from '../train/progress.js';
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { mnist } from '../data/mnist.js';
import { fashionMnist } from '../data/fashion.js';
import { checkFlags, num, optNum, printJson } from './_args.js';
import { checkOutputDir, checkOutputFile } from '../util/fsx.js';

const inspectArgs = {
  file: { type: 'positional', description: 'event file (.bin, .aedat, .npy, .h5)', required: true },
  json: { type: 'boolean', description: 'print one JSON object' },
} as const;

/** A sensor size [W, H, P] as both data commands print it. */
export function sensorText(s: readonly number[]): string {
  return `sensor ${s[0]}×${s[1]} pixels (width×height), ${s[2]} polarit${s[2] === 1 ? 'y' : 'ies'}`;
}

const inspectCommand = defineCommand({
  meta: { name: 'inspect', description: 'Format, events, sensor size, duration and event rate of an event file' },
  args: inspectArgs,
  async run({ args: a, rawArgs }) {
    checkFlags('data inspect', rawArgs, inspectArgs);
    const r = await inspect(String(a.file));
    const out = { file: String(a.file), format: r.format, events: r.events, samples: r.samples, sensor_size: r.sensorSize, ...(r.extent ? { extent: r.extent } : {}), duration_us: r.durationUs, event_rate: r.eventRate };
    if (a.json) printJson(out);
    else process.stdout.write(`${out.file}: ${r.format}, ${r.events.toLocaleString('en-US')} events, ${sensorText(r.sensorSize)}` +
      `${r.extent && (r.extent[0] !== r.sensorSize[0] || r.extent[1] !== r.sensorSize[1]) ? ` (events reach ${r.extent[0]}×${r.extent[1]})` : ''}, ` +
      `${(r.durationUs / 1e6).toFixed(3)} s, ${Math.round(r.eventRate).toLocaleString('en-US')} events/s\n`);
  },
});

const framesArgs = {
  file: { type: 'positional', description: 'event file', required: true },
  'time-bins': { type: 'string', description: 'number of equal time bins' },
  'event-bins': { type: 'string', description: 'number of equal event-count bins' },
  'time-window': { type: 'string', description: 'frame length in µs' },
  'event-count': { type: 'string', description: 'events per frame' },
  overlap: { type: 'string', description: 'overlap between frames (µs or events)', default: '0' },
  output: { type: 'string', alias: 'o', description: 'PNG file to write', default: 'frames.png' },
  scale: { type: 'string', description: 'pixels per sensor pixel', default: '4' },
} as const;

const framesCommand = defineCommand({
  meta: { name: 'frames', description: 'Draw the frames of an event file into one PNG strip' },
  args: framesArgs,
  async run({ args: a, rawArgs }) {
    checkFlags('data frames', rawArgs, framesArgs);
    const overlap = num('overlap', a.overlap, { min: 0, max: 1e12 });
    const given = (['time-bins', 'event-bins', 'time-window', 'event-count'] as const).filter((k) => a[k] !== undefined);
    if (given.length > 1) throw new EdgespikeError(`data frames: give one of --time-bins, --event-bins, --time-window, --event-count, not ${given.map((g) => `--${g}`).join(' and ')}`);
    const k = given[0] ?? 'time-bins';
    const v = k === 'time-window' ? num(k, a[k], { min: 1, max: 1e15 }) : num(k, a[k] ?? '10', { int: true, min: 1, max: 1_000_000 });
    const spec: SliceSpec = k === 'time-bins' ? { nTimeBins: v, overlap } : k === 'event-bins' ? { nEventBins: v, overlap }
      : k === 'time-window' ? { timeWindow: v, overlap } : { eventCount: v, overlap };
    const out = String(a.output);
    checkOutputFile('--output', out);
    const scale = num('scale', a.scale, { int: true, min: 1, max: 32 });
    const ev = readEvents(String(a.file));
    if (ev.length === 0) throw new EdgespikeError(`data frames: ${a.file} holds no events`);
    checkStrip(sliceEventsBy(ev, spec).length, ev.sensor[1], ev.sensor[0], { scale });
    const f = toFrame(ev, spec);
    if (f.shape[0] === 0) throw new EdgespikeError(`data frames: ${a.file} gives no frames with --${k} ${v}`);
    framesToPng(f.data, f.shape, out, { scale });
    process.stdout.write(`${out}: ${f.shape[0]} frames, each ${f.shape[1]} polarit${f.shape[1] === 1 ? 'y' : 'ies'} of ${f.shape[3]}×${f.shape[2]} pixels (width×height)\n`);
  },
});

const emulateArgs = {
  from: { type: 'string', description: 'source images: mnist or fashion-mnist', default: 'mnist' },
  out: { type: 'string', description: 'output directory (N-MNIST layout: Train/ and Test/ with one folder per class)', required: true },
  limit: { type: 'string', description: 'training images to convert (test images: one sixth as many)' },
  seed: { type: 'string', description: 'seed of the emulated sensor', default: '1' },
} as const;

const emulateCommand = defineCommand({
  meta: { name: 'emulate', description: 'Turn images into an N-MNIST-style event data set by simulated saccades' },
  args: emulateArgs,
  async run({ args: a, rawArgs }) {
    checkFlags('data emulate', rawArgs, emulateArgs);
    checkOutputDir('--out', String(a.out));
    const seed = num('seed', a.seed, { int: true, min: 0, max: 2 ** 32 - 1 });
    const limitN = optNum('limit', a.limit, { int: true, min: 1, max: 1e9 });
    const src = String(a.from);
    const load = src === 'mnist' ? mnist : src === 'fashion-mnist' ? fashionMnist : null;
    if (!load) throw new EdgespikeError(`--from: expected mnist or fashion-mnist, got "${src}"`);
    const train = load('train'), test = load('test');
    const nTrain = Math.min(train.length, limitN ?? train.length);
    const nTest = Math.min(test.length, a.limit === undefined ? test.length : Math.max(1, Math.round(nTrain / 6)));
    // what it will write, said before it starts (the whole of MNIST is 70,000 files, about 1.7 GB)
    const est = estimateEmulation(train, nTrain + nTest, seed);
    const free = freeBytes(String(a.out));
    if (free !== undefined && est.bytes > free) {
      throw new EdgespikeError(`--out ${a.out}: ${nTrain + nTest} recordings need about ${formatBytes(est.bytes)}, and its file system has ${formatBytes(free)} free (use --limit N)`);
    }
    process.stderr.write(`data emulate: ${(nTrain + nTest).toLocaleString('en-US')} recordings (${nTrain.toLocaleString('en-US')} training, ${nTest.toLocaleString('en-US')} test) into ${a.out}: about ${formatBytes(est.bytes)}` +
      ` and ${formatDuration(est.seconds)} here${a.limit === undefined ? '; --limit N makes fewer' : ''}\n`);
    const bar = new CountProgress('emulate', nTrain + nTest);
    let r;
    try { r = emulateImageSet(String(a.out), train, test, nTrain, nTest, seed, (done) => bar.update(done)); } finally { bar.stop(); }
    process.stdout.write(`${a.out}: ${r.train} training and ${r.test} test recordings, ${r.events.toLocaleString('en-US')} events\n`);
  },
});

/** Free bytes on the file system that holds `path` (or its nearest existing parent); undefined when unknown. */
function freeBytes(path: string): number | undefined {
  for (let p = resolve(path); ; p = dirname(p)) {
    try { const s = statfsSync(p); return s.bavail * s.bsize; } catch { if (dirname(p) === p) return undefined; }
  }
}

const formatBytes = (b: number): string => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(0)} MB` : `${Math.max(1, Math.round(b / 1e3))} kB`);
const formatDuration = (s: number): string => (s >= 90 ? `${Math.round(s / 60)} minutes` : `${Math.max(1, Math.round(s))} s`);

export const dataCommand = defineCommand({
  meta: { name: 'data', description: 'Event data: inspect, frames, emulate' },
  subCommands: { inspect: inspectCommand, frames: framesCommand, emulate: emulateCommand },
});
