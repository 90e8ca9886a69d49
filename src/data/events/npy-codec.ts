/**
 * NumPy `.npy` event files: magic "\x93NUMPY", version, a header dict {'descr', 'fortran_order',
 * 'shape'}, then the raw array. Structured arrays as tonic saves them (fields x, y, t|ts, p in any
 * order, e.g. [('x','<i2'),('y','<i2'),('t','<i8'),('p','|b1')]) and plain 2-d numeric arrays whose
 * columns are named by a string such as "xytp" or tonic's gesture "xypt" (t in ms: timeScale 1000).
 * This module decodes and encodes bytes in memory (no file system: it runs in a browser too);
 * npy.ts reads and writes files.
 */
import { EdgespikeError } from '../../util/errors.js';
import { allocEvents, guessSensor, type Events, type SensorSize } from './events.js';
import { formatError, latin1 } from './_bytes.js';
import { fieldReader, layoutFields, parseNpyHeader, typeSize, type NpyHeader } from './_npy-header.js';

export type { NpyField, NpyHeader } from './_npy-header.js';
export { parseNpyHeader } from './_npy-header.js';

export const LABEL = 'NPY';

/** Options for turning an .npy array into events. */
export interface NpyEventOptions {
  /** Column names of a plain 2-d array, one letter per column among x, y, t, p, '_' to skip (default "xytp"). */
  readonly columns?: string;
  /** Multiplier bringing t to µs (default 1; tonic's gesture .npy files hold ms: 1000). */
  readonly timeScale?: number;
  /** Sensor size; guessed from the data when absent. */
  readonly sensor?: SensorSize;
}

/** Byte offsets of x, y, t, p within a record (−1: absent) and their readers. */
export function layout(h: NpyHeader, name: string, opts: NpyEventOptions): Array<[number, (dv: DataView, o: number) => number] | null> {
  const want = ['x', 'y', 't', 'p'];
  if (h.fields) {
    return want.map((w) => {
      const f = h.fields!.find((g) => g.name === w || (w === 't' && g.name === 'ts'));
      return f ? [f.offset, fieldReader(f.type)] : null;
    });
  }
  const cols = opts.columns ?? 'xytp';
  if (h.shape.length !== 2 || h.shape[1] !== cols.length) {
    throw formatError(LABEL, name, 0, `expected a structured array or shape (N, ${cols.length}) for columns "${cols}", `
      + `found shape (${h.shape.join(', ')}) of ${h.descr}`);
  }
  const read = fieldReader(h.descr);
  return want.map((w) => (cols.includes(w) ? [cols.indexOf(w) * h.itemSize, read] : null));
}

/** Decodes records [0, n) of `body` into `out` from event index k; validates coordinates. */
export function decodeRecords(body: Uint8Array, n: number, h: NpyHeader, cols: ReturnType<typeof layout>, scale: number,
  out: Events, k: number, name: string, fileOffset: number): number {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const [cx, cy, ct, cp] = cols;
  for (let r = 0; r < n; r++, k++) {
    const o = r * h.recordSize;
    const x = cx ? cx[1](dv, o + cx[0]) : 0, y = cy ? cy[1](dv, o + cy[0]) : 0;
    const t = ct ? ct[1](dv, o + ct[0]) * scale : 0, p = cp ? cp[1](dv, o + cp[0]) : 1;
    if (!(x >= 0 && x < 65536 && y >= 0 && y < 65536 && Number.isInteger(x) && Number.isInteger(y) && Number.isFinite(t))) {
      throw formatError(LABEL, name, fileOffset + o, `event ${k}: expected integer 0 ≤ x, y < 65536 and finite t, found x ${x}, y ${y}, t ${t}`);
    }
    out.x[k] = x; out.y[k] = y; out.t[k] = t; out.p[k] = p > 0 ? 1 : 0;
  }
  return k;
}

/** Decodes an in-memory .npy file into events. */
export function decodeNpyEvents(bytes: Uint8Array, name = 'bytes', opts: NpyEventOptions = {}): Events {
  const h = parseNpyHeader(bytes, name, bytes.length);
  const cols = layout(h, name, opts);
  const ev = allocEvents(h.records, opts.sensor ?? [0, 0, 2]);
  decodeRecords(bytes.subarray(h.dataStart), h.records, h, cols, opts.timeScale ?? 1, ev, 0, name, h.dataStart);
  if (!opts.sensor) ev.sensor = guessSensor(ev);
  return ev;
}

