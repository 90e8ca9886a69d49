/**
 * UrbanSound8K as the EC-SNN seed prepares it: each clip at 22 050 Hz (kaiser_fast resampling), 40 MFCCs
 * (librosa defaults: nFft 2048, hop 512, 128 mel bands), the 40×frames matrix resized bilinearly (OpenCV
 * rules) to 40×173 → a 1×40×173 image of raw MFCC values. Label = classID.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgespikeError } from '../../util/errors.js';
import type { Dataset } from '../dataset.js';
import { mfcc, resizeBilinear } from './features.js';
import { AUDIO_RATE } from './gtzan.js';
import { resample, type ResampleFilterName } from './resample.js';
import { checkSplit, lazyDataset, seededSplit, type SplitName } from './split.js';
import { readWav, toMono } from './wav.js';

/** Shape of one sample: 1 channel × 40 coefficients × 173 frames. */
export const URBANSOUND_SHAPE: readonly number[] = Object.freeze([1, 40, 173]);

/** One row of metadata/UrbanSound8K.csv. */
export interface UrbanSoundClip {
  readonly file: string;
  readonly fold: number;
  readonly classId: number;
  readonly className: string;
}

/** Options for {@link urbansound8k}. */
export interface UrbanSoundOptions {
  /** Seed of the 80/20 split (default 2023). */
  readonly seed?: number;
  /** Fraction of clips in the test split (default 0.2). */
  readonly testFraction?: number;
  /** Use the official folds instead: this fold (1…10) is the test split, the others the train split. */
  readonly testFold?: number;
  /** Keep computed features in memory (default true; about 28 kB per sample). */
  readonly cache?: boolean;
  /** Resampling filter (default 'kaiser_fast', as the seed). */
  readonly resampleFilter?: ResampleFilterName;
}

/** Splits one CSV line into fields; double-quoted fields may hold commas and "" escapes. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Parses the metadata CSV text; `file` names it in errors. Needs columns slice_file_name, fold, classID. */
export function parseUrbanSoundCsv(text: string, file: string): UrbanSoundClip[] {
  const lines = text.split(/\r?\n/);
  const header = csvFields(lines[0] ?? '').map((h) => h.trim());
  const col = (name: string, required: boolean): number => {
    const k = header.indexOf(name);
    if (k < 0 && required) {
      throw new EdgespikeError(`urbansound8k: file '${file}' line 1: expected a '${name}' column, got header '${lines[0] ?? ''}'`);
    }
    return k;
  };
  const cFile = col('slice_file_name', true), cFold = col('fold', true), cClass = col('classID', true), cName = col('class', false);
  const clips: UrbanSoundClip[] = [];
  for (let r = 1; r < lines.length; r++) {
    if (lines[r].trim() === '') continue;
    const f = csvFields(lines[r]);
    const fold = Number(f[cFold]), classId = Number(f[cClass]);
    if (f.length < header.length || !Number.isInteger(fold) || fold < 1 || !Number.isInteger(classId) || classId < 0) {
      throw new EdgespikeError(`urbansound8k: file '${file}' line ${r + 1}: expected ${header.length} fields with ` +
        `integer fold ≥ 1 and classID ≥ 0, got '${lines[r]}'`);
    }
    clips.push({ file: f[cFile], fold, classId, className: cName >= 0 ? f[cName] : String(classId) });
  }
  if (clips.length === 0) throw new EdgespikeError(`urbansound8k: file '${file}': expected at least one clip row, got none`);
  return clips;
}

/** The 1×40×173 feature image of a mono clip at `sr` Hz: mfcc(nMfcc 40) then resizeBilinear to 40×173. */
export function urbanSoundImage(signal: Float32Array, sr = AUDIO_RATE): Float32Array {
  const m = mfcc(signal, sr, { nMfcc: 40 });
  return resizeBilinear(m.data, m.rows, m.cols, URBANSOUND_SHAPE[1], URBANSOUND_SHAPE[2]);
}

function chooseIndices(clips: readonly UrbanSoundClip[], split: SplitName, opts: UrbanSoundOptions): number[] {
  const all = clips.map((_, i) => i);
  if (split === 'all') return all;
  if (opts.testFold !== undefined) {
    const k = opts.testFold;
    if (!Number.isInteger(k) || !clips.some((c) => c.fold === k)) {
      throw new EdgespikeError(`urbansound8k: testFold must be a fold present in the metadata, got ${k}`);
    }
    return all.filter((i) => (clips[i].fold === k) === (split === 'test'));
  }
  return seededSplit(clips.length, opts.testFraction ?? 0.2, opts.seed ?? 2023)[split];
}

/**
 * UrbanSound8K data set (seeds.md §1.4): reads `dir`/metadata/UrbanSound8K.csv and the clips at
 * `dir`/audio/fold{k}/{slice_file_name}. Sample order = CSV row order; the split is {@link seededSplit}
 * over rows (ignoring folds) unless `testFold` is given. numClasses = largest classID + 1.
 */
export function urbansound8k(dir: string, split: SplitName, opts: UrbanSoundOptions = {}): Dataset {
  checkSplit('urbansound8k', split);
  const csv = join(dir, 'metadata', 'UrbanSound8K.csv');
  if (!existsSync(csv)) {
    throw new EdgespikeError(`urbansound8k: file '${csv}' not found (expected metadata/UrbanSound8K.csv under '${dir}')`);
  }
  const clips = parseUrbanSoundCsv(readFileSync(csv, 'utf8'), csv);
  const numClasses = Math.max(...clips.map((c) => c.classId)) + 1;
  const classNames = Array.from({ length: numClasses }, (_, k) => clips.find((c) => c.classId === k)?.className ?? String(k));
  const filter = opts.resampleFilter ?? 'kaiser_fast';
  return lazyDataset({
    name: `urbansound8k/${split}`, shape: URBANSOUND_SHAPE, numClasses, classNames,
    indices: chooseIndices(clips, split, opts), cache: opts.cache,
    labelOf: (g) => clips[g].classId,
    compute(g) {
      const wav = readWav(join(dir, 'audio', `fold${clips[g].fold}`, clips[g].file));
      const mono = resample(toMono(wav.channels), wav.sampleRate, AUDIO_RATE, filter);
      return new Map([[g, urbanSoundImage(mono)]]);
    },
  });
}
