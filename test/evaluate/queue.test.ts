/** Queue addresses and names, checked before anything connects. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkQueueName, parseQueueUrl } from '../../src/evaluate/queue.js';

test('queue addresses and names', () => {
  assert.deepEqual(parseQueueUrl('--queue', 'redis://127.0.0.1:6380'), { address: 'redis://127.0.0.1:6380', options: { host: '127.0.0.1', port: 6380 } });
  assert.deepEqual(parseQueueUrl('--queue', 'redis://h').options, { host: 'h', port: 6379 });
  assert.deepEqual(parseQueueUrl('--queue', 'rediss://u:p%40ss@h:1/2'), { address: 'rediss://h:1/2', options: { host: 'h', port: 1, username: 'u', password: 'p@ss', db: 2, tls: {} } });
  assert.throws(() => parseQueueUrl('--queue', 'http://h:1'), /--queue: expected redis:\/\/HOST:PORT, got "http:\/\/h:1"/);
  assert.throws(() => parseQueueUrl('--queue', 'redis://h:99999'), /expected redis:\/\/HOST:PORT/);
  assert.throws(() => parseQueueUrl('--queue', 'redis://h:1/x'), /the path is a database number/);
  assert.throws(() => parseQueueUrl('--queue', 'h:1'), /expected redis:\/\/HOST:PORT/);
  assert.equal(checkQueueName('--queue-name', 'edgespike-evaluate.2'), 'edgespike-evaluate.2');
  assert.throws(() => checkQueueName('--queue-name', 'a:b'), /--queue-name: expected letters/);
  assert.throws(() => checkQueueName('--queue-name', ''), /--queue-name: expected letters/);
});
