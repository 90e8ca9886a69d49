/**
 * Bad input to device, fuse and infer: one line on stderr and exit code 2, before any connection is made;
 * a broker or coordinator that cannot be reached: one line and exit code 1. Cases run in this process
 * through the command line's own entry (runCli), as the hostile-input tests do.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { startBroker } from '../../src/split/broker.js';
import { encodeNpy } from '../../src/data/events/npy.js';
import { makeSplit, writeImagePng } from './_fixture.js';
import { freePort } from './_procs.js';

const root = mkdtempSync(join(tmpdir(), 'es-split-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

/**
 * Runs the command line in this process, capturing its stderr. stdout stays as it is: the test runner
 * reports through it while runCli awaits (none of these cases prints a result).
 */
async function cli(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const ew = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => { err += String(c); return true; }) as typeof process.stderr.write;
  try {
    return { code: await runCli(argv), err };
  } finally {
    process.stderr.write = ew;
  }
}

async function oneLine(argv: string[], code: number, re: RegExp): Promise<void> {
  const r = await cli(argv);
  const what = `edgespike ${argv.join(' ')}`;
  assert.equal(r.code, code, `${what}: exit ${r.code}, stderr ${r.err}`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: stderr has ${lines.length} lines:\n${r.err}`);
  assert.match(lines[0]!, /^edgespike( [a-z]+)?: /, what);
  assert.match(lines[0]!, re, what);
}

test('device, fuse and infer: bad input is one line with exit code 2, checked before any connection', { timeout: 60_000 }, async () => {
  const dir = join(root, 'split');
  mkdirSync(dir);
  makeSplit(dir, 1);
  const damaged = join(root, 'damaged');
  mkdirSync(damaged);
  for (const f of ['split.json', 'sub-0.es', 'sub-1.es', 'sub-2.es', 'fusion.es']) copyFileSync(join(dir, f), join(damaged, f));
  copyFileSync(join(dir, 'sub-0.es'), join(damaged, 'sub-1.es'));
  const pem = join(root, 'ca.pem'), notPem = join(root, 'ca.txt');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(notPem, 'just text');
  const png = join(root, 'a.png'), junk = join(root, 'junk.png'), wrongNpy = join(root, 'w.npy'), rangeNpy = join(root, 'r.npy');
  writeImagePng(png, 0);
  writeFileSync(junk, 'not an image');
  writeFileSync(wrongNpy, encodeNpy([0, 0.5, 1, 0], [2, 2], '<f4'));
  writeFileSync(rangeNpy, encodeNpy(Array.from({ length: 256 }, (_, i) => (i === 9 ? 3 : 0.5)), [1, 16, 16], '<f4'));
  const dev = ['device', '--split', dir, '--name', 'alpha'];
  const far = 'mqtt://127.0.0.1:1';

  await oneLine(['device', '--split', dir, '--broker', far], 2, /device: Missing required argument: --name/i);
  await oneLine(['device', '--split', dir, '--name', 'nobody', '--broker', far], 2, /--name: "nobody" runs no sub-model of the split in .* \(devices: alpha, beta, gamma\)/);
  await oneLine([...dev, '--broker', 'http://127.0.0.1:1'], 2, /--broker: expected one of mqtt:\/\/, mqtts:\/\//);
  await oneLine([...dev, '--broker', 'localhost'], 2, /--broker: expected a broker address such as mqtt:\/\/127\.0\.0\.1:1883, got "localhost"/);
  await oneLine([...dev, '--broker', far, '--tls-cert', pem], 2, /--tls-cert and --tls-key: give both or neither/);
  await oneLine([...dev, '--broker', far, '--password', 'secret'], 2, /--password: needs --username/);
  await oneLine([...dev, '--broker', far, '--tls-ca', pem], 2, /--broker: TLS files need an mqtts:\/\/, ssl:\/\/ or wss:\/\/ broker/);
  await oneLine([...dev, '--broker', 'mqtts://127.0.0.1:1', '--tls-ca', notPem], 2, /--tls-ca .*ca\.txt: not a PEM file/);
  await oneLine([...dev, '--broker', 'mqtts://127.0.0.1:1', '--tls-ca', join(root, 'none.pem')], 2, /none\.pem: cannot read the PEM file \(no such file or directory\)/);
  await oneLine([...dev, '--broker', far, '--prefix', 'site/#'], 2, /--prefix: expected topic levels/);
  await oneLine([...dev, '--broker', far, '--bogus', '1'], 2, /device: unknown flag --bogus/);
  await oneLine(['device', '--split', damaged, '--name', 'alpha', '--broker', far], 2, /split\.json: the model files' SHA-256 is \w+…, the manifest says \w+… \(a file was changed or replaced\)/);
  await oneLine(['device', '--split', join(root, 'nowhere'), '--name', 'alpha', '--broker', far], 2, /nowhere\/split\.json: cannot read the split manifest \(no such file or directory\)/);

  await oneLine(['fuse', '--split', dir, '--broker', 'embedded:70000'], 2, /--broker: expected embedded:PORT with a port 0 … 65535, got "embedded:70000"/);
  await oneLine(['fuse', '--split', dir, '--broker', 'embedded', '--username', 'u'], 2, /--username: an embedded broker takes no credentials or TLS files/);
  await oneLine(['fuse', '--split', dir, '--broker', 'embedded:0', '--timeout', '0'], 2, /--timeout: expected an integer ≥ 1, got 0/);
  await oneLine(['fuse', '--split', dir, '--broker', 'embedded:0', '--timeout', 'soon'], 2, /--timeout: expected an integer, got "soon"/);
  await oneLine(['fuse', '--split', damaged, '--broker', 'embedded:0'], 2, /SHA-256/);
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (busy.address() as { port: number }).port;
    await oneLine(['fuse', '--split', dir, '--broker', `embedded:${port}`], 2, new RegExp(`broker: cannot listen on 127\\.0\\.0\\.1:${port} \\(the port is in use\\)`));
  } finally { busy.close(); }

  await oneLine(['infer', '--split', dir, '--broker', far], 2, /infer: give at least one input file/);
  await oneLine(['infer', '--split', dir, '--broker', far, png, junk], 2, /junk\.png: unknown image format/);
  await oneLine(['infer', '--split', dir, '--broker', far, wrongNpy], 2, /w\.npy: holds an array shaped \[2, 2\], the split's input is \[1, 16, 16\]/);
  await oneLine(['infer', '--split', dir, '--broker', far, rangeNpy], 2, /r\.npy: value 9 is 3; pixels must be in \[0, 1\]/);
  await oneLine(['infer', '--split', dir, '--broker', far, png, '--timeout', '-5'], 2, /--timeout: expected an integer ≥ 1, got -5/);
  assert.equal(process.listenerCount('SIGTERM'), 0, 'a failed command leaves no signal handler behind');
});

test('infer: an unreachable broker or a missing coordinator is one line with exit code 1', { timeout: 30_000 }, async () => {
  const dir = join(root, 'split2');
  mkdirSync(dir);
  const m = makeSplit(dir, 4);
  const png = join(root, 'b.png');
  writeImagePng(png, 1);
  await import('mqtt'); // loaded once here, so the waits below are spent on the network, not on loading it
  const free = await freePort();
  await oneLine(['infer', '--split', dir, '--broker', `mqtt://127.0.0.1:${free}`, png, '--timeout', '2000'], 1, new RegExp(`cannot reach the broker at mqtt://127\\.0\\.0\\.1:${free} within 2000 ms \\(.*ECONNREFUSED`));
  const b = await startBroker(0);
  try {
    await oneLine(['infer', '--split', dir, '--broker', b.url, png, '--timeout', '2000'], 1, new RegExp(`no coordinator serves split ${m.hash.slice(0, 12)}… under edgespike/${m.hash.slice(0, 8)} at ${b.url} \\(waited 2000 ms\\)`));
  } finally { await b.close(); }
});
