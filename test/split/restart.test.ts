/**
 * A broker restart with an external broker (a separate process running aedes): the coordinator, the
 * devices and the client reconnect by themselves, a request made while the broker was down gets exactly
 * one answer from every device, and a client that connects afterwards finds the coordinator again.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplitClient, type Answer } from '../../src/split/client.js';
import { makeSplit, reference, normalised, image, DEVICES } from './_fixture.js';
import { cli, freePort, HELPER, killAll, sleep, start } from './_procs.js';

const root = mkdtempSync(join(tmpdir(), 'es-restart-'));
after(() => { killAll(); rmSync(root, { recursive: true, force: true }); });

test('broker restarts: everyone reconnects; a request sent while it was down, or waiting when it went down, is answered once', { timeout: 90_000 }, async () => {
  const dir = join(root, 'split');
  mkdirSync(dir);
  const m = makeSplit(dir, 3);
  const port = await freePort(), url = `mqtt://127.0.0.1:${port}`;
  let broker = start(HELPER('_broker'), [String(port)]);
  await broker.waitFor(/^ready/);
  const fuse = cli('fuse', '--split', dir, '--broker', url, '--timeout', '5000');
  await fuse.waitFor(/serving split/);
  const dev = DEVICES.map((d) => cli('device', '--split', dir, '--name', d, '--broker', url));
  const client = await SplitClient.connect(url, dir, { timeout: 20_000 });
  after(() => client.close());
  assert.ok(await client.waitForDevices(40_000), fuse.err.join('\n'));

  const x = (k: number): Float32Array => normalised(image(k));
  const check = (a: Answer, k: number, what: string): void => {
    const r = reference(dir, m, x(k));
    assert.deepEqual(a.devices, [...DEVICES], what);
    assert.equal(a.degraded, false, what);
    assert.deepEqual(a.logits, r.logits, what);
  };
  check(await client.infer(x(0)), 0, 'before the restart');

  broker.child.kill('SIGKILL');
  await broker.exited();
  await fuse.waitFor(/lost the broker at/);
  let settled = 0;
  const during = client.infer(x(1)).finally(() => { settled++; });
  await sleep(500);
  broker = start(HELPER('_broker'), [String(port)]);
  await broker.waitFor(/^ready/);
  check(await during, 1, 'sent while the broker was down');
  await fuse.waitFor(/reconnected to the broker at/);
  for (const d of dev) await d.waitFor(/reconnected to the broker at/);
  await sleep(300);
  assert.equal(settled, 1);
  check(await client.infer(x(2)), 2, 'after the restart');

  // the broker dies while a request waits for a hanging device, which finishes during the outage
  dev[2]!.child.kill('SIGSTOP');
  let settledMid = 0;
  const mid = client.infer(x(4)).finally(() => { settledMid++; });
  await sleep(400);
  broker.child.kill('SIGKILL');
  await broker.exited();
  dev[2]!.child.kill('SIGCONT');
  await sleep(300);
  broker = start(HELPER('_broker'), [String(port)]);
  await broker.waitFor(/^ready/);
  const a = await mid;
  assert.ok(a.devices.includes('alpha') && a.devices.includes('beta'), JSON.stringify(a));
  assert.deepEqual(a.logits, reference(dir, m, x(4), DEVICES.filter((d) => !a.devices.includes(d))).logits, 'mid-request: the fusion of the devices that answered');
  await sleep(500);
  assert.equal(settledMid, 1);
  assert.ok(await client.waitForDevices(20_000), JSON.stringify(client.devices()));
  check(await client.infer(x(5)), 5, 'after the second restart');

  // the retained hellos are back on the new broker: a new client finds the coordinator and every device
  const late = await SplitClient.connect(url, dir, { timeout: 10_000 });
  try {
    assert.ok(await late.waitForDevices(10_000), JSON.stringify(late.devices()));
    check(await late.infer(x(3)), 3, 'a client connected after the restart');
  } finally { await late.close(); }
});
