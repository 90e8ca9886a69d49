/**
 * N-MNIST / N-Caltech101 ATIS `.bin` files: the format and its in-memory decoder and encoder are in
 * atis-codec.ts; this module reads files by chunks and writes them atomically.
 */
import { writeFileAtomic } from '../../util/atomic.js';
import { allocEvents, coverSensor, trimEvents, type Events } from './events.js';
import { forEachChunk, withFile } from './_io.js';
import { ATIS_EVENT_BYTES, decodeInto, encodeAtis, truncated, type AtisReadOptions } from './atis-codec.js';

export { ATIS_EVENT_BYTES, ATIS_OVERFLOW_Y, ATIS_OVERFLOW_STEP, decodeAtis, encodeAtis, type AtisReadOptions } from './atis-codec.js';

/** Reads an ATIS file by 1 MB chunks from a file descriptor (the file is never held whole). */
export function readAtis(path: string, opts: AtisReadOptions = {}): Events {
  const label = opts.label ?? 'N-MNIST';
  return withFile(label, path, (fd, size) => {
    if (size % ATIS_EVENT_BYTES !== 0) throw truncated(label, path, size);
    const out = allocEvents(size / ATIS_EVENT_BYTES, opts.sensor ?? [34, 34, 2]);
    let k = 0, overflow = 0;
    forEachChunk(fd, 0, size, ATIS_EVENT_BYTES, (chunk) => { [k, overflow] = decodeInto(chunk, out, k, overflow); });
    const ev = trimEvents(out, k);
    if (!opts.sensor) ev.sensor = coverSensor(ev, ev.sensor);
    return ev;
  });
}


/** Writes events to `path` as an ATIS `.bin` file, atomically. */
export function writeAtis(path: string, ev: Events): void {
  writeFileAtomic(path, encodeAtis(ev));
}
