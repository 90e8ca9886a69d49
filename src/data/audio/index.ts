/**
 * Audio front end: WAV input/output, band-limited resampling, librosa-compatible spectral features and
 * the GTZAN / UrbanSound8K data sets of the EC-SNN seed.
 */
export * from './wav.js';
export * from './resample.js';
export * from './features.js';
export * from './split.js';
export * from './gtzan.js';
export * from './urbansound.js';
