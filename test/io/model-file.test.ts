/**
 * edgespike model and checkpoint files: round trips, the exact __metadata__ written, and one-line
 * errors for files that are not models, are corrupt or truncated; failed saves leave the old file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, loadModel, quantizeTensor, saveCheckpoint, saveModel, STORE_BITS, STORE_DTYPES } from '../../src/io/model-file.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { Rng } from '../../src/data/rng.js';
import zlib from 'node:zlib';
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
  test('round trip keeps tensors and meta; __metadata__ is format, version, meta, storage and the two CRC-32s', () => {
    withDir((dir) => {
      const path = join(dir, 'm.safetensors');
      saveModel(path, tensors, meta);
      const back = loadModel(path);
      assert.deepEqual(back.tensors, tensors);
      assert.deepEqual(back.meta, meta);
      assert.equal(back.version, '2');
      const raw = readSafetensors(path);
      const bytes = readFileSync(path), start = 8 + Number(bytes.readBigUInt64LE(0));
      const json = JSON.stringify(meta);
      assert.deepEqual(raw.metadata, {
        format: 'edgespike', version: '2', meta: json, storage: '{}',
        meta_crc32: zlib.crc32(`${json}\n{}`).toString(16).padStart(8, '0'),
        data_crc32: zlib.crc32(bytes.subarray(start)).toString(16).padStart(8, '0'),
      });
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
      writeSafetensors(path, {}, { format: 'edgespike', version: '3', meta: '{}' });
      throwsOneLine(() => loadModel(path), `${path}: unsupported edgespike model version "3", expected one of "1", "2"`);
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

describe('storage dtypes', () => {
  const w = { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.7) * (i % 3 === 0 ? 0.5 : 2)) };
  const fileSize = (path: string): number => readFileSync(path).length;

  for (const dtype of STORE_DTYPES) {
    for (const perChannel of dtype === 'F32' || dtype === 'F16' ? [false] : [false, true]) {
      test(`${dtype}${perChannel ? ' per channel' : ''}: load gives the stored values, a second save the same bytes`, () => {
        withDir((dir) => {
          const q = quantizeTensor(w, dtype, perChannel);
          const a = join(dir, 'a.es'), b = join(dir, 'b.es');
          saveModel(a, { w: q, 'w.other': { shape: [2], data: Float32Array.of(1, -1) } }, { m: 1 });
          const back = loadModel(a).tensors.w!;
          assert.equal(back.dtype ?? 'F32', dtype);
          assert.deepEqual(Array.from(back.data), Array.from(q.data));
          if (dtype !== 'F32') assert.ok(Array.from(q.data).some((v, i) => v !== w.data[i]), 'quantization changed something');
          saveModel(b, { w: back, 'w.other': loadModel(a).tensors['w.other']! }, { m: 1 });
          assert.deepEqual(readFileSync(b), readFileSync(a));
          // values a quantized tensor may take: scale·code within the code range
          if (q.codes) {
            const bits = STORE_BITS[dtype], per = 12 / (perChannel ? 3 : 1);
            q.data.forEach((v, i) => {
              const s = typeof q.scale === 'number' ? q.scale : q.scale![Math.floor(i / per)]!;
              const code = v / s + (q.zero ?? 0);
              assert.ok(Math.abs(code - Math.round(code)) < 1e-5, `${dtype} value ${v} is not a multiple of its scale ${s}`);
              if (dtype !== 'U8') assert.ok(Math.abs(code) <= 2 ** (bits - 1), `${dtype} code ${code} out of range`);
            });
          }
        });
      });
    }
  }

  test('packed sizes: 1000 weights take 4000, 2000, 1000, 1000, 500, 250 and 125 bytes', () => {
    withDir((dir) => {
      const big = { shape: [1000], data: Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i)) };
      const base = join(dir, 'empty.es');
      saveModel(base, {}, {});
      const header = fileSize(base);
      const sizes = STORE_DTYPES.map((d) => {
        const p = join(dir, `${d}.es`);
        saveModel(p, { w: quantizeTensor(big, d) }, {});
        return readSafetensors(p).tensors.w!.bytes.length;
      });
      assert.deepEqual(sizes, [4000, 2000, 1000, 1000, 500, 250, 125]);
      assert.ok(header < 400, `an empty model file has ${header} bytes`);
    });
  });

  test('a flipped byte in the tensor data or in the metadata is a one-line error', () => {
    withDir((dir) => {
      const path = join(dir, 'm.es');
      saveModel(path, { w: quantizeTensor(w, 'Q4') , v: w }, meta);
      const good = readFileSync(path);
      const start = 8 + Number(good.readBigUInt64LE(0));
      for (const at of [start, start + 3, good.length - 1]) {
        const bad = Buffer.from(good);
        bad[at] ^= 0x10;
        writeFileSync(path, bad);
        throwsOneLine(() => loadModel(path), `${path}: edgespike model tensor data is damaged (its CRC-32 does not match data_crc32 ${readSafetensors(join(dir, 'm.es')).metadata.data_crc32})`);
      }
      const text = good.toString('latin1');
      const at = text.indexOf('"T\\":8');
      assert.ok(at > 0);
      const bad = Buffer.from(good);
      bad[at + 5] = '9'.charCodeAt(0);
      writeFileSync(path, bad);
      throwsOneLine(() => loadModel(path), `${path}: edgespike model metadata is damaged (its CRC-32 does not match meta_crc32)`);
    });
  });

  test('version-1 files (float32, no checksums) still load', () => {
    withDir((dir) => {
      const path = join(dir, 'old.es');
      writeSafetensors(path, { w: { shape: [2], data: Float32Array.of(0.5, -2) } }, { format: 'edgespike', version: '1', meta: JSON.stringify(meta) });
      const back = loadModel(path);
      assert.equal(back.version, '1');
      assert.deepEqual(back.meta, meta);
      assert.deepEqual(Array.from(back.tensors.w!.data), [0.5, -2]);
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
