/**
 * Event data speed on one core, as JSON lines: decoding N-MNIST .bin and AEDAT 2.0/3.1 from
 * in-memory bytes (~10 M events) and framing (ToFrame by event bins, split by number, time window).
 * Each figure is the best of a few runs after a warm-up.
 */
import { decodeAedat2, encodeAedat2 } from '../src/data/events/aedat2.js';
import { decodeAedat3, encodeAedat3 } from '../src/data/events/aedat3.js';
import { decodeAtis, encodeAtis } from '../src/data/events/atis.js';
import { allocEvents, type Events, type SensorSize } from '../src/data/events/events.js';
import { framesBySplit, toFrame } from '../src/data/events/frame.js';

const N = 10_000_000;
const RUNS = 3;

/** Synthetic sorted events on a sensor (a fixed pseudo-random pattern, not a timing input). */
function synthetic(n: number, sensor: SensorSize): Events {
  const ev = allocEvents(n, sensor);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    ev.x[i] = (s >>> 8) % sensor[0];
    ev.y[i] = (s >>> 16) % sensor[1];
    ev.p[i] = (s >>> 4) & 1;
    ev.t[i] = Math.floor(i / 20);
  }
  return ev;
}

/** Best wall time of `RUNS` calls after one warm-up, in ms. */
function best(run: () => unknown): number {
  run();
  let ms = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    run();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

function line(fields: Record<string, string | number>, events: number, ms: number): void {
  console.log(JSON.stringify({ ...fields, events, ms: Number(ms.toFixed(1)), events_per_s: Math.round((events / ms) * 1000) }));
}

/** Prints decode and framing speed as JSON lines. */
export async function benchEvents(): Promise<void> {
  const nmnist = synthetic(N, [34, 34, 2]);
  const atis = encodeAtis(nmnist);
  line({ bench: 'decode', format: 'nmnist-bin' }, N, best(() => decodeAtis(atis)));
  const dvs = synthetic(N, [128, 128, 2]);
  const aedat2 = encodeAedat2(dvs);
  line({ bench: 'decode', format: 'aedat2' }, N, best(() => decodeAedat2(aedat2)));
  const aedat3 = encodeAedat3(dvs, 8192);
  line({ bench: 'decode', format: 'aedat3' }, N, best(() => decodeAedat3(aedat3)));
  line({ bench: 'toframe', method: 'n_event_bins', sensor: '34x34x2', frames: 10 }, N, best(() => toFrame(nmnist, { nEventBins: 10 })));
  line({ bench: 'toframe', method: 'split_by_number', sensor: '128x128x2', frames: 16 }, N, best(() => framesBySplit(dvs, 16)));
  line({ bench: 'toframe', method: 'time_window', sensor: '34x34x2', window_us: 10000 }, N,
    best(() => toFrame(nmnist, { timeWindow: 10000 })));
}
