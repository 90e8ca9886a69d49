/**
 * The memory a run may use, so that sizes that come from input (a model file's shapes, T × batch ×
 * layer sizes, an image's dimensions, a frame count) are refused with one line before anything is
 * allocated, instead of failing inside an allocation. Node sets it from the machine at start (a share of
 * its memory, or EDGESPIKE_MAX_MEMORY); a page may set it itself.
 */
import { EdgespikeError } from './errors.js';

let budget = 4 * 2 ** 30;

/** Bytes a run may allocate for tensors, images and frames. */
export function memoryBudget(): number {
  return budget;
}

/** Sets the budget (bytes > 0). */
export function setMemoryBudget(bytes: number): void {
  if (!(Number.isFinite(bytes) && bytes > 0)) throw new EdgespikeError(`memory budget must be a number of bytes > 0, got ${bytes}`);
  budget = bytes;
}

/** "4G", "512M", "64k", "1e9" → bytes (binary units: k = 1024). */
export function parseBytes(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]i?b?)?\s*$/i.exec(text);
  const unit = m?.[2]?.[0]?.toLowerCase();
  const mult = unit === undefined ? 1 : 1024 ** (' kmgt'.indexOf(unit));
  const n = m ? Number(m[1]) * mult : NaN;
  if (!(Number.isFinite(n) && n > 0)) throw new EdgespikeError(`${what}: expected a size such as 4G, 512M or 1000000 (bytes), got "${text}"`);
  return Math.floor(n);
}

/** A byte count for messages: "3.2 GB", "411 MB", "12 kB" (decimal units). */
export function fmtBytes(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0, v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return i === 0 ? `${n} bytes` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/**
 * Throws unless `bytes` fits the budget: "<what> needs <n>, above the memory limit of <budget> (<fix>, or
 * raise EDGESPIKE_MAX_MEMORY)".
 */
export function checkBudget(bytes: number, what: string, fix: string): void {
  if (bytes > budget || !Number.isFinite(bytes)) {
    throw new EdgespikeError(`${what} needs ${fmtBytes(bytes)}, above the memory limit of ${fmtBytes(budget)} (${fix}, or raise EDGESPIKE_MAX_MEMORY)`);
  }
}
