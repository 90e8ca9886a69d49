/**
 * Script of the browser demo page (index.html): loads the wasm kernels (`?body=relaxed` for the relaxed-SIMD
 * body), runs lenet on one thread, then on the `?threads=n` of the page's address (Web Workers, in a
 * cross-origin-isolated page), and shows both results as JSON in <pre id="result">.
 */
import { initWasm, setThreads } from '../../src/browser.js';
import { runLenet, type LenetRun } from './lenet.js';

/** What the page shows: whether it was cross-origin isolated, and one run per thread setting. */
export interface PageResult {
  readonly crossOriginIsolated: boolean;
  readonly runs: LenetRun[];
}

/** Threads asked for in the page's address (`?threads=n`, 1 … 16), default 2. */
function threadsWanted(): number {
  const n = Number(new URLSearchParams(location.search).get('threads') ?? '2');
  return Number.isInteger(n) && n >= 1 && n <= 16 ? n : 2;
}

/** The compiled body asked for in the page's address (`?body=relaxed`), else the default. */
function bodyWanted(): 'relaxed' | undefined {
  return new URLSearchParams(location.search).get('body') === 'relaxed' ? 'relaxed' : undefined;
}

/** Runs the demo and writes its result (or the error) into the page. */
export async function main(): Promise<void> {
  const out = document.getElementById('result')!;
  try {
    const runs: LenetRun[] = [];
    const body = bodyWanted();
    setThreads(1);
    await initWasm({ body });
    runs.push(runLenet());
    const n = threadsWanted();
    if (n > 1) {
      setThreads(n);
      await initWasm({ body }); // starts the workers
      runs.push(runLenet());
    }
    const result: PageResult = { crossOriginIsolated: globalThis.crossOriginIsolated === true, runs };
    out.textContent = JSON.stringify(result);
    document.title = 'edgespike: done';
  } catch (e) {
    out.textContent = JSON.stringify({ error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
    document.title = 'edgespike: error';
  }
}
