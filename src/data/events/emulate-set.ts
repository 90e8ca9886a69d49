/**
 * An N-MNIST-style event data set made from an image data set: the first images of its training and
 * test splits, turned into events by simulated saccades (emulator.ts). `edgespike data emulate` and the
 * evaluation harness's emulated N-MNIST both use it, so the same counts and seed give the same files.
 */
import type { Dataset } from '../dataset.js';
import { EdgespikeError } from '../../util/errors.js';
import { emulateSaccades, writeEmulatedDataset, type EmulatedSummary } from './emulator.js';

/**
 * Emulates the first `nTrain` training and `nTest` test images (28 × 28 grey samples with values in
 * [0, 1]) into an N-MNIST-layout folder `outDir` (Train/ and Test/, one folder per digit).
 */
export function emulateImageSet(outDir: string, train: Dataset, test: Dataset, nTrain: number, nTest: number, seed: number,
  onProgress?: (done: number, total: number) => void): EmulatedSummary {
  const px = 28 * 28;
  for (const d of [train, test]) {
    if (d.shape.reduce((a, b) => a * b, 1) !== px) throw new EdgespikeError(`emulateImageSet: ${d.name} has samples of [${d.shape.join(', ')}], expected 28×28 grey images`);
  }
  if (!(Number.isInteger(nTrain) && nTrain >= 1 && nTrain <= train.length)) throw new EdgespikeError(`emulateImageSet: ${nTrain} training images, expected 1 … ${train.length}`);
  if (!(Number.isInteger(nTest) && nTest >= 1 && nTest <= test.length)) throw new EdgespikeError(`emulateImageSet: ${nTest} test images, expected 1 … ${test.length}`);
  const n = nTrain + nTest;
  const images = new Uint8Array(n * px), labels = new Int32Array(n), tmp = new Float32Array(px);
  const put = (d: Dataset, i: number, j: number): void => {
    d.read(i, tmp, 0);
    for (let p = 0; p < px; p++) images[j * px + p] = Math.round(Math.min(1, Math.max(0, tmp[p]!)) * 255);
    labels[j] = d.label(i);
  };
  for (let i = 0; i < nTrain; i++) put(train, i, i);
  for (let i = 0; i < nTest; i++) put(test, i, nTrain + i);
  return writeEmulatedDataset(outDir, images, labels, 28, 28, { seed, testFraction: nTest / n, ...(onProgress ? { onProgress } : {}) });
}

/**
 * What emulating `n` images of `d` will write, from the first (at most 20) of them emulated in memory:
 * the bytes of the ATIS files (5 bytes an event) and the seconds it takes on this machine.
 */
export function estimateEmulation(d: Dataset, n: number, seed: number): { bytes: number; seconds: number } {
  const px = 28 * 28, k = Math.min(20, d.length, n), tmp = new Float32Array(px), img = new Uint8Array(px);
  let events = 0;
  const t0 = performance.now();
  for (let i = 0; i < k; i++) {
    d.read(i, tmp, 0);
    for (let p = 0; p < px; p++) img[p] = Math.round(Math.min(1, Math.max(0, tmp[p]!)) * 255);
    events += emulateSaccades(img, { width: 28, height: 28, seed: seed * 1_000_003 + i }).length;
  }
  const perImage = (performance.now() - t0) / 1000 / Math.max(1, k);
  // writing a file costs about as much as emulating it
  return { bytes: (events / Math.max(1, k)) * 5 * n, seconds: 2 * perImage * n };
}
