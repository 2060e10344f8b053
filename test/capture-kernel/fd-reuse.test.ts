import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closes, datas, nodeServer, opens, record, run, stream, waitFor } from './helpers.js';

const rec = record();
after(() => rec.tracer.close());

// A client process whose sequential connections get the same fd number each time, then a dup2
// that swaps the socket under an fd without any close(2) on it. The server is another process.
const script = String.raw`
import json, os, socket, sys
addr = ('127.0.0.1', int(sys.argv[1]))
def get(s, path):
    s.sendall(b'GET ' + path + b' HTTP/1.1\r\nHost: x\r\n\r\n')
    resp = b''
    while not resp.endswith(path):
        resp += s.recv(1000)
fds = []
for i in range(3):
    s = socket.create_connection(addr)
    fds.append(s.fileno())
    get(s, b'/%d' % i)
    s.close()
a = socket.create_connection(addr)
b = socket.create_connection(addr)
os.dup2(b.fileno(), a.fileno())
get(a, b'/d')
print(json.dumps({'fds': fds, 'a': a.fileno()}))
`;

test('fd reuse never mixes connections: sequential reuse and dup2 over a live fd', async () => {
  const server = await nodeServer('127.0.0.1', 'res.end(req.url);');
  const port = Number(server.firstLine);
  after(() => server.proc.kill());
  const py = await run('python3', ['-c', script, String(port)]);
  const out = JSON.parse(py.stdout) as { fds: number[]; a: number };
  assert.equal(new Set(out.fds).size, 1, `the clients reused one fd: ${out.fds}`);
  const fd = out.fds[0]!;
  await waitFor(rec, 'three client closes on the reused fd', () =>
    closes(rec.events, py.pid).filter((c) => c.fd === fd).length >= 3);

  const clientOpens = opens(rec.events, py.pid).filter((o) => o.remotePort === port && o.role === 1);
  const sequential = clientOpens.filter((o) => o.fd === fd).slice(0, 3);
  assert.equal(new Set(sequential.map((o) => o.connKey)).size, 3, 'three distinct connKeys on one fd');
  sequential.forEach((o, i) => {
    assert.equal(stream(rec.events, o.connKey, 'egress').toString(), `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.match(stream(rec.events, o.connKey, 'ingress').toString(), new RegExp(`^HTTP/1\\.1 200 OK\r\n[^]*\r\n\r\n/${i}$`));
    assert.equal(datas(rec.events, o.connKey)[0]!.pos, 0n, 'each connection counts from 0');
  });

  // fd a held connection A until dup2 put B's socket there: A ends (no bytes), and the request
  // written through fd a belongs to a new connection, picked up mid-stream as a client.
  const seqKeys = new Set(sequential.map((o) => o.connKey));
  await waitFor(rec, 'the dup2 request', () =>
    opens(rec.events, py.pid).filter((o) => o.fd === out.a && !seqKeys.has(o.connKey)).length >= 2);
  const [first, lazy] = opens(rec.events, py.pid).filter((o) => o.fd === out.a && !seqKeys.has(o.connKey));
  assert.ok(first && lazy);
  const aClose = closes(rec.events, py.pid).find((c) => c.connKey === first.connKey);
  assert.ok(aClose, 'the replaced connection was closed');
  assert.equal(aClose.egressBytes + aClose.ingressBytes, 0n);
  assert.ok(aClose.tsNs <= lazy.tsNs, 'the old connection ends before the new one starts');
  assert.equal(lazy.role, 1, 'it wrote a request, so it is the client');
  assert.equal(lazy.remotePort, port);
  assert.equal(stream(rec.events, lazy.connKey, 'egress').toString(), 'GET /d HTTP/1.1\r\nHost: x\r\n\r\n');
});
