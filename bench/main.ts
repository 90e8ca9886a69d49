/**
 * Benchmark entry: `node dist/bench/main.js NAME` (npm run bench -- NAME) runs one benchmark, which prints
 * JSON lines. Unknown names exit 2 with a one-line message.
 */
import { runEngineBench } from './engine.js';
import { runTrainBench } from './train.js';
import { benchEvents } from './events.js';
import { runSgBench } from './sg.js';
import { runQuantBench, runQuantKernelsBench } from './quant.js';
import { runSplitBench } from './split.js';

/** The benchmarks by name. */
const BENCHES: Record<string, () => Promise<void>> = {
  engine: runEngineBench,
  train: runTrainBench,
  events: benchEvents,
  sg: runSgBench,
  'quant-kernels': runQuantKernelsBench,
  quant: runQuantBench,
  split: runSplitBench,
};

const name = process.argv[2] ?? '';
const bench = Object.hasOwn(BENCHES, name) ? BENCHES[name] : undefined;
if (bench === undefined) {
  process.stderr.write(`bench: unknown benchmark ${JSON.stringify(name)}; expected one of ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
await bench();
