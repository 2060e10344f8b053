/**
 * The record contract for TLS (bpf/ssl.bpf.h, bpf/tls.bpf.h): the plaintext a process hands to
 * OpenSSL arrives as data records of the socket's own connection, flagged tls, byte-exact at
 * contiguous plaintext positions from 0; the same connection's handshake arrives as records for
 * the connections stage (protocol 'tls', from wire position 0); the rest of the ciphertext is
 * only counted (tls_ciphertext_bytes) and the close event keeps the wire's totals. Python's ssl
 * module (libssl.so.3) against Node's https server.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { selfSignedCert } from '../support/peers.js';
import { httpServer } from '../support/servers.js';
import { closes, datas, opens, record, run, stream, waitFor } from './helpers.js';

const rec = record({ maxBytesPerSyscall: 64 * 1024 });
after(() => rec.tracer.close());

const sizes = [1, 100, 5000, 16_384, 40_000];

// A request head, then each size as its own SSL_write, each byte a function of its stream
// offset so any misplaced byte shows; then the whole answer, to the server's close.
const script = String.raw`
import json, socket, ssl, sys
sizes = json.loads(sys.argv[2])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1]))))
head = b'POST /tls-raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n' % sum(sizes)
s.sendall(head)
pos = len(head)
for n in sizes:
    s.sendall(bytes((pos + i) * 7 % 251 for i in range(n)))
    pos += n
r = b''
while True:
    b = s.recv(65536)
    if not b:
        break
    r += b
s.close()
print(len(head), len(r))
`;

const pattern = (from: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => ((from + i) * 7) % 251));

test('TLS plaintext arrives byte-exact as flagged data records of the socket\'s connection; the ciphertext is only counted', async () => {
  const server = await httpServer('127.0.0.1', selfSignedCert());
  after(() => server.stop());
  const before = rec.tracer.stats().drops;
  const py = await run('python3', ['-c', script, String(server.port), JSON.stringify(sizes)]);
  const [headLen, respLen] = py.stdout.trim().split(' ').map(Number) as [number, number];
  const total = headLen + sizes.reduce((a, b) => a + b, 0);
  await waitFor(rec, 'the client\'s close', () => closes(rec.events, py.pid).length > 0);
  const [open] = opens(rec.events, py.pid);
  assert.ok(open, 'an open event for the client connection');
  assert.deepEqual([open.role, open.remotePort], [1, server.port], 'opened by connect: a client of the server port');

  const out = datas(rec.events, open.connKey, 'egress');
  const inn = datas(rec.events, open.connKey, 'ingress');
  assert.ok(out.length > 0 && [...out, ...inn].every((d) => d.tls), 'every plaintext record of the connection is flagged tls');
  // The handshake of that same connection, for tls_handshakes: a ClientHello out, a ServerHello in.
  const hello = stream(rec.events, open.connKey, 'egress', 'tls');
  const answer = stream(rec.events, open.connKey, 'ingress', 'tls');
  assert.deepEqual([hello[0], hello[1], hello[5]], [0x16, 3, 1], 'the handshake copy starts with the ClientHello');
  assert.deepEqual([answer[0], answer[1], answer[5]], [0x16, 3, 2], 'and the answer with the ServerHello');
  assert.ok(datas(rec.events, open.connKey, undefined, 'tls').every((d) => !d.tls), 'handshake records are not plaintext');
  // A TLS call's records (one per chunk) share its position; calls follow each other from 0.
  let pos = 0;
  for (const d of out) {
    if (Number(d.pos) === pos - d.size) continue;
    assert.equal(Number(d.pos), pos, 'plaintext positions are contiguous from 0');
    pos += d.size;
  }
  assert.equal(pos, total, 'the plaintext stream is exactly what the client wrote');
  const sent = stream(rec.events, open.connKey, 'egress');
  assert.equal(sent.subarray(0, headLen).toString(), `POST /tls-raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${total - headLen}\r\n\r\n`);
  assert.ok(sent.subarray(headLen).equals(pattern(headLen, total - headLen)), 'the body is byte-exact');
  const received = stream(rec.events, open.connKey, 'ingress');
  assert.equal(received.length, respLen, 'the answer as the client read it');
  assert.match(received.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);

  const [close] = closes(rec.events, py.pid);
  assert.ok(close!.egressBytes > BigInt(total), `close keeps the wire's total (${close!.egressBytes}), more than the plaintext (${total})`);
  // Nothing here parses the handshake and mutes the connection, as the engine's connections
  // stage does: its copy goes on to tls_capture_bytes per direction, the rest is counted.
  const after_ = rec.tracer.stats().drops;
  const counted = after_['tls_ciphertext_bytes']! - before['tls_ciphertext_bytes']!;
  assert.ok(counted + hello.length + answer.length >= Number(close!.egressBytes + close!.ingressBytes),
    `every ciphertext byte is copied as handshake or counted (${counted} counted, ${hello.length} + ${answer.length} copied)`);
});
