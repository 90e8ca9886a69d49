/** Model zoo: names, input shapes, notation round trips, overrides, the ResNet-19 structure. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { zoo, zooNames } from '../../src/models/zoo.js';
import { parseSpec } from '../../src/notation/parse.js';
import { formatSpec } from '../../src/notation/format.js';
import { inferShapes } from '../../src/notation/shapes.js';
import type { ConvSpec, ResidualSpec } from '../../src/notation/spec.js';
import { EdgespikeError } from '../../src/util/errors.js';

test('zoo names in table order', () => {
  assert.deepEqual(zooNames(), ['lenet', 'cifarnet', 'vgg9', 'vgg9-48', 'lt-vgg9', 'resnet19', 'sg-lenet', 'sg-vgg']);
});

describe('every linear zoo model round-trips through the notation', () => {
  for (const name of zooNames().filter((n) => n !== 'resnet19')) {
    test(name, () => {
      const { spec } = zoo(name);
      const text = formatSpec(spec);
      assert.deepEqual(parseSpec(text), spec);
      assert.equal(formatSpec(parseSpec(text)), text);
    });
  }
});

test('canonical texts of the seed nets', () => {
  assert.equal(formatSpec(zoo('lenet').spec), '16C5b-P2-16C5b-P2-256b-10b');
  assert.equal(formatSpec(zoo('vgg9').spec), '64C3p1n*2-AP2-128C3p1n*2-AP2-256C3p1n*3-AP2-F-D0.5-1024l-D0.5-10');
  assert.equal(formatSpec(zoo('sg-lenet').spec), '16C5p2n-16C5n-16C2s2n-32C5n-32C2s2n-256C4n-10');
});

test('input shapes and final shapes (readout = classes)', () => {
  const expect: Record<string, [number[], number[]]> = {
    lenet: [[1, 28, 28], [10]], cifarnet: [[3, 32, 32], [10]], vgg9: [[3, 32, 32], [10]], 'vgg9-48': [[3, 48, 48], [10]],
    'lt-vgg9': [[3, 48, 48], [10]], resnet19: [[3, 32, 32], [10]], 'sg-lenet': [[1, 28, 28], [10]], 'sg-vgg': [[3, 24, 24], [10]],
  };
  for (const name of zooNames()) {
    const m = zoo(name);
    const shapes = inferShapes(m.spec, m.input);
    assert.deepEqual([m.input, shapes[shapes.length - 1]], expect[name], name);
    assert.ok(m.notes.length > 20, name);
  }
});

test('Scatter-and-Gather nets keep their spatial chain: LeNet 28 → 28 → 24 → 12 → 8 → 4 → 1, VGG 24 → … → 3 → 3 → 1', () => {
  const lenet = inferShapes(zoo('sg-lenet').spec, [1, 28, 28]).map((s) => s[1] ?? 0);
  assert.deepEqual(lenet, [28, 24, 12, 8, 4, 1, 0]);
  const vgg = inferShapes(zoo('sg-vgg').spec, [3, 24, 24]).map((s) => s[1] ?? 0);
  assert.deepEqual(vgg, [24, 24, 24, 12, 12, 12, 6, 6, 6, 3, 3, 1, 0]);
});

test('overrides: classes replace the readout size, input changes the flatten size', () => {
  const m = zoo('vgg9', { input: [2, 128, 128], classes: 101 });
  assert.deepEqual(m.input, [2, 128, 128]);
  assert.equal(formatSpec(m.spec), '64C3p1n*2-AP2-128C3p1n*2-AP2-256C3p1n*3-AP2-F-D0.5-1024l-D0.5-101');
  // 128 / 2 / 2 / 2 = 16 → flatten 256·16·16 = 65 536
  assert.deepEqual(inferShapes(m.spec, m.input)[10], [65536]);
  const r = zoo('resnet19', { classes: 100 });
  const last = r.spec.layers[r.spec.layers.length - 1];
  assert.deepEqual(last, { kind: 'dense', out: 100, bias: true, bn: false, spike: false });
});

test('resnet19: stem, 8 BasicBlocks (1×1 shortcut only where shape changes), GAP, 256 + neuron, readout', () => {
  const { layers } = zoo('resnet19').spec;
  assert.equal(layers.length, 1 + 8 + 3);
  const blocks = layers.slice(1, 9) as ResidualSpec[];
  assert.deepEqual(blocks.map((b) => b.shortcut.length), [1, 0, 0, 1, 0, 0, 1, 0]);
  assert.deepEqual(blocks.map((b) => (b.body[0] as ConvSpec).stride), [1, 1, 1, 2, 1, 1, 2, 1]);
  assert.deepEqual(blocks.map((b) => (b.body[0] as ConvSpec).out), [128, 128, 128, 256, 256, 256, 512, 512]);
  assert.ok(blocks.every((b) => b.spike && (b.body[0] as ConvSpec).spike && !(b.body[1] as ConvSpec).spike));
  assert.deepEqual(layers[9], { kind: 'gap' });
  assert.deepEqual(layers[10], { kind: 'dense', out: 256, bias: true, bn: false, spike: true });
});

describe('bad zoo requests', () => {
  const cases: [() => unknown, string][] = [
    [() => zoo('vgg10'), 'zoo: unknown model "vgg10" (expected one of lenet, cifarnet, vgg9, vgg9-48, lt-vgg9, resnet19, sg-lenet, sg-vgg)'],
    [() => zoo('toString'), 'zoo: unknown model "toString" (expected one of lenet, cifarnet, vgg9, vgg9-48, lt-vgg9, resnet19, sg-lenet, sg-vgg)'],
    [() => zoo('lenet', { classes: 0 }), 'zoo: classes must be a positive integer, got 0'],
    [() => zoo('lenet', { input: [1, 28, 0] }), 'zoo: input shape must be [C, H, W] of positive integers, got [1, 28, 0]'],
  ];
  for (const [call, message] of cases) {
    test(message, () => assert.throws(call, (e: unknown) => e instanceof EdgespikeError && e.message === message));
  }
});
