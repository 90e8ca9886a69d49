/** Runs a block of tests once per kernel backend (ref and wasm), restoring the previous backend after. */
import { after, before, describe } from 'node:test';
import { backendInfo, setBackend } from '../../src/backends/index.js';

export const BACKENDS = ['ref', 'wasm'] as const;

/** describe(`<title> [backend]`, body) for every backend. */
export function forEachBackend(title: string, body: (name: (typeof BACKENDS)[number]) => void): void {
  for (const name of BACKENDS) {
    describe(`${title} [${name}]`, () => {
      let prev: 'ref' | 'wasm' = 'ref';
      before(() => { prev = backendInfo().name as 'ref' | 'wasm'; setBackend(name); });
      after(() => setBackend(prev));
      body(name);
    });
  }
}
