/**
 * RIFF/WAVE reader and writer. Integer PCM (8/16/24/32-bit), IEEE float (32/64-bit) and
 * WAVE_FORMAT_EXTENSIBLE with either of those sub-formats; any channel count. Integer samples are
 * scaled to [-1, 1) as libsndfile does (8-bit is unsigned, centred on 128; n-bit signed ÷ 2^(n−1)).
 */
import { readFileSync } from 'node:fs';
import { EdgespikeError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';

/** Decoded audio: one Float32Array per channel, all of equal length. */
export interface WavAudio {
  /** Sampling rate in Hz. */
  readonly sampleRate: number;
  /** Channel data, `channels[c][i]` = sample i of channel c. */
  readonly channels: Float32Array[];
  /** Container size of one sample in bits (8, 16, 24, 32 or 64). */
  readonly bitsPerSample: number;
  /** Sample encoding. */
  readonly encoding: 'pcm' | 'float';
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of the KSDATAFORMAT_SUBTYPE GUIDs (the first two bytes hold the format code). */
const SUBTYPE_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

interface FmtChunk { format: number; channels: number; sampleRate: number; blockAlign: number; bits: number }

function fail(file: string, offset: number, what: string): never {
  throw new EdgespikeError(`wav: file '${file}' at byte ${offset}: ${what}`);
}

function fourCc(b: Uint8Array, off: number): string {
  return String.fromCharCode(b[off], b[off + 1], b[off + 2], b[off + 3]);
}

function parseFmt(view: DataView, bytes: Uint8Array, off: number, size: number, file: string): FmtChunk {
  if (size < 16) fail(file, off, `expected a fmt chunk of at least 16 bytes, got ${size}`);
  let format = view.getUint16(off, true);
  const fmt = {
    format, channels: view.getUint16(off + 2, true), sampleRate: view.getUint32(off + 4, true),
    blockAlign: view.getUint16(off + 12, true), bits: view.getUint16(off + 14, true),
  };
  if (format === FORMAT_EXTENSIBLE) {
    if (size < 40) fail(file, off, `expected a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk, got ${size} bytes`);
    format = view.getUint16(off + 24, true);
    const tailOk = SUBTYPE_TAIL.every((v, k) => bytes[off + 26 + k] === v);
    if (!tailOk) fail(file, off + 24, 'expected a KSDATAFORMAT_SUBTYPE GUID in the extensible fmt chunk');
    fmt.format = format;
  }
  const okPcm = format === FORMAT_PCM && [8, 16, 24, 32].includes(fmt.bits);
  const okFloat = format === FORMAT_FLOAT && (fmt.bits === 32 || fmt.bits === 64);
  if (!okPcm && !okFloat) {
    fail(file, off, `unsupported format code ${format} with ${fmt.bits} bits per sample ` +
      '(expected PCM 8/16/24/32-bit or IEEE float 32/64-bit)');
  }
  if (fmt.channels < 1) fail(file, off + 2, 'expected at least 1 channel, got 0');
  if (fmt.sampleRate < 1) fail(file, off + 4, 'expected a positive sample rate, got 0');
  if (fmt.blockAlign !== fmt.channels * (fmt.bits / 8)) {
    fail(file, off + 12, `expected block align ${fmt.channels * (fmt.bits / 8)} ` +
      `(${fmt.channels} channels × ${fmt.bits / 8} bytes), got ${fmt.blockAlign}`);
  }
  return fmt;
}

/** Reads sample k of the data chunk (byte offset `p`) as a float in [-1, 1). */
function sampleReader(view: DataView, fmt: FmtChunk): (p: number) => number {
  if (fmt.format === FORMAT_FLOAT) {
    return fmt.bits === 32 ? (p) => view.getFloat32(p, true) : (p) => view.getFloat64(p, true);
  }
  switch (fmt.bits) {
    case 8: return (p) => (view.getUint8(p) - 128) / 128;
    case 16: return (p) => view.getInt16(p, true) / 32768;
    case 24: return (p) => ((view.getUint16(p, true) | (view.getInt8(p + 2) << 16))) / 8388608;
    default: return (p) => view.getInt32(p, true) / 2147483648;
  }
}

function decodeData(view: DataView, fmt: FmtChunk, off: number, size: number): Float32Array[] {
  const frames = Math.floor(size / fmt.blockAlign);
  const step = fmt.bits / 8;
  const read = sampleReader(view, fmt);
  const channels = Array.from({ length: fmt.channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    const base = off + i * fmt.blockAlign;
    for (let c = 0; c < fmt.channels; c++) channels[c][i] = read(base + c * step);
  }
  return channels;
}

/**
 * Parses a WAV file held in memory. `file` names it in error messages.
 * Unknown chunks are skipped (with their odd-size pad byte); a wrong RIFF size field is tolerated.
 */
export function decodeWav(bytes: Uint8Array, file = '<memory>'): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12) fail(file, 0, `expected a 12-byte RIFF header, file has ${bytes.length} bytes`);
  if (fourCc(bytes, 0) !== 'RIFF') fail(file, 0, `expected 'RIFF', got ${JSON.stringify(fourCc(bytes, 0))}`);
  if (fourCc(bytes, 8) !== 'WAVE') fail(file, 8, `expected 'WAVE', got ${JSON.stringify(fourCc(bytes, 8))}`);
  let fmt: FmtChunk | undefined;
  let off = 12;
  while (off + 8 <= bytes.length) {
    const id = fourCc(bytes, off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      if (body + size > bytes.length) fail(file, off, `fmt chunk truncated: declares ${size} bytes, ${bytes.length - body} left`);
      fmt = parseFmt(view, bytes, body, size, file);
    } else if (id === 'data') {
      if (!fmt) fail(file, off, "expected a 'fmt ' chunk before the 'data' chunk");
      if (body + size > bytes.length) {
        fail(file, off, `data chunk truncated: declares ${size} bytes, ${bytes.length - body} left`);
      }
      return {
        sampleRate: fmt.sampleRate, channels: decodeData(view, fmt, body, size), bitsPerSample: fmt.bits,
        encoding: fmt.format === FORMAT_FLOAT ? 'float' : 'pcm',
      };
    }
    off = body + size + (size & 1);
  }
  if (!fmt) fail(file, 12, "no 'fmt ' chunk found");
  return fail(file, bytes.length, "no 'data' chunk found");
}

/** Reads and parses the WAV file at `path`. */
export function readWav(path: string): WavAudio {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EdgespikeError(`wav: cannot read file '${path}': ${(e as Error).message}`);
  }
  return decodeWav(bytes, path);
}

