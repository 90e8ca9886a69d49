/**
 * safetensors files on disk: the codec (safetensors-codec.ts, which also runs in a browser) plus reading
 * (regular files of bounded size only) and atomic writing.
 */
import { readInput } from '../util/fsx.js';
import { writeFileAtomic } from '../util/atomic.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsFile, type TensorInput } from './safetensors-codec.js';

export * from './safetensors-codec.js';

/** Writes a safetensors file atomically (see serializeSafetensors). */
export function writeSafetensors(path: string, tensors: Record<string, TensorInput>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/** Reads and validates a safetensors file. */
export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readInput(path, 'safetensors file'), path);
}
