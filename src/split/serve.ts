/**
 * Serving a whole split on one machine: an embedded broker and the coordinator in this process, and one
 * `edgespike device` child process per device of the manifest, all stopped together on SIGINT or SIGTERM.
 * A device process that exits is started again after a second (unless it exited for bad input, code 2);
 * the children hold an IPC channel to this process, so they stop by themselves if it dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSplit } from './manifest.js';
import { startCoordinator, type DeviceState } from './coordinator.js';
import { devicePlans } from './runtime.js';
import { MQTT_PORT } from './broker.js';

/** Options of serveSplit. */
export interface ServeOptions {
  /** Port of the embedded broker on 127.0.0.1 (default 1883; 0: any free port). */
  readonly port?: number;
  /** Milliseconds the coordinator waits for the devices' features. */
  readonly timeout?: number;
  readonly prefix?: string;
  /** Receives the coordinator's lines and the supervisor's (default: stderr). */
  readonly log?: (line: string) => void;
  /** Stop everything on SIGINT and SIGTERM (default true). */
  readonly signals?: boolean;
  /** Milliseconds serveSplit waits for every device to say hello before it resolves anyway (default 30000). */
  readonly readyTimeout?: number;
}

/** A split being served. */
export interface ServedSplit {
  /** The embedded broker's address, mqtt://127.0.0.1:PORT. */
  readonly url: string;
  readonly prefix: string;
  /** Each device's process id now (a restarted device has a new one). */
  pids(): Record<string, number>;
  /** Each device's state as the coordinator sees it. */
  devices(): Record<string, DeviceState>;
  /** Stops the device processes (SIGTERM, then SIGKILL after 3 s), the coordinator and the broker. */
  stop(): Promise<void>;
  /** Resolves once everything is stopped (by stop() or a signal). */
  readonly stopped: Promise<void>;
}

const BIN = fileURLToPath(new URL('../../../bin/edgespike.js', import.meta.url));

/** Serves split folder `dir`: embedded broker, coordinator, and one device process per device. */
export async function serveSplit(dir: string, opts: ServeOptions = {}): Promise<ServedSplit> {
  const m = readSplit(dir);
  const log = opts.log ?? ((line: string) => process.stderr.write(`edgespike serve: ${line}\n`));
  const coordinator = await startCoordinator(dir, {
    broker: { embedded: opts.port ?? MQTT_PORT },
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const launch = (name: string): void => {
    const child = spawn(process.execPath, [BIN, 'device', '--split', resolve(dir), '--name', name, '--broker', coordinator.url, '--prefix', coordinator.prefix], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // devices on one machine share its cores: one thread each unless told otherwise
      env: { EDGESPIKE_THREADS: '1', ...process.env },
    });
    children.set(name, child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      if (code === 2) { log(`device ${name} exited for bad input (see its line above); not started again`); return; }
      log(`device ${name} exited (${signal ?? `code ${code}`}); starting it again in 1 s`);
      setTimeout(() => { if (!stopping) launch(name); }, 1000);
    });
  };
  for (const p of devicePlans(m)) launch(p.name);

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => { resolveStopped = r; });
  const onSignal = (): void => { void stop(); };
  const stop = async (): Promise<void> => {
    if (stopping) return stopped;
    stopping = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all([...children.values()].map((c) => ended(c)));
    await coordinator.stop();
    resolveStopped();
  };
  if (opts.signals !== false) { process.on('SIGINT', onSignal); process.on('SIGTERM', onSignal); }

  const readyBy = Date.now() + (opts.readyTimeout ?? 30_000);
  while (!stopping && Date.now() < readyBy && !Object.values(coordinator.devices()).every((s) => s === 'online')) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: coordinator.url, prefix: coordinator.prefix,
    pids: () => Object.fromEntries([...children].map(([n, c]) => [n, c.pid!])),
    devices: () => coordinator.devices(),
    stop, stopped,
  };
}

/** Asks a child to stop (SIGTERM) and kills it after 3 s; resolves when it has exited. */
function ended(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => c.kill('SIGKILL'), 3000);
    c.once('exit', () => { clearTimeout(kill); resolve(); });
    c.kill('SIGTERM');
  });
}
