/**
 * GTZAN music genres as the EC-SNN seed prepares them: each clip at 22 050 Hz, first 660 000 samples cut
 * into 8 chunks of 82 500; each chunk → mel spectrogram (nFft 512, hop 256, 96 bands, centred) → dB
 * relative to the chunk's maximum (top 80 dB) → a 1×96×323 image. Values are dB in [−80, 0], not rescaled.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EdgespikeError } from '../../util/errors.js';
import type { Dataset } from '../dataset.js';
import { melSpectrogram, powerToDb } from './features.js';
import { resample, type ResampleFilterName } from './resample.js';
import { checkSplit, lazyDataset, seededSplit, type SplitName } from './split.js';
import { readWav, toMono } from './wav.js';

/** Sampling rate every clip is brought to (librosa.load's default). */
export const AUDIO_RATE = 22050;
/** Samples per chunk. */
export const GTZAN_CHUNK = 82500;
/** Chunks taken from the start of each clip (8 × 82 500 = 660 000 samples). */
export const GTZAN_CHUNKS = 8;
/** Shape of one sample: 1 channel × 96 mel bands × 323 frames. */
export const GTZAN_SHAPE: readonly number[] = Object.freeze([1, 96, 323]);
/** Files left out: jazz.00054.wav cannot be decoded in the public release. */
export const GTZAN_EXCLUDED: readonly string[] = Object.freeze(['jazz.00054.wav']);

/** Options for {@link gtzan}. */
export interface GtzanOptions {
  /** Seed of the 80/20 split (default 2023, the seed's numpy seed). */
  readonly seed?: number;
  /** Fraction of samples in the test split (default 0.2). */
  readonly testFraction?: number;
  /**
   * 'chunk' (default, as the seed): chunks are split independently, so chunks of one clip can fall on
   * both sides. 'file': whole clips are split, all 8 chunks of a clip together.
   */
  readonly splitBy?: 'chunk' | 'file';
  /** Keep computed images in memory (default true; about 124 kB per sample). */
  readonly cache?: boolean;
  /** Filter for clips not at 22 050 Hz (default 'kaiser_best'; GTZAN itself is all 22 050 Hz). */
  readonly resampleFilter?: ResampleFilterName;
}

/** The dB mel image [96, frames] of one chunk: melSpectrogram(512, 256, 96) → powerToDb(ref max). */
export function gtzanChunkImage(chunk: Float32Array, sr = AUDIO_RATE): Float32Array {
  const mel = melSpectrogram(chunk, sr, { nFft: 512, hop: 256, nMels: 96, center: true, power: 2 });
  return powerToDb(mel, { ref: 'max', amin: 1e-10, topDb: 80 }).data;
}

/** Lists the clips: [genre names sorted, files as {path, label}] in genre then file-name order. */
export function listGtzan(dir: string): { genres: string[]; files: { path: string; label: number }[] } {
  const root = join(dir, 'genres_original');
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new EdgespikeError(`gtzan: directory '${root}' not found (expected genres_original/<genre>/*.wav under '${dir}')`);
  }
  const genres = readdirSync(root).filter((g) => statSync(join(root, g)).isDirectory()).sort();
  const files: { path: string; label: number }[] = [];
  genres.forEach((g, label) => {
    const names = readdirSync(join(root, g)).filter((f) => f.toLowerCase().endsWith('.wav') && !GTZAN_EXCLUDED.includes(f));
    for (const f of names.sort()) files.push({ path: join(root, g, f), label });
  });
  if (files.length === 0) throw new EdgespikeError(`gtzan: no .wav files found under '${root}'`);
  return { genres, files };
}

/** Loads a clip as mono 22 050 Hz audio, padded with zeros (or cut) to exactly 660 000 samples. */
function loadClip(path: string, filter: ResampleFilterName): Float32Array {
  const wav = readWav(path);
  const mono = resample(toMono(wav.channels), wav.sampleRate, AUDIO_RATE, filter);
  const clip = new Float32Array(GTZAN_CHUNK * GTZAN_CHUNKS);
  clip.set(mono.subarray(0, clip.length));
  return clip;
}

/**
 * GTZAN data set (seeds.md §1.4). Sample s is chunk s mod 8 of clip ⌊s/8⌋, clips ordered by genre folder
 * (sorted) then file name; label = index of the genre folder in sorted order. Split: see
 * {@link seededSplit}, over samples or, with splitBy 'file', over clips. Clips shorter than 660 000
 * samples are zero-padded. Features are computed on first read; with caching, every chunk of that clip
 * that belongs to the split is computed at once.
 */
export function gtzan(dir: string, split: SplitName, opts: GtzanOptions = {}): Dataset {
  checkSplit('gtzan', split);
  const { genres, files } = listGtzan(dir);
  const seed = opts.seed ?? 2023, frac = opts.testFraction ?? 0.2, filter = opts.resampleFilter ?? 'kaiser_best';
  const total = files.length * GTZAN_CHUNKS;
  let indices: number[];
  if (split === 'all') {
    indices = Array.from({ length: total }, (_, i) => i);
  } else if ((opts.splitBy ?? 'chunk') === 'chunk') {
    indices = seededSplit(total, frac, seed)[split];
  } else {
    const chunksOf = (f: number) => Array.from({ length: GTZAN_CHUNKS }, (_, c) => f * GTZAN_CHUNKS + c);
    indices = seededSplit(files.length, frac, seed)[split].flatMap(chunksOf);
  }
  const inSplit = new Set(indices);
  return lazyDataset({
    name: `gtzan/${split}`, shape: GTZAN_SHAPE, numClasses: genres.length, classNames: genres, indices,
    cache: opts.cache,
    labelOf: (g) => files[Math.floor(g / GTZAN_CHUNKS)].label,
    compute(g) {
      const f = Math.floor(g / GTZAN_CHUNKS);
      const clip = loadClip(files[f].path, filter);
      const out = new Map<number, Float32Array>();
      for (let c = 0; c < GTZAN_CHUNKS; c++) {
        const s = f * GTZAN_CHUNKS + c;
        if (s !== g && (opts.cache === false || !inSplit.has(s))) continue;
        out.set(s, gtzanChunkImage(clip.subarray(c * GTZAN_CHUNK, (c + 1) * GTZAN_CHUNK)));
      }
      return out;
    },
  });
}
