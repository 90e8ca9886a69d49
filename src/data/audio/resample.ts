/**
 * Band-limited resampling by windowed-sinc interpolation (Smith's bandlimited interpolation), with the
 * two Kaiser-windowed filters librosa offers as res_type 'kaiser_fast' and 'kaiser_best':
 *   h(τ) = ρ·sinc(ρ·τ) · I0(β·√(1 − (τ/Z)²)) / I0(β),  |τ| ≤ Z zero crossings, ρ = roll-off (× Nyquist),
 * tabulated at 2^p points per zero crossing and linearly interpolated between table entries.
 */
import { EdgespikeError } from '../../util/errors.js';

/** Parameters of a Kaiser-windowed sinc interpolation filter. */
export interface KaiserFilter {
  /** Zero crossings kept on each side of the sinc. */
  readonly numZeros: number;
  /** Table resolution: 2^precision entries per zero crossing. */
  readonly precision: number;
  /** Kaiser window shape parameter β. */
  readonly beta: number;
  /** Pass-band edge as a fraction of the lower Nyquist frequency. */
  readonly rolloff: number;
}

/**
 * The filters of resampy ≥ 0.4 (the ones librosa 0.10 calls), parameters as resampy documents them:
 * kaiser_fast: 24 zeros, β 9.90322, roll-off 0.868212, 2^9 points per zero (about −93 dB stop band);
 * kaiser_best: 50 zeros, β 12.9846, roll-off 0.917347, 2^13 points per zero (about −120 dB).
 */
export const KAISER_FILTERS = Object.freeze({
  kaiser_fast: { numZeros: 24, precision: 9, beta: 9.90322, rolloff: 0.868212 },
  kaiser_best: { numZeros: 50, precision: 13, beta: 12.9846, rolloff: 0.917347 },
} satisfies Record<string, KaiserFilter>);

/** Name of a built-in resampling filter. */
export type ResampleFilterName = keyof typeof KAISER_FILTERS;

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1, sum = 1;
  for (let k = 1; term > 1e-17 * sum; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/** Right half of the filter, h at τ = i / 2^precision for i = 0 … numZeros·2^precision. */
export function kaiserSincTable(f: KaiserFilter): Float64Array {
  const perZero = 2 ** f.precision;
  const n = f.numZeros * perZero;
  const table = new Float64Array(n + 1);
  const i0Beta = besselI0(f.beta);
  for (let i = 0; i <= n; i++) {
    const tau = i / perZero;
    const x = Math.PI * f.rolloff * tau;
    const sinc = i === 0 ? 1 : Math.sin(x) / x;
    const r = i / n;
    table[i] = f.rolloff * sinc * (besselI0(f.beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta);
  }
  return table;
}

const tableCache = new Map<string, Float64Array>();

function cachedTable(name: ResampleFilterName): Float64Array {
  let t = tableCache.get(name);
  if (!t) {
    t = kaiserSincTable(KAISER_FILTERS[name]);
    tableCache.set(name, t);
  }
  return t;
}

/**
 * Sum of x[n − i]·h over the left wing (i = 0, 1, …) or x[n + 1 + k]·h over the right wing, where the
 * filter is read at table offset `frac`·2^p + step·i with linear interpolation between entries.
 */
function wing(x: Float32Array, table: Float64Array, n: number, frac: number, step: number, perZero: number, dir: 1 | -1, gain: number): number {
  const indexFrac = frac * perZero;
  const offset = Math.floor(indexFrac);
  const eta = indexFrac - offset;
  const last = table.length - 1;
  const avail = dir < 0 ? n + 1 : x.length - n - 1;
  const taps = Math.min(avail, Math.floor((table.length - offset) / step));
  let acc = 0;
  for (let i = 0; i < taps; i++) {
    const j = offset + i * step;
    const h = table[j] + (j < last ? eta * (table[j + 1] - table[j]) : 0);
    acc += h * x[dir < 0 ? n - i : n + 1 + i];
  }
  return acc * gain;
}

/**
 * Resamples `x` from `srIn` to `srOut` Hz (librosa.resample with a Kaiser res_type). The output has
 * ⌈len·srOut/srIn⌉ samples, output sample t sits at input time t·srIn/srOut, and when downsampling the
 * filter is stretched to the new Nyquist frequency (cut-off ρ·srOut/2) and scaled by srOut/srIn.
 * Returns `x` itself when the rates match.
 */
export function resample(x: Float32Array, srIn: number, srOut: number, filter: ResampleFilterName = 'kaiser_fast'): Float32Array {
  if (!(srIn > 0) || !(srOut > 0)) {
    throw new EdgespikeError(`resample: sample rates must be positive, got ${srIn} → ${srOut}`);
  }
  if (!(filter in KAISER_FILTERS)) {
    throw new EdgespikeError(`resample: filter must be one of ${Object.keys(KAISER_FILTERS).join(', ')}, got '${filter}'`);
  }
  if (srIn === srOut) return x;
  const ratio = srOut / srIn;
  const table = cachedTable(filter);
  const perZero = 2 ** KAISER_FILTERS[filter].precision;
  const scale = Math.min(1, ratio);
  const step = Math.trunc(scale * perZero);
  const computed = Math.trunc(x.length * ratio);
  const out = new Float32Array(Math.ceil(x.length * ratio));
  const timeIncrement = 1 / ratio;
  for (let t = 0; t < computed; t++) {
    const time = t * timeIncrement;
    const n = Math.trunc(time);
    const frac = scale * (time - n);
    out[t] = wing(x, table, n, frac, step, perZero, -1, scale) + wing(x, table, n, scale - frac, step, perZero, 1, scale);
  }
  return out;
}
