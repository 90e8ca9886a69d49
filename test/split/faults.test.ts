/**
 * Faults of a served split, with real processes on an embedded broker: a device that hangs (answered at the
 * timeout from the others) or is killed mid-stream (answered at once, degraded), a device running other
 * weights (refused with its reason), a restarted device (taken back), malformed messages (one line each,
 * everyone keeps serving) and a client of another split (refused). Every answer is compared with the
 * in-process run of the devices that answered.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectAsync } from 'mqtt';
import { SplitClient, type Answer } from '../../src/split/client.js';
import { decodeMessage, encodeMessage, hashPrefix, topics } from '../../src/split/protocol.js';
import { makeSplit, reference, normalised, image, DEVICES } from './_fixture.js';
import { cli, killAll, sleep, until, type Proc } from './_procs.js';

const root = mkdtempSync(join(tmpdir(), 'es-faults-'));
after(() => { killAll(); rmSync(root, { recursive: true, force: true }); });

const TIMEOUT = 3000;

test('device faults: hang, kill mid-stream, other weights, restart, malformed messages', { timeout: 120_000 }, async () => {
  const dir = join(root, 'split'), other = join(root, 'other');
  mkdirSync(dir); mkdirSync(other);
  const m = makeSplit(dir, 1), mo = makeSplit(other, 2);
  assert.notEqual(m.hash, mo.hash);
  const prefix = `edgespike/${m.hash.slice(0, 8)}`, t = topics(prefix);

  const fuse = cli('fuse', '--split', dir, '--broker', 'embedded:0', '--timeout', String(TIMEOUT));
  const url = /at (mqtt:\/\/127\.0\.0\.1:\d+) /.exec(await fuse.waitFor(/serving split/))![1]!;
  const dev: Record<string, Proc> = {};
  for (const d of DEVICES) dev[d] = cli('device', '--split', dir, '--name', d, '--broker', url);
  const client = await SplitClient.connect(url, dir, { timeout: 20_000 });
  after(() => client.close());
  assert.ok(await client.waitForDevices(40_000), `devices ${JSON.stringify(client.devices())}\n${fuse.err.join('\n')}`);

  const x = (k: number): Float32Array => normalised(image(k));
  const check = (a: Answer, k: number, drop: readonly string[], what: string): void => {
    const r = reference(dir, m, x(k), drop);
    assert.deepEqual(a.devices, DEVICES.filter((d) => !drop.includes(d)), what);
    assert.equal(a.degraded, drop.length > 0, what);
    assert.deepEqual(a.logits, r.logits, `${what}: logits of the fusion over the answering devices' features`);
    assert.equal(a.class, r.class, what);
  };
  check(await client.infer(x(0)), 0, [], 'all devices');

  // a device that hangs (stopped, still connected): the answer comes at the timeout from the other two
  dev.gamma!.child.kill('SIGSTOP');
  let start = performance.now();
  const hung = await client.infer(x(1));
  const waited = performance.now() - start;
  check(hung, 1, ['gamma'], 'gamma hanging');
  assert.ok(waited >= TIMEOUT - 100 && waited < TIMEOUT + 4000, `answered after ${waited} ms`);
  await fuse.waitFor(new RegExp(`device gamma did not answer request \\d+ within ${TIMEOUT} ms`));
  // then it is left out at once, until it answers again
  start = performance.now();
  check(await client.infer(x(2)), 2, ['gamma'], 'gamma left out');
  assert.ok(performance.now() - start < TIMEOUT, 'no wait for a device known to be missing');
  dev.gamma!.child.kill('SIGCONT');
  // its late features or its next hello, whichever comes first, take it back
  await fuse.waitFor(/device gamma (answers again|is back)/);
  await until(() => client.devices().gamma === 'online', 10_000, 'gamma not online again');
  check(await client.infer(x(3)), 3, [], 'gamma answering again');

  // killed in the middle of a stream of requests: every request is answered once, quickly, from the others
  const stream: Answer[] = [];
  for (let i = 0; i < 8; i++) {
    const p = client.infer(x(i % 4));
    if (i === 3) dev.gamma!.child.kill('SIGKILL');
    stream.push(await p);
  }
  stream.forEach((a, i) => {
    check(a, i % 4, i < 3 || (i === 3 && !a.degraded) ? [] : ['gamma'], `stream request ${i}`);
    assert.ok(a.total_ms < TIMEOUT, `stream request ${i} took ${a.total_ms} ms: the last will, not the timeout, ends the wait`);
  });
  await fuse.waitFor(/device gamma is gone \(connection lost\)/);

  // a device with other weights under the same name is refused with its reason, and never used
  const wrong = cli('device', '--split', other, '--name', 'gamma', '--broker', url, '--prefix', prefix);
  const refusal = await fuse.waitFor(/refused device gamma/);
  assert.match(refusal, new RegExp(`refused device gamma: its model hash ${mo.hash.slice(0, 12)}… differs from the split's ${m.hash.slice(0, 12)}…`));
  await until(() => client.devices().gamma === 'refused', 10_000, 'gamma not reported refused');
  check(await client.infer(x(0)), 0, ['gamma'], 'refused gamma');
  wrong.child.kill('SIGTERM');
  assert.equal(await wrong.exited(), 0);
  await fuse.waitFor(/device gamma is gone \(stopped\)/);
  assert.equal(fuse.err.filter((l) => /refused device gamma/.test(l)).length, 1, 'one line per refused process, not one per heartbeat');

  // restarted with the right weights: taken back
  dev.gamma = cli('device', '--split', dir, '--name', 'gamma', '--broker', url);
  await fuse.waitFor(/device gamma is back/);
  await until(() => client.devices().gamma === 'online', 10_000, 'gamma not taken back');
  check(await client.infer(x(1)), 1, [], 'gamma restarted');

  // malformed messages: one logged line each, and everyone keeps serving
  const raw = await connectAsync(url, { clientId: 'es-test-raw' });
  after(() => raw.endAsync());
  const replies: Buffer[] = [];
  raw.on('message', (_topic, payload) => replies.push(payload));
  await raw.subscribeAsync(t.answer('evil'), { qos: 1 });
  const fuseFrom = fuse.err.length, alphaFrom = dev.alpha!.err.length;
  const hash = hashPrefix(m.hash);
  await raw.publishAsync(t.request('evil'), Buffer.from('not an edgespike message at all'), { qos: 1 });
  await raw.publishAsync(t.features('alpha'), Buffer.from([0x45, 0x53, 0x50, 0x4b, 1]), { qos: 1 });
  await raw.publishAsync(t.hello('alpha'), encodeMessage({ type: 'hello', hash, id: 0, name: 'alpha', info: { role: 'device', instance: 'x1', submodels: ['sub-0'] } }).subarray(0, 40), { qos: 1 });
  await raw.publishAsync(t.input('alpha'), Buffer.alloc(64, 7), { qos: 1 });
  // well-formed requests the coordinator answers with an error: a wrong input size, another split's hash
  await raw.publishAsync(t.request('evil'), encodeMessage({ type: 'request', hash, id: 7, name: '', shape: [5], x: new Float32Array(5) }), { qos: 1 });
  await raw.publishAsync(t.request('evil'), encodeMessage({ type: 'request', hash: hashPrefix(mo.hash), id: 8, name: '', shape: [1, 16, 16], x: new Float32Array(256) }), { qos: 1 });
  await until(() => replies.length >= 2 && fuse.err.length - fuseFrom >= 3 && dev.alpha!.err.length - alphaFrom >= 1, 10_000, 'malformed messages not all reported');
  await sleep(300);
  const fuseLines = fuse.err.slice(fuseFrom), alphaLines = dev.alpha!.err.slice(alphaFrom);
  assert.equal(fuseLines.length, 3, fuseLines.join('\n'));
  assert.match(fuseLines.find((l) => l.includes('/request/evil'))!, /^edgespike fuse: ignored a message on edgespike\/\w+\/request\/evil: malformed message \(31 bytes\): no "ESPK" magic/);
  assert.match(fuseLines.find((l) => l.includes('/features'))!, /ignored a message on .*\/device\/alpha\/features: malformed message \(5 bytes\): shorter than the 27-byte header/);
  assert.match(fuseLines.find((l) => l.includes('/hello'))!, /ignored a message on .*\/device\/alpha\/hello: malformed message \(40 bytes\): hello payload: not JSON/);
  assert.deepEqual(alphaLines.length, 1, alphaLines.join('\n'));
  assert.match(alphaLines[0]!, /^edgespike device alpha: ignored a message on .*\/device\/alpha\/input: malformed message \(64 bytes\): no "ESPK" magic/);
  const errors = replies.map((b) => decodeMessage(b)).sort((a, b) => a.id - b.id);
  assert.deepEqual(errors.map((e) => [e.type, e.id]), [['error', 7], ['error', 8]]);
  assert.match((errors[0] as { error: string }).error, /input of shape \[5\], the split's input is \[1, 16, 16\]/);
  assert.match((errors[1] as { error: string }).error, /the request's model hash \w+… differs from the split's/);
  check(await client.infer(x(2)), 2, [], 'after malformed messages');
  assert.equal(client.devices().alpha, 'online');

  // a client of another split finds this coordinator and is refused
  await assert.rejects(SplitClient.connect(url, other, { prefix, timeout: 5000 }), new RegExp(`serves split ${m.hash.slice(0, 12)}…, not .*other \\(${mo.hash.slice(0, 12)}…\\)`));
});
