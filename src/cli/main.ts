/**
 * The edgespike command line: dispatches to one file per subcommand. Bad input (an EdgespikeError)
 * prints one line `edgespike: …` and exits 2; anything else is a bug and keeps its stack.
 */
import { defineCommand, runCommand, showUsage } from 'citty';
import { availableParallelism, totalmem } from 'node:os';
import { parseBytes, setMemoryBudget } from '../util/budget.js';
import { EdgespikeError } from '../util/errors.js';
import { setThreads, MAX_THREADS } from '../backends/index.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { predictCommand } from './predict.js';
import { infoCommand } from './info.js';
import { profileCommand } from './profile.js';
import { reportCommand } from './report.js';
import { dataCommand } from './data.js';
import { quantizeCommand } from './quantize.js';
import { convertCommand } from './convert.js';
import { splitCommand } from './split.js';
import { deviceCommand } from './device.js';
import { fuseCommand } from './fuse.js';
import { inferCommand } from './infer.js';
import { splitServeCommand } from './split-serve.js';
import { pretrainedCommand } from './pretrained.js';
import { serveCommand } from './serve.js';
import { nirCommand } from './nir.js';
import { evaluateCommand } from './evaluate.js';
import { workerCommand } from './worker.js';

export const subCommands = { train: trainCommand, eval: evalCommand, predict: predictCommand, info: infoCommand, profile: profileCommand, quantize: quantizeCommand, convert: convertCommand, split: splitCommand, report: reportCommand, data: dataCommand,
  serve: serveCommand, pretrained: pretrainedCommand, nir: nirCommand, evaluate: evaluateCommand, worker: workerCommand,
  device: deviceCommand, fuse: fuseCommand, infer: inferCommand };

/** Actions of a command that also runs without one (`edgespike split m.es …` and `edgespike split serve DIR`). */
export const commandActions: Record<string, Record<string, unknown>> = { split: { serve: splitServeCommand } };

const main = defineCommand({
  meta: { name: 'edgespike', version: '0.1.0', description: 'Train, compress, measure and run spiking neural networks on edge devices' },
  subCommands,
});

/**
 * The memory a command may use by default: half the machine's memory, at most 16 GiB (beyond it
 * WebAssembly memory and typed arrays run out before the machine does).
 */
function defaultBudget(): number {
  return Math.min(totalmem() / 2, 16 * 2 ** 30);
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name] = argv;
  if (argv.length === 0 || name === '--help' || name === '-h') { await showUsage(main); return argv.length === 0 ? 2 : 0; }
  if (name === '--version' || name === '-v') { process.stdout.write('0.1.0\n'); return 0; }
  if (!Object.hasOwn(subCommands, name!)) {
    process.stderr.write(`edgespike: unknown command "${name}" (commands: ${Object.keys(subCommands).join(', ')})\n`);
    return 2;
  }
  const action = commandActions[name!]?.[argv[1] ?? ''];
  if (action !== undefined) {
    const rest = argv.slice(2);
    if (rest.includes('--help') || rest.includes('-h')) {
      await showUsage(action as never, { ...subCommands[name as keyof typeof subCommands], meta: { name: `edgespike ${name}`, version: '0.1.0' } } as never);
      return 0;
    }
    return execute(`${name} ${argv[1]}`, action, rest);
  }
  const cmd = subCommands[name as keyof typeof subCommands];
  const rest = argv.slice(1);
  const subs = (cmd as { subCommands?: Record<string, unknown> }).subCommands;
  if (subs && !rest.includes('--help') && !rest.includes('-h') && !Object.hasOwn(subs, rest[0] ?? '')) {
    process.stderr.write(`edgespike ${name}: ${rest[0] === undefined ? 'needs an action' : `unknown action "${rest[0]}"`} (actions: ${Object.keys(subs).join(', ')})\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    // `edgespike data frames --help` shows the action's own flags, not its parent's
    const sub = subs && Object.hasOwn(subs, rest[0] ?? '') ? subs[rest[0]!] : undefined;
    if (sub) await showUsage(sub as never, { ...cmd, meta: { ...(cmd.meta as object), name: `edgespike ${name}`, version: '0.1.0' } } as never); else await showUsage(cmd as never, main as never);
    return 0;
  }
  return execute(name!, cmd, rest);
}

/** Runs one command with the memory budget and thread count set; an error is one line and an exit code. */
async function execute(name: string, cmd: unknown, rest: string[]): Promise<number> {
  try {
    setMemoryBudget(process.env.EDGESPIKE_MAX_MEMORY ? parseBytes(process.env.EDGESPIKE_MAX_MEMORY, 'EDGESPIKE_MAX_MEMORY') : defaultBudget());
    // Both cores (all of them) unless EDGESPIKE_THREADS says otherwise.
    if (!process.env.EDGESPIKE_THREADS) setThreads(Math.max(1, Math.min(availableParallelism(), MAX_THREADS)));
    await runCommand(cmd as never, { rawArgs: rest });
    return 0;
  } catch (e) {
    if (e instanceof EdgespikeError) { process.stderr.write(`edgespike: ${e.message}\n`); return e.exitCode; }
    const msg = e instanceof Error ? e.message : String(e);
    // Sizes are checked before work against the memory budget; an allocation the machine still refuses
    // (a lower ulimit, other processes) is reported the same way.
    if (e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer|Maximum memory size|could not allocate/i.test(msg)) {
      process.stderr.write(`edgespike ${name}: out of memory (${msg}); use smaller sizes, or set EDGESPIKE_MAX_MEMORY below what this machine allows\n`);
      return 2;
    }
    // citty reports missing required arguments as plain errors: they are usage errors too.
    if (/Missing required (argument|positional)/i.test(msg)) { process.stderr.write(`edgespike ${name}: ${msg}\n`); return 2; }
    throw e;
  }
}

if (process.argv[1] && /edgespike(\.js)?$|cli[\\/]main\.js$/.test(process.argv[1])) {
  // a reader that stops early (`edgespike info m.es | head -1`) closes the pipe: the rest of the output has
  // nowhere to go, which is not an error of the command
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  }
  runCli(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
