/**
 * The event-camera data layer: events in memory, readers and writers per file format, slicing and
 * framing, tonic-style transforms, data sets in their original layout, a saccade emulator and PNG strips.
 */
export * from './events.js';
export * from './atis.js';
export * from './aedat2.js';
export * from './aedat3.js';
export * from './gesture-labels.js';
export * from './npy.js';
export * from './shd.js';
export * from './inspect.js';
export { decodeEvents } from './decode.js';
export * from './rng.js';
export * from './slice.js';
export * from './frame.js';
export * from './framing.js';
export * from './augment.js';
export * from './datasets.js';
export * from './emulator.js';
export * from './png.js';
