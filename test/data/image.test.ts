/**
 * Single images: PNG (grey, RGB, RGBA) and PGM (P5, 8- and 16-bit) decoding, conversion to a model's
 * input shape (luminance, channel repeat, bilinear resize worked by hand), and atomic PNG writing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { borderMean, matchPolarity, readImage, resizeBilinear, toModelInput, writePng } from '../../src/data/image.js';
import { EdgespikeError } from '../../src/util/errors.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'edgespike-img-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A 2×1 PNG written by pngjs itself from RGBA bytes, stored with the given colour type. */
function pngFile(path: string, rgba: number[], colorType: 0 | 2 | 6): void {
  const png = new PNG({ width: 2, height: 1 });
  png.data.set(rgba);
  writeFileSync(path, PNG.sync.write(png, { colorType }));
}

describe('readImage', () => {
  test('grey PNG → c = 1; RGB → c = 3 planes; RGBA → c = 4', () => {
    withDir((dir) => {
      pngFile(join(dir, 'g.png'), [51, 51, 51, 255, 204, 204, 204, 255], 0);
      assert.deepEqual(readImage(join(dir, 'g.png')), { data: Float32Array.from([0.2, 0.8]), c: 1, h: 1, w: 2 });
      pngFile(join(dir, 'c.png'), [255, 0, 51, 255, 0, 102, 255, 255], 2);
      // planes: R = [1, 0], G = [0, 0.4], B = [0.2, 1]
      assert.deepEqual(readImage(join(dir, 'c.png')).data, Float32Array.from([1, 0, 0, 0.4, 0.2, 1]));
      pngFile(join(dir, 'a.png'), [255, 0, 0, 51, 0, 0, 255, 255], 6);
      const a = readImage(join(dir, 'a.png'));
      assert.equal(a.c, 4);
      assert.deepEqual(a.data, Float32Array.from([1, 0, 0, 0, 0, 1, 0.2, 1]));
    });
  });

  test('PGM P5 with a comment, 8-bit and 16-bit big-endian', () => {
    withDir((dir) => {
      writeFileSync(join(dir, 'a.pgm'), Buffer.concat([Buffer.from('P5\n# made by hand\n3 1\n255\n'), Buffer.from([0, 51, 255])]));
      assert.deepEqual(readImage(join(dir, 'a.pgm')), { data: Float32Array.from([0, 0.2, 1]), c: 1, h: 1, w: 3 });
      // maxval 1000: 01f4 = 500 → 0.5, 03e8 = 1000 → 1.
      writeFileSync(join(dir, 'b.pgm'), Buffer.concat([Buffer.from('P5 2 1 1000\n'), Buffer.from([0x01, 0xf4, 0x03, 0xe8])]));
      assert.deepEqual(readImage(join(dir, 'b.pgm')).data, Float32Array.from([0.5, 1]));
    });
  });

  test('errors name the file: unknown format, truncated PGM, corrupt PNG, missing file', () => {
    withDir((dir) => {
      const p = (n: string): string => join(dir, n);
      writeFileSync(p('x.jpg'), Buffer.from([0xff, 0xd8, 0xff]));
      assert.throws(() => readImage(p('x.jpg')), new EdgespikeError(
        `${p('x.jpg')}: unknown image format at byte offset 0: expected a PNG signature or "P5" (binary PGM)`));
      writeFileSync(p('t.pgm'), Buffer.concat([Buffer.from('P5\n4 2\n255\n'), Buffer.from([1, 2, 3])]));
      assert.throws(() => readImage(p('t.pgm')), new EdgespikeError(
        `${p('t.pgm')}: truncated PGM: 4×2 samples of 1 byte(s) from byte offset 11 need 19 bytes, file has 14`));
      writeFileSync(p('h.pgm'), Buffer.from('P5\nx 2\n255\n'));
      assert.throws(() => readImage(p('h.pgm')), new EdgespikeError(
        `${p('h.pgm')}: bad PGM header at byte offset 3: expected a positive width`));
      writeFileSync(p('c.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]));
      assert.throws(() => readImage(p('c.png')), (e: unknown) =>
        e instanceof EdgespikeError && e.message.startsWith(`${p('c.png')}: not a readable PNG (`) && !e.message.includes('\n'));
      // a PNG cut after its header chunk: the data ends early, said in our words
      const png = new PNG({ width: 8, height: 8 });
      const whole = PNG.sync.write(png);
      writeFileSync(p('cut.png'), whole.subarray(0, 40));
      assert.throws(() => readImage(p('cut.png')), new EdgespikeError(`${p('cut.png')}: not a readable PNG (the data ends early: 40 bytes)`));
      assert.throws(() => readImage(p('none.png')), new EdgespikeError(`${p('none.png')}: cannot read the image (no such file or directory)`));
      assert.throws(() => readImage(dir), new EdgespikeError(`${dir}: is a directory, expected an image`));
      // a PNG whose header claims 20000 × 20000 pixels is refused before anything is decoded
      const huge = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
      writeFileSync(p('huge.png'), huge);
      assert.throws(() => readImage(p('huge.png')), new EdgespikeError(`${p('huge.png')}: PNG of 20000×20000 pixels is larger than the 67,108,864 pixels an input image may have`));
    });
  });
});

describe('toModelInput and resize', () => {
  test('bilinear with pixel centres: [0, 1] → 4 wide samples at −0.25, 0.25, 0.75, 1.25 → 0, .25, .75, 1', () => {
    assert.deepEqual(resizeBilinear(Float32Array.from([0, 1]), 1, 1, 2, 1, 4), Float32Array.from([0, 0.25, 0.75, 1]));
    // 2×2 [[0, 1], [2, 3]] → 1×1: centre (0.5, 0.5) → mean 1.5.
    assert.deepEqual(resizeBilinear(Float32Array.from([0, 1, 2, 3]), 1, 2, 2, 1, 1), Float32Array.from([1.5]));
  });

  test('RGB → grey by 0.299 R + 0.587 G + 0.114 B; grey → RGB by repeating; alpha dropped', () => {
    // planes R = [1, 0, 0], G = [0, 1, 0], B = [0, 0, 1], A = [.5, .5, .5] → grey [0.299, 0.587, 0.114].
    const rgba = { data: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0.5]), c: 4, h: 1, w: 3 };
    assert.deepEqual(toModelInput(rgba, [1, 1, 3]), Float32Array.from([0.299, 0.587, 0.114]));
    const grey = { data: Float32Array.from([0.25, 0.75]), c: 1, h: 1, w: 2 };
    assert.deepEqual(toModelInput(grey, [3, 1, 2]), Float32Array.from([0.25, 0.75, 0.25, 0.75, 0.25, 0.75]));
    assert.deepEqual(toModelInput(grey, [1, 1, 4]), Float32Array.from([0.25, 0.375, 0.625, 0.75]));
    assert.throws(() => toModelInput(grey, [2, 28, 28]), new EdgespikeError(
      'toModelInput: model input shape must be [1 or 3, H, W], got [2, 28, 28]'));
  });
});

