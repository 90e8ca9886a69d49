/**
 * AEDAT 2.0 files (CIFAR10-DVS, jAER): the format and its in-memory decoder and encoder are in
 * aedat2-codec.ts; this module reads files by chunks and writes them atomically.
 */
import { writeFileAtomic } from '../../util/atomic.js';
import { allocEvents, type Events } from './events.js';
import { forEachChunk, readHashHeader, withFile } from './_io.js';
import { LABEL, checkBody, checkHeader, decodeInto, encodeAedat2, type Aedat2Options, type Aedat2Orientation } from './aedat2-codec.js';

export { decodeAedat2, encodeAedat2, type Aedat2Options, type Aedat2Orientation } from './aedat2-codec.js';

/** Reads an AEDAT 2.0 file by chunks from a file descriptor. */
export function readAedat2(path: string, opts: Aedat2Options = {}): Events {
  const label = opts.label ?? LABEL;
  return withFile(label, path, (fd, size) => {
    const h = readHashHeader(label, path, fd, size);
    checkHeader(label, path, h.text);
    checkBody(label, path, h.end, size);
    const out = allocEvents((size - h.end) / 8, [128, 128, 2]);
    let k = 0;
    const upright = opts.orientation === 'upright';
    forEachChunk(fd, h.end, size, 8, (chunk) => { k = decodeInto(chunk, out, k, upright); });
    return out;
  });
}


/** Writes events as an AEDAT 2.0 file, atomically. */
export function writeAedat2(path: string, ev: Events, orientation: Aedat2Orientation = 'original'): void {
  writeFileAtomic(path, encodeAedat2(ev, orientation));
}
