/**
 * DVS128 Gesture `userNN_<lighting>_labels.csv`: a header "class,startTime_usec,endTime_usec" and one
 * row per gesture. A gesture is the events with start ≤ t < end; its label is class − 1 (0 … 10).
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../util/atomic.js';
import { EdgespikeError } from '../../util/errors.js';
import { lowerBound, sliceEvents, sortByTime, type Events } from './events.js';
import { formatError } from './_io.js';

/** One labelled gesture: label = class − 1, times in µs, half-open [start, end). */
export interface GestureSpan {
  readonly label: number;
  readonly start: number;
  readonly end: number;
}

const LABEL = 'gesture labels';

/** Parses the labels CSV text (`name` is used in messages). */
export function parseGestureLabels(text: string, name = 'labels.csv'): GestureSpan[] {
  const spans: GestureSpan[] = [];
  let offset = 0, header = true;
  for (const raw of text.split('\n')) {
    const line = raw.trim(), at = offset;
    offset += raw.length + 1;
    if (line === '') continue;
    if (header) {
      if (!/^class\s*,\s*startTime_usec\s*,\s*endTime_usec$/.test(line)) {
        throw formatError(LABEL, name, at, `expected header "class,startTime_usec,endTime_usec", found "${line.slice(0, 40)}"`);
      }
      header = false;
      continue;
    }
    const cols = line.split(',').map((c) => c.trim());
    const [c, s, e] = cols.map(Number);
    if (cols.length !== 3 || !Number.isInteger(c) || c < 1 || !Number.isFinite(s) || !Number.isFinite(e) || e < s) {
      throw formatError(LABEL, name, at, `expected "class ≥ 1,start,end" with start ≤ end, found "${line.slice(0, 40)}"`);
    }
    spans.push({ label: c - 1, start: s, end: e });
  }
  if (header) throw formatError(LABEL, name, 0, 'empty file, expected header "class,startTime_usec,endTime_usec"');
  return spans;
}

/** Reads and parses a labels CSV file. */
export function readGestureLabels(path: string): GestureSpan[] {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw new EdgespikeError(`${LABEL} file "${path}": cannot open (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseGestureLabels(text, path);
}

/** Formats spans as a labels CSV (class = label + 1). */
export function formatGestureLabels(spans: readonly GestureSpan[]): string {
  return ['class,startTime_usec,endTime_usec', ...spans.map((s) => `${s.label + 1},${s.start},${s.end}`)].join('\n') + '\n';
}

/** Writes a labels CSV file atomically. */
export function writeGestureLabels(path: string, spans: readonly GestureSpan[]): void {
  writeFileAtomic(path, formatGestureLabels(spans));
}

/** Cuts a recording into its gestures: events with start ≤ t < end, as views (sorted by time). */
export function cutGestures(ev: Events, spans: readonly GestureSpan[]): Array<{ label: number; events: Events }> {
  const sorted = sortByTime(ev);
  return spans.map((s) => ({
    label: s.label,
    events: sliceEvents(sorted, lowerBound(sorted.t, s.start), lowerBound(sorted.t, s.end)),
  }));
}
