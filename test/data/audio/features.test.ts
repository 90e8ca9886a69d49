/** Spectral features: mel scale and filterbank, STFT framing/padding/scaling, power_to_db, DCT, MFCC, bilinear resize. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  dctOrtho, frameCount, hannWindow, hzToMel, melFilterbank, melFrequencies, melSpectrogram, melToHz, mfcc,
  powerToDb, resizeBilinear, spectrogram,
} from '../../../src/data/audio/features.js';

const near = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

function sine(freq: number, sr: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * freq * i) / sr));
}

describe('mel scale (Slaney)', () => {
  test('linear below 1 kHz at 200/3 Hz per mel, log above with 27 mel per factor 6.4', () => {
    near(hzToMel(200 / 3), 1, 1e-12);
    near(hzToMel(500), 7.5, 1e-12); // 500 / (200/3)
    near(hzToMel(1000), 15, 1e-12);
    near(hzToMel(6400), 42, 1e-12); // 15 + 27·ln(6.4)/ln(6.4)
    near(melToHz(42), 6400, 1e-9);
    near(melToHz(hzToMel(3333)), 3333, 1e-9);
  });

  test('librosa.mel_frequencies(n_mels=40) documentation values (fmax 11025)', () => {
    const f = melFrequencies(40, 0, 11025);
    const doc: [number, number][] = [[1, 85.317], [11, 938.49], [12, 1024.856], [20, 2071.84], [30, 4994.285], [38, 10096.408], [39, 11025]];
    for (const [i, v] of doc) near(f[i], v, 5e-4, `mel_frequencies[${i}]`);
  });
});

describe('mel filterbank', () => {
  test('grid-aligned triangles: sr 2000, nFft 8, 3 bands → peaks 0.004 at bins 1, 2, 3', () => {
    // Mel points 0, 3.75, 7.5, 11.25, 15 mel = 0, 250, 500, 750, 1000 Hz = FFT bins 0…4 (250 Hz apart).
    // Each band is 1 at its centre bin and 0 at the neighbours; Slaney norm 2/(500 Hz) = 0.004.
    const fb = melFilterbank(2000, 8, 3);
    const want = [[0, 0.004, 0, 0, 0], [0, 0, 0.004, 0, 0], [0, 0, 0, 0.004, 0]];
    want.flat().forEach((v, k) => near(fb.weights[k], v, 1e-15, `w[${k}]`));
    assert.deepEqual([...fb.start], [1, 2, 3]);
    assert.deepEqual([...fb.end], [2, 3, 4]);
  });

  test('half-way bins: nFft 16 (125 Hz bins) → 0.002, 0.004, 0.002 per band, row sums 0.008', () => {
    const fb = melFilterbank(2000, 16, 3);
    for (let m = 0; m < 3; m++) {
      const row = [...fb.weights.subarray(m * 9, m * 9 + 9)];
      const want = Array(9).fill(0);
      want[2 * m + 1] = 0.002; want[2 * m + 2] = 0.004; want[2 * m + 3] = 0.002;
      row.forEach((v, k) => near(v, want[k], 1e-15, `band ${m} bin ${k}`));
    }
  });

  test('Slaney area normalisation: each band integrates to 1 over Hz', () => {
    // Σ_k w[k]·Δf is a Riemann sum of a triangle of area 1 (height p = 2/width, sides l1, l2). By
    // Euler–Maclaurin it is exact on each linear piece; a kink with slope jump s adds at most |s|·Δf²/12,
    // so |error| ≤ (2p/l1 + 2p/l2)·Δf²/12. Checked for the bands spanning at least 4 bins.
    const sr = 22050, nFft = 512, df = sr / nFft, fb = melFilterbank(sr, nFft, 96);
    const pts = melFrequencies(98, 0, sr / 2);
    let checked = 0;
    for (let m = 0; m < 96; m++) {
      const l1 = pts[m + 1] - pts[m], l2 = pts[m + 2] - pts[m + 1], p = 2 / (l1 + l2);
      if (l1 + l2 < 4 * df) continue;
      let s = 0;
      for (let k = 0; k < fb.nBins; k++) s += fb.weights[m * fb.nBins + k] * df;
      near(s, 1, ((2 * p) / l1 + (2 * p) / l2) * (df * df) / 12 + 1e-12, `band ${m}`);
      checked++;
    }
    assert.ok(checked >= 30, `checked ${checked}`);
  });

  test('a pure sine lands in the mel band whose centre is nearest in Hz', () => {
    // 96 bands over 0…49.911 mel: centre of band i = (i+1)·0.514549 mel. 300 Hz = 4.5 mel → band 8
    // (308.7 Hz); 1000 Hz = 15 mel → band 28 (994.8 Hz); 5000 Hz = 38.41 mel → band 74 (5062.8 Hz).
    for (const [freq, band] of [[300, 8], [1000, 28], [5000, 74]]) {
      const m = melSpectrogram(sine(freq, 22050, 82500), 22050, { nFft: 512, hop: 256, nMels: 96 });
      let best = 0;
      for (let r = 0; r < 96; r++) if (m.data[r * m.cols + 160] > m.data[best * m.cols + 160]) best = r;
      assert.equal(best, band, `${freq} Hz`);
    }
  });
});

describe('STFT', () => {
  test('periodic Hann window', () => {
    assert.deepEqual([...hannWindow(4)].map((v) => Math.round(v * 1e12) / 1e12), [0, 0.5, 1, 0.5]);
  });

  test('frame count: 82 500 samples, hop 256, centred → 1 + ⌊82 500/256⌋ = 323; GTZAN image 96×323', () => {
    assert.equal(frameCount(82500, 512, 256, true), 323);
    assert.equal(frameCount(88200, 2048, 512, true), 173);
    assert.equal(frameCount(1000, 512, 256, false), 2);
    const m = melSpectrogram(new Float32Array(82500), 22050, { nFft: 512, hop: 256, nMels: 96 });
    assert.deepEqual([m.rows, m.cols], [96, 323]);
  });

  test('centred frames use zero (constant) padding', () => {
    // Impulse at sample 1, nFft 512, hop 256: frame 0 spans samples −256…255 (zeros outside), so the impulse
    // sits at window position 257 and |X_k|² = w[257]² = (0.5 + 0.5·cos(π/256))² for every k. Reflect
    // padding would also place its mirror at position 255. Frame 1 starts at sample 0: w[1]² everywhere.
    const x = new Float32Array(1024); x[1] = 1;
    const s = spectrogram(x, { nFft: 512, hop: 256 });
    assert.deepEqual([s.rows, s.cols], [257, 5]);
    const w257 = 0.5 + 0.5 * Math.cos(Math.PI / 256), w1 = 0.5 - 0.5 * Math.cos((2 * Math.PI) / 512);
    for (let k = 0; k < 257; k++) {
      near(s.data[k * 5], w257 * w257, 1e-6, `frame 0 bin ${k}`);
      near(s.data[k * 5 + 1], w1 * w1, 1e-12, `frame 1 bin ${k}`);
    }
  });

  test("power spectrum obeys Parseval's identity for a windowed frame", () => {
    // N·Σ(x·w)² = |X_0|² + |X_{N/2}|² + 2·Σ_{k=1}^{N/2−1}|X_k|² (real input).
    const n = 512, x = sine(1234, 22050, 4096).map((v, i) => v + 0.3 * Math.cos(i * 0.01));
    const s = spectrogram(x, { nFft: n, hop: 256 }), t = 6, w = hannWindow(n);
    let time = 0;
    for (let i = 0; i < n; i++) time += (x[t * 256 - 256 + i] * w[i]) ** 2;
    let freq = s.data[t] + s.data[256 * s.cols + t];
    for (let k = 1; k < 256; k++) freq += 2 * s.data[k * s.cols + t];
    near(freq / (n * time), 1, 1e-5);
  });
});

describe('power_to_db', () => {
  const mat = (v: number[]) => ({ rows: 1, cols: v.length, data: Float32Array.from(v) });
  test('ref 1: 10·log10(S), clipped 80 dB below the peak', () => {
    // [1, 10, 100, 1e−12] → [0, 10, 20, 10·log10(1e−10) = −100] → floor 20 − 80 = −60.
    assert.deepEqual([...powerToDb(mat([1, 10, 100, 1e-12])).data], [0, 10, 20, -60]);
  });
  test("ref 'max': dB relative to the peak", () => {
    assert.deepEqual([...powerToDb(mat([1, 10, 100, 1e-12]), { ref: 'max' }).data], [-20, -10, 0, -80]);
    assert.deepEqual([...powerToDb(mat([1, 10, 100, 1e-12]), { ref: 'max', topDb: null }).data], [-20, -10, 0, -120]);
  });
  test("all-zero input with ref 'max' is 0 dB everywhere (amin floor on both sides)", () => {
    assert.deepEqual([...powerToDb(mat([0, 0]), { ref: 'max' }).data], [0, 0]);
  });
});

describe('DCT-II (ortho) and MFCC', () => {
  test('constant vector: only c_0 = value·√N', () => {
    const y = dctOrtho(new Array(8).fill(3));
    near(y[0], 3 * Math.sqrt(8), 1e-12);
    for (let k = 1; k < 8; k++) near(y[k], 0, 1e-12, `c${k}`);
  });
  test('basis vector k = 2 maps to √(N/2)·e_2, and energy is preserved', () => {
    const n = 10, x = Array.from({ length: n }, (_, i) => Math.cos((Math.PI * 2 * (2 * i + 1)) / (2 * n)));
    const y = dctOrtho(x);
    y.forEach((v, k) => near(v, k === 2 ? Math.sqrt(n / 2) : 0, 1e-12, `c${k}`));
    const r = [0.3, -1, 2, 0.5, 4], yr = dctOrtho(r);
    near(yr.reduce((a, v) => a + v * v, 0), r.reduce((a, v) => a + v * v, 0), 1e-12);
  });
  test('MFCC of 4 s of silence at 22 050 Hz: 40×173, c_0 = −100·√128, the rest 0', () => {
    // Mel power 0 → 10·log10(1e−10) = −100 dB in all 128 bands → DCT gives −100·√128 = −1131.371 in c_0.
    const m = mfcc(new Float32Array(88200), 22050, { nMfcc: 40 });
    assert.deepEqual([m.rows, m.cols], [40, 173]);
    for (let t = 0; t < 173; t += 43) {
      near(m.data[t], -100 * Math.sqrt(128), 1e-3);
      for (let k = 1; k < 40; k++) near(m.data[k * 173 + t], 0, 1e-3, `c${k}`);
    }
  });
});

describe('resizeBilinear (cv2 INTER_LINEAR)', () => {
  test('1×2 → 1×4: half-pixel centres at −0.25, 0.25, 0.75, 1.25, clamped at the edges', () => {
    assert.deepEqual([...resizeBilinear(Float32Array.from([0, 4]), 1, 2, 1, 4)], [0, 1, 3, 4]);
  });
  test('1×4 → 1×2 averages pairs (centres at 0.5 and 2.5)', () => {
    assert.deepEqual([...resizeBilinear(Float32Array.from([1, 3, 10, 20]), 1, 4, 1, 2)], [2, 15]);
  });
  test('2×2 → 3×3: centres at −1/6, 1/2, 7/6 in both axes', () => {
    const out = resizeBilinear(Float32Array.from([0, 4, 8, 12]), 2, 2, 3, 3);
    assert.deepEqual([...out], [0, 2, 4, 4, 6, 8, 8, 10, 12]);
  });
  test('40×10 → 40×173 keeps rows and interpolates a column ramp linearly', () => {
    // Row r holds r·100 + c; output column d samples c = clamp((d + 0.5)·10/173 − 0.5, 0, 9).
    const src = Float32Array.from({ length: 400 }, (_, i) => Math.floor(i / 10) * 100 + (i % 10));
    const out = resizeBilinear(src, 40, 10, 40, 173);
    for (const r of [0, 17, 39]) {
      for (const d of [0, 1, 50, 86, 171, 172]) {
        const c = Math.min(9, Math.max(0, ((d + 0.5) * 10) / 173 - 0.5));
        near(out[r * 173 + d], r * 100 + c, 1e-3, `(${r}, ${d})`);
      }
    }
  });
});