describe('writePng', () => {
  test('grey and RGB round trip through readImage at 1/255 steps; no temporary file left', () => {
    withDir((dir) => {
      writePng(join(dir, 'g.png'), Float32Array.from([0, 0.2, 0.6, 1]), 1, 2, 2);
      assert.deepEqual(readImage(join(dir, 'g.png')), { data: Float32Array.from([0, 0.2, 0.6, 1]), c: 1, h: 2, w: 2 });
      // 0.5 → round(127.5) = 128 → 128/255; values outside [0, 1] are clamped.
      writePng(join(dir, 'c.png'), Float32Array.from([0.5, 2, -1]), 3, 1, 1);
      assert.deepEqual(readImage(join(dir, 'c.png')), { data: Float32Array.from([128 / 255, 1, 0]), c: 3, h: 1, w: 1 });
      assert.deepEqual(readdirSync(dir).sort(), ['c.png', 'g.png']);
      assert.throws(() => writePng(join(dir, 'x.png'), new Float32Array(5), 1, 2, 2), new EdgespikeError(
        `writePng ${join(dir, 'x.png')}: expected [1, 3 or 4, H, W] data of 1×2×2 floats, got 5`));
    });
  });
});

test('matchPolarity: a light-background image is inverted for the MNIST family only, and the flag overrides', () => {
  const dark = new Float32Array(5 * 5), light = new Float32Array(5 * 5).fill(1);
  dark[12] = 1; light[12] = 0; // a one-pixel stroke in the centre
  assert.equal(borderMean(light, 1, 5, 5), 1);
  assert.equal(borderMean(dark, 1, 5, 5), 0);
  const a = light.slice();
  assert.equal(matchPolarity(a, [1, 5, 5], 'auto', 'mnist'), true);
  assert.deepEqual(a, dark);
  const b = dark.slice();
  assert.equal(matchPolarity(b, [1, 5, 5], 'auto', 'mnist'), false);
  assert.deepEqual(b, dark);
  assert.equal(matchPolarity(light.slice(), [1, 5, 5], 'auto', 'cifar10'), false);
  assert.equal(matchPolarity(light.slice(), [1, 5, 5], 'auto', undefined), false);
  assert.equal(matchPolarity(light.slice(), [1, 5, 5], 'no', 'mnist'), false);
  const c = dark.slice();
  assert.equal(matchPolarity(c, [1, 5, 5], 'yes', 'cifar10'), true);
  assert.deepEqual(c, light);
});
