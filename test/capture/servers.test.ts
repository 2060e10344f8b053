/**
 * Real servers and clients (Node, Python's http.server, nginx, curl) on loopback, IPv4 and IPv6:
 * every exchange gives exactly one row on each traced side, with every column checked against
 * what the peers themselves know (ports, pids, sizes, the client's measured latency).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import type { HttpEventRow } from '../../src/engine/http/schema.js';
import { Capture, assertRow, curl, nodeClient, type ClientResult } from '../support/capture.js';
import { filesDir, nginxServer, pythonServer } from '../support/peers.js';
import { httpServer } from '../support/servers.js';

const cap = Capture.start();
after(() => cap.close());

/** Checks the server and client rows of Node-client requests, matched by their unique paths. */
function checkNodeClientRows(
  rows: { server: readonly HttpEventRow[]; client: readonly HttpEventRow[] },
  results: readonly ClientResult[],
  o: { method: string; reqBodySize: number; addr: string; port: number; serverPid: number; clientPid: number },
): void {
  assert.equal(rows.server.length, results.length, 'one server row per request');
  assert.equal(rows.client.length, results.length, 'one client row per request');
  for (const r of results) {
    const common = { method: o.method, path: r.path, status: r.status, reqBodySize: o.reqBodySize, respBodySize: r.bytes, maxLatencyNs: r.latencyNs };
    assertRow(rows.server.find((x) => x.req_path === r.path), {
      ...common, role: 2, localAddr: o.addr, localPort: o.port, remoteAddr: o.addr, remotePort: r.localPort, pid: o.serverPid,
    }, `server row of ${o.method} ${r.path}`);
    assertRow(rows.client.find((x) => x.req_path === r.path), {
      ...common, role: 1, localAddr: o.addr, localPort: r.localPort, remoteAddr: o.addr, remotePort: o.port, pid: o.clientPid,
    }, `client row of ${o.method} ${r.path}`);
  }
}

test('Node server and Node client with keep-alive: both sides, several requests per connection', async () => {
  const server = await httpServer();
  try {
    const { pid, results } = await nodeClient(`http://127.0.0.1:${server.port}`, { n: 8, concurrency: 2, prefix: '/ka?size=321&i=' });
    const ports = new Set(results.map((r) => r.localPort));
    assert.ok(ports.size <= 2, `8 requests over at most 2 kept-alive connections, got ports ${[...ports].join(',')}`);
    const rows = await cap.waitRows(server.port, 8, 8);
    checkNodeClientRows(rows, results, { method: 'GET', reqBodySize: 0, addr: '127.0.0.1', port: server.port, serverPid: server.pid, clientPid: pid });
    for (const r of [...rows.server, ...rows.client]) {
      assert.deepEqual([r.major_version, r.minor_version, r.resp_message, r.resp_body.length], [1, 1, 'OK', 321]);
    }
  } finally {
    await server.stop();
  }
});

test('Python http.server (HTTP/1.0) with curl: 200s and a 404, exact sizes and versions', async () => {
  const dir = filesDir({ 'a.txt': 1234, 'b.bin': 7 });
  const server = await pythonServer(dir);
  try {
    const paths = ['/a.txt', '/b.bin', '/missing?q=1'];
    const c = await curl(paths.map((p) => `http://127.0.0.1:${server.port}${p}`));
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(c.results.map((r) => r.status), [200, 200, 404]);
    assert.deepEqual(c.results.slice(0, 2).map((r) => r.sizeDownload), [1234, 7]);
    const rows = await cap.waitRows(server.port, 3, 3);
    paths.forEach((path, i) => {
      const r = c.results[i]!;
      const common = { method: 'GET', path, status: r.status, reqBodySize: 0, respBodySize: r.sizeDownload, maxLatencyNs: r.latencyNs };
      assertRow(rows.server[i], { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: server.pid }, `python row ${path}`);
      assertRow(rows.client[i], { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: c.pid }, `curl row ${path}`);
      assert.deepEqual([rows.server[i]!.major_version, rows.server[i]!.minor_version], [1, 0], 'http.server answers HTTP/1.0');
      assert.deepEqual([rows.server[i]!.comm, rows.client[i]!.comm], ['python3', 'curl'], 'process names');
    });
    assert.equal(rows.server[0]!.resp_body, 'abcdefghijklmnopqrstuvwxyz'.repeat(20).slice(0, 512), 'body prefix is the first 512 bytes');
  } finally {
    await server.stop();
  }
});

