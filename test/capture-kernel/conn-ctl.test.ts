/**
 * Per-connection control from user space (Tracer.setConnCtl, the conn_ctl map): a muted
 * connection copies nothing more but keeps exact byte totals; skip_to turns the bytes before a
 * stream position into records without data, at exact positions. Only the connection named is
 * affected: the other end of the same TCP connection (another process) is still copied.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closes, datas, nodeServer, opens, record, start, stream, waitFor, type Child } from './helpers.js';

const rec = record();
after(() => rec.tracer.close());

// One keep-alive connection, each write its own syscall. After GET /one and after the head and
// first body part of POST /two the client prints its byte counts and waits for SIGUSR1; then
// the rest of the body, GET /three, and its final counts.
const script = String.raw`
import json, os, signal, socket, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
sent = recvd = 0
def send(b):
    global sent
    assert os.write(s.fileno(), b) == len(b)
    sent += len(b)
def response(tag):
    global recvd
    r = b''
    while not r.endswith(tag):
        got = s.recv(65536)
        if not got:
            sys.exit('closed early')
        r += got
    recvd += len(r)
def pause():
    print(json.dumps({'sent': sent, 'recvd': recvd}), flush=True)
    signal.sigwait([signal.SIGUSR1])
send(b'GET /one HTTP/1.1\r\nHost: x\r\n\r\n')
response(b'/one')
pause()
send(b'POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 30000\r\n\r\n')
send(b'a' * 10000)
pause()
send(b'b' * 10000)
send(b'c' * 10000)
response(b'/two')
send(b'GET /three HTTP/1.1\r\nHost: x\r\n\r\n')
response(b'/three')
print(json.dumps({'sent': sent, 'recvd': recvd}), flush=True)
s.close()
`;

interface Counts { sent: number; recvd: number }

const lines = (c: Child): Counts[] => c.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Counts);

async function pauseAt(c: Child, n: number): Promise<Counts> {
  const deadline = Date.now() + 10_000;
  while (lines(c).length < n) {
    if (Date.now() > deadline) throw new Error(`the client did not reach pause ${n}: ${c.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return lines(c)[n - 1]!;
}

/**
 * Runs the client against `port`; at each pause with an action, once the client's connection
 * has been delivered, calls it with the client's counts so far and its connKey.
 */
async function client(port: number, actions: Partial<Record<1 | 2, (counts: Counts, connKey: string) => void>>): Promise<{ child: Child; connKey: string; final: Counts }> {
  const child = await start('python3', ['-c', script, String(port)]);
  after(() => child.proc.kill());
  const connKey = (): string | undefined => opens(rec.events, child.pid)[0]?.connKey;
  for (const i of [1, 2] as const) {
    const counts = await pauseAt(child, i);
    const action = actions[i];
    if (action) {
      await waitFor(rec, 'the client connection', () => connKey() !== undefined);
      action(counts, connKey()!);
    }
    child.proc.kill('SIGUSR1');
  }
  const [code] = await child.exit;
  assert.equal(code, 0, child.stderr());
  await waitFor(rec, 'the client close', () => closes(rec.events, child.pid).length === 1);
  return { child, connKey: connKey()!, final: lines(child)[2]! };
}

test('a muted connection copies nothing more, and its close totals stay exact', async () => {
  const server = await nodeServer('127.0.0.1', "req.resume(); req.on('end', () => res.end(req.url));");
  after(() => server.proc.kill());
  const before = rec.tracer.stats().drops;
  let mutedAt: Counts | undefined;
  const { child, connKey, final } = await client(Number(server.firstLine), {
    1: (counts, key) => {
      mutedAt = counts;
      rec.tracer.setConnCtl(key, { muted: true });
    },
  });
  const egress = datas(rec.events, connKey, 'egress');
  const ingress = datas(rec.events, connKey, 'ingress');
  assert.ok(egress.every((e) => e.pos < BigInt(mutedAt!.sent)), 'no egress record after muting');
  assert.ok(ingress.every((e) => e.pos < BigInt(mutedAt!.recvd)), 'no ingress record after muting');
  assert.equal(stream(rec.events, connKey, 'egress').toString(), 'GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
  const [c] = closes(rec.events, child.pid);
  assert.deepEqual([c!.egressBytes, c!.ingressBytes], [BigInt(final.sent), BigInt(final.recvd)], 'close totals count the muted bytes');
  const muted = rec.tracer.stats().drops.muted_bytes! - before.muted_bytes!;
  assert.equal(muted, final.sent - mutedAt!.sent + final.recvd - mutedAt!.recvd, 'every muted byte is counted');

  // The server's end of the same TCP connection was not muted.
  await waitFor(rec, 'the server side of GET /three', () =>
    opens(rec.events, server.pid).some((o) => stream(rec.events, o.connKey, 'ingress').toString().includes('GET /three ')));
  const srv = opens(rec.events, server.pid).find((o) => stream(rec.events, o.connKey, 'ingress').toString().includes('GET /three '))!;
  const last = datas(rec.events, srv.connKey, 'ingress').at(-1)!;
  assert.equal(Number(last.pos) + last.size, final.sent, 'the server\'s records cover every byte the client sent');
});

test('skip_to: bytes before it are not copied, their syscalls still carry size and position', async () => {
  const server = await nodeServer('127.0.0.1', "req.resume(); req.on('end', () => res.end(req.url));");
  after(() => server.proc.kill());
  const before = rec.tracer.stats().drops;
  let from = 0;
  const { connKey, final } = await client(Number(server.firstLine), {
    2: (counts, key) => {
      // All of the next 10000-byte write and half of the one after it.
      from = counts.sent;
      rec.tracer.setConnCtl(key, { skipTo: { egress: BigInt(from + 15_000) } });
    },
  });
  const later = datas(rec.events, connKey, 'egress').filter((e) => e.pos >= BigInt(from));
  const three = 'GET /three HTTP/1.1\r\nHost: x\r\n\r\n';
  assert.deepEqual(later.map((e) => [Number(e.pos) - from, e.size, e.chunkOffset, Buffer.from(e.data).toString()]), [
    [0, 10_000, 0, ''],
    [10_000, 10_000, 5000, 'c'.repeat(5000)],
    [20_000, three.length, 0, three],
  ]);
  assert.equal(rec.tracer.stats().drops.skipped_bytes! - before.skipped_bytes!, 15_000);
  // The ingress direction had no skip_to and is whole.
  assert.equal(stream(rec.events, connKey, 'ingress').length, final.recvd);
});

test('setConnCtl refuses what is not a connKey', () => {
  assert.throws(() => rec.tracer.setConnCtl('not-a-key', { muted: true }), /"not-a-key" is not a connKey/);
  assert.throws(() => rec.tracer.setConnCtl('1:2:0', { muted: true }), /is not a connKey/);
});
