/** WAV reader/writer: exact round trips per format, hand-built files (chunks, padding, 24-bit), one-line errors. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgespikeError } from '../../../src/util/errors.js';
import { decodeWav, encodeWav, readWav, toMono, writeWav } from '../../../src/data/audio/wav.js';

/** Builds a RIFF file from [id, body] chunks, adding the pad byte after odd-size bodies. */
function riff(chunks: [string, number[]][], form = 'WAVE'): Uint8Array {
  const out: number[] = [];
  const tag = (s: string) => { for (const ch of s) out.push(ch.charCodeAt(0)); };
  const u32 = (v: number) => out.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  tag('RIFF'); u32(0); tag(form);
  for (const [id, body] of chunks) {
    tag(id); u32(body.length); out.push(...body);
    if (body.length & 1) out.push(0);
  }
  const bytes = Uint8Array.from(out);
  new DataView(bytes.buffer).setUint32(4, bytes.length - 8, true);
  return bytes;
}

/** fmt body: format code, channels, rate, bits (byte rate and block align derived). */
function fmtBody(code: number, channels: number, rate: number, bits: number): number[] {
  const b = new Uint8Array(16), v = new DataView(b.buffer);
  v.setUint16(0, code, true); v.setUint16(2, channels, true); v.setUint32(4, rate, true);
  v.setUint32(8, rate * channels * bits / 8, true); v.setUint16(12, channels * bits / 8, true); v.setUint16(14, bits, true);
  return [...b];
}

