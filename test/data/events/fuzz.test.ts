import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAedat2, encodeAedat2, readAedat2 } from '../../../src/data/events/aedat2.js';
import { decodeAedat3, encodeAedat3, readAedat3 } from '../../../src/data/events/aedat3.js';
import { decodeAtis, encodeAtis, readAtis } from '../../../src/data/events/atis.js';
import { makeEvents, type Events } from '../../../src/data/events/events.js';
import { formatGestureLabels, parseGestureLabels } from '../../../src/data/events/gesture-labels.js';
import { readEvents } from '../../../src/data/events/inspect.js';
import { decodeNpyEvents, encodeNpy, encodeNpyEvents, readNpyEvents } from '../../../src/data/events/npy.js';
import { createRng, type Rng } from '../../../src/data/events/rng.js';
import { encodeShd, openShdBytes } from '../../../src/data/events/shd.js';
import { EdgespikeError } from '../../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'es-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const rng = createRng(20240601);
const n = 40;
const ev = makeEvents({ x: Array.from({ length: n }, (_, i) => (i * 7) % 34), y: Array.from({ length: n }, (_, i) => (i * 3) % 34),
  t: Array.from({ length: n }, (_, i) => i * 1000 + (i % 3)), p: Array.from({ length: n }, (_, i) => i & 1) }, [34, 34, 2]);

/** The mutations: bit flips, truncation, garbage header, random bytes, splices, large numbers in fields. */
const MUTATORS: Array<[string, (b: Uint8Array, r: Rng) => Uint8Array]> = [
  ['flip', (b, r) => { const c = b.slice(); for (let k = 1 + r.int(8); k > 0 && c.length; k--) c[r.int(c.length)] ^= 1 << r.int(8); return c; }],
  ['truncate', (b, r) => b.slice(0, r.int(b.length + 1))],
  ['header', (b, r) => { const c = b.slice(); for (let i = 0, k = 1 + r.int(64); i < k && i < c.length; i++) c[i] = r.int(256); return c; }],
  ['random', (b, r) => { const c = new Uint8Array(r.int(2000)); for (let i = 0; i < c.length; i++) c[i] = r.int(256); if (r.next() < 0.5) c.set(b.subarray(0, Math.min(c.length, 60))); return c; }],
  ['splice', (b, r) => { const at = r.int(b.length + 1), len = r.int(64), c = new Uint8Array(b.length + len); c.set(b.subarray(0, at)); for (let i = 0; i < len; i++) c[at + i] = r.int(256); c.set(b.subarray(at), at + len); return c; }],
  ['bigfield', (b, r) => { const c = b.slice(); const at = r.int(Math.max(1, c.length - 4)) & ~3; [0xff, 0xff, 0xff, r.int(256)].forEach((v, i) => { if (at + i < c.length) c[at + i] = v; }); return c; }],
];

/** A decoded result is valid when its arrays agree and what was allocated is bounded by the input size. */
function checkEvents(e: Events, bytes: number, record: number): void {
  assert.ok([e.x.length, e.y.length, e.t.length, e.p.length].every((l) => l === e.length));
  assert.ok(e.length <= bytes / record, `${e.length} events from ${bytes} bytes`);
  for (let i = 0; i < e.length; i++) assert.ok(Number.isFinite(e.t[i]) && e.p[i] <= 1);
}

