/**
 * SHD / SSC HDF5 files: /spikes/times (variable-length rows, seconds), /spikes/units (variable-length
 * rows, channel 0 … 699) and /labels, read with h5wasm row by row. As tonic: t = trunc(time · 1e6) µs,
 * x = unit, y = 0, p = 1, sensor [700, 1, 1]. Any float (16/32/64-bit) or integer row type is accepted.
 */
import { EdgespikeError } from '../../util/errors.js';
import { encodeHdf5, type H5Scalar } from './_hdf5-writer.js';
import { allocEvents, type Events, type SensorSize } from './events.js';
import { half } from './_npy-header.js';
import { importOptional } from '../../util/optional.js';

type H5Lib = typeof import('h5wasm/node').default;
type H5Mod = Awaited<H5Lib['ready']>;
interface RowType { type: number; size: number; signed: boolean; littleEndian: boolean }

const LABEL = 'HDF5';
let lib: Promise<{ h5: H5Lib; mod: H5Mod }> | null = null;

/** Loads h5wasm once (the Node build, whose file system is the host's). */
async function loadH5(): Promise<{ h5: H5Lib; mod: H5Mod }> {
  lib ??= importOptional('h5wasm', 'HDF5', () => import('h5wasm/node')).then(async (m) => {
    const mod = await m.default.ready;
    mod.activate_throwing_error_handler();
    return { h5: m.default, mod };
  });
  return lib;
}

/** An open SHD/SSC file: labels and per-sample events, read on demand. */
export interface ShdFile {
  readonly path: string;
  /** Number of samples. */
  readonly length: number;
  /** Sensor size ([700, 1, 1] unless told otherwise). */
  readonly sensor: SensorSize;
  /** Label of sample i. */
  label(i: number): number;
  /** Events of sample i. */
  events(i: number): Events;
  /** Closes the file. */
  close(): void;
}

function h5Message(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const minors = [...text.matchAll(/minor: ([^\n]+)/g)].map((m) => m[1].trim());
  return (minors[minors.length - 1] ?? text.split('\n')[0]).slice(0, 120);
}

function fail(path: string, what: string): EdgespikeError {
  return new EdgespikeError(`${LABEL} file "${path.split('/').pop()}": ${what}`);
}

/** Opens an SHD/SSC file. Throws EdgespikeError for a missing, non-HDF5 or wrongly laid out file. */
export async function openShd(path: string, sensor: SensorSize = [700, 1, 1]): Promise<ShdFile> {
  const { h5, mod } = await loadH5();
  const { existsSync, openSync, readSync, closeSync } = await import('node:fs');
  if (!existsSync(path)) throw fail(path, 'cannot open (ENOENT)');
  const sig = new Uint8Array(8), fd = openSync(path, 'r');
  const got = readSync(fd, sig, 0, 8, 0);
  closeSync(fd);
  if (got < 8 || sig[0] !== 0x89 || String.fromCharCode(...sig.subarray(1, 4)) !== 'HDF') {
    throw fail(path, 'byte 0: expected the HDF5 signature "\\x89HDF\\r\\n\\x1a\\n"');
  }
  let file: InstanceType<H5Lib['File']>;
  try {
    file = new h5.File(path, 'r');
  } catch (e) {
    throw fail(path, `byte 0: cannot open as HDF5 (${h5Message(e)})`);
  }
  try {
    return shdView(file, mod, path, sensor);
  } catch (e) {
    file.close();
    throw e instanceof EdgespikeError ? e : fail(path, h5Message(e));
  }
}

function rowType(mod: H5Mod, fileId: bigint, path: string, name: string, n: number): RowType {
  const meta = mod.get_dataset_metadata(fileId, name) as { type: number; shape: number[] | null; vlen_type?: RowType };
  const base = meta.vlen_type;
  if (meta.type !== 9 || !base || (base.type !== 0 && base.type !== 1) || meta.shape?.length !== 1 || meta.shape[0] !== n) {
    throw fail(path, `dataset "${name}": expected ${n} variable-length rows of numbers`);
  }
  return base;
}

function shdView(file: InstanceType<H5Lib['File']>, mod: H5Mod, path: string, sensor: SensorSize): ShdFile {
  const labelsDs = file.get('labels');
  if (!labelsDs || !('shape' in labelsDs)) throw fail(path, 'dataset "/labels" not found');
  const raw = labelsDs.value as ArrayLike<number | bigint> | null;
  if (!raw || typeof raw !== 'object' || !('length' in raw)) throw fail(path, 'dataset "/labels": expected integers');
  const labels = Array.from(raw, Number);
  if (labels.some((l) => !Number.isInteger(l) || l < 0)) throw fail(path, 'dataset "/labels": expected integers ≥ 0');
  const id = file.file_id as bigint;
  for (const name of ['spikes/times', 'spikes/units']) {
    if (!file.get(name)) throw fail(path, `dataset "/${name}" not found`);
  }
  const tType = rowType(mod, id, path, 'spikes/times', labels.length);
  const uType = rowType(mod, id, path, 'spikes/units', labels.length);
  return {
    path, length: labels.length, sensor,
    label: (i) => labels[i],
    events: (i) => rowEvents(mod, id, path, i, tType, uType, sensor),
    close: () => { file.close(); },
  };
}

