/** Architecture accounting: the seeds' check numbers, exactly, and a small net computed by hand. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { archReport, mbTrunc2, megabytes } from '../../src/metrics/arch.js';
import { zoo } from '../../src/models/zoo.js';
import { parseSpec } from '../../src/notation/parse.js';
import { EdgespikeError } from '../../src/util/errors.js';

describe('SpQuant VGG-9 on 3×48×48', () => {
  const { spec, input } = zoo('vgg9-48');
  test('921 600 spiking neurons → Umem 3.68 MB at 32 bits, 0.23 MB at 2 bits (the "1.58-bit" entry)', () => {
    // 64·48² + 128·48² + 2·256·24² + 2·512·12² + 2·512·6² = 147456 + 294912 + 294912 + 147456 + 36864
    const r32 = archReport(spec, input, { convention: 'spquant' }).total;
    assert.equal(r32.neurons, 921_600);
    assert.equal(r32.membraneMb, 3.6864);
    assert.equal(r32.membraneMbText, '3.68');
    const r2 = archReport(spec, input, { convention: 'spquant', membraneBits: 2 }).total;
    assert.equal(r2.membraneMb, 0.2304);
    assert.equal(r2.membraneMbText, '0.23');
  });
  test('weights conv 9 217 728 + FC 46 080 = 9 263 808; bias 2 752 + 10, BN 5 504; params 9 272 074', () => {
    const t = archReport(spec, input).total;
    assert.deepEqual([t.convWeights, t.denseWeights, t.weights], [9_217_728, 46_080, 9_263_808]);
    assert.deepEqual([t.biases, t.bn, t.params], [2_762, 5_504, 9_272_074]);
    // all weights at 32 bits: 37.055232 MB (the README's 41.12 is not reproducible)
    assert.equal(t.weightMb, 37.055232);
    assert.equal(t.weightMbText, '37.05');
  });
});

describe('LT-SNN ResNet-19 on 3×32×32', () => {
  const { spec, input } = zoo('resnet19');
  test('conv weights incl. 1×1 shortcuts 12 486 336 → 49.94 MB at 32 bits, 6.24 MB at 4 bits', () => {
    const t32 = archReport(spec, input, { convention: 'spquant' }).total;
    assert.equal(t32.memoryWeights, 12_486_336);
    assert.equal(t32.weightMb, 49.945344);
    assert.equal(t32.weightMbText, '49.94');
    const t4 = archReport(spec, input, { convention: 'spquant', weightBits: 4 }).total;
    assert.equal(t4.weightMb, 6.243168);
    assert.equal(t4.weightMbText, '6.24');
  });
  test('3×3 convs only: 12 314 304 ("12.31M"); shortcuts 8 192 + 32 768 + 131 072 = 172 032', () => {
    const t = archReport(spec, input, { convention: 'lt-snn' }).total;
    assert.equal(t.memoryWeights, 12_314_304);
    assert.equal(t.shortcutWeights, 172_032);
  });
  test('1 376 512 spiking neurons → 5.50 MB at 32 bits, 0.25 MB at 1.5 bits', () => {
    // stem 64·32² = 65536; 6·128·32² = 786432; 6·256·16² = 393216; 4·512·8² = 131072; fc1 256
    const t = archReport(spec, input, { convention: 'spquant' }).total;
    assert.equal(t.neurons, 1_376_512);
    assert.equal(t.membraneMb, 5.506048);
    assert.equal(t.membraneMbText, '5.50');
    const t15 = archReport(spec, input, { convention: 'spquant', membraneBits: 1.5 }).total;
    assert.equal(t15.membraneMb, 0.258096);
    assert.equal(t15.membraneMbText, '0.25');
  });
});

test('LT-SNN VGG-9: 7 071 818 parameters (conv w+b, BN affine, 2 FCs w+b)', () => {
  const t = archReport(zoo('lt-vgg9').spec, [3, 48, 48]).total;
  // conv 4 701 024 + 1 952, BN 3 904, FC 2 359 296 + 512 + 5 120 + 10
  assert.deepEqual([t.convWeights, t.biases, t.bn, t.denseWeights], [4_701_024, 1_952 + 522, 3_904, 2_364_416]);
  assert.equal(t.params, 7_071_818);
});

test('LT-SNN VGG-7 = 1 757 514 and VGG-11 = 18 671 882 parameters, written in the notation', () => {
  const params = (text: string): number => archReport(parseSpec(text, { bn: true, bias: true }), [3, 48, 48]).total.params;
  // 48 / 2⁴ = 3: VGG-7 flattens 256·3·3 = 2304, VGG-11 flattens 1024·3·3 = 9216
  assert.equal(params('32C3p1-AP2-64C3p1*2-AP2-128C3p1*2-AP2-256C3p1*2-AP2-256l-D0.5-10'), 1_757_514);
  assert.equal(params('64C3p1-128C3p1-AP2-256C3p1*2-AP2-512C3p1*4-AP2-1024C3p1-AP2-512l-D0.5-10'), 18_671_882);
});

describe('Scatter-and-Gather', () => {
  test('LeNet: 26 880 neurons (encoder included), 4 849 664 MACs (no encoder, no readout), 158 352 weights', () => {
    const t = archReport(zoo('sg-lenet').spec, [1, 28, 28], { convention: 'sg-lenet' }).total;
    assert.equal(t.neurons, 26_880);
    assert.equal(t.macs, 4_849_664);
    assert.equal(t.macs * 3, 14_548_992);
    assert.equal(t.weights, 158_352);
  });
  test('VGG-Net: 150 272 neurons (encoder excluded), 126 222 336 MACs, 5 069 504 weights', () => {
    const t = archReport(zoo('sg-vgg').spec, [3, 24, 24], { convention: 'sg-vgg' }).total;
    assert.equal(t.neurons, 150_272);
    assert.deepEqual([t.neurons * 2, t.neurons * 4], [300_544, 601_088]);
    assert.equal(t.macs, 126_222_336);
    assert.equal(t.macs * 3, 378_667_008);
    assert.equal(t.weights, 5_069_504);
    // the encoder's 64·24² = 36 864 neurons are what the VGG convention leaves out
    assert.equal(t.allNeurons - t.neurons, 36_864);
  });
});

describe('EC-SNN (SNN mode, no biases, BN affine counted)', () => {
  test('vgg9 / CIFAR-10: 5 941 184 = conv 1 734 336 + FC 4 204 544 + BN 2 304; 245 760 LIF neurons per step', () => {
    const t = archReport(zoo('vgg9').spec, [3, 32, 32], { convention: 'ec-snn' }).total;
    assert.deepEqual([t.convWeights, t.denseWeights, t.bn, t.biases, t.params], [1_734_336, 4_204_544, 2_304, 0, 5_941_184]);
    assert.equal(t.neurons, 245_760);
    assert.equal(mbTrunc2(megabytes(t.params, 32)), '23.76');
  });
  test('cifarnet / CIFAR-10: 9 326 208 = conv 2 956 032 + FC 6 367 104 + BN 3 072; 983 040 LIF neurons', () => {
    const t = archReport(zoo('cifarnet').spec, [3, 32, 32], { convention: 'ec-snn' }).total;
    assert.deepEqual([t.convWeights, t.denseWeights, t.bn, t.params], [2_956_032, 6_367_104, 3_072, 9_326_208]);
    assert.equal(t.neurons, 983_040);
    assert.equal(mbTrunc2(megabytes(t.params, 32)), '37.30');
  });
  test('vgg9 on other inputs: CIFAR10-DVS 68 855 168, GTZAN 127 574 848, UrbanSound 29 270 848', () => {
    const params = (input: [number, number, number]): number => archReport(zoo('vgg9', { input }).spec, input).total.params;
    assert.equal(params([2, 128, 128]), 68_855_168);
    assert.equal(params([1, 96, 323]), 127_574_848);
    assert.equal(params([1, 40, 173]), 29_270_848);
  });
});

test('a small net by hand: rows, roles, MACs × T, memory at odd bit widths', () => {
  // 4C3p1bn on 2×6×6: weights 4·2·9 = 72, bias 4, BN 8, out 4×6×6, MACs 72·36 = 2592; its neurons run
  // after the max pool that follows (conv → BN → pool → neuron): 4×3×3 = 36
  // P2 → 4×3×3; 10b readout: weights 36·10 = 360, bias 10, MACs 360, no neurons
  const r = archReport(parseSpec('4C3p1bn-P2-10b'), [2, 6, 6], { T: 4, weightBits: 3, membraneBits: 5 });
  assert.deepEqual(r.layers.map((l) => [l.path, l.label, l.role, l.outShape, l.neurons, l.weights, l.biases, l.bn, l.params, l.macs]), [
    ['1', '4C3p1bn', 'encoder', [4, 6, 6], 36, 72, 4, 8, 84, 2592],
    ['2', 'P2', 'none', [4, 3, 3], 0, 0, 0, 0, 0, 0],
    ['3', '10b', 'readout', [10], 0, 360, 10, 0, 370, 360],
  ]);
  const t = r.total;
  assert.deepEqual([t.neurons, t.weights, t.params, t.macs, t.macsT], [36, 432, 454, 2952, 2952 * 4]);
  // 432 · 3 / 8 = 162 bytes; 36 · 5 / 8 = 22.5 bytes
  assert.deepEqual([t.weightMb, t.membraneMb, r.layers[0].weightMb, r.layers[0].membraneMb], [162e-6, 22.5e-6, 27e-6, 22.5e-6]);
});

test('groups divide the fan-in: 8C3g4 on 8 channels has 8·(8/4)·9 = 144 weights', () => {
  assert.equal(archReport(parseSpec('8C3g4-10'), [8, 5, 5]).layers[0].weights, 144);
});

test('mbTrunc2 truncates, never rounds, and survives binary noise', () => {
  const cases: [number, string][] = [[3.6864, '3.68'], [49.945, '49.94'], [49.945344, '49.94'], [0.2304, '0.23'],
    [0.258096, '0.25'], [5.506048, '5.50'], [0.29, '0.29'], [0.999, '0.99'], [0, '0.00'], [12, '12.00'], [6.243168, '6.24']];
  for (const [x, s] of cases) assert.equal(mbTrunc2(x), s, String(x));
});

describe('bad options → one-line errors', () => {
  const spec = parseSpec('10');
  const cases: [() => unknown, string][] = [
    [() => archReport(spec, [1, 2, 2], { weightBits: 0 }), 'archReport: weightBits must be a number > 0, got 0'],
    [() => archReport(spec, [1, 2, 2], { membraneBits: Number.NaN }), 'archReport: membraneBits must be a number > 0, got NaN'],
    [() => archReport(spec, [1, 2, 2], { T: 1.5 }), 'archReport: T must be a positive integer, got 1.5'],
    [() => archReport(spec, [1, 2, 2], { convention: 'nope' as 'all' }),
      'archReport: unknown convention "nope" (expected one of all, ec-snn, spquant, lt-snn, sg-lenet, sg-vgg)'],
    [() => archReport(spec, [4, 4]), 'archReport: input shape must be [C, H, W] of positive integers, got [4, 4]'],
    [() => mbTrunc2(-1), 'mbTrunc2: expected a finite number ≥ 0, got -1'],
  ];
  for (const [call, message] of cases) {
    test(message, () => assert.throws(call, (e: unknown) => e instanceof EdgespikeError && e.message === message));
  }
});
