/**
 * h5wasm, loaded once and only when an HDF5 file is read or written (SHD/SSC audio spikes, NIR): the Node
 * build, whose file system is the host's, with HDF5 errors thrown as exceptions instead of printed. h5wasm
 * is an optional package; without it the caller gets one line naming it.
 */
import { importOptional } from '../util/optional.js';

export type H5Lib = typeof import('h5wasm/node').default;
export type H5Mod = Awaited<H5Lib['ready']>;
export type H5File = InstanceType<H5Lib['File']>;

let lib: Promise<{ h5: H5Lib; mod: H5Mod }> | null = null;

/** The h5wasm library and its module, ready to open files. */
export async function loadH5(): Promise<{ h5: H5Lib; mod: H5Mod }> {
  lib ??= importOptional('h5wasm', 'HDF5', () => import('h5wasm/node')).then(async (m) => {
    const mod = await m.default.ready;
    mod.activate_throwing_error_handler();
    return { h5: m.default, mod };
  });
  return lib;
}
