// Compiles the AssemblyScript kernels (assembly/) to build/edgespike.wasm: SIMD, shared memory, -O3.
// Runs offline during `npm ci` (prepare); nothing is downloaded and no binary is committed.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'build'), { recursive: true });
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const args = [
  asc, 'assembly/index.ts', '-o', 'build/edgespike.wasm',
  '--enable', 'simd,threads', '-O3', '--runtime', 'stub', '--noAssert',
  '--importMemory', '--sharedMemory', '--initialMemory', '64', '--maximumMemory', '32768',
];
try {
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
} catch {
  console.error('build-wasm: AssemblyScript compilation of assembly/index.ts failed (see above)');
  process.exit(1);
}
