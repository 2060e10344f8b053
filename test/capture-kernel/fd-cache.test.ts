/**
 * The enter half caches what an fd held: the file a traced connection was found through, and
 * (negatively) files that are not TCP sockets. A cached answer counts only while the fd still
 * holds that file, so an fd that changes hands without close(2) (dup2), or after it (dup into
 * the freed number), is looked at anew.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closes, datas, nodeServer, opens, record, run, stream, waitFor } from './helpers.js';

const rec = record();
after(() => rec.tracer.close());

// HTTP-looking writes to a file and a pipe (negatively cached after the first), then a TCP
// socket put on the file's fd by dup2 with no close(2), and on the pipe's fd number by dup
// after close(2); a request goes out through each.
const script = String.raw`
import json, os, socket, sys, tempfile
addr = ('127.0.0.1', int(sys.argv[1]))
msg = b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
def get(fd, s, path):
    os.write(fd, b'GET ' + path + b' HTTP/1.1\r\nHost: x\r\n\r\n')
    resp = b''
    while not resp.endswith(path):
        resp += s.recv(1000)
f = tempfile.TemporaryFile()
r, w = os.pipe()
for i in range(500):
    os.write(f.fileno(), msg)
    os.write(w, msg); os.read(r, 100)
a = socket.create_connection(addr)
os.dup2(a.fileno(), f.fileno())
get(f.fileno(), a, b'/dup2')
b = socket.create_connection(addr)
os.close(w)
fd = os.dup(b.fileno())
get(fd, b, b'/dup')
print(json.dumps({'file': f.fileno(), 'pipe': w, 'dup': fd}))
`;

test('a file or pipe fd that later holds a TCP socket is traced from then on', async () => {
  const server = await nodeServer('127.0.0.1', 'res.end(req.url);');
  const port = Number(server.firstLine);
  after(() => server.proc.kill());
  const py = await run('python3', ['-c', script, String(port)]);
  const fds = JSON.parse(py.stdout) as { file: number; pipe: number; dup: number };
  assert.equal(fds.dup, fds.pipe, 'dup took the pipe\'s freed fd number');

  const request = (fd: number): string | undefined => {
    const o = opens(rec.events, py.pid).find((e) => e.fd === fd);
    return o && stream(rec.events, o.connKey, 'egress').toString();
  };
  await waitFor(rec, 'both requests through the reused fds', () =>
    request(fds.file) !== undefined && request(fds.dup) !== undefined && closes(rec.events, py.pid).length >= 2);
  assert.equal(request(fds.file), 'GET /dup2 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(request(fds.dup), 'GET /dup HTTP/1.1\r\nHost: x\r\n\r\n');
  for (const fd of [fds.file, fds.dup]) {
    const o = opens(rec.events, py.pid).find((e) => e.fd === fd)!;
    assert.equal(o.role, 1, `fd ${fd}: it wrote a request, so it is the client`);
    assert.equal(o.remotePort, port);
    assert.equal(datas(rec.events, o.connKey, 'egress')[0]!.pos, 0n, `fd ${fd} counts from where it was found`);
  }
  // The 1000 HTTP-looking writes to the file and the pipe made no events.
  assert.deepEqual(rec.events.filter((e) => e.pid === py.pid && e.kind === 'data' && e.data.byteLength === 27), []);
});
