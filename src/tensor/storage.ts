/**
 * Where op results live. Outside a workspace they are plain Float32Arrays. Inside `workspace(fn)` a
 * backend may lend views of its own memory instead (the wasm backend's shared memory), which its kernels
 * read and write in place rather than copying in and out; everything lent is taken back when fn returns.
 *
 * So nothing made inside a workspace may be kept after it: read numbers out (loss, predictions) inside.
 * Gradients adopted by leaves (parameters) are copied out of lent memory by the tape.
 */

/** Memory a backend can lend: views handed out by take() are valid until end(mark) of an enclosing begin(). */
export interface Lender {
  /** Opens a scope; returns its mark. */
  begin(): number;
  /** n floats (zeroed when `zero`), or undefined when the lender has no room (the caller allocates). */
  take(n: number, zero: boolean): Float32Array | undefined;
  /** Takes back everything lent since `mark`. */
  end(mark: number): void;
  /** True when a lives in the lender's memory. */
  owns(a: Float32Array): boolean;
  /** Sets every byte of a to `byte` when a lives in the lender's memory (natively), and says whether it did. */
  fillBytes?(a: Float32Array | Int8Array | Uint8Array, byte: number): boolean;
}

let source: () => Lender | undefined = () => undefined;
let current: Lender | undefined;

/** @internal The backend registry installs where lent memory comes from (the active backend's lender). */
export function _setLenderSource(fn: () => Lender | undefined): void { source = fn; }

/**
 * Runs fn with op results in the active backend's memory, and takes that memory back afterwards (also when
 * fn throws). Nested workspaces release only what they lent. Return plain values, never tensors made inside.
 */
export function workspace<T>(fn: () => T): T {
  const outer = current, lender = outer ?? source();
  if (lender === undefined) return fn();
  const mark = lender.begin();
  current = lender;
  try { return fn(); } finally { lender.end(mark); current = outer; }
}

/**
 * Sets every byte of a to `byte` (0 zeroes floats too): natively when a is lent memory, whose typed-array fill
 * (shared memory) is several times slower than the lender's.
 */
export function fillBytes(a: Float32Array | Int8Array | Uint8Array, byte: number): void {
  if (current?.fillBytes?.(a, byte)) return;
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(byte);
}

/** n zeroed floats: lent inside a workspace, else a new Float32Array. */
export function floats(n: number): Float32Array {
  return (n > 0 && current?.take(n, true)) || new Float32Array(n);
}

/** n floats whose values the caller overwrites completely (a kernel output): not zeroed when lent. */
export function floatsFor(n: number): Float32Array {
  return (n > 0 && current?.take(n, false)) || new Float32Array(n);
}

/** True when a is lent memory of the current workspace's lender (valid only until the workspace ends). */
export function isLent(a: Float32Array): boolean {
  return current !== undefined && current.owns(a);
}

/** n int32s the caller overwrites completely (argmax indices): lent inside a workspace like floatsFor. */
export function intsFor(n: number): Int32Array {
  const f = n > 0 ? current?.take(n, false) : undefined;
  return f ? new Int32Array(f.buffer, f.byteOffset, n) : new Int32Array(n);
}
