import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, parameter, Tensor } from '../../src/tensor/tensor.js';
import { backward, noGrad } from '../../src/tensor/tape.js';
import * as op from '../../src/ops/index.js';

test('diamond graph: gradient sums over both paths', () => {
  const x = parameter(Float32Array.of(2), [1]);
  const a = op.mul(x, 3), b = op.mul(x, x); // y = 3x + x² → dy/dx = 3 + 2x = 7
  op.sum(op.add(a, b)).backward();
  assert.deepEqual(Array.from(x.grad!), [7]);
});

test('a 20,000-op chain backpropagates without overflowing the stack and frees intermediates', () => {
  const x = parameter(Float32Array.of(1), [1]);
  let y: Tensor = x;
  const mids: Tensor[] = [];
  for (let i = 0; i < 20000; i++) { y = op.mul(y, 1); if (i % 5000 === 0) mids.push(y); }
  op.sum(y).backward();
  assert.deepEqual(Array.from(x.grad!), [1]);
  for (const m of mids) { assert.equal(m.grad, null); assert.equal(m.node, null); }
});

test('backward errors: non-scalar without gradient, no parameter, wrong gradient size', () => {
  const x = parameter(Float32Array.of(1, 2), [2]);
  assert.throws(() => op.mul(x, 2).backward(), /backward: needs a scalar or an explicit gradient, got shape \[2\]/);
  assert.throws(() => tensor([1]).backward(), /backward: tensor does not require a gradient/);
  assert.throws(() => backward(op.mul(x, 2), new Float32Array(3)), /backward: gradient has 3 values, tensor \[2\] has 2/);
});

test('noGrad restores the previous mode even when fn throws', () => {
  const x = parameter(Float32Array.of(1), [1]);
  assert.throws(() => noGrad(() => { throw new Error('boom'); }));
  assert.equal(op.mul(x, 2).requiresGrad, true);
});

test('tensor constructor checks data length against shape', () => {
  assert.throws(() => new Tensor(new Float32Array(3), [2, 2]), /tensor: data has 3 values, shape \[2, 2\] needs 4/);
});
