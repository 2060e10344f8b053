import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closes, datas, nodeServer, opens, record, run, waitFor } from './helpers.js';

const rec = record();
after(() => rec.tracer.close());

// HTTP-looking bytes through a file, a pipe, UDP (v4 and v6, sendto and connected send),
// a unix socketpair and a unix listening socket; then one real TCP request, so the test knows
// the tracer was seeing this process all along.
const script = String.raw`
import os, socket, sys, tempfile
msg = b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
d = tempfile.mkdtemp(prefix='wisp-capture-')
p = os.path.join(d, 'f')
with open(p, 'wb') as f: f.write(msg)
with open(p, 'rb') as f: f.read()
r, w = os.pipe(); os.write(w, msg); os.read(r, 100)
for fam, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
    u1 = socket.socket(fam, socket.SOCK_DGRAM); u1.bind((host, 0))
    u2 = socket.socket(fam, socket.SOCK_DGRAM)
    u2.sendto(msg, u1.getsockname()); u1.recvfrom(100)
    u2.connect(u1.getsockname()); u2.send(msg); u1.recv(100)
a, b = socket.socketpair(); a.sendall(msg); b.recv(100)
path = os.path.join(d, 'sock')
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); srv.bind(path); srv.listen()
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(path)
s, _ = srv.accept(); c.sendall(msg); s.recv(100); s.sendall(b'HTTP/1.1 200 OK\r\n\r\n'); c.recv(100)
t = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
t.sendall(b'GET /tcp HTTP/1.1\r\nHost: x\r\n\r\n'); t.recv(1000); t.close()
`;

test('files, pipes, UDP and unix sockets produce no events; TCP in the same process does', async () => {
  const server = await nodeServer('127.0.0.1');
  const port = Number(server.firstLine);
  after(() => server.proc.kill());
  const py = await run('python3', ['-c', script, String(port)]);
  await waitFor(rec, 'the TCP close', () => closes(rec.events, py.pid).length >= 1);
  const mine = rec.events.filter((e) => e.pid === py.pid);
  const [tcp] = opens(rec.events, py.pid);
  assert.ok(tcp && tcp.remotePort === port);
  assert.deepEqual(mine.filter((e) => e.connKey !== tcp.connKey), [], 'only the TCP connection shows');
  assert.ok(datas(rec.events, tcp.connKey).length >= 2);
});

const nonHttp = String.raw`
import socket
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
c = socket.create_connection(srv.getsockname()); s, _ = srv.accept()
for i in range(100):
    c.sendall(b'hello world %03d\n' % i); s.recv(100)
    s.sendall(b'HELLO WORLD %03d\n' % i); c.recv(100)
c.close(); s.close()
`;

test('non-HTTP TCP opens and closes with byte counts, and copies no data', async () => {
  const before = rec.tracer.stats().drops.non_http_bytes!;
  const py = await run('python3', ['-c', nonHttp]);
  await waitFor(rec, 'both closes', () => closes(rec.events, py.pid).length >= 2);
  const o = opens(rec.events, py.pid);
  assert.deepEqual(o.map((e) => e.role).sort(), [1, 2]);
  assert.deepEqual(rec.events.filter((e) => e.pid === py.pid && e.kind === 'data'), []);
  for (const c of closes(rec.events, py.pid)) {
    assert.equal(c.egressBytes, 1600n);
    assert.equal(c.ingressBytes, 1600n);
  }
  assert.ok(rec.tracer.stats().drops.non_http_bytes! - before >= 6400, 'the skipped bytes are counted');
});
