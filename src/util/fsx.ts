/**
 * File-system checks and calls that fail with one line naming the path: output paths checked before any
 * work starts, directories made one level at a time, inputs read only when they are regular files of a
 * bounded size, and temporary files of dead writers removed.
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EdgespikeError } from './errors.js';

/** Largest input file read whole unless a reader says otherwise (model files, images, event files). */
export const MAX_INPUT_BYTES = 4 * 2 ** 30;

/** A one-line error for a failed file-system call on `path` while `doing` something. */
export function fsError(path: string, doing: string, e: unknown): EdgespikeError {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: 'no such file or directory', EISDIR: 'is a directory', ENOTDIR: 'a part of the path is not a directory',
    EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOSPC: 'no space left on the device',
    EEXIST: 'already exists', EMFILE: 'too many open files', ENAMETOOLONG: 'name too long', ELOOP: 'too many symbolic links',
  };
  const code = err?.code;
  return new EdgespikeError(`${path}: cannot ${doing}${code ? ` (${why[code] ?? code})` : err instanceof Error ? ` (${err.message})` : ''}`);
}

function statOrNull(path: string): Stats | null {
  try { return statSync(path); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(path, 'be read', e);
  }
}

function writable(path: string): boolean {
  try { accessSync(path, constants.W_OK); return true; } catch { return false; }
}

/**
 * True when a file can be created in the directory `dir`: one is created and removed. The permission bits
 * alone say yes for root on file systems that refuse new files (/proc, /sys, a read-only mount).
 */
function canCreateIn(dir: string): boolean {
  if (!writable(dir)) return false;
  const probe = join(dir, `.edgespike-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch {
    return false;
  }
  try { rmSync(probe, { force: true }); } catch { /* the probe is empty; a leftover is harmless */ }
  return true;
}

/**
 * Checks, before any work, that a file can be written at `path` (given with `flag`): its folder exists
 * and is a writable directory, and `path` is not a directory (an existing file must be writable).
 */
export function checkOutputFile(flag: string, path: string): void {
  if (path === '') throw new EdgespikeError(`${flag}: expected a file path, got an empty string`);
  const abs = resolve(path), dir = dirname(abs);
  const d = statOrNull(dir);
  if (!d) throw new EdgespikeError(`${flag} ${path}: the folder ${dir} does not exist`);
  if (!d.isDirectory()) throw new EdgespikeError(`${flag} ${path}: ${dir} is not a directory`);
  if (!canCreateIn(dir)) throw new EdgespikeError(`${flag} ${path}: the folder ${dir} is not writable`);
  const f = statOrNull(abs);
  if (f?.isDirectory()) throw new EdgespikeError(`${flag} ${path}: is a directory, expected a file path`);
  if (f && !writable(abs)) throw new EdgespikeError(`${flag} ${path}: the file is not writable`);
}

/**
 * Checks, before any work, that `path` (given with `flag`) is a writable directory or can be made one:
 * the nearest part of it that exists is a writable directory.
 */
export function checkOutputDir(flag: string, path: string): void {
  if (path === '') throw new EdgespikeError(`${flag}: expected a folder path, got an empty string`);
  let at = resolve(path);
  for (;;) {
    const s = statOrNull(at);
    if (s) {
      if (!s.isDirectory()) throw new EdgespikeError(`${flag} ${path}: ${at} is not a directory`);
      if (!canCreateIn(at)) throw new EdgespikeError(`${flag} ${path}: ${at} is not writable`);
      return;
    }
    const up = dirname(at);
    if (up === at) throw new EdgespikeError(`${flag} ${path}: no part of the path exists`);
    at = up;
  }
}

/**
 * Makes directory `path` and its missing parents one level at a time (never the recursive call, which
 * hangs on some special file systems); errors name the level that failed.
 */
export function makeDirs(path: string): void {
  const abs = resolve(path), missing: string[] = [];
  let at = abs;
  while (!statOrNull(at)) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (statOrNull(at) && !statSync(at).isDirectory()) throw new EdgespikeError(`${path}: cannot make the folder (${at} is not a directory)`);
  for (const dir of missing.reverse()) {
    try { mkdirSync(dir); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(dir, 'make the folder', e);
    }
  }
}

/**
 * Reads a whole input file after checking it is a regular file (not a directory or a device such as
 * /dev/zero) of at most `maxBytes` bytes. `what` names the kind of file in errors.
 */
export function readInput(path: string, what: string, maxBytes = MAX_INPUT_BYTES): Buffer {
  let s: Stats;
  try { s = statSync(path); } catch (e) { throw fsError(path, `read the ${what}`, e); }
  if (s.isDirectory()) throw new EdgespikeError(`${path}: is a directory, expected ${article(what)} ${what}`);
  if (!s.isFile()) throw new EdgespikeError(`${path}: is not a regular file, expected ${article(what)} ${what}`);
  if (s.size > maxBytes) throw new EdgespikeError(`${path}: ${s.size} bytes is more than the ${maxBytes} a ${what} may have`);
  try { return readFileSync(path); } catch (e) { throw fsError(path, `read the ${what}`, e); }
}

const article = (word: string): string => (/^[aeiou]/i.test(word) ? 'an' : 'a');

/** True when process `pid` is running (signal 0 probes without sending). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Removes the temporary files that atomic writes of `path` left when their process died
 * (`.NAME.PID.TIME.tmp` beside it, PID not running). Returns the names removed.
 */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(resolve(path)), name = basename(path);
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return []; }
  const removed: string[] = [];
  const prefix = `.${name}.`;
  for (const f of entries) {
    if (!f.startsWith(prefix) || !f.endsWith('.tmp')) continue;
    const m = /^(\d+)\.\d+\.tmp$/.exec(f.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    rmSync(join(dir, f), { force: true });
    removed.push(f);
  }
  return removed;
}
