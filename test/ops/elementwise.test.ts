import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/tensor/tape.js';
import * as op from '../../src/ops/index.js';
import { Rng } from '../../src/data/rng.js';
import { gradcheck, rand, randAway } from '../helpers/gradcheck.js';

describe('elementwise values', () => {
  test('broadcast add [2,3] + [3] and [2,1] * [1,3]', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual(op.add(a, tensor([10, 20, 30])).toArray(), [11, 22, 33, 14, 25, 36]);
    assert.deepEqual(op.mul(tensor([1, 2], [2, 1]), tensor([3, 4, 5], [1, 3])).toArray(), [3, 4, 5, 6, 8, 10]);
    assert.deepEqual(op.sub(2, tensor([1, 5])).toArray(), [1, -3]);
    assert.deepEqual(op.div(tensor([1, 6]), 2).toArray(), [0.5, 3]);
  });
  test('broadcast against every pattern: each output element is f of the operands\' elements NumPy\'s rules name', () => {
    const rng = new Rng(7);
    // [out shape, a shape, b shape]: trailing, leading and middle runs, scalars, both sides broadcast, size-1 axes
    const cases: [number[], number[], number[]][] = [
      [[4, 5], [4, 5], [4, 1]], [[4, 5], [4, 5], [5]], [[4, 5], [4, 1], [4, 5]], [[2, 3, 4], [2, 3, 4], [3, 1]],
      [[2, 3, 4], [2, 3, 4], [1, 3, 1]], [[2, 3, 4], [2, 3, 4], [2, 1, 4]], [[2, 3, 4], [2, 1, 4], [3, 1]],
      [[3, 1, 4], [3, 1, 4], [1, 4]], [[2, 3], [2, 3], []], [[2, 3], [1], [2, 3]], [[5, 2, 1, 3], [5, 2, 1, 3], [2, 1, 1]],
    ];
    for (const [out, sa, sb] of cases) {
      const a = rand(rng, sa), b = rand(rng, sb);
      const at = (shape: number[], t: typeof a, pos: number[]): number => {
        let k = 0;
        shape.forEach((d, i) => { k = k * d + (d === 1 ? 0 : pos[out.length - shape.length + i]!); });
        return t.data[k]!;
      };
      const n = out.reduce((p, d) => p * d, 1), y = op.mul(a, b), z = op.sub(b, a);
      assert.deepEqual(y.shape, out);
      for (let i = 0; i < n; i++) {
        const pos: number[] = [];
        for (let d = out.length - 1, r = i; d >= 0; d--) { pos[d] = r % out[d]!; r = Math.floor(r / out[d]!); }
        const x1 = at(sa, a, pos), x2 = at(sb, b, pos);
        assert.equal(y.data[i], Math.fround(x1 * x2), `${out} = ${sa} · ${sb} at ${pos}`);
        assert.equal(z.data[i], Math.fround(x2 - x1), `${out} = ${sb} − ${sa} at ${pos}`);
      }
    }
  });
  test('unary values', () => {
    const x = tensor([-2, 0.5, 4]);
    assert.deepEqual(op.relu(x).toArray(), [0, 0.5, 4]);
    assert.deepEqual(op.abs(x).toArray(), [2, 0.5, 4]);
    assert.deepEqual(op.clamp(x, -1, 1).toArray(), [-1, 0.5, 1]);
    assert.deepEqual(op.sqrt(tensor([4, 9])).toArray(), [2, 3]);
    assert.ok(Math.abs(op.sigmoid(tensor([0])).item() - 0.5) < 1e-7);
    assert.ok(Math.abs(op.sigmoid(tensor([-100])).item()) < 1e-30);
  });
  test('incompatible shapes give one clear error', () => {
    assert.throws(() => op.add(tensor([1, 2, 3]), tensor([1, 2])), /add: shapes \[3\] and \[2\] cannot be broadcast/);
  });
  test('no-grad mode records nothing', () => {
    const x = tensor([1, 2], [2], true);
    const y = noGrad(() => op.mul(x, x));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
  });
  test('gradient accumulates when a tensor is used twice', () => {
    const x = tensor([3], [1], true);
    op.sum(op.add(op.mul(x, x), x)).backward(); // d(x² + x)/dx = 2x + 1 = 7
    assert.deepEqual(Array.from(x.grad!), [7]);
  });
});

describe('elementwise gradients (finite differences)', () => {
  const rng = new Rng(1);
  test('binary ops with broadcasting', () => {
    gradcheck('add', op.add, [rand(rng, [2, 3]), rand(rng, [3])]);
    gradcheck('sub', op.sub, [rand(rng, [2, 1, 3]), rand(rng, [4, 1])]);
    gradcheck('mul', op.mul, [rand(rng, [2, 3]), rand(rng, [2, 1])]);
    gradcheck('div', op.div, [rand(rng, [3, 2]), rand(rng, [2], 0.5, 2)]);
    gradcheck('pow', op.pow, [rand(rng, [5], 0.5, 2), rand(rng, [5], -1, 2)]);
    gradcheck('maximum', op.maximum, [randAway(rng, [6], 0.3), randAway(rng, [6], 0.05).detach()]);
    gradcheck('mul middle run', op.mul, [rand(rng, [2, 3, 4]), rand(rng, [3, 1])]);
    gradcheck('sub both broadcast', op.sub, [rand(rng, [2, 1, 4]), rand(rng, [3, 1])]);
  });
  test('unary ops', () => {
    for (const [name, f] of [['exp', op.exp], ['sigmoid', op.sigmoid], ['tanh', op.tanh], ['neg', op.neg]] as const) {
      gradcheck(name, f, [rand(rng, [7])]);
    }
    gradcheck('log', op.log, [rand(rng, [7], 0.5, 3)]);
    gradcheck('sqrt', op.sqrt, [rand(rng, [7], 0.5, 3)]);
    gradcheck('abs', op.abs, [randAway(rng, [7])]);
    gradcheck('relu', op.relu, [randAway(rng, [7])]);
    gradcheck('clamp', (x) => op.clamp(x, -0.5, 0.5), [randAway(rng, [9], 0.05)]);
  });
});
