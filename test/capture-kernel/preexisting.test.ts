import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { datas, nodeServer, opens, record, start, stream, waitFor } from './helpers.js';

// Connects and sends half a request body before the tracer exists; on SIGUSR1 sends the rest
// (the first bytes the tracer sees are mid-message), reads the response, then a second request.
const script = String.raw`
import signal, socket, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789')
print(s.getsockname()[1], flush=True)
signal.sigwait([signal.SIGUSR1])
def response(tag):
    r = b''
    while not r.endswith(tag):
        got = s.recv(1000)
        if not got:
            sys.exit('closed early')
        r += got
s.sendall(b'abcdefghij')
response(b'/first')
s.sendall(b'GET /second HTTP/1.1\r\nHost: x\r\n\r\n')
response(b'/second')
s.close()
`;

test('connections open before the tracer are picked up at the next message, roles inferred', async () => {
  const server = await nodeServer('127.0.0.1', "req.resume(); req.on('end', () => res.end(req.url));");
  const port = Number(server.firstLine);
  after(() => server.proc.kill());
  const client = await start('python3', ['-c', script, String(port)]);
  const clientPort = Number(client.firstLine);

  const rec = record();
  after(() => rec.tracer.close());
  client.proc.kill('SIGUSR1');
  const [code] = await client.exit;
  assert.equal(code, 0, client.stderr());
  await waitFor(rec, 'the second exchange on both ends', () =>
    [client.pid, server.pid].every((pid) => opens(rec.events, pid).some((o) =>
      stream(rec.events, o.connKey, pid === client.pid ? 'ingress' : 'egress').toString().endsWith('/second'))));

  // Announced when first seen, role 0 (both sides are traced: every TCP connection counts in
  // conn_stats), then again once a message start shows the role.
  const cliOpens = opens(rec.events, client.pid);
  const srvOpens = opens(rec.events, server.pid).filter((o) => o.remotePort === clientPort);
  assert.deepEqual(cliOpens.map((o) => o.role), [0, 1]);
  assert.deepEqual(srvOpens.map((o) => o.role), [0, 2]);
  assert.equal(new Set([...cliOpens, ...srvOpens].map((o) => o.connKey)).size, 2, 'one connection per end');
  const cli = cliOpens.at(-1);
  const srv = srvOpens.at(-1);
  assert.ok(cli && srv);
  assert.deepEqual([cli.role, cli.localPort, cli.remotePort], [1, clientPort, port], 'it read a response: client');
  assert.deepEqual([srv.role, srv.localPort, srv.remotePort], [2, port, clientPort], 'it wrote a response: server');
  // The body's tail was not a message start: nothing of it is emitted, yet positions count it.
  const [firstOut] = datas(rec.events, cli.connKey, 'egress');
  assert.equal(firstOut!.pos, 10n);
  assert.equal(stream(rec.events, cli.connKey, 'egress').toString(), 'GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(stream(rec.events, cli.connKey, 'ingress').toString(), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/firstHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/second$/);
  assert.ok(stream(rec.events, srv.connKey, 'egress').toString().endsWith('/second'));
});
