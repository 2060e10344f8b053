import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { datas, nodeServer, opens, record, run, stream, waitFor } from './helpers.js';

const rec = record();
after(() => rec.tracer.close());

// writev with 600 iovecs, then sendmsg with 1001 (the kernel's limit is 1024), each iovec small
// and distinct so any loss, duplication or reordering shows.
const script = String.raw`
import json, os, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
def parts(n, sep):
    return [b'%05d%s' % (i, sep) for i in range(n)]
def head(path, body):
    return b'POST ' + path + b' HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n' % len(body)
def response():
    r = b''
    while not r.endswith(b'done'):
        got = s.recv(1000)
        if not got:
            sys.exit('connection closed before the response')
        r += got
p1 = parts(600, b',')
w = os.writev(s.fileno(), [head(b'/writev', b''.join(p1))] + p1)
response()
p2 = parts(1000, b';')
m = s.sendmsg([head(b'/sendmsg', b''.join(p2))] + p2)
response()
print(json.dumps({'writev': w, 'sendmsg': m}))
`;

function expected(path: string, n: number, sep: string): string {
  let body = '';
  for (let i = 0; i < n; i++) body += `${String(i).padStart(5, '0')}${sep}`;
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

test('writev with 600 iovecs and sendmsg with 1001 arrive complete and in order', async () => {
  const server = await nodeServer('127.0.0.1', "req.resume(); req.on('end', () => res.end('done'));");
  const port = Number(server.firstLine);
  after(() => server.proc.kill());
  const before = rec.tracer.stats().drops;
  const py = await run('python3', ['-c', script, String(port)]);
  const sizes = JSON.parse(py.stdout) as { writev: number; sendmsg: number };
  const req1 = expected('/writev', 600, ',');
  const req2 = expected('/sendmsg', 1000, ';');
  assert.deepEqual(sizes, { writev: req1.length, sendmsg: req2.length }, 'each call wrote everything at once');

  await waitFor(rec, 'both requests', () => {
    const [o] = opens(rec.events, py.pid);
    return o !== undefined && stream(rec.events, o.connKey, 'egress').length >= req1.length + req2.length;
  });
  const [cli] = opens(rec.events, py.pid);
  const egress = datas(rec.events, cli!.connKey, 'egress');
  assert.deepEqual(egress.map((e) => [e.pos, e.size, e.chunkOffset, e.data.byteLength]),
    [[0n, req1.length, 0, req1.length], [BigInt(req1.length), req2.length, 0, req2.length]],
    'one record per syscall, all bytes captured');
  assert.equal(Buffer.from(egress[0]!.data).toString(), req1);
  assert.equal(Buffer.from(egress[1]!.data).toString(), req2);
  assert.equal(rec.tracer.stats().drops.iov_limit, before.iov_limit);
});
