/**
 * AEDAT 2.0 (CIFAR10-DVS, jAER): '#' header lines ("#!AER-DAT2.0\r\n" first), then big-endian
 * uint32 pairs [address, timestamp µs]. DVS128 address: bit 0 polarity, bits 7..1 x, bits 14..8 y.
 * The original release's convention (its dat2mat.m) flips x and polarity: x = 127 − x_raw,
 * p = 1 − p_raw, y = y_raw. 'upright' also transposes: x = 127 − y_raw, y = 127 − x_raw.
 * This module decodes and encodes bytes in memory (no file system: it runs in a browser too);
 * aedat2.ts reads and writes files.
 */
import { EdgespikeError } from '../../util/errors.js';
import { allocEvents, type Events } from './events.js';
import { formatError, scanHashHeader } from './_bytes.js';

/** Orientation of decoded DVS128 events: the original release's, or transposed to stand upright. */
export type Aedat2Orientation = 'original' | 'upright';

/** Reader options. */
export interface Aedat2Options {
  /** Default 'original' (x and polarity flipped, as the dataset's own tools). */
  readonly orientation?: Aedat2Orientation;
  /** Format name in messages (default "AEDAT 2.0"). */
  readonly label?: string;
}

export const LABEL = 'AEDAT 2.0';

export function decodeInto(src: Uint8Array, out: Events, k: number, upright: boolean): number {
  const { x, y, t, p } = out;
  const n = src.length & ~7;
  for (let i = 0; i < n; i += 8) {
    const a2 = src[i + 2], a3 = src[i + 3];
    const xr = (a3 & 0xfe) >> 1, yr = a2 & 0x7f;
    if (upright) { x[k] = 127 - yr; y[k] = 127 - xr; } else { x[k] = 127 - xr; y[k] = yr; }
    p[k] = 1 - (a3 & 1);
    t[k] = ((src[i + 4] << 24) >>> 0) + ((src[i + 5] << 16) | (src[i + 6] << 8) | src[i + 7]);
    k++;
  }
  return k;
}

export function checkHeader(label: string, name: string, text: string): void {
  if (!text.startsWith('#!AER-DAT2')) {
    const first = text.split('\n')[0].trim().slice(0, 40);
    throw formatError(label, name, 0, `expected "#!AER-DAT2.0" header, found "${first || 'no header'}"`);
  }
}

export function checkBody(label: string, name: string, start: number, size: number): void {
  const rest = (size - start) % 8;
  if (rest !== 0) throw formatError(label, name, size - rest, `truncated event (8-byte records, ${rest} bytes left)`);
}

/** Decodes a whole AEDAT 2.0 file held in memory. */
export function decodeAedat2(bytes: Uint8Array, name = 'bytes', opts: Aedat2Options = {}): Events {
  const label = opts.label ?? LABEL;
  const h = scanHashHeader(bytes);
  if (h.open) throw formatError(label, name, h.end, 'header line without end of line');
  checkHeader(label, name, h.text);
  checkBody(label, name, h.end, bytes.length);
  const out = allocEvents((bytes.length - h.end) / 8, [128, 128, 2]);
  decodeInto(bytes.subarray(h.end), out, 0, opts.orientation === 'upright');
  return out;
}

/** Encodes DVS128 events (x, y < 128, integer 0 ≤ t < 2^32) as AEDAT 2.0 in the given orientation. */
export function encodeAedat2(ev: Events, orientation: Aedat2Orientation = 'original'): Uint8Array {
  const head = new TextEncoder().encode('#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n');
  const out = new Uint8Array(head.length + ev.length * 8);
  out.set(head);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < ev.length; i++) {
    const x = ev.x[i], y = ev.y[i], t = ev.t[i];
    if (x > 127 || y > 127 || !Number.isInteger(t) || t < 0 || t >= 2 ** 32) {
      throw new EdgespikeError(`encodeAedat2: event ${i} (x ${x}, y ${y}, t ${t}) needs x, y < 128 and integer 0 ≤ t < 2^32`);
    }
    const xr = orientation === 'upright' ? 127 - y : 127 - x;
    const yr = orientation === 'upright' ? 127 - x : y;
    const addr = (yr << 8) | (xr << 1) | (ev.p[i] ? 0 : 1);
    dv.setUint32(head.length + i * 8, addr, false);
    dv.setUint32(head.length + i * 8 + 4, t, false);
  }
  return out;
}
