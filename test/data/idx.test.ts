/**
 * IDX files: hand-written bytes decode to the right dims and values, the writer produces the same
 * bytes, and corrupt headers give one-line errors naming the file and byte offset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdx, loadIdx, parseIdx, writeIdx } from '../../src/data/idx.js';
import { EdgespikeError } from '../../src/util/errors.js';

// Magic 00 00, type 08 (ubyte), 2 dims; dims 2 and 3 as big-endian uint32; then 6 bytes row-major.
const UBYTE_2x3 = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255]);

test('ubyte [2, 3] decodes and re-encodes to the same bytes, also through a file', () => {
  const f = parseIdx(UBYTE_2x3, 'a.idx');
  assert.equal(f.type, 'ubyte');
  assert.deepEqual(f.dims, [2, 3]);
  assert.deepEqual(f.data, Uint8Array.from([1, 2, 3, 4, 5, 255]));
  assert.deepEqual(encodeIdx([1, 2, 3, 4, 5, 255], [2, 3]), UBYTE_2x3);
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-idx-'));
  try {
    writeIdx(join(dir, 'x-idx2-ubyte'), [1, 2, 3, 4, 5, 255], [2, 3]);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'x-idx2-ubyte'))), UBYTE_2x3);
    assert.deepEqual(loadIdx(join(dir, 'x-idx2-ubyte')).data, f.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('int, short and float elements are big-endian', () => {
  // int [2]: fffffffe = −2, 00000100 = 256.
  const i = parseIdx(Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]), 'i');
  assert.deepEqual([...i.data], [-2, 256]);
  // short [1]: 8001 = −32767; float [1]: 3fc00000 = 1.5.
  assert.deepEqual([...parseIdx(Uint8Array.from([0, 0, 0x0b, 1, 0, 0, 0, 1, 0x80, 0x01]), 's').data], [-32767]);
  assert.deepEqual([...parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0]), 'f').data], [1.5]);
  assert.deepEqual(encodeIdx([-2, 256], [2], 'int'), Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]));
  assert.deepEqual(encodeIdx([1.5], [1], 'float'), Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0]));
});

test('corrupt files give one-line errors with the byte offset', () => {
  const bad = (bytes: number[], msg: string): void => {
    assert.throws(() => parseIdx(Uint8Array.from(bytes), 'd/f'), new EdgespikeError(msg));
  };
  bad([1, 0, 8, 1, 0, 0, 0, 0], 'd/f: bad IDX magic at byte offset 0: expected 00 00, got 01 00');
  bad([0, 0, 7, 1, 0, 0, 0, 0], 'd/f: unknown IDX element type at byte offset 2: expected one of 08 09 0b 0c 0d 0e, got 07');
  bad([0, 0, 8], 'd/f: truncated IDX header: expected at least 4 bytes, got 3');
  bad([0, 0, 8, 2, 0, 0, 0, 2], 'd/f: truncated IDX header: 2 dimensions need 12 bytes, file has 8');
  // [2, 3] ubyte needs 12 header bytes + 6 = 18; one byte missing.
  bad([...UBYTE_2x3.subarray(0, 17)], 'd/f: IDX data length mismatch: header [2, 3] × 1 byte(s) from byte offset 12 needs 18 bytes, file has 17');
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-idx-'));
  try {
    writeFileSync(join(dir, 'short'), Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 0, 1]));
    assert.throws(() => loadIdx(join(dir, 'short')), new EdgespikeError(
      `${join(dir, 'short')}: IDX data length mismatch: header [2] × 4 byte(s) from byte offset 8 needs 16 bytes, file has 12`));
    assert.throws(() => loadIdx(join(dir, 'none')), new EdgespikeError(`${join(dir, 'none')}: cannot read IDX file (ENOENT)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
