/**
 * What the commands of a served split (device, fuse, infer) share: the broker connection flags, read and
 * checked before any work, and the wait for a stop (SIGINT, SIGTERM, or the end of the parent that
 * started the process with an IPC channel, as serveSplit does).
 */
import { EdgespikeError } from '../util/errors.js';
import { brokerOptions, type BrokerOptions } from '../split/link.js';
import { checkPrefix } from '../split/protocol.js';

/** The flags of a broker connection. */
export const connectionArgs = {
  prefix: { type: 'string', description: 'topic prefix (default edgespike/<first 8 hex digits of the split hash>)' },
  username: { type: 'string', description: 'broker user name' },
  password: { type: 'string', description: 'broker password (needs --username)' },
  'tls-ca': { type: 'string', description: 'PEM file of the CA that signed the broker certificate (mqtts:// or wss://)' },
  'tls-cert': { type: 'string', description: 'PEM file of this client certificate (with --tls-key)' },
  'tls-key': { type: 'string', description: 'PEM file of this client key (with --tls-cert)' },
} as const;

type Flags = Partial<Record<keyof typeof connectionArgs, unknown>>;

const opt = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

/** The broker options of the flags (TLS files read and checked). */
export function brokerFromFlags(url: string, a: Flags): BrokerOptions {
  return brokerOptions({
    url, flag: '--broker', username: opt(a.username), password: opt(a.password),
    tlsCa: opt(a['tls-ca']), tlsCert: opt(a['tls-cert']), tlsKey: opt(a['tls-key']),
  });
}

/** --prefix, checked, or undefined for the split's default. */
export function prefixFromFlags(a: Flags): string | undefined {
  return a.prefix === undefined ? undefined : checkPrefix(String(a.prefix));
}

/** Refuses connection flags that mean nothing for an embedded broker. */
export function noConnectionFlags(a: Flags, why: string): void {
  for (const k of ['username', 'password', 'tls-ca', 'tls-cert', 'tls-key'] as const) {
    if (a[k] !== undefined) throw new EdgespikeError(`--${k}: ${why}`);
  }
}

/**
 * Watches for a request to stop: SIGINT, SIGTERM, or (when a parent started the process with an IPC
 * channel) the parent's end. `stopped` resolves with the reason; a second signal exits at once; dispose()
 * removes the handlers (when the command fails before it serves).
 */
export function stopSignal(): { stopped: Promise<string>; dispose(): void } {
  let resolve!: (why: string) => void, asked = false;
  const stopped = new Promise<string>((r) => { resolve = r; });
  const stop = (why: string): void => {
    if (asked) process.exit(130);
    asked = true;
    resolve(why);
  };
  const onInt = (): void => stop('SIGINT'), onTerm = (): void => stop('SIGTERM'), onParent = (): void => stop('the parent process ended');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  if (process.send) {
    process.on('disconnect', onParent);
    process.channel?.unref(); // the channel alone does not keep the process running once it has stopped
  }
  return {
    stopped,
    dispose() { process.off('SIGINT', onInt); process.off('SIGTERM', onTerm); process.off('disconnect', onParent); },
  };
}

/** Exits after `ms` if something still holds the process open once its work is stopped. */
export function exitSoon(ms = 2000): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), ms).unref();
}