function assertOneLineError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EdgespikeError, `expected EdgespikeError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'message must be one line');
    assert.match(e.message, pattern);
    return true;
  });
}

describe('wav round trips', () => {
  // Values chosen to be exact in every format: k/128 fits 8-bit, and 1.0 clips to the largest code.
  const values = Float32Array.from([0, 0.5, -0.5, -1, 0.25, -0.0078125, 1]);
  const cases: [string, 'pcm' | 'float', number, number][] = [
    // [name, encoding, bits, what 1.0 reads back as: (2^(b−1) − 1) / 2^(b−1) for PCM]
    ['pcm8', 'pcm', 8, 127 / 128],
    ['pcm16', 'pcm', 16, 32767 / 32768],
    ['pcm24', 'pcm', 24, 8388607 / 8388608],
    ['pcm32', 'pcm', 32, 2147483647 / 2147483648],
    ['float32', 'float', 32, 1],
    ['float64', 'float', 64, 1],
  ];
  for (const [name, encoding, bits, one] of cases) {
    for (const extensible of [false, true]) {
      test(`${name}${extensible ? ' extensible' : ''}`, () => {
        const wav = decodeWav(encodeWav([values], 16000, { encoding, bits, extensible }));
        assert.equal(wav.sampleRate, 16000);
        assert.equal(wav.bitsPerSample, bits);
        assert.equal(wav.encoding, encoding);
        assert.deepEqual([...wav.channels[0]], [0, 0.5, -0.5, -1, 0.25, -0.0078125, Math.fround(one)]);
      });
    }
  }

  test('writeWav/readWav through a file, stereo', () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-wav-'));
    try {
      const path = join(dir, 'a.wav');
      writeWav(path, [Float32Array.from([0.5, 0.25]), Float32Array.from([-0.5, 0])], 44100, { bits: 24 });
      const wav = readWav(path);
      assert.equal(wav.channels.length, 2);
      assert.deepEqual([...wav.channels[0]], [0.5, 0.25]);
      assert.deepEqual([...wav.channels[1]], [-0.5, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hand-built files', () => {
  test('stereo 16-bit after an odd-size LIST chunk; mono = channel mean', () => {
    // Frames (L, R): (16384, −8192) = (0.5, −0.25) → mean 0.125; (−32768, 32767) → (−1 + 32767/32768)/2.
    const data = [0x00, 0x40, 0x00, 0xe0, 0x00, 0x80, 0xff, 0x7f];
    const bytes = riff([['fmt ', fmtBody(1, 2, 8000, 16)], ['LIST', [1, 2, 3]], ['data', data]]);
    const wav = decodeWav(bytes);
    assert.deepEqual([...wav.channels[0]], [0.5, -1]);
    assert.deepEqual([...wav.channels[1]], [-0.25, 32767 / 32768]);
    const mono = toMono(wav.channels);
    assert.equal(mono[0], 0.125);
    assert.equal(mono[1], Math.fround((-1 + 32767 / 32768) / 2));
  });

  test('24-bit little-endian sign extension', () => {
    // 0x800000 = −8388608 → −1; 0x7fffff → 8388607/8388608; 0xffffff = −1 → −1/8388608; 0x400000 → 0.5.
    const data = [0x00, 0x00, 0x80, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00, 0x40];
    const wav = decodeWav(riff([['fmt ', fmtBody(1, 1, 8000, 24)], ['data', data]]));
    assert.deepEqual([...wav.channels[0]], [-1, Math.fround(8388607 / 8388608), -1 / 8388608, 0.5]);
  });

  test('8-bit is unsigned around 128; a trailing partial frame is dropped; RIFF size may be wrong', () => {
    const bytes = riff([['fmt ', fmtBody(1, 1, 8000, 8)], ['data', [0, 128, 255, 64]], ['junk', [9]]]);
    new DataView(bytes.buffer).setUint32(4, 12345, true);
    assert.deepEqual([...decodeWav(bytes).channels[0]], [-1, 0, 127 / 128, -0.5]);
    const stereo = riff([['fmt ', fmtBody(1, 2, 8000, 8)], ['data', [0, 255, 128]]]);
    assert.deepEqual([...decodeWav(stereo).channels[1]], [127 / 128]);
  });
});

describe('errors name the file, byte offset and expectation on one line', () => {
  const good = riff([['fmt ', fmtBody(1, 1, 8000, 16)], ['data', [0, 0, 1, 0]]]);
  test('not RIFF', () => {
    const bad = good.slice(); bad[0] = 0x58;
    assertOneLineError(() => decodeWav(bad, 'x.wav'), /^wav: file 'x\.wav' at byte 0: expected 'RIFF', got "XIFF"$/);
  });
  test('not WAVE', () => {
    assertOneLineError(() => decodeWav(riff([], 'AVI '), 'x.wav'), /at byte 8: expected 'WAVE', got "AVI "/);
  });
  test('too short for a header', () => {
    assertOneLineError(() => decodeWav(good.subarray(0, 5), 'x.wav'), /at byte 0: expected a 12-byte RIFF header, file has 5 bytes/);
  });
  test('no fmt chunk', () => {
    assertOneLineError(() => decodeWav(riff([['LIST', [1, 2]]]), 'x.wav'), /at byte 12: no 'fmt ' chunk found/);
  });
  test('data before fmt', () => {
    assertOneLineError(() => decodeWav(riff([['data', [0, 0]]]), 'x.wav'), /at byte 12: expected a 'fmt ' chunk before the 'data' chunk/);
  });
  test('no data chunk', () => {
    const b = riff([['fmt ', fmtBody(1, 1, 8000, 16)]]);
    assertOneLineError(() => decodeWav(b, 'x.wav'), /at byte 36: no 'data' chunk found/);
  });
  test('unsupported format code (2 = MS ADPCM) at the fmt body, byte 20', () => {
    const b = riff([['fmt ', fmtBody(2, 1, 8000, 4)], ['data', [0]]]);
    assertOneLineError(() => decodeWav(b, 'x.wav'), /at byte 20: unsupported format code 2 with 4 bits per sample/);
  });
  test('unsupported bit depth (PCM 12-bit)', () => {
    const b = riff([['fmt ', fmtBody(1, 1, 8000, 12)], ['data', [0, 0]]]);
    assertOneLineError(() => decodeWav(b, 'x.wav'), /at byte 20: unsupported format code 1 with 12 bits per sample/);
  });
  test('data chunk truncated (header at byte 36 declares 4 bytes, 2 left)', () => {
    assertOneLineError(() => decodeWav(good.subarray(0, good.length - 2), 'x.wav'),
      /at byte 36: data chunk truncated: declares 4 bytes, 2 left/);
  });
  test('bad block align', () => {
    const body = fmtBody(1, 2, 8000, 16); body[12] = 3;
    assertOneLineError(() => decodeWav(riff([['fmt ', body], ['data', [0, 0, 0, 0]]]), 'x.wav'),
      /at byte 32: expected block align 4 \(2 channels × 2 bytes\), got 3/);
  });
  test('missing file', () => {
    assertOneLineError(() => readWav('/nonexistent/dir/y.wav'), /^wav: cannot read file '\/nonexistent\/dir\/y\.wav'/);
  });
});
