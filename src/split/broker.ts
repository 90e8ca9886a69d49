/**
 * The embedded MQTT broker (aedes, in memory) that `edgespike fuse --broker embedded[:PORT]` and
 * serveSplit start on 127.0.0.1, so one machine serves a split with nothing else installed.
 */
import { createServer, type Socket } from 'node:net';
import { EdgespikeError } from '../util/errors.js';
import { importOptional } from '../util/optional.js';

/** A running embedded broker. */
export interface EmbeddedBroker {
  readonly host: string;
  /** The port it listens on (the one chosen when 0 was asked for). */
  readonly port: number;
  /** mqtt://host:port */
  readonly url: string;
  /** Closes every connection and the listening socket. */
  close(): Promise<void>;
}

/** Default MQTT port. */
export const MQTT_PORT = 1883;

/** Starts an aedes broker on host:port (port 0: any free port). */
export async function startBroker(port = MQTT_PORT, host = '127.0.0.1'): Promise<EmbeddedBroker> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new EdgespikeError(`broker: port must be an integer 0 … 65535, got ${port}`);
  const { Aedes } = await importOptional('aedes', 'broker', () => import('aedes'));
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true); // forward small messages at once (no Nagle delay)
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      aedes.close();
      reject(new EdgespikeError(`broker: cannot listen on ${host}:${port} (${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EACCES' ? 'permission denied' : e.message})`));
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    host, port: bound, url: `mqtt://${host}:${bound}`,
    close: () => new Promise<void>((resolve) => {
      aedes.close(() => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    }),
  };
}