/** Mixes channels down to mono by averaging them (librosa's `to_mono`). One channel is returned as is. */
export function toMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const ch of channels) s += ch[i];
    out[i] = s / channels.length;
  }
  return out;
}

/** Options for {@link encodeWav}. */
export interface WavEncodeOptions {
  /** 'pcm' (default) or 'float'. */
  readonly encoding?: 'pcm' | 'float';
  /** Bits per sample: PCM 8/16/24/32 (default 16), float 32/64 (default 32). */
  readonly bits?: number;
  /** Write WAVE_FORMAT_EXTENSIBLE instead of the plain format code (default false). */
  readonly extensible?: boolean;
}

function writeSample(view: DataView, p: number, v: number, enc: 'pcm' | 'float', bits: number): void {
  if (enc === 'float') {
    if (bits === 32) view.setFloat32(p, v, true); else view.setFloat64(p, v, true);
    return;
  }
  const full = 2 ** (bits - 1);
  const q = Math.max(-full, Math.min(full - 1, Math.round(v * full)));
  if (bits === 8) view.setUint8(p, q + 128);
  else if (bits === 16) view.setInt16(p, q, true);
  else if (bits === 24) { view.setUint16(p, q & 0xffff, true); view.setInt8(p + 2, q >> 16); }
  else view.setInt32(p, q, true);
}

/** Encodes channels (equal lengths, floats in [-1, 1]) as a WAV file; integers round to nearest and clip. */
export function encodeWav(channels: readonly Float32Array[], sampleRate: number, opts: WavEncodeOptions = {}): Uint8Array {
  const enc = opts.encoding ?? 'pcm';
  const bits = opts.bits ?? (enc === 'pcm' ? 16 : 32);
  const valid = enc === 'pcm' ? [8, 16, 24, 32].includes(bits) : bits === 32 || bits === 64;
  if (!valid) throw new EdgespikeError(`encodeWav: bits must suit encoding '${enc}', got ${bits}`);
  if (channels.length < 1) throw new EdgespikeError('encodeWav: expected at least 1 channel, got 0');
  const lengths = channels.map((c) => c.length);
  if (lengths.some((l) => l !== lengths[0])) {
    throw new EdgespikeError(`encodeWav: channels must have equal lengths, got [${lengths.join(', ')}]`);
  }
  const nc = channels.length, n = channels[0].length, bps = bits / 8, fmtSize = opts.extensible ? 40 : 16;
  const dataSize = n * nc * bps;
  const total = 12 + 8 + fmtSize + 8 + dataSize + (dataSize & 1);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const tag = (off: number, s: string) => { for (let k = 0; k < 4; k++) bytes[off + k] = s.charCodeAt(k); };
  const code = enc === 'pcm' ? FORMAT_PCM : FORMAT_FLOAT;
  tag(0, 'RIFF'); view.setUint32(4, total - 8, true); tag(8, 'WAVE');
  tag(12, 'fmt '); view.setUint32(16, fmtSize, true);
  view.setUint16(20, opts.extensible ? FORMAT_EXTENSIBLE : code, true); view.setUint16(22, nc, true);
  view.setUint32(24, sampleRate, true); view.setUint32(28, sampleRate * nc * bps, true);
  view.setUint16(32, nc * bps, true); view.setUint16(34, bits, true);
  if (opts.extensible) {
    view.setUint16(36, 22, true); view.setUint16(38, bits, true); view.setUint32(40, 0, true);
    view.setUint16(44, code, true); SUBTYPE_TAIL.forEach((v, k) => { bytes[46 + k] = v; });
  }
  const dataOff = 20 + fmtSize;
  tag(dataOff, 'data'); view.setUint32(dataOff + 4, dataSize, true);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nc; c++) writeSample(view, dataOff + 8 + (i * nc + c) * bps, channels[c][i], enc, bits);
  }
  return bytes;
}

/** Writes a WAV file atomically (see {@link encodeWav} for the options). */
export function writeWav(path: string, channels: readonly Float32Array[], sampleRate: number, opts: WavEncodeOptions = {}): void {
  writeFileAtomic(path, encodeWav(channels, sampleRate, opts));
}
