/**
 * edgespike model and checkpoint files: round trips, the exact __metadata__ written, and one-line
 * errors for files that are not models, are corrupt or truncated; failed saves leave the old file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, loadModel, saveCheckpoint, saveModel } from '../../src/io/model-file.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { Rng } from '../../src/data/rng.js';
import { EdgespikeError } from '../../src/util/errors.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-model-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const throwsOneLine = (fn: () => unknown, message: string): void => {
  assert.throws(fn, (e: unknown) => e instanceof EdgespikeError && e.message === message);
};

const tensors = {
  'fc1.weight': { shape: [2, 3], data: Float32Array.from([0.5, -1, 2, 3.25, 0, -0.125]) },
  'lif1.vth': { shape: [1], data: Float32Array.from([1]) },
};
const meta = { spec: '784-FC10', neuron: { kind: 'lif', beta: 0.9 }, T: 8, normalize: [0.1307, 0.3081] };

describe('model file', () => {
  test('round trip keeps tensors and meta; __metadata__ is exactly format, version and meta', () => {
    withDir((dir) => {
      const path = join(dir, 'm.safetensors');
      saveModel(path, tensors, meta);
      const back = loadModel(path);
      assert.deepEqual(back.tensors, tensors);
      assert.deepEqual(back.meta, meta);
      const raw = readSafetensors(path);
      assert.deepEqual(raw.metadata, { format: 'edgespike', version: '1', meta: JSON.stringify(meta) });
      assert.deepEqual(Object.values(raw.tensors).map((t) => t.dtype), ['F32', 'F32']);
      assert.deepEqual(readdirSync(dir), ['m.safetensors']);
    });
  });

  test('a plain safetensors file is not a model', () => {
    withDir((dir) => {
      const path = join(dir, 'plain.safetensors');
      writeSafetensors(path, { w: { shape: [1], data: new Float32Array(1) } }, { format: 'pt' });
      throwsOneLine(() => loadModel(path), `${path}: not an edgespike model: safetensors __metadata__.format is "pt", expected "edgespike"`);
      writeSafetensors(path, { w: { shape: [1], data: new Float32Array(1) } });
      throwsOneLine(() => loadModel(path), `${path}: not an edgespike model: safetensors __metadata__.format is missing, expected "edgespike"`);
    });
  });

  test('wrong version, meta not JSON, non-F32 tensor', () => {
    withDir((dir) => {
      const path = join(dir, 'x.safetensors');
      writeSafetensors(path, {}, { format: 'edgespike', version: '2', meta: '{}' });
      throwsOneLine(() => loadModel(path), `${path}: unsupported edgespike model version "2", expected "1"`);
      writeSafetensors(path, {}, { format: 'edgespike', version: '1', meta: '{oops' });
      throwsOneLine(() => loadModel(path), `${path}: edgespike model __metadata__.meta is not a JSON string: "{oops"`);
      writeSafetensors(path, { q: { shape: [2], data: Uint8Array.from([1, 2]) } }, { format: 'edgespike', version: '1', meta: '{}' });
      throwsOneLine(() => loadModel(path), `${path}: edgespike model tensor "q" has dtype U8, expected F32`);
    });
  });

  test('a truncated model file gets the safetensors truncation error', () => {
    withDir((dir) => {
      const path = join(dir, 'm.safetensors');
      saveModel(path, tensors, meta);
      const bytes = readFileSync(path);
      writeFileSync(path, bytes.subarray(0, bytes.length - 4));
      throwsOneLine(() => loadModel(path),
        `${path}: truncated safetensors file: tensor data ends at byte offset ${bytes.length}, file has ${bytes.length - 4} bytes`);
      writeFileSync(path, bytes.subarray(0, 20));
      const n = bytes.readUInt32LE(0);
      throwsOneLine(() => loadModel(path), `${path}: safetensors header length ${n} at byte offset 0 runs past the end of the 20-byte file`);
    });
  });

  test('a failed save leaves the previous file untouched and no temporary file', () => {
    withDir((dir) => {
      const path = join(dir, 'm.safetensors');
      saveModel(path, tensors, meta);
      const before = readFileSync(path);
      throwsOneLine(() => saveModel(path, { w: { shape: [2, 2], data: new Float32Array(3) } }, meta),
        `saveModel ${path}: tensor "w" has 3 values, shape [2, 2] needs 4`);
      throwsOneLine(() => saveModel(path, tensors, { big: 1n }),
        `saveModel ${path}: meta is not JSON-serialisable (Do not know how to serialize a BigInt)`);
      assert.deepEqual(readFileSync(path), before);
      assert.deepEqual(readdirSync(dir), ['m.safetensors']);
    });
  });
});

describe('checkpoint file', () => {
  test('round trip of weights, optimiser moments and JSON state including the RNG state', () => {
    withDir((dir) => {
      const path = join(dir, 'ckpt.safetensors');
      const rng = new Rng(3);
      rng.nextUint32();
      const arrays = { ...tensors, 'adam.m.fc1.weight': { shape: [2, 3], data: Float32Array.from([1e-3, 0, 0, 0, 0, -2e-3]) } };
      saveCheckpoint(path, arrays, { epoch: 4, step: 1200, rng: rng.state(), bestAccuracy: 0.981 });
      const back = loadCheckpoint(path);
      assert.deepEqual(back.arrays, arrays);
      assert.deepEqual(back.state, { epoch: 4, step: 1200, rng: rng.state(), bestAccuracy: 0.981 });
      const resumed = Rng.fromState(back.state.rng!);
      assert.equal(resumed.nextUint32(), rng.nextUint32());
      throwsOneLine(() => loadModel(path),
        `${path}: not an edgespike model: safetensors __metadata__.format is "edgespike-checkpoint", expected "edgespike"`);
    });
  });
});
