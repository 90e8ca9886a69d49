/**
 * The helpers of the event decoders that need no file system (they run in a browser too): one-line
 * format errors naming the file and byte offset, the '#' header of AEDAT files, and Latin-1 text.
 */
import { EdgespikeError } from '../../util/errors.js';

/** The last part of a '/'-separated path (trailing '/' ignored), as node:path's POSIX basename gives it. */
export function baseName(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  const s = path.slice(0, end);
  return s.slice(s.lastIndexOf('/') + 1);
}

/** `<label> file "<name>": byte <offset>: <what>` as an EdgespikeError. */
export function formatError(label: string, file: string, offset: number, what: string): EdgespikeError {
  return new EdgespikeError(`${label} file "${baseName(file)}": byte ${offset}: ${what}`);
}

/**
 * The '#' comment header of an AEDAT file: `end` is the offset of the first line that does not start
 * with '#' (lines end with '\n', usually "\r\n"). `open` is true when a '#' line runs to the end of
 * `head` without a line end; `complete` when a non-'#' byte was seen after the header.
 */
export function scanHashHeader(head: Uint8Array): { end: number; text: string; complete: boolean; open: boolean } {
  let pos = 0;
  while (pos < head.length && head[pos] === 0x23) {
    const nl = head.indexOf(0x0a, pos);
    if (nl < 0) return { end: pos, text: latin1(head.subarray(0, pos)), complete: false, open: true };
    pos = nl + 1;
  }
  return { end: pos, text: latin1(head.subarray(0, pos)), complete: pos < head.length, open: false };
}

/** Decodes bytes as Latin-1 (one char per byte). */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 8192)));
  }
  return s;
}
