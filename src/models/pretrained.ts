/**
 * Pretrained models shipped with the package (the `pretrained/` folder at its root): zoo models trained
 * by the recipes in `pretrained/index.json`, each with its test accuracy measured on the full test set.
 * A model is named where a model file is expected (`edgespike predict lenet-mnist digit.png`) when no file
 * of that name exists.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { EdgespikeError } from '../util/errors.js';

/** One entry of pretrained/index.json. */
export interface PretrainedModel {
  /** How commands name it, e.g. "lenet-mnist". */
  readonly name: string;
  /** File name inside pretrained/. */
  readonly file: string;
  readonly description: string;
  /** Zoo model it was built from. */
  readonly model: string;
  readonly dataset: string;
  /** Stored weight and membrane widths ("float" or e.g. "ternary"). */
  readonly weights: string;
  readonly membrane: string;
  /** Accuracy on the data set's whole test split, and how many samples that was. */
  readonly test_accuracy: number;
  readonly test_samples: number;
  /** The commands that made it, in order. */
  readonly recipe: readonly string[];
  readonly bytes: number;
  readonly sha256: string;
}

/** The folder holding the pretrained files (PACKAGE/pretrained; this module is PACKAGE/dist/src/models/). */
export const PRETRAINED_DIR = fileURLToPath(new URL('../../../pretrained/', import.meta.url));

let cached: readonly PretrainedModel[] | undefined;

/** Every pretrained model, in the index's order. */
export function pretrainedModels(): readonly PretrainedModel[] {
  if (cached) return cached;
  const file = join(PRETRAINED_DIR, 'index.json');
  if (!existsSync(file)) throw new EdgespikeError(`${file}: the pretrained models' index is missing (a damaged install?)`);
  const v = JSON.parse(readFileSync(file, 'utf8')) as { models?: PretrainedModel[] };
  if (!Array.isArray(v.models)) throw new EdgespikeError(`${file}: expected {"models": […]}`);
  return (cached = v.models);
}

/** The entry named `name`, or undefined. */
export function findPretrained(name: string): PretrainedModel | undefined {
  return /^[a-z0-9][a-z0-9-]*$/.test(name) ? pretrainedModels().find((m) => m.name === name) : undefined;
}

/** The path of a pretrained model's file, its bytes checked against the index's SHA-256. */
export function pretrainedFile(name: string): string {
  const m = findPretrained(name);
  if (!m) throw new EdgespikeError(`"${name}": no pretrained model of that name (${pretrainedModels().map((p) => p.name).join(', ')})`);
  const path = join(PRETRAINED_DIR, m.file);
  if (!existsSync(path)) throw new EdgespikeError(`${path}: pretrained file missing (a damaged install?)`);
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (sha !== m.sha256) throw new EdgespikeError(`${path}: SHA-256 ${sha.slice(0, 12)}… differs from the index's ${m.sha256.slice(0, 12)}… (a damaged install?)`);
  return path;
}

/** `arg` itself when it names an existing file, else the file of the pretrained model it names, else `arg`. */
export function modelPath(arg: string): string {
  if (existsSync(arg) || !findPretrained(arg)) return arg;
  return pretrainedFile(arg);
}
