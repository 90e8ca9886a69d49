// Refreshes pretrained/index.json: each entry's bytes and SHA-256 from its file, and, with --eval, its
// test accuracy measured by `edgespike eval FILE --json` on the whole test split.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../pretrained/', import.meta.url).pathname;
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
for (const m of index.models) {
  const bytes = readFileSync(join(dir, m.file));
  m.bytes = bytes.length;
  m.sha256 = createHash('sha256').update(bytes).digest('hex');
  if (process.argv.includes('--eval')) {
    const r = JSON.parse(execFileSync(process.execPath, [new URL('../bin/edgespike.js', import.meta.url).pathname, 'eval', join(dir, m.file), '--json'], { encoding: 'utf8' }));
    m.test_accuracy = r.test_accuracy;
    m.test_samples = r.samples;
  }
  process.stdout.write(`${m.name}: ${m.bytes} bytes, test accuracy ${m.test_accuracy}\n`);
}
writeFileSync(join(dir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
