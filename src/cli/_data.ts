/**
 * Data-set resolution for the commands: static image sets by name (MNIST and Fashion-MNIST
 * embedded) and event-camera sets from a directory, framed into T steps.
 */
import { existsSync, statSync } from 'node:fs';
import { EdgespikeError } from '../util/errors.js';
import { limit, spread, type Dataset } from '../data/dataset.js';
import { STATIC_DATASETS, staticDataset, type StaticDatasetName } from '../data/registry.js';
import { EVENT_DATASETS, eventDataset } from '../data/events/datasets.js';
import type { NormalizeOption } from '../data/augment.js';

/** Every data-set name the CLI accepts. */
export const DATASET_NAMES = [...Object.keys(STATIC_DATASETS), ...EVENT_DATASETS];

/** Options for loading a data set. */
export interface DataOptions {
  readonly dataDir?: string;
  /** Time steps (frames per sample for event data). */
  readonly T: number;
  readonly limit?: number;
  readonly normalize?: NormalizeOption;
  /** Event framing kind (default: SpikingJelly's split by event number). */
  readonly framing?: 'number' | 'time' | 'timeBins' | 'eventBins' | 'rgb';
}

/** True for event-camera data sets (their samples are [T, C, H, W]). */
export function isEventDataset(name: string): boolean {
  return (EVENT_DATASETS as readonly string[]).includes(name);
}

/** Loads one split of a data set by name. */
export async function loadDataset(name: string, split: 'train' | 'test', o: DataOptions): Promise<Dataset> {
  let d: Dataset;
  if (o.dataDir !== undefined && (!existsSync(o.dataDir) || !statSync(o.dataDir).isDirectory())) {
    throw new EdgespikeError(`--data-dir ${o.dataDir}: does not exist or is not a folder`);
  }
  if (Object.hasOwn(STATIC_DATASETS, name)) {
    if (o.dataDir === undefined && (name === 'cifar10' || name === 'cifar100')) {
      throw new EdgespikeError(`--dataset ${name}: needs --data-dir, the folder with the binary version (${name === 'cifar10' ? 'data_batch_1..5.bin, test_batch.bin' : 'train.bin, test.bin'})`);
    }
    d = staticDataset(name as StaticDatasetName, split, { dataDir: o.dataDir, normalize: o.normalize });
  } else if (isEventDataset(name)) {
    if (!o.dataDir) throw new EdgespikeError(`--dataset ${name}: needs --data-dir, the folder with the data set in its original layout`);
    d = await eventDataset(name, o.dataDir, split, { framing: { kind: o.framing ?? 'number', frames: o.T } as never });
  } else {
    throw new EdgespikeError(`--dataset: unknown data set "${name}" (known: ${DATASET_NAMES.join(', ')})`);
  }
  // Event sets are stored class by class: a limit takes samples spread over the set, not the first ones.
  if (o.limit === undefined) return d;
  return isEventDataset(name) ? spread(d, o.limit) : limit(d, o.limit);
}