/** tonic's own event record: x, y int16, t int64, p bool. */
export const TONIC_FIELDS: ReadonlyArray<readonly [string, string]> = [['x', '<i2'], ['y', '<i2'], ['t', '<i8'], ['p', '|b1']];

function headerBytes(descr: string, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let text = `{'descr': ${descr}, 'fortran_order': False, 'shape': (${dims}), }`;
  const total = Math.ceil((10 + text.length + 1) / 64) * 64;
  text = text.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** Encodes events as a structured .npy array with the given fields (names among x, y, t, p). */
export function encodeNpyEvents(ev: Events, spec: ReadonlyArray<readonly [string, string]> = TONIC_FIELDS): Uint8Array {
  const descr = `[${spec.map(([n, d]) => `('${n}', '${d}')`).join(', ')}]`;
  const head = headerBytes(descr, [ev.length]);
  const { fields, size } = layoutFields(checkSpec(spec));
  const out = new Uint8Array(head.length + ev.length * size);
  out.set(head);
  const dv = new DataView(out.buffer, head.length);
  const cols = { x: ev.x, y: ev.y, t: ev.t, ts: ev.t, p: ev.p } as Record<string, ArrayLike<number>>;
  for (const f of fields) {
    const src = cols[f.name];
    if (!src) throw new EdgespikeError(`encodeNpyEvents: field "${f.name}" must be one of x, y, t, p`);
    const write = fieldWriter(f.type);
    for (let i = 0; i < ev.length; i++) write(dv, i * size + f.offset, src[i]);
  }
  return out;
}

/** Encodes a plain numeric array (row-major) of the given shape as .npy ('<f4', '<f8', '<i4', '<i8'...). */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[], descr = '<f8'): Uint8Array {
  const head = headerBytes(`'${descr}'`, shape);
  const size = typeSize(descr);
  const out = new Uint8Array(head.length + data.length * size);
  out.set(head);
  const dv = new DataView(out.buffer, head.length), write = fieldWriter(descr);
  for (let i = 0; i < data.length; i++) write(dv, i * size, data[i]);
  return out;
}

function fieldWriter(type: string): (dv: DataView, o: number, v: number) => void {
  const le = type[0] !== '>', bare = type.replace(/^[<>|=]/, '');
  const key = bare === '?' ? 'b1' : bare;
  const table: Record<string, (dv: DataView, o: number, v: number) => void> = {
    b1: (dv, o, v) => dv.setUint8(o, v ? 1 : 0), i1: (dv, o, v) => dv.setInt8(o, v), u1: (dv, o, v) => dv.setUint8(o, v),
    i2: (dv, o, v) => dv.setInt16(o, v, le), u2: (dv, o, v) => dv.setUint16(o, v, le),
    i4: (dv, o, v) => dv.setInt32(o, v, le), u4: (dv, o, v) => dv.setUint32(o, v, le),
    i8: (dv, o, v) => dv.setBigInt64(o, BigInt(Math.trunc(v)), le), u8: (dv, o, v) => dv.setBigUint64(o, BigInt(Math.trunc(v)), le),
    f4: (dv, o, v) => dv.setFloat32(o, v, le), f8: (dv, o, v) => dv.setFloat64(o, v, le),
  };
  const w = table[key];
  if (!w) throw new EdgespikeError(`encodeNpy: unsupported dtype "${type}"`);
  return w;
}

function checkSpec(list: ReadonlyArray<readonly [string, string]>): ReadonlyArray<readonly [string, string]> {
  for (const [n, t] of list) if (!typeSize(t)) throw new EdgespikeError(`encodeNpyEvents: field "${n}" has unsupported dtype "${t}"`);
  return list;
}

/** The header text of an .npy file (for inspection and messages). */
export function npyHeaderText(bytes: Uint8Array): string {
  return latin1(bytes.subarray(10, Math.min(bytes.length, 10 + (bytes[8] | (bytes[9] << 8)))));
}
