/**
 * AEDAT 3.1 (DVS128 Gesture): '#' header lines from "#!AER-DAT3.1" to "#!END-HEADER", then packets:
 * a 28-byte little-endian header (int16 type, int16 source, int32 eventSize, tsOffset, tsOverflow,
 * capacity, number, valid) and capacity × eventSize bytes. Type 1 = polarity events of 8 bytes:
 * uint32 data (bit 0 valid, bit 1 polarity, bits 16..2 y, bits 31..17 x) and int32 timestamp;
 * full time = tsOverflow · 2^31 + timestamp. Other packet types are skipped, invalid events dropped.
 * This module decodes and encodes bytes in memory (no file system: it runs in a browser too);
 * aedat3.ts reads and writes files.
 */
import { EdgespikeError } from '../../util/errors.js';
import { allocEvents, trimEvents, type Events } from './events.js';
import { formatError, latin1 } from './_bytes.js';

export const LABEL = 'AEDAT 3.1';
/** Bytes in an AEDAT 3 packet header. */
export const AEDAT3_PACKET_HEADER = 28;
export const POLARITY = 1;

/** The parsed fields of a packet header. */
interface PacketHeader { type: number; size: number; overflow: number; capacity: number }

/** Offset just past "#!END-HEADER\r\n", or −1 if `head` holds no complete header (yet). */
export function headerEnd(label: string, name: string, head: Uint8Array): number {
  if (head.length >= 10 && !latin1(head.subarray(0, 10)).startsWith('#!AER-DAT3')) {
    const first = latin1(head.subarray(0, Math.min(40, head.length))).split('\n')[0].trim();
    throw formatError(label, name, 0, `expected "#!AER-DAT3.1" header, found "${first}"`);
  }
  let pos = 0;
  while (pos < head.length) {
    if (head[pos] !== 0x23) throw formatError(label, name, pos, 'expected "#!END-HEADER" before the first packet');
    const nl = head.indexOf(0x0a, pos);
    if (nl < 0) return -1;
    const line = latin1(head.subarray(pos, Math.min(nl, pos + 16)));
    pos = nl + 1;
    if (line.startsWith('#!END-HEADER')) return pos;
  }
  return -1;
}

export function parsePacketHeader(label: string, name: string, h: Uint8Array, at: number, left: number): PacketHeader {
  if (left < AEDAT3_PACKET_HEADER) {
    throw formatError(label, name, at, `truncated packet header (28 bytes, ${left} left)`);
  }
  const dv = new DataView(h.buffer, h.byteOffset, AEDAT3_PACKET_HEADER);
  const type = dv.getInt16(0, true), size = dv.getInt32(4, true);
  const overflow = dv.getInt32(12, true), capacity = dv.getInt32(16, true);
  if (size <= 0 || capacity < 0 || overflow < 0 || (type === POLARITY && size < 8)) {
    throw formatError(label, name, at, `bad packet header (type ${type}, event size ${size}, capacity ${capacity}, `
      + `overflow ${overflow}; polarity events need size ≥ 8)`);
  }
  const body = capacity * size;
  if (body > left - AEDAT3_PACKET_HEADER) {
    throw formatError(label, name, at, `truncated packet (${capacity} events of ${size} bytes, `
      + `${left - AEDAT3_PACKET_HEADER} bytes left)`);
  }
  return { type, size, overflow, capacity };
}

export function decodePolarity(src: Uint8Array, ph: PacketHeader, out: Events, k: number): number {
  const { x, y, t, p } = out;
  const base = ph.overflow * 2147483648, stride = ph.size, end = ph.capacity * stride;
  for (let i = 0; i < end; i += stride) {
    const d0 = src[i];
    if ((d0 & 1) === 0) continue;
    const data = (d0 | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)) >>> 0;
    x[k] = (data >>> 17) & 0x7fff;
    y[k] = (data >>> 2) & 0x7fff;
    p[k] = (d0 >> 1) & 1;
    t[k] = base + ((src[i + 4] | (src[i + 5] << 8) | (src[i + 6] << 16) | (src[i + 7] << 24)) >>> 0);
    k++;
  }
  return k;
}

/** Decodes a whole AEDAT 3.1 file held in memory (polarity events only). */
export function decodeAedat3(bytes: Uint8Array, name = 'bytes', label = LABEL): Events {
  let pos = headerEnd(label, name, bytes);
  if (pos < 0) throw formatError(label, name, bytes.length, 'header without "#!END-HEADER" line');
  const out = allocEvents(Math.floor((bytes.length - pos) / 8), [128, 128, 2]);
  let k = 0;
  while (pos < bytes.length) {
    const ph = parsePacketHeader(label, name, bytes.subarray(pos), pos, bytes.length - pos);
    const body = bytes.subarray(pos + AEDAT3_PACKET_HEADER, pos + AEDAT3_PACKET_HEADER + ph.capacity * ph.size);
    if (ph.type === POLARITY) k = decodePolarity(body, ph, out, k);
    pos += AEDAT3_PACKET_HEADER + body.length;
  }
  return trimEvents(out, k);
}

/** Encodes events as AEDAT 3.1 polarity packets of at most `packetEvents` events. */
export function encodeAedat3(ev: Events, packetEvents = 4096): Uint8Array {
  const head = new TextEncoder().encode('#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n');
  const groups = packetRuns(ev, packetEvents);
  const out = new Uint8Array(head.length + groups.length * AEDAT3_PACKET_HEADER + ev.length * 8);
  out.set(head);
  const dv = new DataView(out.buffer);
  let o = head.length;
  for (const [s, e, overflow] of groups) {
    const n = e - s;
    [1, 1].forEach((v, j) => dv.setInt16(o + 2 * j, v, true));
    [8, 4, overflow, n, n, n].forEach((v, j) => dv.setInt32(o + 4 + 4 * j, v, true));
    o += AEDAT3_PACKET_HEADER;
    for (let i = s; i < e; i++, o += 8) {
      dv.setUint32(o, ((ev.x[i] << 17) | (ev.y[i] << 2) | ((ev.p[i] ? 1 : 0) << 1) | 1) >>> 0, true);
      dv.setUint32(o + 4, ev.t[i] - overflow * 2147483648, true);
    }
  }
  return out;
}

/** Splits events into packets [start, end, tsOverflow] with one overflow value each. */
function packetRuns(ev: Events, max: number): Array<[number, number, number]> {
  const runs: Array<[number, number, number]> = [];
  for (let i = 0; i < ev.length; i++) {
    const t = ev.t[i], x = ev.x[i], y = ev.y[i];
    if (x > 0x7fff || y > 0x7fff || !Number.isInteger(t) || t < 0 || t >= 2 ** 52) {
      throw new EdgespikeError(`encodeAedat3: event ${i} (x ${x}, y ${y}, t ${t}) needs x, y < 32768 and integer t ≥ 0`);
    }
    const of = Math.floor(t / 2147483648), last = runs[runs.length - 1];
    if (last && last[2] === of && last[1] === i && i - last[0] < max) last[1] = i + 1;
    else runs.push([i, i + 1, of]);
  }
  return runs;
}
