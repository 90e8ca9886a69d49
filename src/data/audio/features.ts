/**
 * Spectral features with librosa 0.10's conventions: centred STFT frames (zero padding of nFft/2 on each
 * side, pad_mode 'constant'), periodic Hann window, power spectrogram |X|^power, Slaney mel filterbank,
 * power_to_db, and MFCC = orthonormal DCT-II of the dB mel spectrogram. Matrices are row-major [rows, cols].
 */
import FFT from 'fft.js';
import { EdgespikeError } from '../../util/errors.js';
import { melFilterbank } from './mel.js';

export { hzToMel, melToHz, melFrequencies, melFilterbank, type MelFilterbank } from './mel.js';
export { resizeBilinear } from './resize.js';

/** A dense row-major float32 matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** rows·cols values, element (r, c) at r·cols + c. */
  readonly data: Float32Array;
}

/** STFT options (librosa names in brackets). */
export interface StftOptions {
  /** FFT size, a power of two [n_fft] (default 2048). */
  readonly nFft?: number;
  /** Hop between frames in samples [hop_length] (default nFft/4). */
  readonly hop?: number;
  /** Centre frame t on sample t·hop by zero-padding nFft/2 samples on each side (default true). */
  readonly center?: boolean;
  /** Exponent applied to the magnitude: 1 = magnitude, 2 = power (default 2). */
  readonly power?: number;
}

/** Mel spectrogram options: STFT options plus the filterbank's. */
export interface MelOptions extends StftOptions {
  /** Number of mel bands (default 128). */
  readonly nMels?: number;
  /** Lowest filterbank frequency in Hz (default 0). */
  readonly fmin?: number;
  /** Highest filterbank frequency in Hz (default sr/2). */
  readonly fmax?: number;
}

/** Periodic Hann window of length n: w[i] = 0.5 − 0.5·cos(2πi/n) (scipy get_window('hann', n, fftbins=True)). */
export function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Number of STFT frames librosa produces for `n` samples. */
export function frameCount(n: number, nFft: number, hop: number, center: boolean): number {
  const padded = center ? n + 2 * Math.floor(nFft / 2) : n;
  return padded < nFft ? 0 : 1 + Math.floor((padded - nFft) / hop);
}

/** |STFT|^power of `signal` as [nFft/2 + 1, frames] (bins × frames). */
export function spectrogram(signal: Float32Array, opts: StftOptions = {}): Matrix {
  const nFft = opts.nFft ?? 2048, hop = opts.hop ?? Math.floor(nFft / 4);
  const center = opts.center ?? true, power = opts.power ?? 2;
  if (nFft < 2 || (nFft & (nFft - 1)) !== 0) throw new EdgespikeError(`spectrogram: nFft must be a power of two ≥ 2, got ${nFft}`);
  if (!(hop >= 1) || !Number.isInteger(hop)) throw new EdgespikeError(`spectrogram: hop must be a positive integer, got ${hop}`);
  const frames = frameCount(signal.length, nFft, hop, center);
  if (frames < 1) {
    throw new EdgespikeError(`spectrogram: signal of ${signal.length} samples is shorter than nFft ${nFft} (center false)`);
  }
  const pad = center ? Math.floor(nFft / 2) : 0, nBins = nFft / 2 + 1;
  const win = hannWindow(nFft), fft = new FFT(nFft);
  const frame = new Float64Array(nFft), spec = new Float64Array(2 * nFft);
  const out = new Float32Array(nBins * frames);
  for (let t = 0; t < frames; t++) {
    const s0 = t * hop - pad;
    for (let i = 0; i < nFft; i++) {
      const j = s0 + i;
      frame[i] = j >= 0 && j < signal.length ? signal[j] * win[i] : 0;
    }
    fft.realTransform(spec, frame);
    for (let k = 0; k < nBins; k++) {
      const mag2 = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
      out[k * frames + t] = power === 2 ? mag2 : Math.pow(mag2, power / 2);
    }
  }
  return { rows: nBins, cols: frames, data: out };
}

/** librosa.feature.melspectrogram: mel filterbank × |STFT|^power, as [nMels, frames]. */
export function melSpectrogram(signal: Float32Array, sr: number, opts: MelOptions = {}): Matrix {
  const nFft = opts.nFft ?? 2048, nMels = opts.nMels ?? 128;
  const spec = spectrogram(signal, opts);
  const fb = melFilterbank(sr, nFft, nMels, opts.fmin ?? 0, opts.fmax ?? sr / 2);
  const frames = spec.cols, out = new Float32Array(nMels * frames), acc = new Float64Array(frames);
  for (let m = 0; m < nMels; m++) {
    acc.fill(0);
    for (let k = fb.start[m]; k < fb.end[m]; k++) {
      const w = fb.weights[m * fb.nBins + k], row = k * frames;
      for (let t = 0; t < frames; t++) acc[t] += w * spec.data[row + t];
    }
    out.set(acc, m * frames);
  }
  return { rows: nMels, cols: frames, data: out };
}

