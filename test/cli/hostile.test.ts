/**
 * Hostile input, fuzzed: more than a thousand argument sets, damaged model files and damaged data files.
 * Every case must end in a valid result (exit 0) or in exactly one line on stderr with exit code 2, and
 * never in a stack trace or an exception that is not the one-line error type. Cases run in this process
 * (the command line's own entry, runCli) so a thousand of them take seconds.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/tensor/tape.js';
import { SpikingNet } from '../../src/layers/net.js';
import { neuronParams } from '../../src/neurons/neuron.js';
import { parseSpec } from '../../src/notation/parse.js';
import { loadNet, saveNet } from '../../src/train/model-file.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { readImage, writePng } from '../../src/data/image.js';
import { encodeAtis } from '../../src/data/events/atis.js';
import { makeEvents } from '../../src/data/events/events.js';
import { EdgespikeError } from '../../src/util/errors.js';
import { crc32Hex } from '../../src/util/crc32.js';

const dir = mkdtempSync(join(tmpdir(), 'es-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// relative paths the fuzz makes up (an --out of "-1", frames.png by default) land in the scratch folder
process.chdir(dir);

/** A small generator (mulberry32) so every run fuzzes the same cases. */
function rng(seed: number): { int(n: number): number; pick<T>(a: readonly T[]): T; next(): number } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (a) => a[Math.floor(next() * a.length)]! };
}

