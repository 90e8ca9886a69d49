/**
 * One entry point for the static image data sets, by name: what the CLI and the trainer call.
 */
import { existsSync, statSync } from 'node:fs';
import { EdgespikeError } from '../util/errors.js';
import type { NormalizeOption } from './augment.js';
import { cifar10, cifar100 } from './cifar.js';
import type { Dataset } from './dataset.js';
import { fashionMnist } from './fashion.js';
import { mnist, type Split } from './mnist.js';

/** Options common to every static data set. */
export interface StaticOptions {
  /** Folder with the data set's files; optional for mnist and fashion-mnist (packaged copies). */
  readonly dataDir?: string;
  /** See NormalizeOption; off by default. */
  readonly normalize?: NormalizeOption;
}

type Loader = (split: Split, dir: string | undefined, normalize: NormalizeOption | undefined) => Dataset;

const needDir = (name: string, files: string, load: (dir: string, split: Split, n?: NormalizeOption) => Dataset): Loader =>
  (split, dir, n) => {
    if (dir === undefined) throw new EdgespikeError(`staticDataset: ${name} needs dataDir, a folder with the binary version (${files})`);
    return load(dir, split, n);
  };

/** The static data sets, by name. */
export const STATIC_DATASETS = {
  'mnist': (split, dir, normalize) => mnist(split, { dir, normalize }),
  'fashion-mnist': (split, dir, normalize) => fashionMnist(split, { dir, normalize }),
  'cifar10': needDir('cifar10', 'data_batch_1..5.bin, test_batch.bin',
    (dir, split, normalize) => cifar10(dir, split, { normalize })),
  'cifar100': needDir('cifar100', 'train.bin, test.bin', (dir, split, normalize) => cifar100(dir, split, { normalize })),
} as const satisfies Record<string, Loader>;

/** Name of a static data set. */
export type StaticDatasetName = keyof typeof STATIC_DATASETS;

/** Loads a static data set by name, e.g. staticDataset('mnist', 'train'). */
export function staticDataset(name: StaticDatasetName, split: Split, opts: StaticOptions = {}): Dataset {
  if (!Object.hasOwn(STATIC_DATASETS, name)) {
    throw new EdgespikeError(`staticDataset: unknown data set "${String(name)}", expected one of ${Object.keys(STATIC_DATASETS).join(', ')}`);
  }
  if (split !== 'train' && split !== 'test') {
    throw new EdgespikeError(`staticDataset: split must be "train" or "test", got "${String(split)}"`);
  }
  const dir = opts.dataDir;
  if (dir !== undefined && (!existsSync(dir) || !statSync(dir).isDirectory())) {
    throw new EdgespikeError(`staticDataset: dataDir ${dir} for ${name} does not exist or is not a folder`);
  }
  return STATIC_DATASETS[name](split, dir, opts.normalize);
}
