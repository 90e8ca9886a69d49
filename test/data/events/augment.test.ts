import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { centerCrop, cropTime, denoise, downsample, dropByArea, dropByTime, dropEvents, flipLR, flipPolarity, flipUD, mergePolarities,
  randomCrop, randomly, timeJitter, timeSkew } from '../../../src/data/events/augment.js';
import { makeEvents } from '../../../src/data/events/events.js';
import { createRng } from '../../../src/data/events/rng.js';

const ev = (x: number[], y: number[], t: number[], p: number[] = x.map(() => 1), sensor: readonly [number, number, number] = [34, 34, 2]) =>
  makeEvents({ x, y, t, p }, sensor);

describe('transforms', () => {
  test("denoise keeps events with a neighbour active within filterTime (tonic's memory starts at filterTime)", () => {
    // E (3,3) t 5: memory 10 > 5 → kept; A (0,0) t 100: no neighbour → dropped; B (1,0) t 105: A's 110 > 105 → kept;
    // C (5,5) t 200 → dropped; D (5,6) t 205: C's 210 > 205 → kept
    const out = denoise(ev([3, 0, 1, 5, 5], [3, 0, 0, 5, 6], [5, 100, 105, 200, 205]), 10);
    assert.deepEqual(Array.from(out.t), [5, 105, 205]);
  });

  test('downsample multiplies time and floors coordinates; the sensor shrinks to ⌊33·0.5⌋ + 1 = 17', () => {
    const out = downsample(ev([33, 1], [5, 0], [1500, 3]), { spatialFactor: 0.5, timeFactor: 0.001 });
    assert.deepEqual([Array.from(out.x), Array.from(out.y), Array.from(out.t)], [[16, 0], [2, 0], [1.5, 0.003]]);
    assert.deepEqual(out.sensor, [17, 17, 2]);
  });

  test('centre crop 34 → 28 keeps 3 ≤ x < 31 and shifts by 3; a larger size pads', () => {
    const out = centerCrop(ev([2, 3, 30, 31], [10, 10, 10, 10], [0, 1, 2, 3]), [28, 28]);
    assert.deepEqual([Array.from(out.x), Array.from(out.y), out.sensor], [[0, 27], [7, 7], [28, 28, 2]]);
    const pad = centerCrop(ev([0, 9], [0, 9], [0, 1], [1, 1], [10, 10, 2]), [12, 12]); // offset (10 − 12) // 2 = −1
    assert.deepEqual(Array.from(pad.x), [1, 10]);
  });

  test('random crop draws x0 then y0 from the Rng and keeps that box', () => {
    const r = createRng(5), x0 = Math.floor(r.next() * 6), y0 = Math.floor(r.next() * 6);
    const all = ev([...Array(34).keys()], [...Array(34).keys()], [...Array(34).keys()]);
    const out = randomCrop(all, [28, 28], createRng(5));
    const lo = Math.max(x0, y0), hi = Math.min(x0, y0) + 28; // diagonal pixels (i, i) inside both ranges
    assert.equal(out.length, hi - lo);
    assert.deepEqual([out.x[0], out.y[0]], [lo - x0, lo - y0]);
  });

  test('flips: x → W − 1 − x, y → H − 1 − y, p → 1 − p; randomly() with p 0 and 1', () => {
    const e = ev([0, 33], [1, 2], [0, 1], [0, 1]);
    assert.deepEqual(Array.from(flipLR(e).x), [33, 0]);
    assert.deepEqual(Array.from(flipUD(e).y), [32, 31]);
    assert.deepEqual(Array.from(flipPolarity(e).p), [1, 0]);
    assert.equal(randomly(e, 0, createRng(1), flipLR), e);
    assert.deepEqual(Array.from(randomly(e, 1, createRng(1), flipLR).x), [33, 0]);
  });

  test('time jitter adds seeded normal noise and drops negative times', () => {
    const e = ev([0, 1, 2, 3], [0, 0, 0, 0], [0, 0, 1000, 1000]);
    const r = createRng(9), shifts = [0, 1, 2, 3].map(() => 50 * r.normal());
    const expect = [0, 0, 1000, 1000].map((t, i) => t + shifts[i]).filter((t) => t >= 0);
    assert.deepEqual(Array.from(timeJitter(e, 50, createRng(9)).t), expect);
    assert.deepEqual(timeJitter(e, 0, createRng(9)).t, e.t);
  });

  test('time skew t → 2t + 100 and crop time keeps min ≤ t ≤ max', () => {
    const e = ev([0, 0, 0], [0, 0, 0], [0, 10, 20]);
    assert.deepEqual(Array.from(timeSkew(e, 2, 100).t), [100, 120, 140]);
    assert.deepEqual(Array.from(cropTime(e, 10, 20).t), [10, 20]);
  });

  test('drop events removes round(p·N) events and keeps the order', () => {
    const e = ev([...Array(10).keys()], Array(10).fill(0), [...Array(10).keys()]);
    const a = dropEvents(e, 0.25, createRng(3)); // floor(2.5 + 0.5) = 3 dropped
    assert.equal(a.length, 7);
    assert.ok(Array.from(a.t).every((t, i, arr) => i === 0 || arr[i - 1] < t));
    assert.equal(dropEvents(e, 0.24, createRng(3)).length, 8); // floor(2.9) = 2 dropped
  });

  test('drop by time cuts [start, start + ratio·t_max] with start drawn in [0, t_max − span)', () => {
    const e = ev(Array(11).fill(0), Array(11).fill(0), [...Array(11).keys()].map((i) => i * 10));
    const start = createRng(4).uniform(0, 80);
    const expect = [...Array(11).keys()].map((i) => i * 10).filter((t) => !(t >= start && t <= start + 20));
    assert.deepEqual(Array.from(dropByTime(e, 0.2, createRng(4)).t), expect);
  });

  test('drop by area empties a ⌊0.3·10⌋ = 3 pixel square box', () => {
    const xs = [...Array(100).keys()].map((i) => i % 10), ys = [...Array(100).keys()].map((i) => Math.floor(i / 10));
    const e = ev(xs, ys, [...Array(100).keys()], xs.map(() => 1), [10, 10, 2]);
    const r = createRng(6), x0 = r.int(7), y0 = r.int(7);
    const out = dropByArea(e, 0.3, createRng(6));
    assert.equal(out.length, 91);
    for (let i = 0; i < out.length; i++) assert.ok(!(out.x[i] >= x0 && out.x[i] < x0 + 3 && out.y[i] >= y0 && out.y[i] < y0 + 3));
  });

  test('merge polarities sets p = 0 on a one-polarity sensor; inputs are never modified', () => {
    const e = ev([1], [1], [1], [1]);
    const m = mergePolarities(e);
    assert.deepEqual([m.p[0], m.sensor[2], e.p[0]], [0, 1, 1]);
  });
});

describe('rng', () => {
  test('equal seeds give equal sequences; values stay in range', () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(sa, Array.from({ length: 5 }, () => b.next()));
    assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.next()));
    const r = createRng(1);
    let sum = 0;
    for (let i = 0; i < 100000; i++) { const v = r.next(); assert.ok(v >= 0 && v < 1); sum += v; }
    assert.ok(Math.abs(sum / 100000 - 0.5) < 0.005); // standard error 0.0009
    for (let i = 0; i < 1000; i++) { const k = r.int(7); assert.ok(Number.isInteger(k) && k >= 0 && k < 7); }
  });
});
