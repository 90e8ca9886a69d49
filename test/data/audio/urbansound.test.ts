/** UrbanSound8K loader on a tiny generated tree: CSV parsing, labels, both split modes, features, one-line errors. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgespikeError } from '../../../src/util/errors.js';
import { mfcc } from '../../../src/data/audio/features.js';
import { parseUrbanSoundCsv, urbansound8k, URBANSOUND_SHAPE } from '../../../src/data/audio/urbansound.js';
import { encodeWav, writeWav, type WavEncodeOptions } from '../../../src/data/audio/wav.js';

const SIZE = 40 * 173;
const HEADER = 'slice_file_name,fsID,start,end,salience,fold,classID,class';

function sine(freq: number, sr: number, n: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / sr));
}

function throwsMessage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EdgespikeError, `expected EdgespikeError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, re);
    return true;
  });
}

function readSample(d: ReturnType<typeof urbansound8k>, i: number): Float32Array {
  const out = new Float32Array(SIZE);
  d.read(i, out, 0);
  return out;
}

/** [file, fold, classID, class, channels, rate, wav options] per CSV row. */
type Row = [string, number, number, string, Float32Array[], number, WavEncodeOptions];
const tone = sine(300, 22050, 88200);
const anti = sine(1000, 44100, 44100);
const ROWS: Row[] = [
  ['a0.wav', 1, 0, 'air_conditioner', [tone], 22050, { encoding: 'float' }],
  ['a1.wav', 2, 0, 'air_conditioner', [sine(300, 44100, 22050)], 44100, {}],
  ['a2.wav', 3, 0, 'air_conditioner', [sine(300, 48000, 24000)], 48000, { bits: 24 }],
  ['h0.wav', 1, 1, 'car_horn', [anti, anti.map((v) => -v)], 44100, { encoding: 'float' }],
  ['h1.wav', 2, 1, 'car_horn', [sine(1000, 44100, 22050), sine(1000, 44100, 22050)], 44100, {}],
  ['h2.wav', 3, 1, 'car_horn', [sine(1000, 22050, 11025)], 22050, {}],
  ['c0.wav', 1, 2, 'children_playing', [sine(5000, 22050, 11025)], 22050, {}],
  ['c1.wav', 2, 2, 'children_playing', [sine(5000, 16000, 8000)], 16000, {}],
  ['c2.wav', 3, 2, 'children_playing', [sine(3000, 8000, 4000)], 8000, { bits: 8 }],
  ['c3.wav', 3, 2, '"children_playing"', [sine(5000, 22050, 11025)], 22050, { extensible: true }],
];

