/**
 * What must NOT become a row: exchanges cut mid-response, non-HTTP TCP, garbage, responses
 * nobody asked for, invalid chunk sizes and a 1 MiB header line. Each is counted by reason, and
 * the same servers are then asked a normal request that must still be captured exactly: the
 * pipeline kept running and nothing was mispaired.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Capture, assertRow, curl, grew, rawClient } from '../support/capture.js';
import type { Peer } from '../support/peers.js';
import { echoServer, httpServer, rawHttpServer } from '../support/servers.js';

const cap = Capture.start();
after(() => cap.close());

/** curl `path` on `server`; its exchange must give one exact row on each side. */
async function expectNormalExchange(server: Peer, path: string, respBodySize: number): Promise<void> {
  const before = cap.forPort(server.port);
  const c = await curl([`http://127.0.0.1:${server.port}${path}`]);
  assert.equal(c.code, 0, c.stderr);
  const rows = await cap.waitRows(server.port, before.server.length + 1, before.client.length + 1);
  assert.deepEqual([rows.server.length, rows.client.length], [before.server.length + 1, before.client.length + 1], 'exactly one new row per side');
  const r = c.results[0]!;
  const common = { method: 'GET', path, status: 200, reqBodySize: 0, respBodySize, maxLatencyNs: r.latencyNs };
  assertRow(rows.server.at(-1), { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: server.pid }, `server row of ${path} afterwards`);
  assertRow(rows.client.at(-1), { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: c.pid }, `client row of ${path} afterwards`);
}

/** Rows of any connection that used client port `clientPort` against `server`. */
function rowsOf(server: Peer, clientPort: number): number {
  const rows = cap.forPort(server.port);
  return [...rows.server, ...rows.client, ...rows.other].filter((r) => r.local_port === clientPort || r.remote_port === clientPort).length;
}

for (const path of ['/die', '/die-rst']) {
  test(`a server that ${path === '/die' ? 'closes' : 'resets'} mid-response: no row on either side, counted as died mid-exchange`, async () => {
    const server = await rawHttpServer();
    try {
      const before = cap.counters().http;
      const c = await curl([`http://127.0.0.1:${server.port}${path}`]);
      assert.notEqual(c.code, 0, 'curl saw the cut');
      await cap.waitFor('both sides counted as died mid-exchange or dropped', () => {
        const now = cap.counters().http;
        return grew(before, now, 'died_mid_exchange') + grew(before, now, 'dropped_exchanges') >= 2;
      });
      // Both connections are closed and processed before the next exchange's events arrive.
      await expectNormalExchange(server, '/fine', 4);
      assert.equal(rowsOf(server, c.results[0]!.localPort), 0, 'no row for the cut exchange');
      assert.equal(cap.rows.filter((r) => r.req_path === path).length, 0, `no row anywhere for ${path}`);
    } finally {
      await server.stop();
    }
  });
}

test('non-HTTP TCP (binary and text echo): no rows, counted as non_http_bytes', async () => {
  const server = await echoServer();
  try {
    const before = cap.counters().capture;
    const binary = randomBytes(8192);
    const text = Buffer.from('hello echo, this is not HTTP at all\n'.repeat(50));
    const a = await rawClient('127.0.0.1', server.port, binary, { expectBytes: binary.length });
    const b = await rawClient('127.0.0.1', server.port, text, { expectBytes: text.length });
    assert.deepEqual(a.received, binary, 'the echo came back');
    assert.deepEqual(b.received, text, 'the echo came back');
    // Each byte crosses four syscalls (client write, server read, server write, client read).
    await cap.waitFor('non_http_bytes to count the echoed bytes', () => grew(before, cap.counters().capture, 'non_http_bytes') >= 4 * (binary.length + text.length));
    const rows = cap.forPort(server.port);
    assert.equal(rows.server.length + rows.client.length + rows.other.length, 0, 'no row for the echo port');
  } finally {
    await server.stop();
  }
});

test('garbage bytes and a malformed request to an HTTP server: counted, no row, then a normal row', async () => {
  const server = await httpServer();
  try {
    const before = cap.counters();
    const garbage = Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0xfe]), randomBytes(3000)]);
    const g = await rawClient('127.0.0.1', server.port, garbage, { idleMs: 1000 });
    const m = await rawClient('127.0.0.1', server.port, Buffer.from('GET /bad HTTP/1.1\r\nHost: x\r\nno colon in this header line\r\n\r\n'), { idleMs: 1000 });
    assert.match(m.received.toString('latin1'), /^HTTP\/1\.1 400 /, 'Node refused the malformed request');
    await cap.waitFor('garbage counted (non_http_bytes) and the malformed head counted (parse_errors)', () => {
      const now = cap.counters();
      return grew(before.capture, now.capture, 'non_http_bytes') >= garbage.length && grew(before.http, now.http, 'parse_errors') >= 2;
    });
    await expectNormalExchange(server, '/after-garbage?size=9', 9);
    assert.equal(rowsOf(server, g.localPort) + rowsOf(server, m.localPort), 0, 'no row for the garbage or the malformed request');
  } finally {
    await server.stop();
  }
});

test('a response with no request: counted as unpaired on both sides, no row', async () => {
  const server = await rawHttpServer({ unsolicited: true });
  try {
    const before = cap.counters().http;
    const c = await rawClient('127.0.0.1', server.port, Buffer.alloc(0), { idleMs: 3000 });
    assert.match(c.received.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
    await cap.waitFor('both sides counted as unpaired responses', () => grew(before, cap.counters().http, 'unpaired_responses') >= 2);
    assert.equal(rowsOf(server, c.localPort), 0, 'no row for a response without a request');
  } finally {
    await server.stop();
  }
});

test('invalid chunk sizes: counted on both sides, no row, then a normal row', async () => {
  const server = await rawHttpServer();
  try {
    const before = cap.counters().http;
    const c = await curl([`http://127.0.0.1:${server.port}/badchunk`]);
    assert.notEqual(c.code, 0, 'curl rejected the chunk size too');
    await cap.waitFor('invalid_chunks on both sides', () => grew(before, cap.counters().http, 'invalid_chunks') >= 2);
    await expectNormalExchange(server, '/fine-again', 4);
    assert.equal(rowsOf(server, c.results[0]!.localPort), 0, 'no row for the invalid chunked response');
  } finally {
    await server.stop();
  }
});

test('a 1 MiB header line: counted as oversized on both sides, no row, then a normal row', async () => {
  const server = await httpServer();
  try {
    const before = cap.counters().http;
    const req = Buffer.from(`GET /huge-header HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(1024 * 1024)}\r\nConnection: close\r\n\r\n`);
    const c = await rawClient('127.0.0.1', server.port, req, { idleMs: 5000 });
    assert.match(c.received.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/, 'the server accepted it (maxHeaderSize 4 MiB)');
    await cap.waitFor('oversized_headers on both sides', () => grew(before, cap.counters().http, 'oversized_headers') >= 2);
    await expectNormalExchange(server, '/after-huge?size=3', 3);
    assert.equal(rowsOf(server, c.localPort), 0, 'no row for the oversized request');
    assert.equal(cap.agent.captureState().running, true, 'capture still attached');
  } finally {
    await server.stop();
  }
});
