/**
 * CIFAR-10 and CIFAR-100, binary version, [3, 32, 32]. A record is the label byte(s) then 3 072 pixel
 * bytes: the red 32×32 plane, then green, then blue, rows top to bottom. CIFAR-10: 1 label byte,
 * files data_batch_1..5.bin and test_batch.bin. CIFAR-100: coarse then fine label byte, train.bin, test.bin.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { EdgespikeError } from '../util/errors.js';
import { resolveNormalization, type NormalizeOption } from './augment.js';
import type { Dataset } from './dataset.js';
import type { Split } from './mnist.js';
import { pixelDataset } from './pixels.js';

/** Pixel bytes of one CIFAR image (3 × 32 × 32). */
export const CIFAR_IMAGE_BYTES = 3072;

/** Options of the CIFAR loaders. */
export interface CifarOptions {
  /** Off by default; true uses the data set's preset (cifar10 / cifar100); 'imagenet' and others also work. */
  readonly normalize?: NormalizeOption;
  /** CIFAR-100 only: 'fine' (100 classes, default) or 'coarse' (20 superclasses). */
  readonly labels?: 'fine' | 'coarse';
}

/** File names of each split, per data set. */
export const CIFAR_FILES = {
  cifar10: { train: ['1', '2', '3', '4', '5'].map((k) => `data_batch_${k}.bin`), test: ['test_batch.bin'] },
  cifar100: { train: ['train.bin'], test: ['test.bin'] },
} as const;

const cache = new Map<string, Uint8Array>();

/** Label positions to check in each record: [byte within the record, number of classes]. */
type LabelCheck = readonly [number, number];

function readRecords(who: string, dir: string, files: readonly string[], record: number, checks: readonly LabelCheck[]): Uint8Array {
  const key = `${dir}\0${files.join('\0')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const parts = files.map((f) => {
    const path = join(dir, f);
    if (!existsSync(path)) {
      throw new EdgespikeError(`${who}: missing ${path} (expected the binary version: ${files.join(', ')})`);
    }
    const bytes = readFileSync(path);
    if (bytes.length === 0 || bytes.length % record !== 0) {
      const whole = Math.floor(bytes.length / record);
      throw new EdgespikeError(
        `${path}: length ${bytes.length} is not a whole number of ${record}-byte records (record ${whole} starting at byte offset ${whole * record} is cut short)`,
      );
    }
    for (const [at, classes] of checks) checkLabels(path, bytes, record, at, classes);
    return bytes;
  });
  const all = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  cache.set(key, all);
  return all;
}

function checkLabels(path: string, bytes: Uint8Array, record: number, at: number, classes: number): void {
  for (let o = at; o < bytes.length; o += record) {
    if (bytes[o] >= classes) {
      throw new EdgespikeError(`${path}: label at byte offset ${o} is ${bytes[o]}, expected 0..${classes - 1}`);
    }
  }
}

/** Class names from a text file with one name per line, or undefined if absent. */
function readNames(path: string, count: number): string[] | undefined {
  if (!existsSync(path)) return undefined;
  const names = readFileSync(path, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== count) throw new EdgespikeError(`${path}: expected ${count} class names, one per line, got ${names.length}`);
  return names;
}

function checkSplit(who: string, split: Split): void {
  if (split !== 'train' && split !== 'test') throw new EdgespikeError(`${who}: split must be "train" or "test", got "${String(split)}"`);
}

/** CIFAR-10 from `dir` (train 5 × 10 000, test 10 000 in the real files); names from batches.meta.txt. */
export function cifar10(dir: string, split: Split, opts: CifarOptions = {}): Dataset {
  const name = `cifar10/${split}`;
  checkSplit(name, split);
  const files = CIFAR_FILES.cifar10[split], record = 1 + CIFAR_IMAGE_BYTES;
  const bytes = readRecords(name, dir, files, record, [[0, 10]]);
  return pixelDataset({
    name, shape: [3, 32, 32], pixels: bytes, first: 1, stride: record, labels: bytes, labelStride: record,
    length: bytes.length / record, numClasses: 10, classNames: readNames(join(dir, 'batches.meta.txt'), 10),
    norm: resolveNormalization(opts.normalize, 'cifar10', 3, name),
  });
}

/** CIFAR-100 from `dir` (train 50 000, test 10 000): fine labels (100) by default, or coarse (20). */
export function cifar100(dir: string, split: Split, opts: CifarOptions = {}): Dataset {
  const name = `cifar100/${split}`;
  checkSplit(name, split);
  const which = opts.labels ?? 'fine';
  if (which !== 'fine' && which !== 'coarse') throw new EdgespikeError(`${name}: labels must be "fine" or "coarse", got "${String(which)}"`);
  const files = CIFAR_FILES.cifar100[split], record = 2 + CIFAR_IMAGE_BYTES;
  const bytes = readRecords(name, dir, files, record, [[0, 20], [1, 100]]);
  const classes = which === 'fine' ? 100 : 20;
  return pixelDataset({
    name, shape: [3, 32, 32], pixels: bytes, first: 2, stride: record,
    labels: bytes, labelFirst: which === 'fine' ? 1 : 0, labelStride: record,
    length: bytes.length / record, numClasses: classes,
    classNames: readNames(join(dir, `${which}_label_names.txt`), classes),
    norm: resolveNormalization(opts.normalize, 'cifar100', 3, name),
  });
}

function encodeRecords(who: string, images: Uint8Array, labelSets: readonly ArrayLike<number>[]): Uint8Array {
  const n = labelSets[0].length, record = labelSets.length + CIFAR_IMAGE_BYTES;
  if (images.length !== n * CIFAR_IMAGE_BYTES || labelSets.some((l) => l.length !== n)) {
    throw new EdgespikeError(`${who}: expected ${n} labels per set and ${n} × ${CIFAR_IMAGE_BYTES} image bytes, got ${labelSets.map((l) => l.length).join(' and ')} labels and ${images.length} bytes`);
  }
  const out = new Uint8Array(n * record);
  for (let i = 0; i < n; i++) {
    labelSets.forEach((l, k) => { out[i * record + k] = l[i]; });
    out.set(images.subarray(i * CIFAR_IMAGE_BYTES, (i + 1) * CIFAR_IMAGE_BYTES), i * record + labelSets.length);
  }
  return out;
}

/** Writes a CIFAR-10 batch file atomically: images [N, 3, 32, 32] bytes (R, G, B planes), labels [N]. */
export function writeCifar10Batch(path: string, images: Uint8Array, labels: ArrayLike<number>): void {
  writeFileAtomic(path, encodeRecords('writeCifar10Batch', images, [labels]));
}

/** Writes a CIFAR-100 file atomically: images [N, 3, 32, 32] bytes, coarse [N] and fine [N] labels. */
export function writeCifar100File(path: string, images: Uint8Array, coarse: ArrayLike<number>, fine: ArrayLike<number>): void {
  writeFileAtomic(path, encodeRecords('writeCifar100File', images, [coarse, fine]));
}
