/**
 * HTTP framing as it really leaves processes: pipelined requests in one write, chunked bodies,
 * multi-MiB bodies in both directions, a 100-continue upload, and a response sent by one writev
 * of hundreds of iovecs. Sizes are the true sizes and body prefixes the exact bytes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Capture, assertRow, curl, nodeClient, rawClient } from '../support/capture.js';
import { filesDir, nginxServer } from '../support/peers.js';
import { chunkedBody, httpServer, pattern, rawHttpServer, writevBody } from '../support/servers.js';

const cap = Capture.start();
after(() => cap.close());

const MiB = 1024 * 1024;

test('pipelined requests in one write: rows in order, each paired with its own response', async () => {
  const server = await httpServer();
  try {
    // Different methods, request bodies and response sizes per position, so a mispairing shows.
    // HEAD announces a body it does not send, 204 has none: the parser must know which
    // request each response answers to frame it, so these also test the pairing.
    const reqs = [
      { method: 'GET', path: '/pipe/0?size=11', body: '', status: 200, size: 11 },
      { method: 'HEAD', path: '/pipe/1?size=5000', body: '', status: 200, size: 0 },
      { method: 'POST', path: '/pipe/2?size=222', body: 'x'.repeat(17), status: 200, size: 222 },
      { method: 'GET', path: '/pipe/3?size=0', body: '', status: 200, size: 0 },
      { method: 'PATCH', path: '/pipe/4?status=204', body: 'z'.repeat(9), status: 204, size: 0 },
      { method: 'PUT', path: '/pipe/5?size=3333', body: 'y'.repeat(400), status: 200, size: 3333 },
      { method: 'GET', path: '/pipe/6?status=404&size=31', body: '', status: 404, size: 31 },
      { method: 'DELETE', path: '/pipe/7?size=44', body: '', status: 200, size: 44 },
    ];
    const payload = reqs.map((r, i) =>
      `${r.method} ${r.path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${r.body.length}\r\n${i === reqs.length - 1 ? 'Connection: close\r\n' : ''}\r\n${r.body}`).join('');
    const c = await rawClient('127.0.0.1', server.port, Buffer.from(payload));
    const text = c.received.toString('latin1');
    assert.deepEqual([...text.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => Number(m[1])), reqs.map((r) => r.status), `the server answered all: ${text.slice(0, 300)}`);
    const rows = await cap.waitRows(server.port, reqs.length, reqs.length);
    assert.deepEqual([rows.server.length, rows.client.length], [reqs.length, reqs.length]);
    reqs.forEach((r, i) => {
      const common = { method: r.method, path: r.path, status: r.status, reqBodySize: r.body.length, respBodySize: r.size, maxLatencyNs: c.latencyNs };
      assertRow(rows.server[i], { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: c.localPort, pid: server.pid }, `server row ${i}`);
      assertRow(rows.client[i], { ...common, role: 1, localAddr: '127.0.0.1', localPort: c.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: c.pid }, `client row ${i}`);
    });
    assert.equal(rows.server[2]!.req_body, 'x'.repeat(17));
    assert.equal(rows.client[5]!.resp_body, pattern(512).toString('latin1'));
  } finally {
    await server.stop();
  }
});

test('chunked responses and a chunked upload: de-chunked sizes and exact body prefixes, on both sides', async () => {
  const server = await httpServer();
  try {
    const paths = ['/chunked?parts=3', '/chunked?parts=60'];
    const c = await curl(paths.map((p) => `http://127.0.0.1:${server.port}${p}`));
    assert.equal(c.code, 0, c.stderr);
    const rows = await cap.waitRows(server.port, 2, 2);
    paths.forEach((path, i) => {
      const body = chunkedBody(Number(path.split('=')[1]));
      const r = c.results[i]!;
      assert.equal(r.sizeDownload, body.length, 'curl de-chunked the same body');
      const common = { method: 'GET', path, status: 200, reqBodySize: 0, respBodySize: body.length, maxLatencyNs: r.latencyNs };
      assertRow(rows.server[i], { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: server.pid }, `server row ${path}`);
      assertRow(rows.client[i], { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: c.pid }, `client row ${path}`);
      for (const row of [rows.server[i]!, rows.client[i]!]) {
        assert.equal(row.resp_body, body.slice(0, 512), `de-chunked body prefix of ${path} (role ${row.trace_role})`);
        assert.match(row.resp_headers, /"transfer-encoding":"chunked"/i);
      }
    });

    // And a chunked request body: its de-chunked size, and the prefix of its content.
    const dir = mkdtempSync(join(tmpdir(), 'wisp-chunked-'));
    const file = join(dir, 'up.bin');
    writeFileSync(file, pattern(3000));
    const up = await curl([`http://127.0.0.1:${server.port}/chunked-up?size=6`], ['-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`]);
    assert.equal(up.code, 0, up.stderr);
    const more = await cap.waitRows(server.port, 3, 3);
    const u = up.results[0]!;
    const common = { method: 'POST', path: '/chunked-up?size=6', status: 200, reqBodySize: 3000, respBodySize: 6, maxLatencyNs: u.latencyNs };
    assertRow(more.server[2], { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: u.localPort, pid: server.pid }, 'server row of the chunked upload');
    assertRow(more.client[2], { ...common, role: 1, localAddr: '127.0.0.1', localPort: u.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: up.pid }, 'client row of the chunked upload');
    assert.equal(more.server[2]!.req_body, pattern(512).toString('latin1'));
  } finally {
    await server.stop();
  }
});

test('a 5 MiB response and 2 MiB uploads (Node client; curl with 100-continue): exact sizes', async () => {
  const dir = filesDir({ 'five.bin': 5 * MiB });
  chmodSync(dir, 0o755);
  const upload = join(dir, 'up.bin');
  writeFileSync(upload, pattern(2 * MiB));
  const server = await nginxServer(dir);
  try {
    const [worker] = server.workerPids();
    assert.ok(worker, 'nginx has a worker process');
    const big = await curl([`http://127.0.0.1:${server.port}/five.bin`]);
    assert.equal(big.code, 0, big.stderr);
    assert.equal(big.results[0]!.sizeDownload, 5 * MiB);
    let rows = await cap.waitRows(server.port, 1, 1, 20_000);
    const r = big.results[0]!;
    const common = { method: 'GET', path: '/five.bin', status: 200, reqBodySize: 0, respBodySize: 5 * MiB, maxLatencyNs: r.latencyNs };
    assertRow(rows.server[0], { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: worker }, 'nginx row of 5 MiB');
    assertRow(rows.client[0], { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: big.pid }, 'curl row of 5 MiB');
    assert.equal(rows.client[0]!.resp_body, pattern(512).toString('latin1'));

    const up = await nodeClient(`http://127.0.0.1:${server.port}`, { n: 1, method: 'POST', bodyBytes: 2 * MiB, prefix: '/echo/node' });
    rows = await cap.waitRows(server.port, 2, 2, 20_000);
    const u = up.results[0]!;
    const upCommon = { method: 'POST', path: '/echo/node0', status: 200, reqBodySize: 2 * MiB, respBodySize: 3, maxLatencyNs: u.latencyNs };
    assertRow(rows.server[1], { ...upCommon, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: u.localPort, pid: worker }, 'nginx row of the 2 MiB upload');
    assertRow(rows.client[1], { ...upCommon, role: 1, localAddr: '127.0.0.1', localPort: u.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: up.pid }, 'Node client row of the 2 MiB upload');

    // curl asks "Expect: 100-continue" for a body this large: the interim 100 is not the answer.
    const cu = await curl([`http://127.0.0.1:${server.port}/echo/curl`], ['--data-binary', `@${upload}`]);
    assert.equal(cu.code, 0, cu.stderr);
    rows = await cap.waitRows(server.port, 3, 3, 20_000);
    const k = cu.results[0]!;
    const cuCommon = { method: 'POST', path: '/echo/curl', status: 200, reqBodySize: 2 * MiB, respBodySize: 3, maxLatencyNs: k.latencyNs };
    assertRow(rows.server[2], { ...cuCommon, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: k.localPort, pid: worker }, 'nginx row of the curl upload');
    assertRow(rows.client[2], { ...cuCommon, role: 1, localAddr: '127.0.0.1', localPort: k.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: cu.pid }, 'curl row of the curl upload');
    assert.match(rows.client[2]!.req_headers, /"expect":"100-continue"/i);
    assert.equal(rows.server[2]!.req_body, pattern(512).toString('latin1'));
  } finally {
    await server.stop();
  }
});

test('a response written with one writev of 401 iovecs: exact size and body prefix', async () => {
  const server = await rawHttpServer();
  try {
    const n = 400;
    const c = await curl([`http://127.0.0.1:${server.port}/writev?n=${n}`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.results[0]!.sizeDownload, n * 8);
    const rows = await cap.waitRows(server.port, 1, 1);
    const r = c.results[0]!;
    const common = { method: 'GET', path: `/writev?n=${n}`, status: 200, reqBodySize: 0, respBodySize: n * 8, maxLatencyNs: r.latencyNs };
    assertRow(rows.server[0], { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: server.pid }, 'server row of the writev');
    assertRow(rows.client[0], { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: c.pid }, 'client row of the writev');
    const want = writevBody(n).slice(0, 512);
    assert.equal(rows.server[0]!.resp_body, want, 'prefix as the writer sent it (from its iovecs)');
    assert.equal(rows.client[0]!.resp_body, want, 'prefix as the reader got it');
  } finally {
    await server.stop();
  }
});

test('a response delimited by the close alone (no length, no chunking): its true size', async () => {
  const server = await rawHttpServer();
  try {
    const size = 70_000;
    const c = await curl([`http://127.0.0.1:${server.port}/until-close?size=${size}`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.results[0]!.sizeDownload, size);
    const rows = await cap.waitRows(server.port, 1, 1);
    const r = c.results[0]!;
    const common = { method: 'GET', path: `/until-close?size=${size}`, status: 200, reqBodySize: 0, respBodySize: size, maxLatencyNs: r.latencyNs };
    assertRow(rows.server[0], { ...common, role: 2, localAddr: '127.0.0.1', localPort: server.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: server.pid }, 'server row of the close-delimited response');
    assertRow(rows.client[0], { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: server.port, pid: c.pid }, 'client row of the close-delimited response');
  } finally {
    await server.stop();
  }
});
