/**
 * Bad NIR files: each is refused with one EdgespikeError line naming the node or dataset at fault —
 * a dangling edge, an unknown node type, a missing dataset, shapes that cannot chain, a truncated or
 * non-HDF5 file, a non-finite parameter, an Output only a cycle reaches.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { readNir } from '../../src/nir/read.js';
import { nirToNet } from '../../src/nir/import.js';
import { EdgespikeError } from '../../src/util/errors.js';
import { f4, i8, tempDir, writeRaw, type Node } from './_h5.js';

const tmp = tempDir('es-nir-bad-');
after(() => tmp.done());
let k = 0;

/** A good graph: Input [3] → Affine [2×3] → LIF [2] → Output, with `edit` applied to its nodes and edges. */
function graph(edit: (nodes: Record<string, Node>, edges: [string, string][]) => void = () => {}): Node {
  const nodes: Record<string, Node> = {
    input: { type: 'Input', shape: i8([3]) },
    fc: { type: 'Affine', weight: f4([1, 2, 3, 4, 5, 6], [2, 3]), bias: f4([0, 0]) },
    lif: { type: 'LIF', tau: f4([1e-3, 1e-3]), r: f4([1, 1]), v_leak: f4([0, 0]), v_threshold: f4([1, 1]), v_reset: f4([0, 0]) },
    output: { type: 'Output', shape: i8([2]) },
  };
  const edges: [string, string][] = [['input', 'fc'], ['fc', 'lif'], ['lif', 'output']];
  edit(nodes, edges);
  return { type: 'NIRGraph', nodes, edges };
}

/** Reads and imports; resolves to the error message, or fails when nothing is refused. */
async function refusal(g: Node | ((path: string) => Promise<void> | void)): Promise<string> {
  const path = tmp.path(`b${k++}.nir`);
  if (typeof g === 'function') await g(path);
  else await writeRaw(path, '1.0.0', g);
  try {
    nirToNet((await readNir(path)).file);
  } catch (e) {
    assert.ok(e instanceof EdgespikeError, `an EdgespikeError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.message;
  }
  assert.fail('the file was accepted');
}

describe('bad NIR files are refused with one line naming the node or dataset', () => {
  test('the good file itself imports', async () => {
    const path = tmp.path('good.nir');
    await writeRaw(path, '1.0.0', graph());
    assert.equal(nirToNet((await readNir(path)).file).net.graph.nodes.length, 3);
  });

  test('a dangling edge', async () => {
    const m = await refusal(graph((_, e) => { e.push(['lif', 'ghost']); }));
    assert.match(m, /edge 3 \("lif" → "ghost"\) names "ghost", which is not a node of this graph/);
  });

  test('an unknown node type', async () => {
    const m = await refusal(graph((n) => { n.lif = { type: 'Spiky', tau: f4([1]) }; }));
    assert.match(m, /node "lif": unknown node type "Spiky"/);
  });

  test('a missing required dataset', async () => {
    const m = await refusal(graph((n) => { const { tau: _t, ...rest } = n.lif as Record<string, unknown>; void _t; n.lif = rest as Node; }));
    assert.match(m, /node "lif" \(LIF\): dataset "tau" is missing/);
    const m2 = await refusal(graph((n) => { n.lif = { type: 'LIF' } as Node; delete (n.lif as Record<string, unknown>).type; }));
    assert.match(m2, /node "lif": dataset "type" is missing/);
  });

  test('shapes that cannot chain', async () => {
    const m = await refusal(graph((n) => { n.fc = { type: 'Affine', weight: f4([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]), bias: f4([0, 0]) }; }));
    assert.match(m, /node "fc" \(Affine\): its weight \[2, 4\] takes 4 inputs, it receives \[3\]/);
    const m2 = await refusal(graph((n) => { n.lif = { type: 'LIF', tau: f4([1e-3, 1e-3, 1e-3]), r: f4([1, 1, 1]), v_leak: f4([0, 0, 0]), v_threshold: f4([1, 1, 1]) }; }));
    assert.match(m2, /node "lif" \(LIF\): "tau" has shape \[3\], its input \[2\]: the shapes cannot chain/);
    const m3 = await refusal(graph((n) => { n.fc = { type: 'Affine', weight: f4([1, 2, 3, 4, 5, 6], [2, 3]), bias: f4([0, 0, 0]) }; }));
    assert.match(m3, /node "fc" \(Affine\): bias has 3 values, weight \[2, 3\] has 2 outputs/);
  });

  test('a truncated HDF5 file, and a file that is not HDF5', async () => {
    const good = tmp.path('whole.nir');
    await writeRaw(good, '1.0.0', graph());
    const bytes = readFileSync(good);
    for (const cut of [bytes.length >> 1, bytes.length - 64, 600]) {
      const m = await refusal((p) => { writeFileSync(p, bytes.subarray(0, cut)); });
      assert.match(m, /^NIR file "b\d+\.nir": /);
      assert.match(m, /cannot (open|read)|dataset|group|object|has no group/);
    }
    const m = await refusal((p) => { writeFileSync(p, 'version,node\n1,2\n'); });
    assert.match(m, /NIR file "b\d+\.nir": not an HDF5 file/);
  });

  test('an empty graph, a non-finite parameter, τ ≤ 0, an Output only a cycle reaches', async () => {
    assert.match(await refusal(async (p) => { await writeRaw(p, '1.0.0', { type: 'NIRGraph', nodes: {}, edges: [] }); }), /the top-level graph has 0 Input nodes/);
    assert.match(await refusal(graph((n) => { n.lif = { ...(n.lif as object), v_threshold: f4([1, NaN]) } as unknown as Node; })), /node "lif" \(LIF\): dataset "v_threshold" holds NaN at index 1/);
    assert.match(await refusal(graph((n) => { n.lif = { ...(n.lif as object), tau: f4([1e-3, 0]) } as unknown as Node; })), /node "lif" \(LIF\): dataset "tau" holds 0 at index 1; a time constant must be > 0/);
    assert.match(await refusal(graph((n, e) => {
      n.loop = { type: 'Linear', weight: f4([1, 0, 0, 1], [2, 2]) };
      e.splice(0, e.length, ['input', 'fc'], ['lif', 'output'], ['lif', 'loop'], ['loop', 'lif']);
    })), /the Output node "output" cannot be reached from the Input/);
  });
});
