/**
 * NumPy `.npy` event files: the format and its in-memory decoder and encoders are in npy-codec.ts;
 * this module reads files by chunks of whole records and writes them atomically.
 */
import { writeFileAtomic } from '../../util/atomic.js';
import { allocEvents, guessSensor, type Events } from './events.js';
import { readAt, withFile } from './_io.js';
import { parseNpyHeader } from './_npy-header.js';
import { LABEL, TONIC_FIELDS, decodeRecords, encodeNpyEvents, layout, type NpyEventOptions } from './npy-codec.js';

export {
  decodeNpyEvents, encodeNpyEvents, encodeNpy, npyHeaderText, parseNpyHeader, TONIC_FIELDS,
  type NpyEventOptions, type NpyField, type NpyHeader,
} from './npy-codec.js';

/** Reads an .npy event file by chunks of whole records from a file descriptor. */
export function readNpyEvents(path: string, opts: NpyEventOptions = {}): Events {
  return withFile(LABEL, path, (fd, size) => {
    const head = new Uint8Array(Math.min(size, 1 << 16));
    const got = readAt(fd, head, head.length, 0);
    const h = parseNpyHeader(head.subarray(0, got), path, size);
    const cols = layout(h, path, opts);
    const ev = allocEvents(h.records, opts.sensor ?? [0, 0, 2]);
    const per = Math.max(1, Math.floor((1 << 20) / h.recordSize));
    const buf = new Uint8Array(per * h.recordSize);
    for (let r = 0, k = 0; r < h.records; r += per) {
      const n = Math.min(per, h.records - r), off = h.dataStart + r * h.recordSize;
      readAt(fd, buf, n * h.recordSize, off);
      k = decodeRecords(buf, n, h, cols, opts.timeScale ?? 1, ev, k, path, off);
    }
    if (!opts.sensor) ev.sensor = guessSensor(ev);
    return ev;
  });
}


/** Writes events as a structured .npy file, atomically. */
export function writeNpyEvents(path: string, ev: Events, fields = TONIC_FIELDS): void {
  writeFileAtomic(path, encodeNpyEvents(ev, fields));
}

