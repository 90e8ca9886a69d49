/** Kaiser windowed-sinc resampler: lengths, Bessel I0, DC gain, pass band and stop band against the filter specs. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EdgespikeError } from '../../../src/util/errors.js';
import { besselI0, kaiserSincTable, KAISER_FILTERS, resample } from '../../../src/data/audio/resample.js';

function sine(freq: number, sr: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * freq * i) / sr));
}

/** Largest |y[i] − sin(2πf·i/sr)| away from the first and last `margin` samples (edges see the zero padding). */
function maxSineError(y: Float32Array, freq: number, sr: number, margin = 100): number {
  let e = 0;
  for (let i = margin; i < y.length - margin; i++) e = Math.max(e, Math.abs(y[i] - Math.sin((2 * Math.PI * freq * i) / sr)));
  return e;
}

function interiorPeak(y: Float32Array, margin = 100): number {
  let p = 0;
  for (let i = margin; i < y.length - margin; i++) p = Math.max(p, Math.abs(y[i]));
  return p;
}

describe('resample', () => {
  test('identity when the rates match (same array back)', () => {
    const x = Float32Array.from([1, 2, 3]);
    assert.equal(resample(x, 22050, 22050), x);
  });

  test('output length is ⌈n·out/in⌉; the extra sample is zero padding (librosa fix_length)', () => {
    // 1001 · 22050/44100 = 500.5 → 501 samples; 500 are computed, the last is padding.
    const y = resample(new Float32Array(1001).fill(1), 44100, 22050);
    assert.equal(y.length, 501);
    assert.equal(y[500], 0);
    // 1000 · 22050/8000 = 2756.25 → 2757.
    assert.equal(resample(new Float32Array(1000), 8000, 22050).length, 2757);
  });

  test('besselI0 matches tabulated values', () => {
    assert.equal(besselI0(0), 1);
    assert.ok(Math.abs(besselI0(1) - 1.2660658777520084) < 1e-15);
    assert.ok(Math.abs(besselI0(3) - 4.880792585865024) < 1e-14);
  });

  test('filter table: h(0) = roll-off, 24·512 + 1 entries, and the full filter sums to 1 per zero crossing', () => {
    const f = KAISER_FILTERS.kaiser_fast;
    const t = kaiserSincTable(f);
    assert.equal(t.length, 24 * 512 + 1);
    assert.equal(t[0], 0.868212);
    // ∫ρ·sinc(ρτ)dτ = 1; the Riemann sum of the (two-sided) tabulated filter at step 1/512 must be ≈ 1.
    let s = t[0];
    for (let i = 1; i < t.length; i++) s += 2 * t[i];
    assert.ok(Math.abs(s / 512 - 1) < 1e-5, `sum ${s / 512}`);
  });

  for (const name of ['kaiser_fast', 'kaiser_best'] as const) {
    // Stop-band design figures from resampy: kaiser_fast −93 dB (2.2e−5), kaiser_best −120 dB (1e−6).
    const stop = name === 'kaiser_fast' ? 2.3e-5 : 1e-6;
    test(`${name}: 44.1 kHz → 22.05 kHz keeps DC and pass-band sines, removes 15 kHz`, () => {
      const dc = resample(new Float32Array(4410).fill(1), 44100, 22050, name);
      assert.ok(Math.abs(interiorPeak(dc) - 1) < 5e-6);
      assert.ok(maxSineError(resample(sine(1000, 44100, 8820), 44100, 22050, name), 1000, 22050) < 1e-5);
      assert.ok(maxSineError(resample(sine(8000, 44100, 8820), 44100, 22050, name), 8000, 22050) < 2e-5);
      assert.ok(interiorPeak(resample(sine(15000, 44100, 8820), 44100, 22050, name)) < stop);
    });
    test(`${name}: 8 kHz → 22.05 kHz reproduces a 200 Hz sine`, () => {
      assert.ok(maxSineError(resample(sine(200, 8000, 4000), 8000, 22050, name), 200, 22050) < 1e-4);
    });
  }

  test('48 kHz → 22.05 kHz: 1 kHz sine within 1e−3', () => {
    // The table step ⌊0.459375·512⌋ = 235 (not 235.2) stretches the filter slightly, as resampy does:
    // a gain error of a few 1e−4.
    const e = maxSineError(resample(sine(1000, 48000, 9600), 48000, 22050, 'kaiser_fast'), 1000, 22050);
    assert.ok(e < 1e-3 && e > 1e-5, `error ${e}`);
  });

  test('bad arguments give EdgespikeError', () => {
    assert.throws(() => resample(new Float32Array(4), 0, 22050), EdgespikeError);
    assert.throws(() => resample(new Float32Array(4), 44100, 22050, 'sinc' as never), /filter must be one of kaiser_fast, kaiser_best/);
  });
});
