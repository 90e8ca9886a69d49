/**
 * A small labelled set of 28×28 digits in one file, the app's training and held-out digits
 * (assets/digits.bin): written by `edgespike serve`, read by the page.
 */
import { EdgespikeError } from '../util/errors.js';

/** A small labelled set of 28×28 digits: a training part and a held-out part. */
export interface Digits {
  readonly train: number;
  readonly test: number;
  /** Labels of train then test samples. */
  readonly labels: Uint8Array;
  /** Pixels (0–255, light on dark) of train then test samples, 784 bytes each. */
  readonly pixels: Uint8Array;
}

const DIGITS_MAGIC = 'ESDG';
/** Pixels of one digit. */
export const DIGIT_PIXELS = 28 * 28;

/** The digits as bytes: "ESDG", uint32 LE train and test counts, the labels, then the pixels. */
export function encodeDigits(d: Digits): Uint8Array {
  const n = d.train + d.test, out = new Uint8Array(12 + n + n * DIGIT_PIXELS), dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = DIGITS_MAGIC.charCodeAt(i);
  dv.setUint32(4, d.train, true);
  dv.setUint32(8, d.test, true);
  out.set(d.labels.subarray(0, n), 12);
  out.set(d.pixels.subarray(0, n * DIGIT_PIXELS), 12 + n);
  return out;
}

/** Reads encodeDigits' bytes (`name` names them in errors). */
export function decodeDigits(bytes: Uint8Array, name: string): Digits {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 12 || magic !== DIGITS_MAGIC) throw new EdgespikeError(`${name}: expected a digit set starting with "${DIGITS_MAGIC}"`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const train = dv.getUint32(4, true), test = dv.getUint32(8, true), n = train + test;
  if (bytes.length !== 12 + n * (1 + DIGIT_PIXELS)) throw new EdgespikeError(`${name}: ${n} digits need ${12 + n * (1 + DIGIT_PIXELS)} bytes, got ${bytes.length}`);
  return { train, test, labels: bytes.slice(12, 12 + n), pixels: bytes.slice(12 + n) };
}
