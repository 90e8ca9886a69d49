/**
 * Framing for data sets: a rule turning one sample's events into a fixed number of frames
 * [T, C, H, W], written straight into a batch buffer. Built from a small spec so it is easy to name
 * on a command line ({ kind: 'number', frames: 5 } is SpikingJelly's split by number).
 */
import { EdgespikeError } from '../../util/errors.js';
import type { Events, SensorSize } from './events.js';
import { accumulate, rgbOccupancyInto, voxelGridInto } from './frame.js';
import { sliceByTime, sliceByTimeBins, sliceByEventBins, splitSegments } from './slice.js';

/** The framing rules a data set can use (every one yields exactly `frames` frames). */
export type FramingSpec =
  | { readonly kind: 'number'; readonly frames: number }
  | { readonly kind: 'time'; readonly frames: number }
  | { readonly kind: 'timeBins'; readonly frames: number; readonly overlap?: number }
  | { readonly kind: 'eventBins'; readonly frames: number; readonly overlap?: number }
  | { readonly kind: 'timeWindow'; readonly frames: number; readonly window: number; readonly overlap?: number }
  | { readonly kind: 'rgb'; readonly frames: number }
  | { readonly kind: 'voxel'; readonly frames: number };

/** A framing rule: T frames of C channels for a sensor, written into a buffer. */
export interface Framing {
  readonly spec: FramingSpec;
  /** Number of frames T. */
  readonly frames: number;
  /** Channels C per frame on `sensor`: polarities (counts), 3 (rgb) or 1 (voxel). */
  channels(sensor: SensorSize): number;
  /** Overwrites [T, C, H, W] floats of `out` from `offset` with the frames of `ev`. */
  write(ev: Events, sensor: SensorSize, out: Float32Array, offset: number): void;
}

/** Builds a Framing from its spec (checks the spec). */
export function framing(spec: FramingSpec): Framing {
  const T = spec.frames;
  if (!Number.isInteger(T) || T < 1) throw new EdgespikeError(`framing: frames must be an integer ≥ 1, got ${T}`);
  const channels = (s: SensorSize): number => (spec.kind === 'rgb' ? 3 : spec.kind === 'voxel' ? 1 : s[2]);
  return {
    spec, frames: T, channels,
    write(ev, sensor, out, offset) {
      const size = T * channels(sensor) * sensor[0] * sensor[1];
      out.fill(0, offset, offset + size);
      if (spec.kind === 'rgb') return rgbOccupancyInto(ev, T, sensor, out, offset);
      if (spec.kind === 'voxel') return voxelGridInto(ev, T, sensor, out, offset);
      accumulate(ev, slicesOf(ev, spec).slice(0, T), sensor, out, offset);
    },
  };
}

function slicesOf(ev: Events, spec: FramingSpec): Array<[number, number]> {
  switch (spec.kind) {
    case 'number': return splitSegments(ev, spec.frames, 'number');
    case 'time': return splitSegments(ev, spec.frames, 'time');
    case 'timeBins': return sliceByTimeBins(ev, spec.frames, spec.overlap ?? 0);
    case 'eventBins': return sliceByEventBins(ev, spec.frames, spec.overlap ?? 0);
    // tonic's windows including the last incomplete one, cut to T frames (missing frames stay empty)
    case 'timeWindow': return sliceByTime(ev, spec.window, spec.overlap ?? 0, true);
    default: return [];
  }
}
