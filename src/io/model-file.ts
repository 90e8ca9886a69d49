/**
 * edgespike model and checkpoint files: safetensors files (F32 tensors) whose __metadata__ is
 * {"format": "edgespike" | "edgespike-checkpoint", "version": "1", "meta": "<JSON object as a string>"}.
 * Both are written atomically, so a crash leaves the old file or the complete new one.
 */
import { EdgespikeError } from '../util/errors.js';
import { readSafetensors, toFloat32, writeSafetensors, type TensorInput } from './safetensors.js';

/** A named float32 tensor: shape and row-major data. */
export interface FloatTensor {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Format tag of a model file. */
export const MODEL_FORMAT = 'edgespike';
/** Format tag of a checkpoint file. */
export const CHECKPOINT_FORMAT = 'edgespike-checkpoint';
/** Format version written and accepted. */
export const FORMAT_VERSION = '1';

type JsonObject = Record<string, unknown>;

function writeTagged(path: string, format: string, tensors: Record<string, FloatTensor>, meta: object, who: string): void {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new EdgespikeError(`${who} ${path}: meta must be a JSON object, got ${Array.isArray(meta) ? 'an array' : String(meta)}`);
  }
  const inputs: Record<string, TensorInput> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t?.data instanceof Float32Array) || !Array.isArray(t.shape)) {
      throw new EdgespikeError(`${who} ${path}: tensor "${name}" must be {shape: number[], data: Float32Array}`);
    }
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new EdgespikeError(`${who} ${path}: tensor "${name}" has ${t.data.length} values, shape [${t.shape.join(', ')}] needs ${n}`);
    }
    inputs[name] = { shape: t.shape, data: t.data, dtype: 'F32' };
  }
  let json: string;
  try {
    json = JSON.stringify(meta);
  } catch (e) {
    throw new EdgespikeError(`${who} ${path}: meta is not JSON-serialisable (${(e as Error).message})`);
  }
  writeSafetensors(path, inputs, { format, version: FORMAT_VERSION, meta: json });
}

function readTagged(path: string, format: string, what: string): { tensors: Record<string, FloatTensor>; meta: JsonObject } {
  const file = readSafetensors(path);
  const md = file.metadata;
  if (md.format !== format) {
    throw new EdgespikeError(`${path}: not an ${what}: safetensors __metadata__.format is ${md.format === undefined ? 'missing' : `"${md.format}"`}, expected "${format}"`);
  }
  if (md.version !== FORMAT_VERSION) {
    throw new EdgespikeError(`${path}: unsupported ${what} version ${JSON.stringify(md.version)}, expected "${FORMAT_VERSION}"`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(md.meta ?? '');
  } catch {
    throw new EdgespikeError(`${path}: ${what} __metadata__.meta is not a JSON string: ${JSON.stringify((md.meta ?? '').slice(0, 60))}`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new EdgespikeError(`${path}: ${what} __metadata__.meta must be a JSON object`);
  }
  const tensors: Record<string, FloatTensor> = {};
  for (const [name, t] of Object.entries(file.tensors)) {
    if (t.dtype !== 'F32') throw new EdgespikeError(`${path}: ${what} tensor "${name}" has dtype ${t.dtype}, expected F32`);
    Object.defineProperty(tensors, name, {
      value: { shape: [...t.shape], data: toFloat32(t, name) }, enumerable: true, writable: true, configurable: true,
    });
  }
  return { tensors, meta: meta as JsonObject };
}

/**
 * Saves a model: float32 tensors plus `meta`, an arbitrary JSON object (spec, neuron and encoder
 * settings, T, normalisation, training summary). Atomic.
 */
export function saveModel(path: string, tensors: Record<string, FloatTensor>, meta: object): void {
  writeTagged(path, MODEL_FORMAT, tensors, meta, 'saveModel');
}

/** Loads a model saved by saveModel; anything else (or a corrupt file) is a one-line EdgespikeError. */
export function loadModel(path: string): { tensors: Record<string, FloatTensor>; meta: JsonObject } {
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
