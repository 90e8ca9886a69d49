/**
 * Malformed NIR files, seeded: 320 byte-level mutations of real files (bytes flipped, zeroed, inserted,
 * the file cut) and 240 structural ones (a field removed, retyped, reshaped, made NaN, negative or huge;
 * edges renamed, reversed, duplicated; node types swapped). Every file must give a clean EdgespikeError
 * or a network that runs; anything else (another exception, a crash of the HDF5 library) fails.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { readNir } from '../../src/nir/read.js';
import { nirToNet } from '../../src/nir/import.js';
import { runSequence } from '../../src/nir/run.js';
import { EdgespikeError } from '../../src/util/errors.js';
import { f4, f8, i4, i8, tempDir, writeRaw, type Node, type Val } from './_h5.js';
import { mulberry32 as rng } from '../../src/data/audio/split.js';

const tmp = tempDir('es-nir-fuzz-');
after(() => tmp.done());

/** Base graphs: a small CNN, a recurrent CubaLIF, a nested subgraph with a delay. */
function bases(): Record<string, Node> {
  return {
    cnn: {
      type: 'NIRGraph', edges: [['input', 'c'], ['c', 'if'], ['if', 'pool'], ['pool', 'flat'], ['flat', 'fc'], ['fc', 'lif'], ['lif', 'output']], nodes: {
        input: { type: 'Input', shape: i8([1, 6, 6]) },
        c: { type: 'Conv2d', weight: f4(Array.from({ length: 18 }, (_, i) => (i % 5) / 4 - 0.3), [2, 1, 3, 3]), bias: f4([0.1, 0]), stride: i8([1, 1]), padding: i8([1, 1]), dilation: i8([1, 1]), groups: i8(1), input_shape: i8([6, 6]) },
        if: { type: 'IF', r: f4(new Array(72).fill(1e4), [2, 6, 6]), v_threshold: f4(new Array(72).fill(1), [2, 6, 6]), v_reset: f4(new Array(72).fill(0), [2, 6, 6]) },
        pool: { type: 'SumPool2d', kernel_size: i8([2, 2]), stride: i8([2, 2]), padding: i8([0, 0]) },
        flat: { type: 'Flatten', start_dim: i8(0), end_dim: i8(-1), input_type: i8([2, 3, 3]) },
        fc: { type: 'Affine', weight: f4(Array.from({ length: 54 }, (_, i) => (i % 7) / 7 - 0.4), [3, 18]), bias: f4([0, 0.1, 0.2]) },
        lif: { type: 'LIF', tau: f4([1e-3, 2e-3, 3e-3]), r: f4([1, 1, 1]), v_leak: f4([0, 0, 0]), v_threshold: f4([0.5, 0.5, 0.5]), v_reset: f4([0, 0, 0]) },
        output: { type: 'Output', shape: i8([3]) },
      },
    },
    recurrent: {
      type: 'NIRGraph', edges: [['input', 'fc'], ['fc', 'cuba'], ['cuba', 'rec'], ['rec', 'cuba'], ['cuba', 'output']], nodes: {
        input: { type: 'Input', shape: i8([2]) },
        fc: { type: 'Linear', weight: f8([1, 0.5, -0.5, 1], [2, 2]) },
        cuba: { type: 'CubaLIF', tau_syn: f4([5e-4, 5e-4]), tau_mem: f4([1e-3, 1e-3]), r: f4([1, 1]), v_leak: f4([0, 0]), v_threshold: f4([0.3, 0.3]), w_in: f4([1, 1]) },
        rec: { type: 'Affine', weight: f4([0, -1, 1, 0], [2, 2]), bias: f4([0, 0]) },
        output: { type: 'Output', shape: i8([2]) },
      },
    },
    nested: {
      type: 'NIRGraph', edges: [['input', 'sub'], ['sub', 'scale'], ['scale', 'output']], nodes: {
        input: { type: 'Input', shape: i4([3]) },
        sub: {
          type: 'NIRGraph', edges: [['input', 'delay'], ['delay', 'li'], ['li', 'output']], nodes: {
            input: { type: 'Input', shape: i8([3]) }, delay: { type: 'Delay', delay: f4([0, 1e-4, 2e-4]) },
            li: { type: 'LI', tau: f4([1e-3, 1e-3, 1e-3]), r: f4([1, 2, 3]), v_leak: f4([0, 0, 0]) }, output: { type: 'Output', shape: i8([3]) },
          },
        },
        scale: { type: 'Scale', scale: f4([1, -1, 0.5]) },
        output: { type: 'Output', shape: i8([3]) },
      },
    },
  };
}

