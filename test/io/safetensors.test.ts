/**
 * safetensors: byte-exact agreement with files built by hand from the format description, every
 * dtype the reader decodes, and the one-line errors for corrupt and truncated files.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  halfToFloat, parseSafetensors, readSafetensors, serializeSafetensors, toFloat32, writeSafetensors,
} from '../../src/io/safetensors.js';
import { EdgespikeError } from '../../src/util/errors.js';

/** 8-byte little-endian N, the header text, `pad` spaces, then the data bytes. */
function handFile(n: number, json: string, pad: number, data: number[]): Uint8Array {
  assert.equal(json.length + pad, n, 'test fixture: header text plus padding must be N bytes');
  return Uint8Array.from([n & 0xff, n >> 8, 0, 0, 0, 0, 0, 0, ...Buffer.from(json, 'latin1'), ...new Array(pad).fill(0x20), ...data]);
}

/** Little-endian float32 bytes of 0, 1, 2, 3, 4, 5: 0.0 = 00000000, 1.0 = 3f800000, 2.0 = 40000000, … */
const F32_0_TO_5 = [0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40];

const throwsOneLine = (fn: () => unknown, message: string): void => {
  assert.throws(fn, (e: unknown) => e instanceof EdgespikeError && e.message === message && !e.message.includes('\n'));
};

describe('safetensors writer', () => {
  test('one F32 tensor: header 65 bytes + 7 spaces = N 72 (a multiple of 8), then 24 data bytes', () => {
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    const expected = handFile(72, json, 7, F32_0_TO_5);
    const got = serializeSafetensors({ attn0: { shape: [1, 1, 2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) } });
    assert.deepEqual(got, expected);
    const back = parseSafetensors(expected, 'hand.safetensors');
    assert.deepEqual(back.metadata, {});
    assert.deepEqual(back.tensors.attn0.shape, [1, 1, 2, 3]);
    assert.deepEqual(toFloat32(back.tensors.attn0), Float32Array.from([0, 1, 2, 3, 4, 5]));
  });

  test('no tensors: "{}" + 6 spaces, N = 8; metadata only: 35 bytes + 5 spaces, N = 40', () => {
    assert.deepEqual(serializeSafetensors({}), handFile(8, '{}', 6, []));
    assert.deepEqual(serializeSafetensors({}, { framework: 'pt' }), handFile(40, '{"__metadata__":{"framework":"pt"}}', 5, []));
    assert.deepEqual(parseSafetensors(handFile(40, '{"__metadata__":{"framework":"pt"}}', 5, []), 'm').metadata, { framework: 'pt' });
  });

  test('order: __metadata__ first, then by dtype alignment (F64, F32, I32, U8), then by name', () => {
    const got = serializeSafetensors({
      u: { shape: [2], data: Uint8Array.from([7, 9]) },
      b: { shape: [1], data: Float32Array.from([1]) },
      a: { shape: [1], data: Float32Array.from([2]) },
      d: { shape: [1], data: Float64Array.from([0.5]) },
      i: { shape: [1], data: Int32Array.from([-1]) },
    }, { k: 'v' });
    // Offsets: d (8 bytes) 0..8, a 8..12, b 12..16, i 16..20, u 20..22. Text is 297 bytes → 7 spaces → N = 304.
    const json = '{"__metadata__":{"k":"v"},"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},' +
      '"i":{"dtype":"I32","shape":[1],"data_offsets":[16,20]},"u":{"dtype":"U8","shape":[2],"data_offsets":[20,22]}}';
    const data = [0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x80, 0x3f, 0xff, 0xff, 0xff, 0xff, 7, 9];
    assert.deepEqual(got, handFile(304, json, 7, data));
  });

  test('writeSafetensors writes the same bytes to disk and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgespike-st-'));
    try {
      const t = { w: { shape: [2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) } };
      writeSafetensors(join(dir, 'a.safetensors'), t, { note: 'x' });
      assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'a.safetensors'))), serializeSafetensors(t, { note: 'x' }));
      assert.deepEqual(readdirSync(dir), ['a.safetensors']);
      const back = readSafetensors(join(dir, 'a.safetensors'));
      assert.deepEqual(back.metadata, { note: 'x' });
      assert.deepEqual(toFloat32(back.tensors.w), t.w.data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('safetensors reader dtypes', () => {
  test('F16 bits 3c00 = 1, c000 = −2, 7bff = 65504, 0001 = 2^−24, 7c00 = +inf; BF16 3f80 = 1, c040 = −3', () => {
    assert.deepEqual([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00].map(halfToFloat), [1, -2, 65504, 2 ** -24, Infinity]);
    const json = '{"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"h":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}}';
    // 108 bytes of text + 4 spaces = 112.
    const f = parseSafetensors(handFile(112, json, 4, [0x80, 0x3f, 0x40, 0xc0, 0x00, 0x3c, 0x00, 0xc0]), 'h');
    assert.deepEqual(toFloat32(f.tensors.b), Float32Array.from([1, -3]));
    assert.deepEqual(toFloat32(f.tensors.h), Float32Array.from([1, -2]));
  });

  test('I32, U8, I8 and F64 decode to their values', () => {
    const json = '{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]},' +
      '"c":{"dtype":"U8","shape":[1],"data_offsets":[12,13]},"d":{"dtype":"I8","shape":[1],"data_offsets":[13,14]}}';
    // 216 bytes of text, already a multiple of 8: no spaces. F64 −2.5 = c004000000000000; I32 300 = 0000012c; U8 200; I8 0xfe = −2.
    const bytes = handFile(216, json, 0, [0, 0, 0, 0, 0, 0, 0x04, 0xc0, 0x2c, 0x01, 0, 0, 200, 0xfe]);
    const f = parseSafetensors(bytes, 'x');
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => toFloat32(f.tensors[k])[0]), [-2.5, 300, 200, -2]);
    assert.deepEqual(f.tensors.c.bytes, Uint8Array.from([200]));
  });
});

