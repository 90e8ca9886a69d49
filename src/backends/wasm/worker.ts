/**
 * Worker thread of the wasm backend: instantiates the shared module over the shared memory, then serves
 * calls posted in its control block (see threads.ts) until the process exits.
 */
import { workerData } from 'node:worker_threads';
import { CTL, PARALLEL_EXPORTS, spinWhile } from './threads.js';

const { module, memory, base } = workerData as { module: WebAssembly.Module; memory: WebAssembly.Memory; base: number };
const exp = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Record<string, (...a: number[]) => unknown>;
const i32 = new Int32Array(memory.buffer), f64 = new Float64Array(memory.buffer);
const slot = base / 4;

Atomics.store(i32, slot + CTL.ready, 1);
Atomics.notify(i32, slot + CTL.ready);
let seen = 0;
for (;;) {
  // Kernel calls of one training step come back to back: spin briefly before parking, since waking a
  // parked thread costs tens of microseconds.
  spinWhile(i32, slot + CTL.seq, seen);
  Atomics.wait(i32, slot + CTL.seq, seen);
  const seq = Atomics.load(i32, slot + CTL.seq);
  if (seq === seen) continue;
  seen = seq;
  try {
    const nargs = i32[slot + CTL.nargs], a0 = base / 8 + CTL.args / 2;
    exp[PARALLEL_EXPORTS[i32[slot + CTL.fn]]](...f64.subarray(a0, a0 + nargs));
  } catch {
    i32[slot + CTL.error] = 1;
  }
  Atomics.store(i32, slot + CTL.done, seq);
  Atomics.notify(i32, slot + CTL.done);
}
