// Compiles the AssemblyScript kernels (assembly/) twice, -O3 with shared memory, offline during `npm ci`
// (prepare); nothing is downloaded and no binary is committed:
//   build/edgespike.wasm          SIMD128: the body every runtime with wasm SIMD can run;
//   build/edgespike-relaxed.wasm  SIMD128 + relaxed SIMD: the GEMM and convolution tiles use fused
//                                 multiply-adds (f32x4.relaxed_madd) where the runtime has them.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'build'), { recursive: true });
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const common = ['-O3', '--runtime', 'stub', '--noAssert', '--importMemory', '--sharedMemory', '--initialMemory', '64', '--maximumMemory', '32768'];
const builds = [
  { out: 'build/edgespike.wasm', features: 'simd,threads' },
  { out: 'build/edgespike-relaxed.wasm', features: 'simd,threads,relaxed-simd' },
];
for (const { out, features } of builds) {
  try {
    execFileSync(process.execPath, [asc, 'assembly/index.ts', '-o', out, '--enable', features, ...common], { cwd: root, stdio: 'inherit' });
  } catch {
    console.error(`build-wasm: AssemblyScript compilation of assembly/index.ts into ${out} failed (see above)`);
    process.exit(1);
  }
}
