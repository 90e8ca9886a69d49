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

test('the README example of models as graphs runs: partial runs and the cut chain give the whole run', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Models are graphs')))?.[1];
  assert.ok(code, 'no ts code block under "Models are graphs"');
  const file = join(root, 'dist', `readme-graph-${process.pid}.mjs`);
  const check = `
const whole = net.run(x, { training: false });
const m = features.run(x, { training: false });
const h = head.run(m.x, { training: false, form: m.form });
console.log(JSON.stringify({ a: a.x.shape, form: a.form, y: Array.from(y.x.data), whole: Array.from(whole.x.data), chained: Array.from(h.x.data),
  pruned: pruned.tensorValues()['2.conv.weight'].length, vth: other.tensorValues()['4.lif.vth'].length, classes: split.classes }));`;
  writeFileSync(file, `${code}\n${check}\n`);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, EDGESPIKE_THREADS: '1' } });
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^node +op +reads +output +values +details$/);
    const r = JSON.parse(lines.pop()!) as Record<string, unknown>;
    assert.deepEqual(r.a, [4, 2, 16, 4, 4]);
    assert.equal(r.form, 'time');
    assert.deepEqual(r.y, r.whole);
    assert.deepEqual(r.chained, r.whole);
    assert.equal(r.pruned, 16 * 5 * 25);
    assert.equal(r.vth, 256);
    assert.equal(r.classes, 3);
  } finally { rmSync(file, { force: true }); }
});