/** Reads row i of a variable-length dataset as numbers. */
function readRow(mod: H5Mod, id: bigint, name: string, i: number, rt: RowType): Float64Array {
  const ptr = mod._malloc(8);
  try {
    mod.get_dataset_data(id, name, [1n], [BigInt(i)], [1n], BigInt(ptr));
    const heap = new DataView(mod.HEAPU8.buffer);
    const len = heap.getUint32(ptr, true), at = heap.getUint32(ptr + 4, true);
    if (len * rt.size > mod.HEAPU8.length - at) throw new EdgespikeError(`row ${i} of "${name}" is corrupt`);
    const out = new Float64Array(len), le = rt.littleEndian;
    const get = scalarGetter(rt);
    for (let k = 0; k < len; k++) out[k] = get(heap, at + k * rt.size, le);
    mod.reclaim_vlen_memory_count(id, name, '', BigInt(ptr), [1n]);
    return out;
  } finally {
    mod._free(ptr);
  }
}

function scalarGetter(rt: RowType): (dv: DataView, o: number, le: boolean) => number {
  if (rt.type === 1) {
    if (rt.size === 2) return (dv, o, le) => half(dv.getUint16(o, le));
    return rt.size === 4 ? (dv, o, le) => dv.getFloat32(o, le) : (dv, o, le) => dv.getFloat64(o, le);
  }
  const s = rt.signed;
  if (rt.size === 1) return s ? (dv, o) => dv.getInt8(o) : (dv, o) => dv.getUint8(o);
  if (rt.size === 2) return s ? (dv, o, le) => dv.getInt16(o, le) : (dv, o, le) => dv.getUint16(o, le);
  if (rt.size === 4) return s ? (dv, o, le) => dv.getInt32(o, le) : (dv, o, le) => dv.getUint32(o, le);
  return (dv, o, le) => Number(s ? dv.getBigInt64(o, le) : dv.getBigUint64(o, le));
}

function rowEvents(mod: H5Mod, id: bigint, path: string, i: number, tt: RowType, ut: RowType, sensor: SensorSize): Events {
  let times: Float64Array, units: Float64Array;
  try {
    times = readRow(mod, id, 'spikes/times', i, tt);
    units = readRow(mod, id, 'spikes/units', i, ut);
  } catch (e) {
    throw fail(path, `sample ${i}: ${e instanceof EdgespikeError ? e.message : h5Message(e)}`);
  }
  if (times.length !== units.length) throw fail(path, `sample ${i}: ${times.length} times but ${units.length} units`);
  const ev = allocEvents(times.length, sensor);
  for (let k = 0; k < times.length; k++) {
    const u = units[k], t = Math.trunc(times[k] * 1e6);
    if (!(Number.isInteger(u) && u >= 0 && u < sensor[0]) || !Number.isFinite(t)) {
      throw fail(path, `sample ${i}, spike ${k}: expected unit 0 … ${sensor[0] - 1} and a finite time, found ${u}, ${times[k]}`);
    }
    ev.x[k] = u; ev.t[k] = t; ev.p[k] = 1;
  }
  return ev;
}

/** One SHD sample for the writer: spike times in seconds and channel ids. */
export interface ShdSample {
  readonly times: ArrayLike<number>;
  readonly units: ArrayLike<number>;
}

/** Encodes samples and labels as an SHD-layout HDF5 file (times as `timeType`, units uint16, labels uint16). */
export function encodeShd(samples: readonly ShdSample[], labels: ArrayLike<number>, timeType: H5Scalar = 'f32'): Uint8Array {
  if (samples.length !== labels.length) throw new EdgespikeError(`encodeShd: ${samples.length} samples but ${labels.length} labels`);
  return encodeHdf5({
    group: {
      spikes: { group: { times: { type: timeType, rows: samples.map((s) => s.times) }, units: { type: 'u16', rows: samples.map((s) => s.units) } } },
      labels: { type: 'u16', values: labels },
    },
  });
}

/** Writes an SHD-layout HDF5 file atomically. */
export async function writeShd(path: string, samples: readonly ShdSample[], labels: ArrayLike<number>, timeType: H5Scalar = 'f32'): Promise<void> {
  const { writeFileAtomic } = await import('../../util/atomic.js');
  writeFileAtomic(path, encodeShd(samples, labels, timeType));
}

/** Opens SHD bytes held in memory (written to a temporary file that is removed on close). */
export async function openShdBytes(bytes: Uint8Array, name = 'bytes.h5', sensor: SensorSize = [700, 1, 1]): Promise<ShdFile> {
  const { tmpdir } = await import('node:os');
  const { writeFileSync, rmSync } = await import('node:fs');
  const tmp = `${tmpdir()}/edgespike-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}-${name.split('/').pop()}`;
  writeFileSync(tmp, bytes);
  try {
    const f = await openShd(tmp, sensor);
    return { ...f, close: () => { f.close(); rmSync(tmp, { force: true }); } };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e instanceof EdgespikeError ? new EdgespikeError(e.message.replace(tmp.split('/').pop()!, name)) : e;
  }
}