/** Reads, imports and runs a file: 'ok', 'refused' (EdgespikeError), or throws anything else. */
async function attempt(path: string): Promise<'ok' | 'refused'> {
  try {
    const { file } = await readNir(path);
    const { net } = nirToNet(file, { T: 3 });
    const n = net.config.input.reduce((a, b) => a * b, 1);
    if (n > 1e6) return 'ok';
    const r = runSequence(net, Float32Array.from({ length: 3 * n }, (_, i) => (i % 3) / 2), [3, ...net.config.input]);
    assert.equal(r.steps.length, 3 * r.outputShape.reduce((a, b) => a * b, 1));
    return 'ok';
  } catch (e) {
    if (e instanceof EdgespikeError) {
      assert.ok(!e.message.includes('\n') && e.message.length < 600, `one short line: ${e.message}`);
      return 'refused';
    }
    throw e;
  }
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** One structural change to a copy of `g`. */
function mutate(g: Node, r: () => number): Node {
  const copy = structuredClone(g) as unknown as { nodes: Record<string, Record<string, unknown>>; edges: [string, string][] };
  // a nested graph's nodes too
  const graphs = [copy, ...Object.values(copy.nodes).filter((n) => n.type === 'NIRGraph')] as (typeof copy)[];
  const gr = pick(r, graphs);
  const names = Object.keys(gr.nodes);
  const name = pick(r, names), node = gr.nodes[name]!;
  const fields = Object.keys(node).filter((k) => k !== 'type' && k !== 'nodes' && k !== 'edges');
  const field = fields.length ? pick(r, fields) : 'type';
  const v = node[field] as Val | undefined;
  const nums = (x: Val | undefined): number[] => (x && typeof x !== 'string' ? [...x.data] : [1]);
  switch (Math.floor(r() * 12)) {
    case 0: delete node[field]; break;
    case 1: node[field] = 'same'; break;
    case 2: node[field] = f4(nums(v).map((x, i) => (i === 0 ? NaN : x))); break;
    case 3: node[field] = f4(nums(v).map((x) => -x)); break;
    case 4: node[field] = i8(nums(v).map((x) => Math.round(x * 1e6))); break;
    case 5: node[field] = f4(nums(v).slice(0, Math.max(0, nums(v).length - 1 - Math.floor(r() * 3)))); break;
    case 6: node[field] = f8([...nums(v), ...nums(v)], [2, nums(v).length]); break;
    case 7: node.type = pick(r, ['LIF', 'IF', 'LI', 'I', 'CubaLIF', 'CubaLI', 'Affine', 'Linear', 'Conv1d', 'Conv2d', 'Flatten', 'SumPool2d', 'AvgPool2d', 'Delay', 'Threshold', 'Scale', 'Input', 'Output', 'NIRGraph', 'Bogus']); break;
    case 8: if (gr.edges.length) { const e = pick(r, gr.edges); e[Math.floor(r() * 2)] = pick(r, [...names, 'nowhere']); } break;
    case 9: if (gr.edges.length) gr.edges.push([...pick(r, gr.edges)].reverse() as [string, string]); break;
    case 10: gr.edges.splice(Math.floor(r() * gr.edges.length), 1); break;
    default: node[field] = f4(nums(v).map(() => pick(r, [0, 1e30, -1e30, 1e-30, 3])), (v && typeof v !== 'string' ? v.shape : undefined) as number[] | undefined); break;
  }
  return copy as unknown as Node;
}

test('560 malformed NIR files: each a clean error or a network that runs', async (t) => {
  const r = rng(20261205);
  const counts = { ok: 0, refused: 0 };
  const originals: Buffer[] = [];
  for (const [name, g] of Object.entries(bases())) {
    const p = tmp.path(`${name}.nir`);
    await writeRaw(p, '0.2.0', g, { gzip: name === 'cnn' });
    assert.equal(await attempt(p), 'ok', `${name} itself runs`);
    originals.push(readFileSync(p));
  }
  const start = Date.now();
  for (let i = 0; i < 320; i++) {
    const bytes = Buffer.from(pick(r, originals));
    const kind = i % 4;
    let out: Buffer = bytes;
    if (kind === 0) { for (let k = 1 + Math.floor(r() * 8); k > 0; k--) bytes[Math.floor(r() * bytes.length)] ^= 1 << Math.floor(r() * 8); }
    else if (kind === 1) { const at = Math.floor(r() * bytes.length), len = 1 + Math.floor(r() * 64); bytes.fill(0, at, at + len); }
    else if (kind === 2) { const at = Math.floor(r() * bytes.length); out = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256))), bytes.subarray(at)]); }
    else out = bytes.subarray(0, Math.floor(r() * bytes.length));
    const p = tmp.path(`b${i}.nir`);
    writeFileSync(p, out);
    try { counts[await attempt(p)]++; } catch (e) { assert.fail(`byte mutation ${i} (kind ${kind}): ${String((e as Error)?.stack ?? e)}`); }
  }
  const gs = Object.values(bases());
  for (let i = 0; i < 240; i++) {
    let g = pick(r, gs);
    for (let k = 1 + Math.floor(r() * 2); k > 0; k--) g = mutate(g, r);
    const p = tmp.path(`s${i}.nir`);
    await writeRaw(p, pick(r, ['0.1.1', '0.2.0', '1.0.0']), g, { gzip: r() < 0.3 });
    try { counts[await attempt(p)]++; } catch (e) { assert.fail(`structural mutation ${i}: ${String((e as Error)?.stack ?? e)}`); }
  }
  t.diagnostic(`${counts.ok} ran, ${counts.refused} refused in ${Date.now() - start} ms`);
  assert.equal(counts.ok + counts.refused, 560);
  // both outcomes occur: the mutations are neither all harmless nor all fatal
  assert.ok(counts.refused > 100 && counts.ok > 50, JSON.stringify(counts));
});
