/**
 * 20,000 requests from 32 concurrent keep-alive connections: every request captured exactly
 * once on each side (counted by its unique path), each row's columns right, nothing lost by the
 * tracer or the stitcher on the way.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpEventRow } from '../../src/engine/http/schema.js';
import { Capture, assertRow, nodeClient } from '../support/capture.js';
import { httpServer } from '../support/servers.js';

const cap = Capture.start();
after(() => cap.close());

const N = 20_000;

test(`${N} requests from 32 concurrent connections: each captured exactly once per side`, async (t) => {
  const server = await httpServer();
  try {
    const before = cap.counters();
    const started = Date.now();
    const c = await nodeClient(`http://127.0.0.1:${server.port}`, { n: N, concurrency: 32, prefix: '/load?size=64&i=' });
    const clientMs = Date.now() - started;
    await cap.waitRows(server.port, N, N, 60_000).catch((e: Error) => {
      const now = cap.counters();
      throw new Error(`${e.message}\ncapture drops: ${JSON.stringify(now.capture)}\nhttp drops: ${JSON.stringify(now.http)} (before: ${JSON.stringify(before)})`);
    });
    const rows = cap.forPort(server.port);
    const bySide = (side: readonly HttpEventRow[], name: string): Map<string, HttpEventRow> => {
      const m = new Map<string, HttpEventRow>();
      const dups: string[] = [];
      for (const r of side) {
        if (m.has(r.req_path)) dups.push(r.req_path);
        m.set(r.req_path, r);
      }
      assert.deepEqual(dups.slice(0, 10), [], `${name}: duplicated paths`);
      return m;
    };
    const server2 = bySide(rows.server, 'server rows');
    const client2 = bySide(rows.client, 'client rows');
    const missing = c.results.filter((r) => !server2.has(r.path) || !client2.has(r.path)).map((r) => r.path);
    assert.deepEqual(missing.slice(0, 10), [], `requests with no row on some side (${missing.length} in all)`);
    assert.equal(rows.server.length, N, 'server rows');
    assert.equal(rows.client.length, N, 'client rows');
    assert.equal(rows.other.length, 0, 'rows with an unexpected role');
    for (const r of c.results) {
      const common = { method: 'GET', path: r.path, status: 200, reqBodySize: 0, respBodySize: 64, maxLatencyNs: r.latencyNs };
      assertRow(server2.get(r.path), { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: server.pid }, `server row ${r.path}`);
      assertRow(client2.get(r.path), { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: c.pid }, `client row ${r.path}`);
    }
    const now = cap.counters();
    t.diagnostic(`${N} requests: client ran ${clientMs} ms; capture drops ${JSON.stringify(now.capture)}`);
  } finally {
    await server.stop();
  }
});
