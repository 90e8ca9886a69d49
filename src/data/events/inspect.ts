/**
 * inspect(path): sniffs an event file's format (magic bytes first, then the extension) and reports
 * its event count, sensor size, duration and event rate. Also a readEvents(path) that decodes any
 * single-stream format the same way.
 */
import { basename, extname } from 'node:path';
import { EdgespikeError } from '../../util/errors.js';
import { readAedat2 } from './aedat2.js';
import { readAedat3 } from './aedat3.js';
import { readAtis } from './atis.js';
import { guessSensor, type Events, type SensorSize } from './events.js';
import { formatError, latin1, readAt, withFile } from './_io.js';
import { readNpyEvents } from './npy.js';
import { openShd } from './shd.js';

/** Formats inspect() recognizes. */
export type EventFormat = 'atis-bin' | 'aedat2' | 'aedat3' | 'npy' | 'hdf5-shd';

/** What inspect() reports. */
export interface InspectReport {
  readonly format: EventFormat;
  /** Number of events (summed over samples for SHD). */
  readonly events: number;
  /** Number of samples (1 except for SHD files). */
  readonly samples: number;
  /** Width, height and polarities of the sensor, as the reader attaches it and `data frames` uses it. */
  readonly sensorSize: SensorSize;
  /** Width and height the events reach (largest x and y plus one), for a single recording. */
  readonly extent?: readonly [number, number];
  /** t_last − t_first in µs (summed over samples for SHD). */
  readonly durationUs: number;
  /** Events per second over durationUs (0 when the duration is 0). */
  readonly eventRate: number;
}

/** The format of a file from its first bytes and its name. */
export function sniffFormat(head: Uint8Array, path: string): EventFormat {
  const text = latin1(head.subarray(0, 16)), ext = extname(path).toLowerCase();
  if (head[0] === 0x89 && text.slice(1, 4) === 'HDF') return 'hdf5-shd';
  if (text.startsWith('\x93NUMPY')) return 'npy';
  if (text.startsWith('#!AER-DAT2')) return 'aedat2';
  if (text.startsWith('#!AER-DAT3')) return 'aedat3';
  if (ext === '.bin') return 'atis-bin';
  const want: Record<string, string> = { '.aedat': '"#!AER-DAT2.0" or "#!AER-DAT3.1"', '.npy': '"\\x93NUMPY"', '.h5': 'the HDF5 signature', '.hdf5': 'the HDF5 signature' };
  const seen = JSON.stringify(text.replace(/[^\x20-\x7e]/g, '.').slice(0, 12));
  throw formatError('event', path, 0, want[ext] ? `expected ${want[ext]} for a ${ext} file, found ${seen}`
    : `unknown format (expected .bin, .aedat, .npy or .h5 content), found ${seen}`);
}

/** Decodes a single-stream event file of any known format (not SHD containers). */
export function readEvents(path: string): Events {
  const head = withFile('event', path, (fd) => { const b = new Uint8Array(16); return b.subarray(0, readAt(fd, b, 16, 0)); });
  const format = sniffFormat(head, path);
  switch (format) {
    case 'atis-bin': return readAtis(path);
    case 'aedat2': return readAedat2(path);
    case 'aedat3': return readAedat3(path);
    case 'npy': return readNpyEvents(path);
    default: throw new EdgespikeError(`readEvents: "${basename(path)}" is an HDF5 container of many samples; use openShd`);
  }
}

function span(ev: Events): number {
  if (ev.length === 0) return 0;
  let lo = ev.t[0], hi = ev.t[0];
  for (let i = 1; i < ev.length; i++) { const t = ev.t[i]; if (t < lo) lo = t; else if (t > hi) hi = t; }
  return hi - lo;
}

function report(format: EventFormat, events: number, samples: number, sensorSize: SensorSize, durationUs: number): InspectReport {
  return { format, events, samples, sensorSize, durationUs, eventRate: durationUs > 0 ? (events * 1e6) / durationUs : 0 };
}

/** Sniffs, decodes and summarizes an event file. */
export async function inspect(path: string): Promise<InspectReport> {
  const head = withFile('event', path, (fd) => { const b = new Uint8Array(16); return b.subarray(0, readAt(fd, b, 16, 0)); });
  const format = sniffFormat(head, path);
  if (format === 'hdf5-shd') {
    const f = await openShd(path);
    try {
      let events = 0, duration = 0;
      for (let i = 0; i < f.length; i++) { const ev = f.events(i); events += ev.length; duration += span(ev); }
      return report(format, events, f.length, f.sensor, duration);
    } finally {
      f.close();
    }
  }
  const ev = readEvents(path);
  const g = guessSensor(ev);
  return { ...report(format, ev.length, 1, ev.sensor, span(ev)), extent: [g[0], g[1]] };
}
