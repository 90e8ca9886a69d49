/** Test helper process: serves a split folder with serveSplit, prints {url, prefix, pids} once ready, stops on SIGTERM. */
import { serveSplit } from '../../src/split/serve.js';

const [dir, port, timeout] = process.argv.slice(2);
const served = await serveSplit(dir!, { port: Number(port ?? 0), timeout: Number(timeout ?? 2000) });
process.stdout.write(JSON.stringify({ url: served.url, prefix: served.prefix, pids: served.pids(), devices: served.devices() }) + '\n');
await served.stopped;
process.stdout.write('stopped\n');
