/** Notation: a table of [text, spec] both ways, canonical forms, parse options, and [text, error] cases. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec, type SpecOptions } from '../../src/notation/parse.js';
import { formatSpec } from '../../src/notation/format.js';
import { conv, dense, pool, residual, type LayerSpec, type ModelSpec } from '../../src/notation/spec.js';
import { EdgespikeError } from '../../src/util/errors.js';

const readout = (out: number, over = {}): LayerSpec => dense(out, { spike: false, ...over });

// Canonical text ↔ spec: parse gives the spec, format gives the text back.
const CANONICAL: [string, LayerSpec[]][] = [
  ['16C5-P2-16C5-P2-256-10', [conv(16, 5), pool('max', 2), conv(16, 5), pool('max', 2), dense(256), readout(10)]],
  ['64C3p1n*2-AP2-10', [conv(64, 3, { pad: 1, bn: true }), conv(64, 3, { pad: 1, bn: true }), pool('avg', 2), readout(10)]],
  ['32C3s2p1g4b-3P2-3AP1-10b', [conv(32, 3, { stride: 2, pad: 1, groups: 4, bias: true }), pool('max', 3, 2), pool('avg', 3, 1), readout(10, { bias: true })]],
  ['F-D0.5-1024l-D0.25-10', [{ kind: 'flatten' }, { kind: 'dropout', p: 0.5 }, dense(1024, { spike: false }), { kind: 'dropout', p: 0.25 }, readout(10)]],
  ['8C3-GAP-100bnl-10*2', [conv(8, 3), { kind: 'gap' }, dense(100, { bias: true, bn: true, spike: false }), dense(10), readout(10)]],
  ['16C5l-16C3', [conv(16, 5, { spike: false }), conv(16, 3, { spike: false })]],
  ['D0', [{ kind: 'dropout', p: 0 }]],
];

describe('parseSpec / formatSpec table', () => {
  for (const [text, layers] of CANONICAL) {
    test(text, () => {
      assert.deepEqual(parseSpec(text), { layers });
      assert.equal(formatSpec({ layers }), text);
    });
  }
});

describe('non-canonical spellings format to the canonical one', () => {
  const cases: [string, string, SpecOptions?][] = [
    ['16C5-MP2-256-10', '16C5-P2-256-10'],
    ['64C3*2-2P2-128C3*2-P2-256C3*2-P2-512C3-512', '64C3*2-P2-128C3*2-P2-256C3*2-P2-512C3-512'],
    ['64C3-64C3-10', '64C3*2-10'],
    ['2MP2-D.5-10l', 'P2-D0.5-10'],
    ['064C3s2p01-10', '64C3s2p1-10'],
    ['64C3-BN-10', '64C3n-10'],
    ['64C3*2-BN-100-BN-10', '64C3n*2-100n-10'],
    [' 16C5 - P2 - 10 ', '16C5-P2-10'],
    ['16C5-P2-256-10', '16C5bn-P2-256b-10b', { bn: true, bias: true }],
    ['16C5-P2-256n-10', '16C5n-P2-256n-10', { bn: true }],
  ];
  for (const [text, canonical, opts] of cases) {
    test(`${text} ${opts ? JSON.stringify(opts) : ''}`, () => {
      const spec = parseSpec(text, opts);
      assert.equal(formatSpec(spec), canonical);
      assert.deepEqual(parseSpec(canonical), spec);
    });
  }
});

test('"2P2" is a 2×2 window moving by 2, the same layer as "P2" (Scatter-and-Gather VGG-Net string)', () => {
  const spec = parseSpec('64C3*2-2P2-128C3*2-P2-256C3*2-P2-512C3-512');
  assert.deepEqual(spec.layers[2], pool('max', 2, 2));
  assert.deepEqual(spec.layers[2], spec.layers[5]);
  // 2 + 1 + 2 + 1 + 2 + 1 + 1 + 1 = 11 layers; the last ("512") is the readout
  assert.equal(spec.layers.length, 11);
  assert.deepEqual(spec.layers[10], readout(512));
});

test('the readout is the last weighted layer even when layers follow it', () => {
  assert.deepEqual(parseSpec('10-D0.5').layers, [readout(10), { kind: 'dropout', p: 0.5 }]);
});

test('parse(format(x)) = x for a built spec with every layer kind the notation has', () => {
  const spec: ModelSpec = {
    layers: [conv(6, 7, { stride: 3, pad: 2, groups: 3, bias: true, bn: true }), pool('avg', 3, 2), { kind: 'gap' },
      { kind: 'flatten' }, { kind: 'dropout', p: 0.1 }, dense(7, { bn: true }), dense(7, { spike: false }), readout(3)],
  };
  assert.deepEqual(parseSpec(formatSpec(spec)), spec);
});

describe('formatSpec refuses what the notation cannot hold', () => {
  const cases: [LayerSpec[], string][] = [
    [[conv(8, 3), residual([conv(8, 3, { pad: 1 })]), readout(10)],
      'formatSpec: layer 2 (residual) is a residual block, which the linear notation cannot express'],
    [[conv(8, 3), dense(10)], 'formatSpec: layer 2 (10) is the readout but spikes; the notation\'s last weighted layer never spikes'],
    [[conv(8, 2.5), readout(10)], 'formatSpec: layer 1 (8C2.5) k must be an integer ≥ 1, got 2.5'],
    [[conv(6, 3, { groups: 4 }), readout(10)], 'formatSpec: layer 1 (6C3g4) out 6 is not divisible by groups 4'],
    [[{ kind: 'dropout', p: 1e-9 }, readout(10)], 'formatSpec: layer 1 (D1e-9) dropout p must be a plain decimal in [0, 1), got 1e-9'],
  ];
  for (const [layers, message] of cases) {
    test(message, () => assert.throws(() => formatSpec({ layers }), (e: unknown) => e instanceof EdgespikeError && e.message === message));
  }
});

describe('malformed specs → one-line error naming the token', () => {
  const cases: [string, string][] = [
    ['16C5-PX-10', 'spec "16C5-PX-10": token 2 "PX" is not a layer (expected nCk, P2, AP2, MP2, n, Dp, F, GAP, BN)'],
    ['', 'spec "": empty (expected layers separated by "-", e.g. 16C5-P2-10)'],
    ['16C5--10', 'spec "16C5--10": token 2 "" is empty (expected nCk, P2, AP2, MP2, n, Dp, F, GAP, BN)'],
    ['16C5-P2-', 'spec "16C5-P2-": token 3 "" is empty (expected nCk, P2, AP2, MP2, n, Dp, F, GAP, BN)'],
    ['0C5-10', 'spec "0C5-10": token 1 "0C5" filter count must be a positive integer, got 0'],
    ['16C0-10', 'spec "16C0-10": token 1 "16C0" kernel size must be a positive integer, got 0'],
    ['16C3s0-10', 'spec "16C3s0-10": token 1 "16C3s0" stride must be a positive integer, got 0'],
    ['16C3g3-10', 'spec "16C3g3-10": token 1 "16C3g3" filter count 16 is not divisible by groups 3'],
    ['16C3p1s2-10', 'spec "16C3p1s2-10": token 1 "16C3p1s2" is not a layer (expected nCk, P2, AP2, MP2, n, Dp, F, GAP, BN)'],
    ['16C3-P0', 'spec "16C3-P0": token 2 "P0" pool stride must be a positive integer, got 0'],
    ['16C3*0-10', 'spec "16C3*0-10": token 1 "16C3*0" repeat count must be a positive integer, got 0'],
    ['16C3*5000-10', 'spec "16C3*5000-10": token 1 "16C3*5000" repeat count must be at most 4096, got 5000'],
    ['16C3-D1.5', 'spec "16C3-D1.5": token 2 "D1.5" dropout probability must be in [0, 1), got 1.5'],
    ['BN-10', 'spec "BN-10": token 1 "BN" must follow a conv or dense layer'],
    ['16C3-P2-BN-10', 'spec "16C3-P2-BN-10": token 3 "BN" must follow a conv or dense layer'],
    ['0-10', 'spec "0-10": token 1 "0" output size must be a positive integer, got 0'],
    ['16c5-10', 'spec "16c5-10": token 1 "16c5" is not a layer (expected nCk, P2, AP2, MP2, n, Dp, F, GAP, BN)'],
  ];
  for (const [text, message] of cases) {
    test(JSON.stringify(text), () => {
      assert.throws(() => parseSpec(text), (e: unknown) => e instanceof EdgespikeError && e.message === message);
    });
  }
});
