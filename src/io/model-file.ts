/**
 * Model and checkpoint files on disk: the codec (model-codec.ts, which also runs in a browser) plus
 * reading (regular files of bounded size) and atomic writing.
 */
import { writeFileAtomic } from '../util/atomic.js';
import { readInput } from '../util/fsx.js';
import { decodeTagged, serializeTagged, MODEL_FORMAT, CHECKPOINT_FORMAT, type FloatTensor, type TaggedFile } from './model-codec.js';
import { parseSafetensors } from './safetensors-codec.js';

export * from './model-codec.js';

function writeTagged(path: string, format: string, tensors: Record<string, FloatTensor>, meta: object, who: string): void {
  writeFileAtomic(path, serializeTagged(format, tensors, meta, `${who} ${path}`));
}

function readTagged(path: string, format: string, what: string): TaggedFile {
  const bytes = readInput(path, what);
  return decodeTagged(parseSafetensors(bytes, path), bytes, path, format, what);
}

/**
 * Saves a model: tensors (float32, or another storage dtype per tensor) plus `meta`, an arbitrary JSON
 * object (graph, run settings, normalisation, training summary). Atomic.
 */
export function saveModel(path: string, tensors: Record<string, FloatTensor>, meta: object): void {
  writeTagged(path, MODEL_FORMAT, tensors, meta, 'saveModel');
}

/** Loads a model saved by saveModel; anything else (or a corrupt file) is a one-line EdgespikeError. */
export function loadModel(path: string): TaggedFile {
  return readTagged(path, MODEL_FORMAT, 'edgespike model');
}

/** JSON training state stored beside a checkpoint's arrays (epoch, step, RNG state, …). */
export interface CheckpointState {
  readonly epoch?: number;
  readonly step?: number;
  readonly rng?: readonly number[];
  readonly [key: string]: unknown;
}

/** Saves named float arrays (weights, optimiser moments, …) and a JSON state. Atomic. */
export function saveCheckpoint(path: string, arrays: Record<string, FloatTensor>, state: CheckpointState): void {
  writeTagged(path, CHECKPOINT_FORMAT, arrays, state, 'saveCheckpoint');
}

/** Loads a checkpoint saved by saveCheckpoint. */
export function loadCheckpoint(path: string): { arrays: Record<string, FloatTensor>; state: CheckpointState } {
  const { tensors, meta } = readTagged(path, CHECKPOINT_FORMAT, 'edgespike checkpoint');
  return { arrays: tensors, state: meta as CheckpointState };
}
