/**
 * Lent memory of the wasm backend: blocks of the shared memory handed out as Float32Array views inside a
 * workspace (src/tensor/storage.ts), so kernels read their inputs and write their outputs in place. Blocks
 * come back to free lists by size when the workspace ends; a training step asks for the same sizes every
 * time, so after the first step every block is reused and nothing is copied or collected.
 */
import type { Lender } from '../../tensor/storage.js';
import type { Arena } from './arena.js';

const ALIGN = 64;

/** A size-class allocator over arena memory reserved for good, with a stack of what is lent. */
export class Heap implements Lender {
  private readonly free = new Map<number, number[]>();
  private readonly lentOff: number[] = [];
  private readonly lentBytes: number[] = [];
  private reserved = 0;

  /**
   * Lends at most `limitBytes` in total; past that take() returns undefined (plain arrays are used). `fill` sets
   * bytes of the memory natively (a typed array's fill on shared memory stores one element at a time).
   */
  constructor(private readonly arena: Arena, private readonly limitBytes: number,
    private readonly fill: (off: number, byte: number, n: number) => void = (off, byte, n) => { arena.u8(off, n).fill(byte); }) {}

  begin(): number { return this.lentOff.length; }

  take(n: number, zero: boolean): Float32Array | undefined {
    const bytes = Math.ceil((4 * n) / ALIGN) * ALIGN;
    let off = this.free.get(bytes)?.pop();
    if (off === undefined) {
      if (this.reserved + bytes > this.limitBytes) return undefined;
      off = this.arena.reserve(bytes);
      this.reserved += bytes;
    }
    this.lentOff.push(off);
    this.lentBytes.push(bytes);
    if (zero) this.fill(off, 0, 4 * n);
    return this.arena.f32(off, n);
  }

  end(mark: number): void {
    while (this.lentOff.length > mark) {
      const off = this.lentOff.pop()!, bytes = this.lentBytes.pop()!;
      let list = this.free.get(bytes);
      if (!list) this.free.set(bytes, (list = []));
      list.push(off);
    }
  }

  owns(a: Float32Array): boolean { return this.arena.offsetOf(a) >= 0; }

  fillBytes(a: Float32Array | Int8Array | Uint8Array, byte: number): boolean {
    const off = this.arena.offsetOf(a);
    if (off < 0) return false;
    this.fill(off, byte, a.byteLength);
    return true;
  }

  /** Bytes reserved for lending so far (they stay with the memory for reuse). */
  get reservedBytes(): number { return this.reserved; }
}