let root = '';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'es-us8k-'));
  mkdirSync(join(root, 'metadata'));
  const lines = [HEADER];
  for (const [file, fold, cls, name, channels, rate, opts] of ROWS) {
    mkdirSync(join(root, 'audio', `fold${fold}`), { recursive: true });
    writeWav(join(root, 'audio', `fold${fold}`, file), channels, rate, opts);
    lines.push(`${file},1234,0.5,4.5,1,${fold},${cls},${name}`);
  }
  writeFileSync(join(root, 'metadata', 'UrbanSound8K.csv'), lines.join('\r\n') + '\r\n');
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('urbansound8k', () => {
  test('metadata: 10 clips, labels = classID, 3 classes named from the CSV', () => {
    const d = urbansound8k(root, 'all');
    assert.equal(d.name, 'urbansound8k/all');
    assert.equal(d.length, 10);
    assert.deepEqual(d.shape, URBANSOUND_SHAPE);
    assert.deepEqual(d.shape, [1, 40, 173]);
    assert.equal(d.numClasses, 3);
    assert.deepEqual(d.classNames, ['air_conditioner', 'car_horn', 'children_playing']);
    assert.deepEqual(Array.from({ length: 10 }, (_, i) => d.label(i)), [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
  });

  test('seeded 80/20 split ignoring folds: 2 test, 8 train, labels partition the set', () => {
    const te = urbansound8k(root, 'test'), tr = urbansound8k(root, 'train');
    assert.equal(te.length, 2);
    assert.equal(tr.length, 8);
    const labels = [...Array.from({ length: 2 }, (_, i) => te.label(i)), ...Array.from({ length: 8 }, (_, i) => tr.label(i))];
    assert.deepEqual(labels.sort(), [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
  });

  test('official folds: testFold 1 → rows a0, h0, c0 in test, the other 7 in train', () => {
    const te = urbansound8k(root, 'test', { testFold: 1 }), tr = urbansound8k(root, 'train', { testFold: 1 });
    assert.deepEqual(Array.from({ length: te.length }, (_, i) => te.label(i)), [0, 1, 2]);
    assert.equal(tr.length, 7);
    throwsMessage(() => urbansound8k(root, 'test', { testFold: 10 }), /^urbansound8k: testFold must be a fold present in the metadata, got 10$/);
  });

  test('a 4 s clip at 22 050 Hz is its 40 MFCCs unchanged (173 frames: no resampling, identity resize)', () => {
    const direct = mfcc(tone, 22050, { nMfcc: 40 });
    assert.deepEqual([direct.rows, direct.cols], [40, 173]);
    assert.deepEqual(readSample(urbansound8k(root, 'all'), 0), direct.data);
  });

  test('antiphase stereo mixes to silence: c0 = −100·√128 = −1131.371 in every column, other coefficients 0', () => {
    const img = readSample(urbansound8k(root, 'all'), 3);
    for (let t = 0; t < 173; t++) {
      assert.ok(Math.abs(img[t] + 100 * Math.sqrt(128)) < 1e-3, `c0 at ${t}: ${img[t]}`);
      for (let k = 1; k < 40; k++) assert.ok(Math.abs(img[k * 173 + t]) < 1e-3, `c${k} at ${t}`);
    }
  });

  test('every clip (8–48 kHz, 8/16/24-bit, float, extensible, stereo) decodes to 40×173 finite values', () => {
    const d = urbansound8k(root, 'all');
    for (let i = 0; i < d.length; i++) assert.ok(readSample(d, i).every(Number.isFinite), `clip ${i}`);
  });
});

describe('urbansound8k errors', () => {
  test('missing CSV', () => {
    throwsMessage(() => urbansound8k(join(root, 'audio'), 'all'),
      /^urbansound8k: file '.*audio\/metadata\/UrbanSound8K\.csv' not found \(expected metadata\/UrbanSound8K\.csv under '.*audio'\)$/);
  });

  test('CSV without a required column, or with a bad row, names the line', () => {
    throwsMessage(() => parseUrbanSoundCsv('slice_file_name,fold\nx.wav,1\n', 'm.csv'),
      /^urbansound8k: file 'm\.csv' line 1: expected a 'classID' column, got header 'slice_file_name,fold'$/);
    throwsMessage(() => parseUrbanSoundCsv(`${HEADER}\na.wav,1,0,1,1,2,0,x\nb.wav,1,0,1,1,two,0,x\n`, 'm.csv'),
      /^urbansound8k: file 'm\.csv' line 3: expected 8 fields with integer fold ≥ 1 and classID ≥ 0, got 'b\.wav,1,0,1,1,two,0,x'$/);
    throwsMessage(() => parseUrbanSoundCsv(`${HEADER}\n`, 'm.csv'), /^urbansound8k: file 'm\.csv': expected at least one clip row, got none$/);
  });

  test('a truncated WAV, and a missing one, give the one-line wav error on read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-us8k-bad-'));
    try {
      mkdirSync(join(dir, 'metadata'));
      mkdirSync(join(dir, 'audio', 'fold4'), { recursive: true });
      writeFileSync(join(dir, 'metadata', 'UrbanSound8K.csv'), `${HEADER}\nbad.wav,1,0,1,1,4,5,siren\ngone.wav,1,0,1,1,4,5,siren\n`);
      const whole = encodeWav([sine(440, 22050, 100)], 22050);
      writeFileSync(join(dir, 'audio', 'fold4', 'bad.wav'), whole.subarray(0, whole.length - 10));
      const d = urbansound8k(dir, 'all');
      assert.equal(d.numClasses, 6);
      throwsMessage(() => readSample(d, 0), /^wav: file '.*fold4\/bad\.wav' at byte 36: data chunk truncated: declares 200 bytes, 190 left$/);
      throwsMessage(() => readSample(d, 1), /^wav: cannot read file '.*fold4\/gone\.wav'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
