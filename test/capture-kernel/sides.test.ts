/**
 * TracerOptions.sides: a tracer of one side makes no events for connections of the other, both
 * for connections seen from accept/connect and for ones found mid-stream (their side known
 * from who writes the request); their bytes are counted in side_bytes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Tracer } from '../../src/engine/capture/tracer.js';
import { closes, nodeServer, opens, record, run, start, stream, waitFor, type Recording } from './helpers.js';

// Connects before the tracers exist, then on SIGUSR1 sends a request and reads the answer.
const script = String.raw`
import signal, socket, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
signal.sigwait([signal.SIGUSR1])
s.sendall(b'GET /early HTTP/1.1\r\nHost: x\r\n\r\n')
r = b''
while not r.endswith(b'/early'):
    r += s.recv(1000)
s.close()
`;

test('a server-side tracer and a client-side tracer see complementary ends of the same traffic', async () => {
  const server = await nodeServer('127.0.0.1', 'res.end(req.url);');
  const port = Number(server.firstLine);
  after(() => server.proc.kill());
  const early = await start('python3', ['-c', script, String(port)]);
  after(() => early.proc.kill());

  const servers = record({ sides: 'server' });
  const clients = record({ sides: 'client' });
  after(() => { servers.tracer.close(); clients.tracer.close(); });
  const before = [servers, clients].map((r) => r.tracer.stats().drops.side_bytes!);
  early.proc.kill('SIGUSR1');
  await early.exit;
  const curl = await run('curl', ['-sS', `http://127.0.0.1:${port}/curl`]);
  assert.equal(curl.stdout, '/curl');

  const requestsOf = (r: Recording, pid: number, dir: 'egress' | 'ingress'): string =>
    opens(r.events, pid).map((o) => stream(r.events, o.connKey, dir).toString()).join('');
  await waitFor(servers, 'both requests at the server', () => /GET \/early [^]*GET \/curl /.test(requestsOf(servers, server.pid, 'ingress')));
  await waitFor(clients, 'both clients\' closes', () => closes(clients.events, curl.pid).length === 1 && closes(clients.events, early.pid).length === 1);

  // Server side: the accepted connection and the one found mid-stream, both role 2; no client events.
  assert.deepEqual(opens(servers.events, server.pid).map((o) => o.role), [2, 2]);
  assert.deepEqual(servers.events.filter((e) => e.pid === curl.pid || e.pid === early.pid), [], 'the server-side tracer saw no client');
  // Client side: curl (connect) and the early client (found mid-stream), both role 1; nothing of the server.
  const curlRequest = requestsOf(clients, curl.pid, 'egress');
  assert.match(curlRequest, /^GET \/curl HTTP\/1\.1\r\n[^]*\r\n\r\n$/);
  assert.ok(requestsOf(servers, server.pid, 'ingress').endsWith(curlRequest), 'both ends captured the same request');
  assert.equal(requestsOf(clients, early.pid, 'egress'), 'GET /early HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual([...opens(clients.events, curl.pid), ...opens(clients.events, early.pid)].map((o) => o.role), [1, 1]);
  assert.deepEqual(clients.events.filter((e) => e.pid === server.pid), [], 'the client-side tracer saw no server');

  // Each counted the other side's bytes (other processes on the machine may add to them).
  const ingress = Buffer.byteLength(requestsOf(servers, server.pid, 'ingress'));
  const egress = Buffer.byteLength(requestsOf(clients, curl.pid, 'ingress') + requestsOf(clients, early.pid, 'ingress'));
  assert.ok(servers.tracer.stats().drops.side_bytes! - before[0]! >= ingress + egress, 'the server-side tracer counted the clients\' bytes');
  assert.ok(clients.tracer.stats().drops.side_bytes! - before[1]! >= ingress + egress, 'the client-side tracer counted the server\'s bytes');
});

test('an unknown side is refused', () => {
  assert.throws(() => Tracer.open({ sides: 'proxy' as 'server' }), /option sides must be 'server', 'client' or 'both', got "proxy"/);
});
