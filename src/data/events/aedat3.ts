/**
 * AEDAT 3.1 files (DVS128 Gesture): the format and its in-memory decoder and encoder are in
 * aedat3-codec.ts; this module reads files packet by packet and writes them atomically.
 */
import { writeFileAtomic } from '../../util/atomic.js';
import { allocEvents, trimEvents, type Events } from './events.js';
import { formatError, readAt, withFile } from './_io.js';
import { AEDAT3_PACKET_HEADER, LABEL, POLARITY, decodePolarity, encodeAedat3, headerEnd, parsePacketHeader } from './aedat3-codec.js';

export { AEDAT3_PACKET_HEADER, decodeAedat3, encodeAedat3 } from './aedat3-codec.js';

function readHeader(label: string, path: string, fd: number, size: number): number {
  for (let len = Math.min(size, 4096); ; len = Math.min(size, len * 4)) {
    const buf = new Uint8Array(len);
    const got = readAt(fd, buf, len, 0);
    const end = headerEnd(label, path, buf.subarray(0, got));
    if (end >= 0) return end;
    if (got >= size || len >= 1 << 20) throw formatError(label, path, got, 'header without "#!END-HEADER" line');
  }
}

/** Reads an AEDAT 3.1 file packet by packet from a file descriptor (polarity events only). */
export function readAedat3(path: string, label = LABEL): Events {
  return withFile(label, path, (fd, size) => {
    let pos = readHeader(label, path, fd, size);
    const out = allocEvents(Math.floor((size - pos) / 8), [128, 128, 2]);
    const head = new Uint8Array(AEDAT3_PACKET_HEADER);
    let body = new Uint8Array(1 << 16), k = 0;
    while (pos < size) {
      readAt(fd, head, Math.min(AEDAT3_PACKET_HEADER, size - pos), pos);
      const ph = parsePacketHeader(label, path, head, pos, size - pos);
      const len = ph.capacity * ph.size;
      if (ph.type === POLARITY) {
        if (body.length < len) body = new Uint8Array(len);
        readAt(fd, body, len, pos + AEDAT3_PACKET_HEADER);
        k = decodePolarity(body, ph, out, k);
      }
      pos += AEDAT3_PACKET_HEADER + len;
    }
    return trimEvents(out, k);
  });
}


/** Writes events as an AEDAT 3.1 file, atomically. */
export function writeAedat3(path: string, ev: Events, packetEvents = 4096): void {
  writeFileAtomic(path, encodeAedat3(ev, packetEvents));
}
