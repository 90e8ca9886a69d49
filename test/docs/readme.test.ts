// The README's code example runs as written against the built package (imported by its own name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the README example of the engine from code trains one step and returns a finite loss', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The engine from code'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'no ts code block under "The engine from code"');
  const file = join(root, 'dist', `readme-example-${process.pid}.mjs`);
  writeFileSync(file, `${code}\nconsole.log(JSON.stringify({ loss }));\n`);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, EDGESPIKE_THREADS: '1' } });
    const { loss } = JSON.parse(out.trim().split('\n').pop()!) as { loss: number };
    // one step of a fresh 10-class net: cross-entropy near ln 10
    assert.ok(Number.isFinite(loss) && loss > 1 && loss < 4, `loss ${loss}`);
  } finally { rmSync(file, { force: true }); }
});
