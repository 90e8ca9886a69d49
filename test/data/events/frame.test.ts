import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { allocEvents, makeEvents, type Events } from '../../../src/data/events/events.js';
import { framesBySplit, rgbOccupancy, toFrame, voxelGrid } from '../../../src/data/events/frame.js';
import { framing } from '../../../src/data/events/framing.js';
import { sliceByCount, sliceByEventBins, sliceByTime, sliceByTimeBins, splitSegments } from '../../../src/data/events/slice.js';
import { EdgespikeError } from '../../../src/util/errors.js';

const at = (t: number[], sensor: readonly [number, number, number] = [4, 3, 2]): Events =>
  makeEvents({ x: t.map((_, i) => i % 4), y: t.map(() => 0), t, p: t.map((_, i) => i & 1) }, sensor);
const six = at([0, 10, 20, 35, 50, 60]);

describe('slicing (tonic semantics)', () => {
  test('by time window: n = floor((60 − w)/stride) + 1, windows [t0 + i·s, t0 + i·s + w)', () => {
    assert.deepEqual(sliceByTime(six, 20), [[0, 2], [2, 4], [4, 5]]); // 3 windows; t = 60 is at the open end
    assert.deepEqual(sliceByTime(six, 25), [[0, 3], [3, 4]]); // floor(35/25) + 1 = 2
    assert.deepEqual(sliceByTime(six, 25, 0, true), [[0, 3], [3, 4], [4, 6]]); // ceil(35/25) + 1 = 3
    assert.deepEqual(sliceByTime(six, 20, 10), [[0, 2], [1, 3], [2, 4], [3, 4], [4, 5]]); // stride 10, 5 windows
    assert.deepEqual(sliceByTime(six, 1000), [[0, 6]]); // at least one window
  });

  test('by event count: stride count − overlap, last incomplete window only on request', () => {
    assert.deepEqual(sliceByCount(six, 4, 2), [[0, 4], [2, 6]]);
    assert.deepEqual(sliceByCount(six, 4), [[0, 4]]);
    assert.deepEqual(sliceByCount(six, 4, 0, true), [[0, 4], [4, 6]]);
  });

  test('by number of time bins: window (60 // 3)·(1 + overlap), stride window·(1 − overlap)', () => {
    assert.deepEqual(sliceByTimeBins(six, 3), [[0, 2], [2, 4], [4, 5]]);
    assert.deepEqual(sliceByTimeBins(six, 3, 0.5), [[0, 3], [2, 4], [3, 5]]); // window 30, stride 15
  });

  test('by number of event bins: count floor(6 // 3 · 1.5) = 3, stride floor(3 · 0.5) = 1', () => {
    assert.deepEqual(sliceByEventBins(six, 3), [[0, 2], [2, 4], [4, 6]]);
    assert.deepEqual(sliceByEventBins(six, 3, 0.5), [[0, 3], [1, 4], [2, 5]]);
  });

  test('check number 16: SpikingJelly split by number, N = 103, T = 5', () => {
    const ev = allocEvents(103, [4, 4, 2]);
    assert.deepEqual(splitSegments(ev, 5), [[0, 20], [20, 40], [40, 60], [60, 80], [80, 103]]);
  });

  test('SpikingJelly split by time: dt = 60 // 3 = 20, last segment runs to the end', () => {
    assert.deepEqual(splitSegments(six, 3, 'time'), [[0, 2], [2, 4], [4, 6]]);
  });

  test('bad parameters are EdgespikeErrors', () => {
    assert.throws(() => sliceByTime(six, 10, 10), EdgespikeError);
    assert.throws(() => sliceByEventBins(six, 0), EdgespikeError);
    assert.throws(() => toFrame(six, { timeWindow: 10, eventCount: 3 } as never), /exactly one/);
  });
});