/** power_to_db options. */
export interface DbOptions {
  /** Reference power: a number, or 'max' for the largest value of S (default 1, as librosa). */
  readonly ref?: number | 'max';
  /** Floor applied to S and to the reference before the logarithm (default 1e-10). */
  readonly amin?: number;
  /** Clip to at most this many dB below the peak; null disables (default 80). */
  readonly topDb?: number | null;
}

/** librosa.power_to_db: 10·log10(max(amin, S)) − 10·log10(max(amin, ref)), then max(·, peak − topDb). */
export function powerToDb(s: Matrix, opts: DbOptions = {}): Matrix {
  const amin = opts.amin ?? 1e-10, topDb = opts.topDb === undefined ? 80 : opts.topDb;
  if (!(amin > 0)) throw new EdgespikeError(`powerToDb: amin must be > 0, got ${amin}`);
  if (topDb !== null && !(topDb >= 0)) throw new EdgespikeError(`powerToDb: topDb must be ≥ 0 or null, got ${topDb}`);
  let ref = opts.ref ?? 1;
  if (ref === 'max') ref = s.data.reduce((a, b) => (b > a ? b : a), -Infinity);
  const offset = 10 * Math.log10(Math.max(amin, ref));
  const db = new Float64Array(s.data.length);
  let peak = -Infinity;
  for (let i = 0; i < db.length; i++) {
    db[i] = 10 * Math.log10(Math.max(amin, s.data[i])) - offset;
    if (db[i] > peak) peak = db[i];
  }
  const floor = topDb === null ? -Infinity : peak - topDb;
  const out = new Float32Array(db.length);
  for (let i = 0; i < db.length; i++) out[i] = Math.max(db[i], floor);
  return { rows: s.rows, cols: s.cols, data: out };
}

/** Orthonormal DCT-II basis [k, n]: row j is s_j·cos(πj(2i+1)/(2n)), s_0 = √(1/n), s_j = √(2/n) otherwise. */
export function dctBasis(k: number, n: number): Float64Array {
  const basis = new Float64Array(k * n);
  for (let j = 0; j < k; j++) {
    const s = Math.sqrt((j === 0 ? 1 : 2) / n);
    for (let i = 0; i < n; i++) basis[j * n + i] = s * Math.cos((Math.PI * j * (2 * i + 1)) / (2 * n));
  }
  return basis;
}

/** Orthonormal DCT-II of x (scipy dct type 2, norm 'ortho'), first `k` coefficients. */
export function dctOrtho(x: ArrayLike<number>, k = x.length): Float64Array {
  const n = x.length, basis = dctBasis(k, n), y = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += basis[j * n + i] * x[i];
    y[j] = s;
  }
  return y;
}

/** MFCC options: mel options plus the number of coefficients. */
export interface MfccOptions extends MelOptions {
  /** Number of cepstral coefficients kept (default 20, as librosa). */
  readonly nMfcc?: number;
}

/**
 * librosa.feature.mfcc: DCT-II (ortho) along the mel axis of powerToDb(melSpectrogram) with ref 1,
 * amin 1e-10, topDb 80; defaults nFft 2048, hop 512, nMels 128. Returns [nMfcc, frames].
 */
export function mfcc(signal: Float32Array, sr: number, opts: MfccOptions = {}): Matrix {
  const nMfcc = opts.nMfcc ?? 20;
  const db = powerToDb(melSpectrogram(signal, sr, opts));
  if (!(nMfcc >= 1 && nMfcc <= db.rows)) throw new EdgespikeError(`mfcc: nMfcc must be in 1…${db.rows}, got ${nMfcc}`);
  const nMels = db.rows, frames = db.cols, out = new Float32Array(nMfcc * frames);
  const basis = dctBasis(nMfcc, nMels);
  for (let t = 0; t < frames; t++) {
    for (let j = 0; j < nMfcc; j++) {
      let acc = 0;
      for (let i = 0; i < nMels; i++) acc += basis[j * nMels + i] * db.data[i * frames + t];
      out[j * frames + t] = acc;
    }
  }
  return { rows: nMfcc, cols: frames, data: out };
}
