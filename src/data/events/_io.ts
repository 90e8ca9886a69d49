/**
 * Shared helpers of the event readers: chunked reads from a file descriptor so a large file is never
 * held in memory whole, and (from _bytes.ts) one-line format errors naming the file and byte offset.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { EdgespikeError } from '../../util/errors.js';
import { formatError, scanHashHeader } from './_bytes.js';

export { formatError, scanHashHeader, latin1 } from './_bytes.js';

/** Opens `path` for reading, turning a missing file into an EdgespikeError. */
export function openForRead(label: string, path: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new EdgespikeError(`${label} file "${path}": cannot open (${code})`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new EdgespikeError(`${label} file "${path}": ${st.isDirectory() ? 'is a directory' : 'is not a regular file'}`);
  }
  return { fd, size: st.size };
}

/** Reads exactly `len` bytes at `pos` into `buf` (from 0); returns the number actually read. */
export function readAt(fd: number, buf: Uint8Array, len: number, pos: number): number {
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Reads `path` from byte `start` in chunks of at most `chunk` bytes (a multiple of `align`, so
 * records never straddle chunks) and hands each chunk to `use` with its file offset.
 */
export function forEachChunk(
  fd: number, start: number, end: number, align: number, use: (bytes: Uint8Array, offset: number) => void,
  chunk = 1 << 20,
): void {
  const size = Math.max(align, chunk - (chunk % align));
  const buf = new Uint8Array(Math.min(size, Math.max(0, end - start)));
  for (let pos = start; pos < end;) {
    const len = Math.min(buf.length, end - pos);
    const got = readAt(fd, buf, len, pos);
    if (got === 0) break;
    use(got === buf.length ? buf : buf.subarray(0, got), pos);
    pos += got;
  }
}

/** Runs `body` with an open descriptor and always closes it. */
export function withFile<T>(label: string, path: string, body: (fd: number, size: number) => T): T {
  const { fd, size } = openForRead(label, path);
  try {
    return body(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** Reads the '#' header of an AEDAT file by growing reads (capped at `max` bytes). */
export function readHashHeader(
  label: string, path: string, fd: number, size: number, max = 1 << 20,
): { end: number; text: string } {
  let len = Math.min(size, 4096);
  for (;;) {
    const buf = new Uint8Array(len);
    const got = readAt(fd, buf, len, 0);
    const h = scanHashHeader(buf.subarray(0, got));
    if (h.complete) return h;
    if (got >= size) {
      if (h.open) throw formatError(label, path, h.end, 'header line without end of line');
      return h;
    }
    if (len >= max) throw formatError(label, path, len, `header longer than ${max} bytes`);
    len = Math.min(size, len * 4, max);
  }
}
