/** Test helper process: an MQTT broker (aedes) on 127.0.0.1:PORT, as an external broker would be; prints "ready PORT". */
import { startBroker } from '../../src/split/broker.js';

const b = await startBroker(Number(process.argv[2] ?? 0));
process.stdout.write(`ready ${b.port}\n`);
process.on('SIGTERM', () => { void b.close().then(() => process.exit(0)); });
