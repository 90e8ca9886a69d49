/**
 * Mel scale and triangular mel filterbank as librosa defines them by default (htk = False, norm = 'slaney'):
 * Slaney's scale is linear below 1 kHz (200/3 Hz per mel, so 1 kHz = 15 mel) and logarithmic above
 * (27 mel per factor 6.4); each triangle is scaled by 2 / (upper edge − lower edge) in Hz.
 */

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

/** Frequency in Hz → mel (Slaney). */
export function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

/** Mel (Slaney) → frequency in Hz. */
export function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/** `n` frequencies in Hz, evenly spaced in mel from fmin to fmax inclusive. */
export function melFrequencies(n: number, fmin: number, fmax: number): Float64Array {
  const lo = hzToMel(fmin), hi = hzToMel(fmax);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = melToHz(n === 1 ? lo : lo + ((hi - lo) * i) / (n - 1));
  return out;
}

/** A mel filterbank: dense weights plus, per band, the range of FFT bins where it is nonzero. */
export interface MelFilterbank {
  readonly nMels: number;
  /** Number of FFT bins, nFft/2 + 1. */
  readonly nBins: number;
  /** Row-major weights [nMels, nBins]. */
  readonly weights: Float64Array;
  /** First nonzero bin of each band (nBins when the band is empty). */
  readonly start: Int32Array;
  /** One past the last nonzero bin of each band. */
  readonly end: Int32Array;
}

/**
 * librosa.filters.mel(sr, nFft, nMels, fmin, fmax) with Slaney scale and Slaney area normalisation.
 * FFT bin k has frequency k·sr/nFft; band i rises from mel point i to i+1 and falls to i+2.
 */
export function melFilterbank(sr: number, nFft: number, nMels: number, fmin = 0, fmax = sr / 2): MelFilterbank {
  const nBins = Math.floor(nFft / 2) + 1;
  const pts = melFrequencies(nMels + 2, fmin, fmax);
  const weights = new Float64Array(nMels * nBins);
  const start = new Int32Array(nMels).fill(nBins);
  const end = new Int32Array(nMels);
  for (let i = 0; i < nMels; i++) {
    const enorm = 2 / (pts[i + 2] - pts[i]);
    for (let k = 0; k < nBins; k++) {
      const f = (k * sr) / nFft;
      const lower = (f - pts[i]) / (pts[i + 1] - pts[i]);
      const upper = (pts[i + 2] - f) / (pts[i + 2] - pts[i + 1]);
      const w = Math.max(0, Math.min(lower, upper));
      if (w > 0) {
        weights[i * nBins + k] = w * enorm;
        if (start[i] === nBins) start[i] = k;
        end[i] = k + 1;
      }
    }
  }
  return { nMels, nBins, weights, start, end };
}
