// Lines of TypeScript/AssemblyScript per folder (comments and blank lines left out) and the number of
// kernels in the contracts: a size report to keep the code base small.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const counts = new Map();
const walk = (d) => {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (f.endsWith('.ts')) {
      const lines = readFileSync(p, 'utf8').split('\n').filter((l) => { const t = l.trim(); return t && !t.startsWith('//') && !t.startsWith('*') && !t.startsWith('/*'); });
      const key = relative(root, d);
      counts.set(key, (counts.get(key) ?? 0) + lines.length);
    }
  }
};
for (const d of ['src', 'assembly', 'test', 'bench', 'demo']) walk(join(root, d));
let total = 0;
for (const [k, v] of [...counts].sort()) { console.log(`${String(v).padStart(7)}  ${k}`); total += v; }
console.log(`${String(total).padStart(7)}  total`);
const kernelsIn = (f) => (readFileSync(join(root, 'src/kernels', f), 'utf8').match(/^\s+\w+\(.*$/gm) ?? []).length;
console.log(`kernels in the contracts: ${kernelsIn('contract.ts')} (contract.ts) + ${kernelsIn('neuron.ts')} (neuron.ts)`);
