/** GTZAN loader on a tiny generated tree: listing, labels, split sizes, chunk images, caching, one-line errors. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgespikeError } from '../../../src/util/errors.js';
import { gtzan, GTZAN_SHAPE } from '../../../src/data/audio/gtzan.js';
import { seededSplit } from '../../../src/data/audio/split.js';
import { writeWav } from '../../../src/data/audio/wav.js';

const SIZE = 96 * 323;

function sine(freq: number, sr: number, n: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / sr));
}

/** Mel band (of 96) with the most energy in frame `t` of a 96×323 dB image. */
function loudestBand(img: Float32Array, t: number): number {
  let best = 0;
  for (let r = 0; r < 96; r++) if (img[r * 323 + t] > img[best * 323 + t]) best = r;
  return best;
}

function readSample(d: ReturnType<typeof gtzan>, i: number): Float32Array {
  const out = new Float32Array(SIZE);
  d.read(i, out, 0);
  return out;
}

/** Asserts fn throws an EdgespikeError whose one-line message matches `re`. */
function throwsMessage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EdgespikeError, `expected EdgespikeError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, re);
    return true;
  });
}

let root = '';

// Tree: blues (300 Hz): a full 30 s clip and a 1 s clip, plus a README; classical (1 kHz): 1 s stereo at
// 44.1 kHz and 1 s float32 mono; jazz (5 kHz): 1 s 24-bit, plus an undecodable jazz.00054.wav (excluded).
// Expected bands (see features.test.ts): 300 Hz → 8, 1 kHz → 28, 5 kHz → 74.
before(() => {
  root = mkdtempSync(join(tmpdir(), 'es-gtzan-'));
  const g = (genre: string) => { const p = join(root, 'genres_original', genre); mkdirSync(p, { recursive: true }); return p; };
  const blues = g('blues'), classical = g('classical'), jazz = g('jazz');
  writeWav(join(blues, 'blues.00000.wav'), [sine(300, 22050, 661794)], 22050);
  writeWav(join(blues, 'blues.00001.wav'), [sine(300, 22050, 22050)], 22050);
  writeFileSync(join(blues, 'README.txt'), 'not audio');
  const c = sine(1000, 44100, 44100);
  writeWav(join(classical, 'classical.00000.wav'), [c, c], 44100);
  writeWav(join(classical, 'classical.00001.wav'), [sine(1000, 22050, 22050)], 22050, { encoding: 'float' });
  writeWav(join(jazz, 'jazz.00000.wav'), [sine(5000, 22050, 22050)], 22050, { bits: 24 });
  writeFileSync(join(jazz, 'jazz.00054.wav'), 'corrupt');
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('gtzan', () => {
  test('lists 5 clips × 8 chunks, genres in sorted order, jazz.00054.wav and non-wav files skipped', () => {
    const d = gtzan(root, 'all');
    assert.equal(d.name, 'gtzan/all');
    assert.equal(d.length, 40);
    assert.deepEqual(d.shape, GTZAN_SHAPE);
    assert.deepEqual(d.shape, [1, 96, 323]);
    assert.equal(d.temporal, false);
    assert.equal(d.numClasses, 3);
    assert.deepEqual(d.classNames, ['blues', 'classical', 'jazz']);
    const labels = Array.from({ length: 40 }, (_, i) => d.label(i));
    assert.deepEqual(labels, [...Array(16).fill(0), ...Array(16).fill(1), ...Array(8).fill(2)]);
  });

  test('chunk split: ⌈0.2·40⌉ = 8 test, 32 train, the seeded permutation of seededSplit', () => {
    const tr = gtzan(root, 'train'), te = gtzan(root, 'test');
    assert.equal(te.length, 8);
    assert.equal(tr.length, 32);
    const { train, test: tst } = seededSplit(40, 0.2, 2023);
    const labelOf = (g: number) => (g < 16 ? 0 : g < 32 ? 1 : 2);
    assert.deepEqual(Array.from({ length: 8 }, (_, i) => te.label(i)), tst.map(labelOf));
    assert.deepEqual(Array.from({ length: 32 }, (_, i) => tr.label(i)), train.map(labelOf));
    const other = gtzan(root, 'test', { seed: 7 });
    assert.equal(other.length, 8);
  });

  test('file split: 1 of 5 clips (8 chunks, one label) in test, 4 clips in train', () => {
    const te = gtzan(root, 'test', { splitBy: 'file' }), tr = gtzan(root, 'train', { splitBy: 'file' });
    assert.equal(te.length, 8);
    assert.equal(tr.length, 32);
    assert.equal(new Set(Array.from({ length: 8 }, (_, i) => te.label(i))).size, 1);
  });

  test('chunk images: dB re max in [−80, 0], the sine in its mel band, silence → 0 dB everywhere', () => {
    const d = gtzan(root, 'all');
    for (const [i, band] of [[0, 8], [7, 8], [8, 8], [16, 28], [24, 28], [32, 74]]) {
      const img = readSample(d, i);
      assert.equal(Math.max(...img), 0, `sample ${i} peak`);
      assert.ok(Math.min(...img) >= -80, `sample ${i} floor`);
      assert.equal(loudestBand(img, 40), band, `sample ${i}`);
    }
    // blues.00001 has 22 050 samples: chunk 1 (samples 82 500…164 999) is zero padding.
    assert.ok(readSample(d, 9).every((v) => v === 0));
    // A sample can be written at an offset inside a batch buffer.
    const batch = new Float32Array(2 * SIZE);
    d.read(0, batch, SIZE);
    assert.deepEqual(batch.subarray(SIZE), readSample(d, 0));
  });

  test('features are cached: a deleted clip can still be read when cached, not otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-gtzan-cache-'));
    try {
      const p = join(dir, 'genres_original', 'pop');
      mkdirSync(p, { recursive: true });
      writeWav(join(p, 'pop.00000.wav'), [sine(1000, 22050, 22050)], 22050);
      const cached = gtzan(dir, 'all'), uncached = gtzan(dir, 'all', { cache: false });
      const first = readSample(cached, 1);
      readSample(uncached, 1);
      rmSync(join(p, 'pop.00000.wav'));
      assert.deepEqual(readSample(cached, 1), first);
      assert.deepEqual(readSample(cached, 5), first); // all 8 chunks of the clip were computed together
      throwsMessage(() => readSample(uncached, 1), /^wav: cannot read file '.*pop\.00000\.wav'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a corrupt clip gives the one-line wav error naming the file and byte offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-gtzan-bad-'));
    try {
      const p = join(dir, 'genres_original', 'rock');
      mkdirSync(p, { recursive: true });
      writeFileSync(join(p, 'rock.00000.wav'), 'RIFF\x04\x00\x00\x00WAVEjunk');
      const d = gtzan(dir, 'all');
      throwsMessage(() => readSample(d, 0), /^wav: file '.*rock\.00000\.wav' at byte 12: no 'fmt ' chunk found$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad directory, split or index give one-line errors', () => {
    throwsMessage(() => gtzan(join(root, 'nope'), 'all'), /^gtzan: directory '.*nope\/genres_original' not found/);
    throwsMessage(() => gtzan(root, 'valid' as never), /^gtzan: split must be 'train', 'test' or 'all', got 'valid'$/);
    throwsMessage(() => gtzan(root, 'all').label(40), /^gtzan\/all: sample index must be an integer in 0…39, got 40$/);
  });
});