interface Format { name: string; valid: Uint8Array; record: number; decode(b: Uint8Array): Events; read(path: string): Events }
const FORMATS: Format[] = [
  { name: 'atis', valid: encodeAtis(ev), record: 5, decode: (b) => decodeAtis(b, 'f.bin'), read: (p) => readAtis(p) },
  { name: 'aedat2', valid: encodeAedat2(ev), record: 8, decode: (b) => decodeAedat2(b, 'f.aedat'), read: (p) => readAedat2(p) },
  { name: 'aedat3', valid: encodeAedat3(ev, 16), record: 8, decode: (b) => decodeAedat3(b, 'f.aedat'), read: (p) => readAedat3(p) },
  { name: 'npy', valid: encodeNpyEvents(ev), record: 1, decode: (b) => decodeNpyEvents(b, 'f.npy'), read: (p) => readNpyEvents(p) },
  { name: 'npy2d', valid: encodeNpy(Array.from({ length: 4 * n }, (_, i) => i % 30), [n, 4], '<i4'), record: 1,
    decode: (b) => decodeNpyEvents(b, 'f.npy'), read: (p) => readNpyEvents(p) },
];

function outcome(run: () => Events, bytes: number, record: number, what: string): Events | 'error' {
  try {
    const e = run();
    checkEvents(e, bytes, record);
    return e;
  } catch (e) {
    if (e instanceof EdgespikeError) return 'error';
    throw new Error(`${what}: ${String(e)}`);
  }
}

describe('fuzz: mutated files end in EdgespikeError or a valid result', () => {
  test('1,500 mutations of ATIS, AEDAT 2.0/3.1 and .npy (in memory and streamed from files agree)', () => {
    let cases = 0, errors = 0;
    for (const f of FORMATS) {
      for (let k = 0; k < 300; k++, cases++) {
        const [mname, mutate] = MUTATORS[k % MUTATORS.length];
        const bytes = mutate(f.valid, rng), what = `${f.name} case ${k} (${mname}, ${bytes.length} bytes)`;
        const a = outcome(() => f.decode(bytes), bytes.length, f.record, what);
        if (a === 'error') errors++;
        if (k % 3 !== 0) continue;
        const path = join(dir, `c${f.record}${f.name}`);
        writeFileSync(path, bytes);
        const b = outcome(() => f.read(path), bytes.length, f.record, `${what} from file`);
        if (a === 'error' || b === 'error') assert.equal(a, b, what);
        else assert.deepEqual([b.x, b.y, b.t, b.p], [a.x, a.y, a.t, a.p], what);
        const c = outcome(() => readEvents(path), bytes.length, 1, `${what} sniffed`);
        assert.ok(c === 'error' || c.length >= 0);
      }
    }
    assert.equal(cases, 1500);
    assert.ok(errors > 300 && errors < cases, `${errors} errors`); // both outcomes occur
  });

  test('300 mutations of gesture label CSVs', () => {
    const valid = new TextEncoder().encode(formatGestureLabels([{ label: 0, start: 10, end: 20 }, { label: 3, start: 30, end: 90 }]));
    for (let k = 0; k < 300; k++) {
      const bytes = MUTATORS[k % MUTATORS.length][1](valid, rng);
      try {
        const spans = parseGestureLabels(new TextDecoder('latin1').decode(bytes), 'l.csv');
        for (const s of spans) assert.ok(Number.isInteger(s.label) && s.label >= 0 && s.end >= s.start);
      } catch (e) {
        if (!(e instanceof EdgespikeError)) throw new Error(`labels case ${k}: ${String(e)}`);
      }
    }
  });

  test('120 mutations of SHD HDF5 files', async () => {
    const valid = encodeShd([{ times: [0.1, 0.2], units: [1, 2] }, { times: [0.3], units: [699] }], [3, 4]);
    let ok = 0;
    for (let k = 0; k < 120; k++) {
      const bytes = MUTATORS[k % MUTATORS.length][1](valid, rng);
      try {
        const f = await openShdBytes(bytes, 'f.h5');
        try {
          for (let i = 0; i < f.length; i++) checkEvents(f.events(i), bytes.length, 1);
          ok++;
        } finally {
          f.close();
        }
      } catch (e) {
        if (!(e instanceof EdgespikeError)) throw new Error(`hdf5 case ${k}: ${String(e).slice(0, 300)}`);
      }
    }
    assert.ok(ok > 0);
  });
});