describe('frames', () => {
  test('toFrame counts per (p, y, x), shape [T, P, H, W]', () => {
    // span 31: ceil((31 − 10)/10) + 1 = 4 windows [0,10) [10,20) [20,30) [30,40)
    const ev = makeEvents({ x: [1, 1, 1, 2], y: [2, 2, 2, 0], t: [0, 5, 12, 31], p: [1, 1, 0, 1] }, [3, 3, 2]);
    const f = toFrame(ev, { timeWindow: 10, includeIncomplete: true });
    assert.deepEqual(f.shape, [4, 2, 3, 3]);
    const px = (k: number, p: number, y: number, x: number): number => f.data[((k * 2 + p) * 3 + y) * 3 + x];
    assert.equal(px(0, 1, 2, 1), 2);
    assert.equal(px(1, 0, 2, 1), 1);
    assert.equal(px(3, 1, 0, 2), 1);
    assert.equal(f.data.reduce((a, b) => a + b, 0), 4);
  });

  test('a one-polarity sensor counts every event in channel 0', () => {
    const ev = makeEvents({ x: [0, 0], y: [0, 0], t: [0, 1], p: [1, 0] }, [2, 1, 1]);
    const f = toFrame(ev, { nEventBins: 1 });
    assert.deepEqual(Array.from(f.data), [2, 0]);
  });

  test('split-by-number frames equal the counts of each segment', () => {
    const n = 103, ev = makeEvents({ x: Array(n).fill(0), y: Array(n).fill(0), t: Array.from({ length: n }, (_, i) => i), p: Array(n).fill(0) }, [1, 1, 2]);
    const f = framesBySplit(ev, 5);
    assert.deepEqual(Array.from(f.data), [20, 0, 20, 0, 20, 0, 20, 0, 23, 0]);
  });

  test('check number 17: RGB occupancy frame index with dt = floor(900000/9) = 100000', () => {
    const ev = makeEvents({ x: [0, 1, 2, 3], y: [0, 0, 0, 0], t: [0, 450000, 899999, 900000], p: [1, 1, 0, 1] }, [4, 1, 2]);
    const f = rgbOccupancy(ev, 10);
    const frameOf = (x: number): number[] => [...Array(10).keys()].filter((k) => f.data[k * 12 + x] + f.data[k * 12 + 4 + x] > 0);
    assert.deepEqual([0, 1, 2, 3].map((x) => frameOf(x)), [[0], [4], [8], [9]]);
    assert.deepEqual([f.data[8 * 12 + 2], f.data[8 * 12 + 4 + 2], f.data[8 * 12 + 8 + 2]], [0, 1, 0]); // polarity 0 → green
  });

  test('RGB occupancy: the later event overwrites the pixel colour', () => {
    const ev = makeEvents({ x: [0, 0, 0], y: [0, 0, 0], t: [0, 1, 10], p: [1, 0, 1] }, [1, 1, 2]);
    const f = rgbOccupancy(ev, 2); // dt = 10: events 0 and 1 in frame 0, event 2 in frame 1
    assert.deepEqual(Array.from(f.data), [0, 1, 0, 1, 0, 0]);
  });

  test('voxel grid: bilinear in time with ±1 polarity', () => {
    // τ = 2·t/100: 0 → bin 0 += +1; 25 → τ 0.5, p 0: bins 0, 1 += −0.5; 100 → τ 2: dropped
    const ev = makeEvents({ x: [0, 0, 0], y: [0, 0, 0], t: [0, 25, 100], p: [1, 0, 1] }, [1, 1, 2]);
    assert.deepEqual(Array.from(voxelGrid(ev, 2).data), [0.5, -0.5]);
  });

  test('framing writes [T, C, H, W] at an offset and overwrites old values', () => {
    const fr = framing({ kind: 'number', frames: 2 });
    const out = new Float32Array(3 + 2 * 2 * 3 * 4).fill(7);
    fr.write(six, [4, 3, 2], out, 3);
    assert.equal(out[2], 7);
    assert.equal(out.subarray(3).reduce((a, b) => a + b, 0), 6);
    assert.equal(fr.channels([4, 3, 2]), 2);
    assert.equal(framing({ kind: 'rgb', frames: 3 }).channels([4, 3, 2]), 3);
  });

  test('an event outside the sensor is an EdgespikeError, not a silent wrap', () => {
    const ev = makeEvents({ x: [4], y: [0], t: [0], p: [0] }, [4, 3, 2]);
    assert.throws(() => toFrame(ev, { nEventBins: 1 }), /event 0 at x 4, y 0, p 0 lies outside sensor \[4, 3, 2\]/);
  });
});
