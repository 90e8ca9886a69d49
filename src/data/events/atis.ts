/**
 * N-MNIST / N-Caltech101 ATIS `.bin`: headerless 5-byte (40-bit) events, big-endian bit order:
 * byte 0 x, byte 1 y, byte 2 bit 7 polarity and bits 6..0 = t[22:16], bytes 3-4 = t[15:0] (µs).
 * An event with y = 240 is a timestamp-overflow marker: it adds 2^13 µs to every later event (the
 * original reader's and tonic's convention) and is dropped.
 */
import { writeFileAtomic } from '../../util/atomic.js';
import { EdgespikeError } from '../../util/errors.js';
import { allocEvents, coverSensor, trimEvents, type Events, type SensorSize } from './events.js';
import { forEachChunk, formatError, withFile } from './_io.js';

/** Bytes per ATIS event. */
export const ATIS_EVENT_BYTES = 5;
/** y value that marks a timestamp overflow. */
export const ATIS_OVERFLOW_Y = 240;
/** µs added to later events by each overflow marker. */
export const ATIS_OVERFLOW_STEP = 1 << 13;
const T_MAX = 1 << 23;

/** Reader options: the label used in error messages and the sensor size to attach. */
export interface AtisReadOptions {
  /** Format name in messages (default "N-MNIST"). */
  readonly label?: string;
  /** Sensor size (default [34, 34, 2], N-MNIST's). */
  readonly sensor?: SensorSize;
}

function truncated(label: string, name: string, size: number): EdgespikeError {
  const whole = size - (size % ATIS_EVENT_BYTES);
  return formatError(label, name, whole,
    `truncated event (5-byte records, ${size % ATIS_EVENT_BYTES} bytes left)`);
}

/**
 * Decodes records from `src` into `out` starting at event index `k`; returns the new index and the
 * running overflow offset. The hot loop: plain byte loads, no per-event objects.
 */
function decodeInto(src: Uint8Array, out: Events, k: number, overflow: number): [number, number] {
  const { x, y, t, p } = out;
  const n = src.length - (src.length % 5);
  for (let i = 0; i < n; i += 5) {
    const yi = src[i + 1], b2 = src[i + 2];
    if (yi === ATIS_OVERFLOW_Y) { overflow += ATIS_OVERFLOW_STEP; continue; }
    x[k] = src[i];
    y[k] = yi;
    p[k] = b2 >> 7;
    t[k] = (((b2 & 0x7f) << 16) | (src[i + 3] << 8) | src[i + 4]) + overflow;
    k++;
  }
  return [k, overflow];
}

/** Decodes a whole ATIS file held in memory (`name` is used in error messages). */
export function decodeAtis(bytes: Uint8Array, name = 'bytes', opts: AtisReadOptions = {}): Events {
  const label = opts.label ?? 'N-MNIST';
  if (bytes.length % ATIS_EVENT_BYTES !== 0) throw truncated(label, name, bytes.length);
  const out = allocEvents(bytes.length / ATIS_EVENT_BYTES, opts.sensor ?? [34, 34, 2]);
  const [k] = decodeInto(bytes, out, 0, 0);
  const ev = trimEvents(out, k);
  if (!opts.sensor) ev.sensor = coverSensor(ev, ev.sensor);
  return ev;
}

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

/**
 * Encodes events as ATIS records. Times must be integers ≥ 0 and non-decreasing wherever they
 * pass 2^23 µs; larger times are written with overflow markers (x 0, y 240). x, y < 256, y ≠ 240.
 */
export function encodeAtis(ev: Events): Uint8Array {
  const markers = countMarkers(ev);
  const out = new Uint8Array((ev.length + markers) * ATIS_EVENT_BYTES);
  let o = 0, base = 0;
  for (let i = 0; i < ev.length; i++) {
    const x = ev.x[i], y = ev.y[i], t = ev.t[i];
    while (t - base >= T_MAX) {
      out[o + 1] = ATIS_OVERFLOW_Y; o += 5; base += ATIS_OVERFLOW_STEP;
    }
    const r = t - base;
    if (x > 255 || y > 255 || y === ATIS_OVERFLOW_Y || !Number.isInteger(r) || r < 0) {
      throw new EdgespikeError(`encodeAtis: event ${i} (x ${x}, y ${y}, t ${t}) cannot be written `
        + '(needs x, y < 256, y ≠ 240, integer t ≥ 0, non-decreasing after 2^23 µs)');
    }
    out[o] = x; out[o + 1] = y;
    out[o + 2] = ((ev.p[i] ? 1 : 0) << 7) | (r >> 16);
    out[o + 3] = (r >> 8) & 0xff; out[o + 4] = r & 0xff;
    o += 5;
  }
  return out;
}

function countMarkers(ev: Events): number {
  let base = 0, n = 0;
  for (let i = 0; i < ev.length; i++) {
    while (ev.t[i] - base >= T_MAX) { base += ATIS_OVERFLOW_STEP; n++; }
  }
  return n;
}

/** Writes events to `path` as an ATIS `.bin` file, atomically. */
export function writeAtis(path: string, ev: Events): void {
  writeFileAtomic(path, encodeAtis(ev));
}
