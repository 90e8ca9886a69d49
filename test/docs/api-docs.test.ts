/** docs/api.md is what scripts/api-docs.mjs writes from the current sources, and every export has a doc comment. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('docs/api.md is current and documents every export', { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, ['scripts/api-docs.mjs', '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^0 exports without a doc comment\n/, r.stdout);
});
