import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { closes, nodeServer, opens, record, waitFor } from './helpers.js';

function fetchHere(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

test('the tracer leaves its own process out by default, and includes it when asked', async () => {
  const server = await nodeServer('127.0.0.1');
  const port = Number(server.firstLine);
  after(() => server.proc.kill());

  const excluding = record();
  after(() => excluding.tracer.close());
  await fetchHere(port, '/self-1');
  await waitFor(excluding, 'the server side of /self-1', () => closes(excluding.events, server.pid).length >= 1);
  assert.deepEqual(excluding.events.filter((e) => e.pid === process.pid), []);

  const including = record({ excludeSelf: false });
  after(() => including.tracer.close());
  await fetchHere(port, '/self-2');
  await waitFor(including, 'our own client side of /self-2', () => closes(including.events, process.pid).length >= 1);
  const [mine] = opens(including.events, process.pid);
  assert.ok(mine);
  assert.deepEqual([mine.role, mine.remotePort], [1, port]);
  excluding.tracer.drain();
  assert.deepEqual(excluding.events.filter((e) => e.pid === process.pid), [], 'still excluded by the first tracer');
});
