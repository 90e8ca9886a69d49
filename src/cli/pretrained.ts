/**
 * `edgespike pretrained list|get NAME`: the models shipped in the package's pretrained/ folder, with the
 * data set, stored widths and measured test accuracy of each; `get` copies one to a file. Any command that
 * takes a model file also takes one of these names.
 */
import { defineCommand } from 'citty';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { checkOutputFile } from '../util/fsx.js';
import { pretrainedFile, pretrainedModels } from '../models/pretrained.js';
import { checkFlags, printJson } from './_args.js';

const listArgs = {
  json: { type: 'boolean', description: 'print the index as one JSON object' },
} as const;

const listCommand = defineCommand({
  meta: { name: 'list', description: 'List the pretrained models with their measured test accuracy' },
  args: listArgs,
  run({ args: a, rawArgs }) {
    checkFlags('pretrained list', rawArgs, listArgs);
    const models = pretrainedModels();
    if (a.json) { printJson({ models }); return; }
    const rows = models.map((m) => [m.name, m.dataset, m.weights === 'float' ? 'float32' : `${m.weights} weights, ${m.membrane} membrane`,
      `${(100 * m.test_accuracy).toFixed(2)} %`, `${(m.bytes / 1024).toFixed(0)} KiB`, m.description]);
    const head = ['name', 'data set', 'stored as', 'test accuracy', 'size', ''];
    const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]): string => r.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd();
    process.stdout.write([line(head), ...rows.map(line), '',
      'Use a name where a model file goes (edgespike predict lenet-mnist digit.png), or copy one: edgespike pretrained get NAME --out m.es', ''].join('\n'));
  },
});

const getArgs = {
  name: { type: 'positional', description: 'pretrained model name (edgespike pretrained list)', required: true },
  out: { type: 'string', description: 'model file to write (default: NAME.es)' },
} as const;

const getCommand = defineCommand({
  meta: { name: 'get', description: 'Copy a pretrained model to a file' },
  args: getArgs,
  run({ args: a, rawArgs }) {
    checkFlags('pretrained get', rawArgs, getArgs);
    const name = String(a.name), out = String(a.out ?? `${name}.es`);
    const src = pretrainedFile(name);
    checkOutputFile('--out', out);
    writeFileAtomic(out, readFileSync(src));
    process.stdout.write(`${out}: ${name} (${pretrainedModels().find((m) => m.name === name)!.description})\n`);
  },
});

export const pretrainedCommand = defineCommand({
  meta: { name: 'pretrained', description: 'Models trained by our recipes, shipped in the package: list them, or copy one' },
  subCommands: { list: listCommand, get: getCommand },
});