test('nginx with curl (one connection, several requests) and with the Node client', async () => {
  const dir = filesDir({ 'page.html': 2048, 'small.txt': 10 });
  // nginx's workers drop root; mkdtemp makes the folder private.
  chmodSync(dir, 0o755);
  const server = await nginxServer(dir);
  try {
    const [worker] = server.workerPids();
    assert.ok(worker, 'nginx has a worker process');
    const paths = ['/page.html', '/small.txt', '/nope'];
    const c = await curl(paths.map((p) => `http://127.0.0.1:${server.port}${p}`));
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(c.results.map((r) => r.status), [200, 200, 404]);
    assert.equal(new Set(c.results.map((r) => r.localPort)).size, 1, 'curl reused its connection');
    const rows = await cap.waitRows(server.port, 3, 3);
    paths.forEach((path, i) => {
      const r = c.results[i]!;
      const common = { method: 'GET', path, status: r.status, reqBodySize: 0, respBodySize: r.sizeDownload, maxLatencyNs: r.latencyNs };
      assertRow(rows.server[i], { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: worker }, `nginx row ${path}`);
      assert.equal(rows.server[i]!.comm, 'nginx', 'process name of the worker');
      assertRow(rows.client[i], { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: c.pid }, `curl row ${path}`);
    });

    const before = cap.forPort(server.port);
    const n = await nodeClient(`http://127.0.0.1:${server.port}`, { n: 6, concurrency: 3, prefix: '/small.txt?i=' });
    await cap.waitRows(server.port, before.server.length + 6, before.client.length + 6);
    const after = cap.forPort(server.port);
    checkNodeClientRows({ server: after.server.slice(3), client: after.client.slice(3) }, n.results, {
      method: 'GET', reqBodySize: 0, addr: '127.0.0.1', port: server.port, serverPid: worker, clientPid: n.pid,
    });
    assert.equal(after.other.length, 0, 'no row with an unexpected role or port');
  } finally {
    await server.stop();
  }
});

test('every method: GET HEAD POST PUT DELETE PATCH OPTIONS, with and without bodies', async () => {
  const server = await httpServer();
  try {
    const methods: Array<[string, number]> = [['GET', 0], ['HEAD', 0], ['POST', 1000], ['PUT', 70000], ['DELETE', 0], ['PATCH', 33], ['OPTIONS', 0]];
    for (const [method, bodyBytes] of methods) {
      const before = cap.forPort(server.port);
      const prefix = `/m/${method.toLowerCase()}?size=77&i=`;
      const c = await nodeClient(`http://127.0.0.1:${server.port}`, { n: 2, method, bodyBytes, prefix });
      await cap.waitRows(server.port, before.server.length + 2, before.client.length + 2);
      const now = cap.forPort(server.port);
      checkNodeClientRows({ server: now.server.slice(before.server.length), client: now.client.slice(before.client.length) }, c.results, {
        method, reqBodySize: bodyBytes, addr: '127.0.0.1', port: server.port, serverPid: server.pid, clientPid: c.pid,
      });
      // HEAD's answer announces 77 bytes and carries none: the row must say 0.
      assert.deepEqual(c.results.map((r) => r.bytes), method === 'HEAD' ? [0, 0] : [77, 77], `${method} body bytes the client got`);
    }
  } finally {
    await server.stop();
  }
});

test('IPv6 loopback on both sides: Node server on ::1 with the Node client and curl', async () => {
  const server = await httpServer('::1');
  try {
    const n = await nodeClient(`http://[::1]:${server.port}`, { n: 3, prefix: '/v6?size=12&i=' });
    const c = await curl([`http://[::1]:${server.port}/v6-curl?size=99`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.results[0]!.localIp, '::1');
    const rows = await cap.waitRows(server.port, 4, 4);
    checkNodeClientRows({ server: rows.server.slice(0, 3), client: rows.client.filter((r) => r.pid === n.pid) }, n.results, {
      method: 'GET', reqBodySize: 0, addr: '::1', port: server.port, serverPid: server.pid, clientPid: n.pid,
    });
    const r = c.results[0]!;
    const common = { method: 'GET', path: '/v6-curl?size=99', status: 200, reqBodySize: 0, respBodySize: 99, maxLatencyNs: r.latencyNs };
    assertRow(rows.server[3], { ...common, role: 2, localAddr: '::1', localPort: server.port, remoteAddr: '::1', remotePort: r.localPort, pid: server.pid }, 'server row of curl over ::1');
    assertRow(rows.client.find((x) => x.pid === c.pid), { ...common, role: 1, localAddr: '::1', localPort: r.localPort, remoteAddr: '::1', remotePort: server.port, pid: c.pid }, 'curl row over ::1');
  } finally {
    await server.stop();
  }
});
