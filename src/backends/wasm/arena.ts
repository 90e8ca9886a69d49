/**
 * A bump allocator of byte offsets in the shared wasm memory. Views are made just in time (f32/i32), never
 * kept across an allocation; a kernel call takes a mark, allocates, and releases back to the mark.
 */

const ALIGN = 64;
const PAGE = 65536;

/** The typed arrays kernels pass through the arena: floats, int32s (argmax, records) and bytes (int8 codes, gates). */
export type ArenaArray = Float32Array | Int32Array | Int8Array | Uint8Array;

/** Byte-offset allocator over a WebAssembly.Memory that grows on demand. */
export class Arena {
  private top: number;
  /** Every buffer object the memory has had (a shared memory hands out a new one after each growth). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  /** The newest of them (checked first: nearly every view is of it). */
  private last: ArrayBufferLike | undefined;
  /** Open mark() scopes: memory reserved for good must not come from inside one. */
  private open = 0;

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

  /** Reserves `bytes` for good (lent memory): only between kernel calls, never inside a mark() scope. */
  reserve(bytes: number): number {
    if (this.open > 0) throw new Error('arena: reserve() inside a kernel scope');
    return this.alloc(bytes);
  }

  /** The byte offset of a when it is a view of this memory, else −1. */
  offsetOf(a: ArenaArray): number {
    const b = a.buffer;
    return b === this.last || this.buffers.has(b) ? a.byteOffset : -1;
  }

  /** The offset of `src` when it already lives in this memory, else room for it with `src` copied in. */
  put(src: ArenaArray, length = src.length): number {
    const here = this.offsetOf(src);
    if (here >= 0) return here;
    const off = this.alloc(src.BYTES_PER_ELEMENT * length);
    this.viewLike(src, off, length).set(src.length === length ? src : src.subarray(0, length));
    return off;
  }

  /** Where a kernel writes `length` values meant for dst: dst itself when it lives in this memory, else room for them. */
  out(dst: ArenaArray, length = dst.length): number {
    const here = this.offsetOf(dst);
    return here >= 0 ? here : this.alloc(dst.BYTES_PER_ELEMENT * length);
  }

  /** Copies `length` values at offset `off` into dst (nothing to do when dst is that memory). */
  copyOut(dst: ArenaArray, off: number, length = dst.length): void {
    if (this.offsetOf(dst) === off) return;
    dst.set(this.viewLike(dst, off, length));
  }

  /** Allocates an i32 record holding `fields`. */
  record(fields: readonly number[]): number {
    const off = this.alloc(4 * fields.length);
    this.i32(off, fields.length).set(fields);
    return off;
  }

  /** The current top, to release back to. */
  mark(): number {
    this.open++;
    return this.top;
  }

  /** Frees everything allocated after `mark` (closes the scope mark() opened). */
  release(mark: number): void {
    this.open--;
    this.top = mark;
  }

  /** The memory's current buffer, remembered as one of its own. */
  private buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    if (b !== this.last) { this.buffers.add(b); this.last = b; }
    return b;
  }

  /** A fresh Float32Array view of `length` floats at byte offset `off`. */
  f32(off: number, length: number): Float32Array {
    return new Float32Array(this.buffer(), off, length);
  }

  /** A fresh view of `length` elements at byte offset `off`, of the same type as `like`. */
  private viewLike(like: ArenaArray, off: number, length: number): { set(a: ArrayLike<number>): void } & ArrayLike<number> {
    if (like instanceof Float32Array) return this.f32(off, length);
    if (like instanceof Int32Array) return this.i32(off, length);
    if (like instanceof Int8Array) return new Int8Array(this.buffer(), off, length);
    return new Uint8Array(this.buffer(), off, length);
  }

  /** A fresh Uint8Array view of `length` bytes at byte offset `off`. */
  u8(off: number, length: number): Uint8Array {
    return new Uint8Array(this.buffer(), off, length);
  }

  /** A fresh Int32Array view of `length` ints at byte offset `off`. */
  i32(off: number, length: number): Int32Array {
    return new Int32Array(this.buffer(), off, length);
  }
}
