// The README's command lines, each command's --help and the flag parser describe the same flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { subCommands } from '../../src/cli/main.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'bin', 'edgespike.js');

interface ArgDef { readonly type: string; readonly alias?: string | readonly string[] }
interface Cmd { readonly args?: Record<string, ArgDef>; readonly subCommands?: Record<string, Cmd> }

/** Every flag a command accepts: its names and aliases ("-o" and "--out"). */
function flagsOf(cmd: Cmd): Set<string> {
  const out = new Set<string>(['--help', '-h']);
  for (const [name, def] of Object.entries(cmd.args ?? {})) {
    if (def.type === 'positional') continue;
    out.add(`--${name}`);
    if (def.type === 'boolean') out.add(`--no-${name}`);
    for (const a of [def.alias ?? []].flat()) out.add(a.length === 1 ? `-${a}` : `--${a}`);
  }
  return out;
}

/** The command lines of the README's sh blocks: ["edgespike train --model lenet … # --limit N", …]. */
function readmeLines(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const lines: string[] = [];
  for (const m of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const l of m[1]!.split('\n')) if (/^edgespike /.test(l.trim())) lines.push(l.trim());
  }
  return lines;
}

test('every flag in the README\'s command lines (and their comments) is one the command accepts', () => {
  const lines = readmeLines();
  assert.ok(lines.length >= 15, `${lines.length} edgespike command lines in the README`);
  const commands = subCommands as unknown as Record<string, Cmd>;
  for (const line of lines) {
    const words = line.split(/\s+/);
    const name = words[1]!;
    assert.ok(Object.hasOwn(commands, name), `README: "${line}" names no command`);
    let cmd = commands[name]!, label = name;
    if (cmd.subCommands) {
      assert.ok(Object.hasOwn(cmd.subCommands, words[2]!), `README: "${line}" names no action of ${name}`);
      cmd = cmd.subCommands[words[2]!]!; label += ` ${words[2]}`;
    }
    const accepted = flagsOf(cmd);
    for (const f of line.match(/(?<![\w-])--?[a-z][a-z0-9-]*/g) ?? []) {
      assert.ok(accepted.has(f), `README: "${line}": edgespike ${label} has no flag ${f} (it takes ${[...accepted].join(' ')})`);
    }
  }
});

test('each command\'s and action\'s --help lists exactly its own flags', () => {
  const commands = subCommands as unknown as Record<string, Cmd>;
  const all: [string[], Cmd][] = [];
  for (const [name, cmd] of Object.entries(commands)) {
    if (cmd.subCommands) for (const [sub, c] of Object.entries(cmd.subCommands)) all.push([[name, sub], c]);
    else all.push([[name], cmd]);
  }
  const everyFlag = new Set(all.flatMap(([, c]) => [...flagsOf(c)].filter((f) => f.startsWith('--') && !f.startsWith('--no-'))));
  for (const [argv, cmd] of all) {
    const r = spawnSync(process.execPath, [bin, ...argv, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${argv.join(' ')} --help: ${r.stderr}`);
    const help = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(help, new RegExp(`edgespike ${argv.join(' ')}`), `${argv.join(' ')} --help names the command`);
    const own = flagsOf(cmd);
    for (const f of own) if (f.startsWith('--') && !f.startsWith('--no-') && f !== '--help') assert.ok(help.includes(f), `${argv.join(' ')} --help lacks ${f}`);
    // no flag of another command appears (the parent's help shown for an action would fail here)
    // (the option lines only: a description may mention another command's flag)
    const options = help.slice(help.indexOf('OPTIONS'));
    const shown = new Set([...options.matchAll(/^\s*(?:-\w+,\s*)?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]!));
    assert.ok(shown.size > 0 || own.size <= 3, `${argv.join(' ')} --help lists no options`);
    for (const f of shown) if (everyFlag.has(f)) assert.ok(own.has(f), `${argv.join(' ')} --help shows ${f}, which it does not take`);
  }
});
