/**
 * A bump allocator of byte offsets in the shared wasm memory. Views are made just in time (f32/i32), never
 * kept across an allocation; a kernel call takes a mark, allocates, and releases back to the mark.
 */

const ALIGN = 64;
const PAGE = 65536;

/** Byte-offset allocator over a WebAssembly.Memory that grows on demand. */
export class Arena {
  private top: number;

  /** Starts allocating at `base` (rounded up to 64 bytes). */
  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** Reserves `bytes` (64-byte aligned) and returns its byte offset; grows the memory if needed. */
  alloc(bytes: number): number {
    const off = this.top;
    this.top = off + Math.ceil(Math.max(0, bytes) / ALIGN) * ALIGN;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / PAGE));
    return off;
  }

  /** Allocates room for `src` and copies it in. */
  put(src: Float32Array | Int32Array, length = src.length): number {
    const off = this.alloc(4 * length);
    const view = src instanceof Float32Array ? this.f32(off, length) : this.i32(off, length);
    view.set(src.length === length ? src : src.subarray(0, length));
    return off;
  }

  /** Allocates an i32 record holding `fields`. */
  record(fields: readonly number[]): number {
    const off = this.alloc(4 * fields.length);
    this.i32(off, fields.length).set(fields);
    return off;
  }

  /** The current top, to release back to. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark`. */
  release(mark: number): void {
    this.top = mark;
  }

  /** A fresh Float32Array view of `length` floats at byte offset `off`. */
  f32(off: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, off, length);
  }

  /** A fresh Int32Array view of `length` ints at byte offset `off`. */
  i32(off: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, off, length);
  }
}
