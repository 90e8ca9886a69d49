/**
 * A split served on one machine (serveSplit: embedded broker, coordinator, a device process per device)
 * answers `edgespike infer` and SplitClient exactly as the sub-models and the fusion do in this process,
 * and SIGTERM stops every process it started.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplitClient } from '../../src/split/client.js';
import { makeSplit, reference, normalised, image, writeImagePng, writeImageNpy, DEVICES } from './_fixture.js';
import { alive, cli, HELPER, killAll, start, until } from './_procs.js';

const root = mkdtempSync(join(tmpdir(), 'es-serve-'));
after(() => { killAll(); rmSync(root, { recursive: true, force: true }); });

test('serveSplit: infer and SplitClient give the in-process prediction and logits; SIGTERM stops every process', { timeout: 60_000 }, async () => {
  const dir = join(root, 'split');
  mkdirSync(dir);
  const m = makeSplit(dir, 1);
  const png = join(root, 'a.png'), npy = join(root, 'b.npy');
  const want = [reference(dir, m, normalised(writeImagePng(png, 0))), reference(dir, m, normalised(writeImageNpy(npy, 1)))];
  assert.ok(want.every((r) => r.spikes > 50), 'the fixture sub-models must fire');

  const serve = start(HELPER('_serve'), [dir, '0', '5000']);
  const ready = JSON.parse(await serve.waitFor(/^\{"url"/)) as { url: string; prefix: string; pids: Record<string, number>; devices: Record<string, string> };
  assert.match(ready.url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ready.prefix, `edgespike/${m.hash.slice(0, 8)}`);
  assert.deepEqual(ready.devices, { alpha: 'online', beta: 'online', gamma: 'online' });

  const infer = cli('infer', '--split', dir, '--broker', ready.url, png, npy, '--json');
  assert.equal(await infer.exited(30_000), 0, infer.err.join('\n'));
  const lines = infer.out.filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  lines.forEach((r, i) => {
    assert.deepEqual(Object.keys(r), ['file', 'class', 'name', 'probabilities', 'devices', 'degraded', 'device_ms', 'total_ms']);
    assert.equal(r.file, [png, npy][i]);
    assert.equal(r.class, want[i]!.class);
    assert.equal(r.name, m.classNames![want[i]!.class]);
    assert.deepEqual(r.probabilities, want[i]!.probabilities, 'probabilities bit for bit');
    assert.deepEqual(r.devices, [...DEVICES]);
    assert.equal(r.degraded, false);
    assert.deepEqual(Object.keys(r.device_ms).sort(), [...DEVICES]);
    assert.ok(r.total_ms >= Math.max(...Object.values(r.device_ms as Record<string, number>)));
  });

  const client = await SplitClient.connect(ready.url, dir, { timeout: 10_000 });
  try {
    for (const k of [2, 3]) {
      const x = normalised(image(k));
      const a = await client.infer(x);
      const r = reference(dir, m, x);
      assert.deepEqual(a.logits, r.logits, 'logits bit for bit');
      assert.equal(a.class, r.class);
    }
  } finally { await client.close(); }

  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited(15_000), 0, serve.err.join('\n'));
  assert.ok(serve.out.includes('stopped'));
  await until(() => Object.values(ready.pids).every((pid) => !alive(pid)), 5000, 'device processes still running after SIGTERM');
});

test('edgespike split serve DIR: one command serves the split; infer answers as in-process; SIGTERM ends it with code 0', { timeout: 60_000 }, async () => {
  const dir = join(root, 'split-cli');
  mkdirSync(dir);
  const m = makeSplit(dir, 2);
  const png = join(root, 'c.png');
  const want = reference(dir, m, normalised(writeImagePng(png, 4)));
  const serve = cli('split', 'serve', dir, '--port', '0', '--timeout', '5000');
  const line = await serve.waitFor(/^edgespike split serve: /, 30_000);
  const url = /at (mqtt:\/\/127\.0\.0\.1:\d+) under (\S+);/.exec(line);
  assert.ok(url, line);
  assert.equal(url[2], `edgespike/${m.hash.slice(0, 8)};`.slice(0, -1));
  assert.match(line, /devices alpha online, beta online, gamma online \(3 in the manifest\)/);
  const infer = cli('infer', '--split', dir, '--broker', url[1]!, png, '--json');
  assert.equal(await infer.exited(30_000), 0, infer.err.join('\n'));
  const r = JSON.parse(infer.out.find((l) => l.trim() !== '')!) as { class: number; probabilities: number[]; degraded: boolean };
  assert.equal(r.class, want.class);
  assert.deepEqual(r.probabilities, want.probabilities);
  assert.equal(r.degraded, false);
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited(15_000), 0, serve.err.join('\n'));
});