/** Runs the command line in this process, capturing what it prints. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const ow = process.stdout.write.bind(process.stdout), ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => { out += String(c); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { err += String(c); return true; }) as typeof process.stderr.write;
  try {
    const code = await runCli(argv);
    return { code, out, err };
  } catch (e) {
    return { code: -1, out, err: `${err}THROWN ${e instanceof Error ? e.stack : String(e)}` };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

/** A case passes when it succeeded, or failed with code 2 and one line (no stack) on stderr. */
function judge(argv: string[], r: { code: number; out: string; err: string }): void {
  const what = `edgespike ${argv.map((a) => JSON.stringify(a)).join(' ')}`;
  if (r.code === 0) return;
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.err.slice(0, 800)}`);
  const lines = r.err.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('note: '));
  assert.equal(lines.length, 1, `${what}: stderr has ${lines.length} lines:\n${r.err.slice(0, 800)}`);
  assert.match(lines[0]!, /^edgespike( [a-z]+)?: /, what);
  assert.ok(!/\bat .*:\d+:\d+\)?$/m.test(r.err), `${what}: stack trace`);
}

// Fixtures: a small trained-shape model, an image, an event file, a directory.
const model = join(dir, 'm.es');
const net = new SpikingNet(parseSpec('4C5-P2-8C3-P2-16-10', { bias: true }), {
  input: [1, 28, 28], neuron: neuronParams('lif'), T: 2, encoder: { kind: 'direct' }, readout: 'leaky', readoutBeta: 0.9, seed: 1,
});
saveNet(model, net, { dataset: 'mnist' });
const image = join(dir, 'digit.png');
writePng(image, Float32Array.from({ length: 784 }, (_, i) => (i % 28 > 10 && i % 28 < 17 ? 1 : 0)), 1, 28, 28);
const events = join(dir, 'e.bin');
writeFileSync(events, encodeAtis(makeEvents({ x: [1, 5, 9, 20], y: [2, 4, 6, 30], t: [10, 500, 900, 4000], p: [0, 1, 1, 0] }, [34, 34, 2])));
const sub = join(dir, 'sub');
mkdirSync(sub);

const VALUES = ['', ' ', 'NaN', 'nan', 'Infinity', '-Infinity', '-1', '0', '1', '2', '0.5', '-0.5', '1e300', '-1e300', '1e-300', '99999999999999999999',
  '3.7', 'abc', '1,5', '0x10', '5e0', '٣', '--', '-', '=', '/dev/zero', '/proc/x', '/nonexistent/x.es', sub, model, image, events, '../..', 'a'.repeat(300)];
const MODELS = ['lenet', '4C5-P2-10', '8C3p1-AP2-10', 'P2', '10', '999999999-10', '4C99-10', '4C5-P2-', '-', 'bogus', '512C3p1-512C3p1-10', 'resnet19'];
const FLAGS: Record<string, string[]> = {
  train: ['--model', '--epochs', '--timesteps', '-T', '--batch-size', '--lr', '--optimizer', '--momentum', '--weight-decay', '--schedule', '--step-size', '--gamma',
    '--clip', '--loss', '--tet-lambda', '--tet-phi', '--label-smoothing', '--neuron', '--beta', '--tau', '--threshold', '--surrogate', '--alpha', '--encoder',
    '--readout', '--augment', '--limit', '--test-limit', '--seed', '--out', '--log', '--checkpoint', '--act', '--dataset', '--data-dir', '--bogus'],
  eval: ['--dataset', '--data-dir', '--limit', '--timesteps', '--batch-size', '--bogus'],
  profile: ['--model', '--input', '--weight-bits', '--membrane-bits', '--timesteps', '--convention', '--limit', '--energy', '--e-mac', '--e-ac', '--dataset'],
  'data frames': ['--time-bins', '--event-bins', '--time-window', '--event-count', '--overlap', '--output', '--scale'],
};

test('1,100 hostile argument sets: each a valid result or one line with exit code 2', { timeout: 600_000 }, async () => {
  const r = rng(7);
  let cases = 0, ok = 0;
  const fixed = [
    ['train', '--limit', '', '--out', join(dir, 'a.es')], ['train', '--gamma', 'NaN', '--out', join(dir, 'a.es')], ['train', '--resume=maybe', '--out', join(dir, 'a.es')],
    ['train', '--lr', '1e300', '--out', join(dir, 'a.es')], ['train', '--out', sub], ['train', '--out', '/nonexistent/x.es'], ['profile', '--model', 'P2', '--input', '1x28x28'],
    ['data'], ['data', 'bogus'], ['data', 'inspect', sub], ['data', 'emulate', '--out', '/proc/x/y', '--limit', '2'], ['data', 'frames', events, '--time-window', '1'],
    ['info', '/dev/zero'], ['info', sub], ['predict', model, '/dev/zero'], ['eval', model, '--timesteps', '1000', '--limit', '256'],
    ['train', '--model', '512C3p1-512C3p1-10', '--out', join(dir, 'a.es')], ['train', '--model', '999999999-10', '--out', join(dir, 'a.es')],
  ];
  for (const argv of fixed) { judge(argv, await cli(argv)); cases++; }
  while (cases < 1100) {
    const cmd = r.pick(['train', 'train', 'eval', 'profile', 'profile', 'predict', 'info', 'data frames', 'data inspect', 'report']);
    const argv: string[] = cmd.split(' ');
    if (cmd === 'eval' || cmd === 'info' || cmd === 'predict') argv.push(r.next() < 0.8 ? model : r.pick(VALUES));
    if (cmd === 'predict') argv.push(r.next() < 0.7 ? image : r.pick(VALUES));
    if (cmd.startsWith('data')) argv.push(r.next() < 0.7 ? events : r.pick(VALUES));
    if (cmd === 'report') argv.push(r.pick([sub, dir, ...VALUES]));
    if (cmd === 'train') argv.push('--limit', '48', '--test-limit', '16', '--epochs', '1', '--json', '--out', join(dir, `t${cases % 3}.es`));
    if (cmd === 'profile' && r.next() < 0.7) argv.push(r.next() < 0.5 ? model : '--model');
    const flags = FLAGS[cmd] ?? ['--json', '--bogus', '--limit'];
    for (let k = r.int(4); k >= 0; k--) {
      const f = r.pick(flags);
      const v = f === '--model' ? r.pick([...MODELS, ...VALUES]) : r.pick(VALUES);
      if (r.next() < 0.15) argv.push(`${f}=${v}`); else argv.push(f, v);
    }
    if (r.next() < 0.1) argv.push(r.pick(['--json', '--json=maybe', '--help', 'extra', '-x']));
    const res = await cli(argv);
    judge(argv, res);
    if (res.code === 0) ok++;
    cases++;
  }
  assert.ok(ok > 20 && ok < cases - 200, `${ok} of ${cases} cases succeeded`);
});

/** Rewrites a model file's metadata JSON (and its checksum, as a careful forger would). */
function forge(bytes: Uint8Array, edit: (meta: Record<string, unknown>) => void): Uint8Array {
  const f = parseSafetensors(bytes, 'x');
  const meta = JSON.parse(f.metadata.meta!) as Record<string, unknown>;
  edit(meta);
  const json = JSON.stringify(meta), storage = f.metadata.storage ?? '{}';
  const md = { ...f.metadata, meta: json, meta_crc32: crc32Hex(new TextEncoder().encode(`${json}\n${storage}`)) };
  const inputs = Object.fromEntries(Object.entries(f.tensors).map(([n, t]) => [n, { shape: t.shape, data: t.bytes, dtype: t.dtype }]));
  return serializeSafetensors(inputs, md);
}

test('500 damaged and forged model files: each loads and runs, or is one line', () => {
  const good = readFileSync(model);
  const r = rng(11);
  const x = new Tensor(Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 9) / 9), [2, 1, 28, 28]);
  const nodes = (m: Record<string, unknown>) => (m.graph as { nodes: Record<string, unknown>[] }).nodes;
  const forgeries: ((m: Record<string, unknown>) => void)[] = [
    (m) => { (m.config as Record<string, unknown>).T = 1e9; },
    (m) => { (m.config as Record<string, unknown>).T = -2; },
    (m) => { (m.config as Record<string, unknown>).readoutBeta = 'x'; },
    (m) => { (m.config as Record<string, unknown>).readout = 'bogus'; },
    (m) => { (m.config as Record<string, unknown>).encoder = { kind: 'warp' }; },
    (m) => { const n = nodes(m).find((n) => n.op === 'neuron')!; (n.neuron as Record<string, unknown>).charge = 'kknd'; },
    (m) => { const n = nodes(m).find((n) => n.op === 'neuron')!; (n.neuron as Record<string, unknown>).reset = 'sideways'; },
    (m) => { const n = nodes(m).find((n) => n.op === 'neuron')!; (n.neuron as Record<string, unknown>).fire = '!='; },
    (m) => { const n = nodes(m).find((n) => n.op === 'neuron')!; (n.neuron as Record<string, unknown>).vth = 'high'; },
    (m) => { const n = nodes(m).find((n) => n.op === 'neuron')!; (n.neuron as Record<string, unknown>).beta = 7; },
    (m) => { const n = nodes(m).find((n) => n.op === 'neuron')!; (n.neuron as Record<string, unknown>).surrogate = 'magic'; },
    (m) => { const n = nodes(m).find((n) => n.op === 'pool')!; (n.attrs as Record<string, unknown>).kind = 'median'; },
    (m) => { const n = nodes(m).find((n) => n.op === 'conv')!; (n.attrs as Record<string, unknown>).out = 5; },
    (m) => { const n = nodes(m).find((n) => n.op === 'conv')!; (n.attrs as Record<string, unknown>).kernel = [5]; },
    (m) => { const n = nodes(m).find((n) => n.op === 'conv')!; (n.attrs as Record<string, unknown>).kernel = [1e9, 1e9]; },
    (m) => { const n = nodes(m).find((n) => n.op === 'dense')!; (n.attrs as Record<string, unknown>).out = 1e12; },
    (m) => { nodes(m)[2]!.inputs = ['nowhere']; },
    (m) => { nodes(m).reverse(); },
    (m) => { (m.graph as Record<string, unknown>).input = [1, 1e6, 1e6]; },
    (m) => { (m.graph as Record<string, unknown>).output = 'x'; },
    (m) => { nodes(m).push({ ...nodes(m)[0]! }); },
    (m) => { delete m.graph; },
    (m) => { nodes(m)[0]!.op = '__proto__'; },
  ];
  let cases = 0, loaded = 0;
  const path = join(dir, 'bad.es');
  const tryLoad = (bytes: Uint8Array, what: string): void => {
    writeFileSync(path, bytes);
    try {
      const { net: back } = loadNet(path);
      const l = noGrad(() => back.forward(x, { training: false }).logits.toArray());
      assert.ok(l.every(Number.isFinite), `${what}: non-finite logits from a file that loaded`);
      loaded++;
    } catch (e) {
      assert.ok(e instanceof EdgespikeError, `${what}: ${e instanceof Error ? e.stack : String(e)}`);
      assert.ok(!e.message.includes('\n'), what);
    }
    cases++;
  };
  for (const f of forgeries) tryLoad(forge(good, f), `forgery ${forgeries.indexOf(f)}`);
  while (cases < 500) {
    const b = Uint8Array.from(good);
    const kind = r.int(5);
    if (kind === 0) for (let k = 1 + r.int(4); k > 0; k--) b[r.int(b.length)] ^= 1 << r.int(8);
    else if (kind === 1) { tryLoad(b.subarray(0, r.int(b.length)), 'truncated'); continue; }
    else if (kind === 2) { const n = Number(new DataView(b.buffer).getBigUint64(0, true)); b[8 + r.int(n)] = r.pick([0x22, 0x7b, 0x7d, 0x30, 0x2c, 0x00, 0xff]); }
    else if (kind === 3) b.set(new Uint8Array(8).map(() => r.int(256)), 0);
    else {
      // a weight made NaN or infinite, checksums recomputed
      const f = parseSafetensors(b, 'x');
      const name = r.pick(Object.keys(f.tensors));
      const t = f.tensors[name]!;
      if (t.dtype === 'F32') new DataView(t.bytes.buffer, t.bytes.byteOffset).setFloat32(4 * r.int(t.bytes.length / 4), r.pick([NaN, Infinity, -Infinity]), true);
      const inputs = Object.fromEntries(Object.entries(f.tensors).map(([n, v]) => [n, { shape: v.shape, data: v.bytes, dtype: v.dtype }]));
      const draft = serializeSafetensors(inputs, { ...f.metadata, data_crc32: '00000000' });
      const start = 8 + Number(new DataView(draft.buffer).getBigUint64(0, true));
      tryLoad(serializeSafetensors(inputs, { ...f.metadata, data_crc32: crc32Hex(draft.subarray(start)) }), `non-finite ${name}`);
      continue;
    }
    tryLoad(b, `mutation ${kind}`);
  }
  assert.ok(loaded < cases, `${loaded} of ${cases} damaged files loaded`);
});

test('200 damaged images and event files through predict, data inspect and data frames', async () => {
  const r = rng(13);
  const png = readFileSync(image), bin = readFileSync(events);
  for (let k = 0; k < 100; k++) {
    const b = Uint8Array.from(png);
    if (k % 3 === 0) { for (let j = 1 + r.int(6); j > 0; j--) b[r.int(b.length)] = r.int(256); }
    else if (k % 3 === 1) b.set([0, 0, r.int(256), r.int(256), 0, 0, r.int(256), r.int(256)], 16);
    const p = join(dir, 'x.png');
    writeFileSync(p, k % 3 === 2 ? b.subarray(0, r.int(b.length)) : b);
    try { readImage(p); } catch (e) { assert.ok(e instanceof EdgespikeError, String(e)); }
    judge(['predict', model, p], await cli(['predict', model, p]));
  }
  for (let k = 0; k < 100; k++) {
    const b = Uint8Array.from(bin);
    for (let j = 1 + r.int(6); j > 0; j--) b[r.int(b.length)] = r.int(256);
    const p = join(dir, 'x.bin');
    writeFileSync(p, k % 4 === 0 ? b.subarray(0, r.int(b.length)) : b);
    for (const argv of [['data', 'inspect', p, '--json'], ['data', 'frames', p, '--output', join(dir, 'f.png'), '--time-bins', String(1 + r.int(20))]]) {
      judge(argv, await cli(argv));
    }
  }
});
