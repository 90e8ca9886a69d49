/**
 * A cell process for child.test.ts whose data loader misbehaves on purpose, by data set name: bad input
 * (an EdgespikeError), a bug (a TypeError), an exit without a row, a kill, or a hang.
 */
import { serveCell } from '../../src/evaluate/child.js';
import { EdgespikeError } from '../../src/util/errors.js';

serveCell(async (name) => {
  if (name === 'bad-input') throw new EdgespikeError('fixture: no such data');
  if (name === 'bug') throw new TypeError('fixture: x is undefined');
  if (name === 'exit') { process.stderr.write('fixture: giving up\n'); process.exit(3); }
  if (name === 'kill') process.kill(process.pid, 'SIGKILL');
  if (name === 'hang') for (;;) { /* a cell that never ends: only a kill stops it */ }
  throw new Error(`fixture: unexpected data set ${name}`);
});
