/**
 * Argument checking shared by the commands: unknown flags are errors (citty ignores them), and
 * numbers are parsed strictly, each error naming the flag and what was expected.
 */
import type { ArgsDef } from 'citty';
import { EdgespikeError } from '../util/errors.js';

const aliases = (d: ArgsDef[string]): string[] => {
  const al = (d as { alias?: string | string[] }).alias;
  return Array.isArray(al) ? al : al ? [al] : [];
};
const kebab = (n: string): string => n.replace(/[A-Z]/g, (c: string) => `-${c.toLowerCase()}`);

/** Throws on any flag that the command does not define (including aliases and --no-x for booleans). */
export function checkFlags(cmd: string, raw: readonly string[], def: ArgsDef): void {
  const known = new Set<string>();
  for (const [name, d] of Object.entries(def)) {
    if (d.type === 'positional') continue;
    const names = [name, ...aliases(d)];
    for (const n of names) {
      known.add(n);
      known.add(kebab(n));
      if (d.type === 'boolean') known.add(`no-${n}`);
    }
  }
  let positional = 0;
  const maxPositional = Object.values(def).filter((d) => d.type === 'positional').length, seen = new Set<string>();
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    if (a === '--') break;
    if (!a.startsWith('-') || /^-\d/.test(a)) {
      const prev = raw[i - 1];
      const prevTakesValue = prev?.startsWith('-') && !prev.includes('=') && flagType(def, prev) !== 'boolean';
      if (!prevTakesValue && ++positional > maxPositional) throw new EdgespikeError(`${cmd}: unexpected argument "${a}"`);
      continue;
    }
    const name = a.replace(/^--?/, '').split('=')[0]!;
    if (!known.has(name)) throw new EdgespikeError(`${cmd}: unknown flag ${a.split('=')[0]} (see edgespike ${cmd} --help)`);
    const flag = a.split('=')[0]!, inline = a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined;
    // a flag given twice: which one was meant is not known (citty keeps the last)
    const key = flagKey(def, a)!;
    if (seen.has(key)) throw new EdgespikeError(`${cmd}: flag --${kebab(key)} given twice`);
    seen.add(key);
    if (flagType(def, a) === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new EdgespikeError(`${cmd}: flag ${flag} is true or false, got "${inline}"`);
      continue;
    }
    if (inline === undefined && (i + 1 >= raw.length || (raw[i + 1]!.startsWith('-') && !/^-\d/.test(raw[i + 1]!)))) {
      throw new EdgespikeError(`${cmd}: flag ${a} needs a value`);
    }
    if ((inline ?? raw[i + 1]!).trim() === '') throw new EdgespikeError(`${cmd}: flag ${flag} needs a value, got an empty string`);
  }
}

function flagType(def: ArgsDef, flag: string): string | undefined {
  const key = flagKey(def, flag);
  return key === undefined ? undefined : def[key]!.type;
}

/** The definition's name of a flag as written (--x, -x, --x=v, --no-x, an alias). */
function flagKey(def: ArgsDef, flag: string): string | undefined {
  const written = flag.replace(/^--?/, '').split('=')[0]!;
  for (const name of [written, written.replace(/^no-/, '')]) {
    for (const [n, d] of Object.entries(def)) {
      if (d.type === 'positional') continue;
      if ([n, kebab(n), ...aliases(d)].includes(name)) return n;
    }
  }
  return undefined;
}

/** True when `flag` (its definition's name, e.g. 'weight-bits') was written on the command line. */
export function given(raw: readonly string[], def: ArgsDef, flag: string): boolean {
  for (const a of raw) {
    if (a === '--') return false;
    if (a.startsWith('-') && !/^-\d/.test(a) && flagKey(def, a) === flag) return true;
  }
  return false;
}

/** A strictly parsed number flag: finite, optionally an integer, within [min, max]. */
export function num(flag: string, v: unknown, o: { int?: boolean; min?: number; max?: number } = {}): number {
  const s = String(v).trim();
  const x = s === '' ? NaN : Number(s);
  const what = o.int ? 'an integer' : 'a number';
  if (!Number.isFinite(x) || (o.int && !Number.isInteger(x))) throw new EdgespikeError(`--${flag}: expected ${what}, got "${s}"`);
  if (o.min !== undefined && x < o.min) throw new EdgespikeError(`--${flag}: expected ${what} ≥ ${o.min}, got ${s}`);
  if (o.max !== undefined && x > o.max) throw new EdgespikeError(`--${flag}: expected ${what} ≤ ${o.max}, got ${s}`);
  return x;
}

/** An optional number flag (undefined when absent; an empty value is an error, as for num). */
export function optNum(flag: string, v: unknown, o: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  return v === undefined ? undefined : num(flag, v, o);
}

/** A string flag restricted to a list of choices. */
export function choice<T extends string>(flag: string, v: unknown, choices: readonly T[]): T {
  const s = String(v);
  if (!choices.includes(s as T)) throw new EdgespikeError(`--${flag}: expected one of ${choices.join(', ')}, got "${s}"`);
  return s as T;
}

/** Prints a JSON object on one line (the --json contract). */
export function printJson(o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}
