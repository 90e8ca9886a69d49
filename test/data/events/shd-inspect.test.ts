import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAedat2 } from '../../../src/data/events/aedat2.js';
import { encodeAedat3 } from '../../../src/data/events/aedat3.js';
import { encodeAtis } from '../../../src/data/events/atis.js';
import { makeEvents } from '../../../src/data/events/events.js';
import { inspect, readEvents } from '../../../src/data/events/inspect.js';
import { encodeNpyEvents } from '../../../src/data/events/npy.js';
import { encodeShd, openShd, openShdBytes, writeShd } from '../../../src/data/events/shd.js';
import { EdgespikeError } from '../../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'es-shd-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const samples = [{ times: [0.25, 0.5, 0.75], units: [0, 350, 699] }, { times: [], units: [] }, { times: [1.0], units: [12] }];

describe('SHD HDF5', () => {
  test('variable-length spikes/times and spikes/units read back as tonic does (t = trunc(s · 1e6))', async () => {
    const path = join(dir, 'shd_train.h5');
    await writeShd(path, samples, [19, 0, 7]);
    const f = await openShd(path);
    assert.equal(f.length, 3);
    assert.deepEqual([f.label(0), f.label(1), f.label(2)], [19, 0, 7]);
    const e0 = f.events(0);
    assert.deepEqual(Array.from(e0.t), [250000, 500000, 750000]);
    assert.deepEqual(Array.from(e0.x), [0, 350, 699]);
    assert.deepEqual(Array.from(e0.p), [1, 1, 1]);
    assert.equal(f.events(1).length, 0);
    assert.deepEqual(e0.sensor, [700, 1, 1]);
    f.close();
  });

  test('half-precision times: 0.1 is stored as 0.0999755859375 → 99975 µs', async () => {
    const f = await openShdBytes(encodeShd([{ times: [0.1], units: [1] }], [0], 'f16'));
    assert.deepEqual(Array.from(f.events(0).t), [99975]);
    f.close();
  });

  test('errors: not HDF5, missing file, unit outside the sensor, mismatched rows', async () => {
    await assert.rejects(openShdBytes(new Uint8Array(64), 'z.h5'), /HDF5 file "z.h5": byte 0: expected the HDF5 signature/);
    await assert.rejects(openShd(join(dir, 'none.h5')), /cannot open \(ENOENT\)/);
    const f = await openShdBytes(encodeShd([{ times: [0.1], units: [700] }], [0]), 'u.h5');
    assert.throws(() => f.events(0), /sample 0, spike 0: expected unit 0 … 699/);
    f.close();
    const g = await openShdBytes(encodeShd([{ times: [0.1, 0.2], units: [1] }], [0]), 'm.h5');
    assert.throws(() => g.events(0), /sample 0: 2 times but 1 units/);
    g.close();
    await assert.rejects(openShdBytes(encodeShd([], []).subarray(0, 200), 't.h5'), EdgespikeError);
  });
});

describe('inspect', () => {
  const ev = makeEvents({ x: [0, 9, 20], y: [1, 2, 30], t: [1000, 1500, 501000], p: [0, 1, 1] }, [128, 128, 2]);

  test('sniffs every format and reports events, sensor, duration and rate', async () => {
    const files: Array<[string, Uint8Array, string]> = [
      ['a.bin', encodeAtis(ev), 'atis-bin'], ['b.aedat', encodeAedat2(ev), 'aedat2'], ['c.aedat', encodeAedat3(ev), 'aedat3'],
      ['d.npy', encodeNpyEvents(ev), 'npy'], ['e.dat', encodeAedat2(ev), 'aedat2'],
    ];
    for (const [name, bytes, format] of files) {
      writeFileSync(join(dir, name), bytes);
      const r = await inspect(join(dir, name));
      assert.equal(r.format, format, name);
      assert.equal(r.events, 3);
      assert.equal(r.durationUs, 500000);
      assert.equal(r.eventRate, 6); // 3 events in 0.5 s
    }
    // an ATIS file is N-MNIST's 34 × 34 sensor, as its reader (and so data frames) sees it; the
    // events' own extent is reported beside it
    const a = await inspect(join(dir, 'a.bin'));
    assert.deepEqual([a.sensorSize, a.extent], [[34, 34, 2], [21, 31]]);
    assert.deepEqual(readEvents(join(dir, 'a.bin')).sensor, a.sensorSize);
    // one from a larger sensor grows it to hold every event
    writeFileSync(join(dir, 'big.bin'), encodeAtis(makeEvents({ x: [0, 99, 5], y: [1, 2, 30], t: [1000, 1500, 501000], p: [0, 1, 1] }, [128, 128, 2])));
    assert.deepEqual((await inspect(join(dir, 'big.bin'))).sensorSize, [100, 34, 2]);
    assert.deepEqual(readEvents(join(dir, 'big.bin')).sensor, [100, 34, 2]);
    assert.deepEqual((await inspect(join(dir, 'b.aedat'))).sensorSize, [128, 128, 2]);
    writeFileSync(join(dir, 's.h5'), encodeShd(samples, [1, 2, 3]));
    const r = await inspect(join(dir, 's.h5'));
    // 4 spikes; durations 0.5 s + 0 + 0 → rate 8 per second
    assert.deepEqual([r.format, r.events, r.samples, r.durationUs, r.eventRate], ['hdf5-shd', 4, 3, 500000, 8]);
  });

  test('a mislabelled or unknown file is refused at byte 0', async () => {
    writeFileSync(join(dir, 'x.aedat'), new Uint8Array([1, 2, 3]));
    await assert.rejects(inspect(join(dir, 'x.aedat')), /event file "x.aedat": byte 0: expected "#!AER-DAT2.0" or "#!AER-DAT3.1" for a .aedat file/);
    writeFileSync(join(dir, 'x.txt'), 'hello');
    await assert.rejects(inspect(join(dir, 'x.txt')), /unknown format/);
  });
});
