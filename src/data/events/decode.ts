/**
 * Event files held in memory (dropped on a web page, fetched, or read whole): the format sniffed from
 * the first bytes and the name, then decoded by that format's codec. No file system: runs in a browser.
 */
import { EdgespikeError } from '../../util/errors.js';
import { decodeAedat2 } from './aedat2-codec.js';
import { decodeAedat3 } from './aedat3-codec.js';
import { decodeAtis } from './atis-codec.js';
import { decodeNpyEvents } from './npy-codec.js';
import type { Events } from './events.js';
import { baseName, formatError, latin1 } from './_bytes.js';

/** Formats inspect() recognizes. */
export type EventFormat = 'atis-bin' | 'aedat2' | 'aedat3' | 'npy' | 'hdf5-shd';

/** The extension of a path's last part in lower case ('.bin'), as node:path's extname gives it, or ''. */
function extension(path: string): string {
  const b = baseName(path), dot = b.lastIndexOf('.');
  return dot <= 0 ? '' : b.slice(dot).toLowerCase();
}

/** The format of a file from its first bytes and its name. */
export function sniffFormat(head: Uint8Array, path: string): EventFormat {
  const text = latin1(head.subarray(0, 16)), ext = extension(path);
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

/** Decodes a whole single-stream event file held in memory (`name`, its file name, picks .bin and names it in errors). */
export function decodeEvents(bytes: Uint8Array, name: string): Events {
  switch (sniffFormat(bytes, name)) {
    case 'atis-bin': return decodeAtis(bytes, name);
    case 'aedat2': return decodeAedat2(bytes, name);
    case 'aedat3': return decodeAedat3(bytes, name);
    case 'npy': return decodeNpyEvents(bytes, name);
    default: throw new EdgespikeError(`decodeEvents: "${baseName(name)}" is an HDF5 container of many samples; open it with openShd`);
  }
}
