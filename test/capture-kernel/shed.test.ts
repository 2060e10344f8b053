/**
 * Overload shedding (bpf/shed.bpf.h): with the ring buffer filled past the threshold and
 * nobody draining it, connections are shed whole from a request start on, each shed range
 * opened by a marker with its exact positions; a 5xx exchange is still sent; every shed request
 * start is counted. The tracer is scoped to a cgroup holding only this test's processes, so the
 * counts are exact, and drained only at the end.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Tracer } from '../../src/engine/capture/tracer.js';
import type { CaptureRecord } from '../../src/engine/capture/types.js';
import { makeCgroup, startIn } from './cgroups.js';
import { datas, opens, run, sheds, stream } from './helpers.js';

const cg = makeCgroup('wisp-capture-shed');
after(() => cg.remove());

// Filler F: GET /fill (a 300 KiB answer, copied while the ring is empty, fills it past 11 %),
// then GET /after on the same connection. Then C: GET /ok, GET /fail (answered 500), GET /ok2.
// Prints, per connection, its local port and its byte counts before each request.
const client = String.raw`
import json, socket, sys
def connection(paths):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    sent = recvd = 0
    before = []
    for p in paths:
        before.append([sent, recvd])
        req = b'GET ' + p + b' HTTP/1.1\r\nHost: x\r\n\r\n'
        s.sendall(req)
        sent += len(req)
        r = b''
        while b'\r\n\r\n' not in r:
            r += s.recv(65536)
        head, body = r.split(b'\r\n\r\n', 1)
        n = int([l for l in head.split(b'\r\n') if l.lower().startswith(b'content-length:')][0].split(b':')[1])
        while len(body) < n:
            body += s.recv(65536)
        recvd += len(head) + 4 + n
    port = s.getsockname()[1]
    s.close()
    return {'port': port, 'before': before, 'end': [sent, recvd]}
print(json.dumps({'F': connection([b'/fill', b'/after']), 'C': connection([b'/ok', b'/fail', b'/ok2'])}))
`;

const SERVER = `
  const big = 'x'.repeat(300 * 1024);
  require('http').createServer((req, res) => {
    if (req.url === '/fail') { res.statusCode = 500; res.end('boom'); }
    else res.end(req.url === '/fill' ? big : 'ok ' + req.url);
  }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

interface Conn { port: number; before: [number, number][]; end: [number, number] }

test('a full ring sheds whole connections at request starts, with markers, and keeps a 5xx exchange', async () => {
  const tracer = Tracer.open({
    raw: true, cgroup: cg.path, ringBufferBytes: 1 << 20, pollIntervalMs: 60_000, maxBytesPerSyscall: 1 << 20, shedFromPercent: 10, shedAllPercent: 11,
  });
  after(() => tracer.close());
  const records: CaptureRecord[] = [];
  tracer.onRecords((batch) => { for (const r of batch) records.push(r); });
  const server = await startIn(cg.path, process.execPath, ['-e', SERVER]);
  const before = tracer.stats().drops;
  const py = await run('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec python3 -c "$1" "$2"', cg.path, client, server.firstLine])
    .finally(() => server.proc.kill());
  await server.exit;
  const { F, C } = JSON.parse(py.stdout) as { F: Conn; C: Conn };
  tracer.drain();
  const drops = tracer.stats().drops;
  assert.equal(drops.ringbuf_full_events, before.ringbuf_full_events, 'the ring never overflowed: shedding kept room');

  // Each end of each connection: the client's (egress carries requests) and the server's.
  const ends = (c: Conn): { key: string; req: 'egress' | 'ingress'; resp: 'egress' | 'ingress' }[] => {
    const cli = opens(records, py.pid).find((o) => o.localPort === c.port)!;
    const srv = opens(records, server.pid).find((o) => o.remotePort === c.port)!;
    return [{ key: cli.connKey, req: 'egress', resp: 'ingress' }, { key: srv.connKey, req: 'ingress', resp: 'egress' }];
  };
  const at = (e: { req: 'egress' | 'ingress' }, pos: [number, number]): { egressPos: bigint; ingressPos: bigint } =>
    e.req === 'egress' ? { egressPos: BigInt(pos[0]), ingressPos: BigInt(pos[1]) } : { egressPos: BigInt(pos[1]), ingressPos: BigInt(pos[0]) };
  const markers = (key: string): { egressPos: bigint; ingressPos: bigint }[] => sheds(records, key).map((m) => ({ egressPos: m.egressPos, ingressPos: m.ingressPos }));

  for (const e of ends(F)) {
    // The first exchange went out whole while the ring was empty; shedding began at the
    // second request's first byte, and nothing of the connection came after.
    assert.deepEqual(markers(e.key), [at(e, F.before[1]!)], 'F: one marker, at the second request start');
    const [reqBytes, respBytes] = F.before[1]!;
    assert.equal(stream(records, e.key, e.req).length, reqBytes, 'F: the first request whole, nothing after');
    assert.equal(stream(records, e.key, e.resp).length, respBytes, 'F: the first response whole, nothing after');
  }
  for (const e of ends(C)) {
    // Shed from its first request; /fail and its 500 were sent; shed again from /ok2.
    const [, fail, ok2] = C.before;
    assert.deepEqual(markers(e.key), [at(e, C.before[0]!), at(e, ok2!)], 'C: markers at /ok and at /ok2');
    const req = datas(records, e.key, e.req);
    assert.deepEqual(req.map((d) => [Number(d.pos), Buffer.from(d.data).toString()]), [[fail![0], 'GET /fail HTTP/1.1\r\nHost: x\r\n\r\n']], 'C: only the /fail request');
    const resp = datas(records, e.key, e.resp);
    assert.equal(resp.length, 1, 'C: only the 500 response');
    assert.equal(Number(resp[0]!.pos), fail![1]);
    assert.match(Buffer.from(resp[0]!.data).toString(), /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*\r\n\r\nboom$/);
  }
  // Per end: F's /after and C's three requests were shed request starts; one of them was kept.
  assert.equal(drops.shed_exchanges! - before.shed_exchanges!, 2 * 4);
  assert.equal(drops.shed_kept_5xx! - before.shed_kept_5xx!, 2);
  assert.ok(drops.shed_bytes! - before.shed_bytes! > 0);
});

test('shedding thresholds out of order are refused', () => {
  assert.throws(() => Tracer.open({ shedFromPercent: 60, shedAllPercent: 50 }), /option shedAllPercent must be an integer in \[61, 100\]/);
});
