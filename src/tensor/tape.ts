/**
 * The define-by-run tape: ops record a TapeNode on their output while grad mode is on;
 * backward() sorts the graph topologically and walks it in reverse, accumulating gradients.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { Tensor, _setBackward, type TapeNode } from './tensor.js';
import { isLent } from './storage.js';

let gradEnabled = true;

/** Whether ops currently record gradients. */
export function isGradEnabled(): boolean { return gradEnabled; }

/** Runs fn with gradient recording off (inference, optimizer steps); restores the previous mode. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

/** True when an op with these inputs must record its backward. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Records `backward` on `out` when any input requires a gradient (and grad mode is on).
 * Returns `out` for chaining.
 */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: (g: Float32Array) => void): Tensor {
  if (!needsGrad(...inputs)) return out;
  out.requiresGrad = true;
  const node: TapeNode = { op, inputs, backward };
  out.node = node;
  return out;
}

/** Adds g into t.grad (allocating it on first use). */
export function accumulate(t: Tensor, g: Float32Array): void {
  if (!t.requiresGrad) return;
  if (t.grad === null) { t.grad = new Float32Array(g); return; }
  const a = t.grad;
  for (let i = 0; i < a.length; i++) a[i]! += g[i]!;
}

/**
 * Like accumulate, but may adopt g without copying. Safe for a node's incoming gradient when it is
 * passed to one input only: backward() drops the output's gradient right after the node runs.
 */
export function accumulateOwned(t: Tensor, g: Float32Array): void {
  if (!t.requiresGrad) return;
  // A leaf (parameter, input) keeps its gradient after the workspace ends, so lent memory is copied.
  if (t.grad === null) { t.grad = t.node === null && isLent(g) ? new Float32Array(g) : g; return; }
  const a = t.grad;
  for (let i = 0; i < a.length; i++) a[i]! += g[i]!;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  // Iterative DFS (deep BPTT graphs would overflow a recursive one).
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root.id);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.node ? t.node.inputs : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const c = inputs[i]!;
      if (c.requiresGrad && !seen.has(c.id)) { seen.add(c.id); stack.push([c, 0]); }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order;
}

/**
 * Reverse-mode differentiation from `root`. Without `grad`, root must have one element and its
 * gradient is 1. Gradients accumulate into leaves' `.grad`; intermediate gradients and the graph
 * are released afterwards.
 */
export function backward(root: Tensor, grad?: Float32Array): void {
  if (!root.requiresGrad) throw new EdgespikeError('backward: tensor does not require a gradient (no parameter was used to compute it)');
  if (grad === undefined) {
    if (root.size !== 1) throw new EdgespikeError(`backward: needs a scalar or an explicit gradient, got shape ${fmtShape(root.shape)}`);
    grad = Float32Array.of(1);
  } else if (grad.length !== root.size) {
    throw new EdgespikeError(`backward: gradient has ${grad.length} values, tensor ${fmtShape(root.shape)} has ${root.size}`);
  }
  const order = topoOrder(root);
  accumulate(root, grad);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const node = t.node;
    if (!node) continue;
    if (t.grad !== null) node.backward(t.grad);
    // Release the intermediate: its gradient and graph are no longer needed.
    t.grad = null;
    t.node = null;
  }
}

_setBackward(backward);
