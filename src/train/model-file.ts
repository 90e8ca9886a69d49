/**
 * Saving and loading a whole network as a model file on disk (atomically; regular files of bounded size).
 * The encoding itself is net-codec.ts.
 */
import { writeFileAtomic } from '../util/atomic.js';
import { readInput } from '../util/fsx.js';
import type { SpikingNet } from '../layers/net.js';
import { modelPath } from '../models/pretrained.js';
import { netFromBytes, netToBytes, type LoadedNet, type ModelMeta, type SaveOptions } from './net-codec.js';

export * from './net-codec.js';

/** Writes a network and its metadata to `path` (atomically). */
export function saveNet(path: string, net: SpikingNet, extra: Omit<ModelMeta, 'graph' | 'config'> = {}, o: SaveOptions = {}): void {
  writeFileAtomic(path, netToBytes(net, extra, o, `saveNet ${path}`));
}

/** Reads a model file and rebuilds the network with its weights; `stored` keeps each tensor as stored. */
export function loadNet(path: string): LoadedNet {
  // a pretrained model's name works where no file of that name exists
  const file = modelPath(path);
  return netFromBytes(readInput(file, 'edgespike model'), path);
}