describe('safetensors validation errors', () => {
  const good = handFile(72, '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}', 7, F32_0_TO_5);

  test('fewer than 8 bytes', () => {
    throwsOneLine(() => parseSafetensors(good.subarray(0, 5), 'f.st'),
      'f.st: truncated safetensors file: 5 bytes, the 8-byte header length at byte offset 0 is incomplete');
  });

  test('header length larger than the file', () => {
    throwsOneLine(() => parseSafetensors(good.subarray(0, 60), 'f.st'),
      'f.st: safetensors header length 72 at byte offset 0 runs past the end of the 60-byte file');
  });

  test('truncated data', () => {
    throwsOneLine(() => parseSafetensors(good.subarray(0, good.length - 3), 'f.st'),
      'f.st: truncated safetensors file: tensor data ends at byte offset 104, file has 101 bytes');
  });

  test('bytes after the last tensor', () => {
    const extra = Uint8Array.from([...good, 0, 0]);
    throwsOneLine(() => parseSafetensors(extra, 'f.st'),
      'f.st: safetensors data_offsets cover the buffer up to byte offset 104, but the file has 106 bytes');
  });

  test('JSON not parseable', () => {
    throwsOneLine(() => parseSafetensors(handFile(8, '{"a":1', 2, []), 'f.st'),
      'f.st: safetensors header at byte offset 8 (8 bytes) is not parseable JSON');
  });

  test('overlapping offsets, a gap, and dtype size × shape ≠ bytes', () => {
    // Each header text below is 107 bytes → 5 spaces → N = 112, so the buffer starts at file byte 120.
    const two = (o1: string, o2: string): Uint8Array => {
      const json = `{"a":{"dtype":"F32","shape":[1],"data_offsets":${o1}},"b":{"dtype":"F32","shape":[1],"data_offsets":${o2}}}`;
      const n = Math.ceil(json.length / 8) * 8;
      return handFile(n, json, n - json.length, new Array(8).fill(0));
    };
    throwsOneLine(() => parseSafetensors(two('[0,4]', '[2,6]'), 'f.st'),
      'f.st: tensor "b" data_offsets [2, 6] (file bytes 122..126) overlap the previous tensor, which ends at 4');
    throwsOneLine(() => parseSafetensors(two('[0,4]', '[5,9]'), 'f.st'),
      'f.st: tensor "b" data_offsets [5, 9] (file bytes 125..129) leave bytes 4..5 of the buffer uncovered');
    throwsOneLine(() => parseSafetensors(two('[0,4]', '[4,8]').map((b) => (b === 0x31 ? 0x32 : b)), 'f.st'),
      'f.st: tensor "a" data_offsets [0, 4] (file bytes 120..124) hold 4 bytes, F32 × [2] needs 8');
  });

  test('unknown dtype and non-string metadata', () => {
    throwsOneLine(() => parseSafetensors(handFile(56, '{"a":{"dtype":"Q7","shape":[],"data_offsets":[0,0]}}', 4, []), 'f.st'),
      'f.st: safetensors header entry "a" must be {dtype: one of BOOL|U8|I8|F8_E5M2|F8_E4M3|I16|U16|F16|BF16|I32|U32|F32|F64|I64|U64, shape: [uint…], data_offsets: [begin, end]}, got {"dtype":"Q7","shape":[],"data_offsets":[0,0]}');
    throwsOneLine(() => parseSafetensors(handFile(24, '{"__metadata__":{"a":1}}', 0, []), 'f.st'),
      'f.st: safetensors "__metadata__" must map strings to strings, got {"a":1}');
  });

  test('a missing file is named', () => {
    throwsOneLine(() => readSafetensors('/nonexistent/x.safetensors'), '/nonexistent/x.safetensors: cannot read the safetensors file (no such file or directory)');
    throwsOneLine(() => readSafetensors('/dev/zero'), '/dev/zero: is not a regular file, expected a safetensors file');
  });

  test('writer rejects data that does not match its shape', () => {
    throwsOneLine(() => serializeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } }),
      'serializeSafetensors: tensor "w" has 3 elements of 4 byte(s), shape [2, 2] and dtype F32 do not match');
  });

  test('hand file written to disk reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgespike-st-'));
    try {
      writeFileSync(join(dir, 'h.safetensors'), good);
      assert.deepEqual(toFloat32(readSafetensors(join(dir, 'h.safetensors')).tensors.attn0), Float32Array.from([0, 1, 2, 3, 4, 5]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
