/**
 * Worker thread of the wasm backend: instantiates the shared module over the shared memory, then serves
 * calls posted in its control block (see threads.ts) until the process or page ends. In Node it is a
 * worker_threads worker given workerData; in a browser, a module Web Worker given one init message.
 */
import { CTL, PARALLEL_EXPORTS, claimChunks, spinWhile, type WorkerInit } from './threads.js';

/** True in Node (worker_threads), false in a browser's Web Worker. */
const inNode = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;

/** The init record: workerData in Node, the first message in a browser. */
async function receiveInit(): Promise<WorkerInit> {
  if (inNode) return (await import('node:worker_threads')).workerData as WorkerInit;
  return new Promise((resolve) => {
    globalThis.addEventListener('message', (e) => resolve((e as MessageEvent<WorkerInit>).data), { once: true });
  });
}

const { module, memory, base } = await receiveInit();
const exp = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Record<string, (...a: number[]) => unknown>;
const i32 = new Int32Array(memory.buffer), f64 = new Float64Array(memory.buffer);
const slot = base / 4;

Atomics.store(i32, slot + CTL.ready, 1);
Atomics.notify(i32, slot + CTL.ready);
if (!inNode) (globalThis as unknown as { postMessage(m: unknown): void }).postMessage('ready');
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
    const nargs = i32[slot + CTL.nargs], a0 = base / 8 + CTL.args / 2, chunks = i32[slot + CTL.chunks]!;
    const fn = exp[PARALLEL_EXPORTS[i32[slot + CTL.fn]!]!]!, args = Array.from(f64.subarray(a0, a0 + nargs));
    if (chunks === 0) fn(...args);
    else {
      // dynamic run: args hold the whole range at (from, to) = the two before scratch
      const lo = args[nargs - 3]!, hi = args[nargs - 2]!;
      claimChunks(i32, i32[slot + CTL.counter]! / 4, lo, hi, chunks, (from, to) => {
        args[nargs - 3] = from; args[nargs - 2] = to;
        fn(...args);
      });
    }
  } catch {
    i32[slot + CTL.error] = 1;
  }
  Atomics.store(i32, slot + CTL.done, seq);
  Atomics.notify(i32, slot + CTL.done);
}
