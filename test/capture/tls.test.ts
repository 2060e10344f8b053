/**
 * HTTP inside TLS, read in plaintext by the OpenSSL uprobes: real servers and clients over TLS
 * on loopback (nginx, Python's ssl, curl: libssl.so.3; Node: OpenSSL inside its binary). Every
 * exchange gives exactly one row per traced side, encrypted, with the sizes, ports, methods and
 * processes the peers themselves report, through the same native path as plaintext.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpEventRow } from '../../src/engine/http/schema.js';
import { Capture, assertRow, curl, exec, grew, nodeClient, type ClientResult } from '../support/capture.js';
import { filesDir, nginxServer, pythonServer, run, selfSignedCert, wispEngine } from '../support/peers.js';
import { start } from '../capture-kernel/helpers.js';
import { chunkedBody, httpServer } from '../support/servers.js';

const cap = Capture.start();
after(() => cap.close());
const cert = selfSignedCert();
const MiB2 = 2 * 1024 * 1024;

function assertEncrypted(rows: readonly HttpEventRow[], what: string): void {
  assert.deepEqual(rows.map((r) => r.encrypted), rows.map(() => true), `${what}: every row is encrypted`);
}

/** Curl's requests over one TLS connection: the server's and curl's rows, in order. */
function checkCurlRows(rows: { server: readonly HttpEventRow[]; client: readonly HttpEventRow[] }, paths: readonly string[],
  c: Awaited<ReturnType<typeof curl>>, port: number, serverPid: number, serverComm: string): void {
  assert.equal(rows.server.length, paths.length, 'one server row per request');
  assert.equal(rows.client.length, paths.length, 'one client row per request');
  paths.forEach((path, i) => {
    const r = c.results[i]!;
    const common = { method: 'GET', path, status: r.status, reqBodySize: 0, respBodySize: r.sizeDownload, maxLatencyNs: r.latencyNs };
    assertRow(rows.server[i], { ...common, role: 2, localAddr: '127.0.0.1', localPort: port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: serverPid }, `${serverComm} row ${path}`);
    assertRow(rows.client[i], { ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: port, pid: c.pid }, `curl row ${path}`);
    assert.deepEqual([rows.server[i]!.comm, rows.client[i]!.comm], [serverComm, 'curl'], 'process names');
  });
  assertEncrypted([...rows.server, ...rows.client], serverComm);
}

/** Node-client requests matched by their unique paths, on both sides. */
function checkNodeRows(rows: { server: readonly HttpEventRow[]; client: readonly HttpEventRow[] }, results: readonly ClientResult[],
  o: { method: string; reqBodySize: number; respBodySize?: number; port: number; serverPid: number; clientPid: number }): void {
  assert.equal(rows.server.length, results.length, 'one server row per request');
  assert.equal(rows.client.length, results.length, 'one client row per request');
  for (const r of results) {
    const common = { method: o.method, path: r.path, status: r.status, reqBodySize: o.reqBodySize, respBodySize: o.respBodySize ?? r.bytes, maxLatencyNs: r.latencyNs };
    assertRow(rows.server.find((x) => x.req_path === r.path), {
      ...common, role: 2, localAddr: '127.0.0.1', localPort: o.port, remoteAddr: '127.0.0.1', remotePort: r.localPort, pid: o.serverPid,
    }, `server row of ${o.method} ${r.path}`);
    assertRow(rows.client.find((x) => x.req_path === r.path), {
      ...common, role: 1, localAddr: '127.0.0.1', localPort: r.localPort, remoteAddr: '127.0.0.1', remotePort: o.port, pid: o.clientPid,
    }, `client row of ${o.method} ${r.path}`);
  }
  assertEncrypted([...rows.server, ...rows.client], 'node');
}

test('curl to nginx over TLS: keep-alive on one connection, a 2 MiB file, a 404; the ciphertext is not counted as non-HTTP', async () => {
  const dir = filesDir({ 'page.html': 2048, 'small.txt': 10, 'big.bin': MiB2 });
  const server = await nginxServer(dir, '127.0.0.1', cert);
  try {
    const [worker] = server.workerPids();
    assert.ok(worker, 'nginx has a worker process');
    const before = cap.counters().capture;
    const paths = ['/page.html', '/big.bin', '/small.txt', '/nope'];
    const c = await curl(paths.map((p) => `https://127.0.0.1:${server.port}${p}`), ['-k']);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(c.results.map((r) => r.status), [200, 200, 200, 404]);
    assert.deepEqual(c.results.slice(0, 3).map((r) => r.sizeDownload), [2048, MiB2, 10]);
    assert.equal(new Set(c.results.map((r) => r.localPort)).size, 1, 'curl reused its TLS connection');
    const rows = await cap.waitRows(server.port, 4, 4);
    checkCurlRows(rows, paths, c, server.port, worker, 'nginx');
    assert.equal(rows.server[0]!.resp_body, 'abcdefghijklmnopqrstuvwxyz'.repeat(20).slice(0, 512), 'the body prefix is plaintext');
    const now = cap.counters().capture;
    // Both ends see the 2 MiB as ciphertext (server egress, client ingress), but for what was
    // copied as the handshake until the connections stage muted the connection (at most
    // tlsCaptureBytes, 32 KiB, per direction of each end).
    const handshakeCopy = 4 * 32 * 1024;
    assert.ok(grew(before, now, 'tls_ciphertext_bytes') >= 2 * MiB2 - handshakeCopy, `tls_ciphertext_bytes grew by ${grew(before, now, 'tls_ciphertext_bytes')}`);
    assert.ok(grew(before, now, 'non_http_bytes') < MiB2, `non_http_bytes grew by ${grew(before, now, 'non_http_bytes')}: the ciphertext went there`);
    assert.equal(grew(before, now, 'tls_no_socket_bytes'), 0, 'every TLS call was tied to its socket');
  } finally {
    await server.stop();
  }
});

test('curl to Python https.server (HTTP/1.0 over TLS): 200s, a 2 MiB file and a 404', async () => {
  const dir = filesDir({ 'a.txt': 1234, 'big.bin': MiB2 });
  const server = await pythonServer(dir, cert);
  try {
    const paths = ['/a.txt', '/big.bin', '/missing?q=1'];
    const c = await curl(paths.map((p) => `https://127.0.0.1:${server.port}${p}`), ['-k']);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(c.results.map((r) => r.status), [200, 200, 404]);
    const rows = await cap.waitRows(server.port, 3, 3);
    checkCurlRows(rows, paths, c, server.port, server.pid, 'python3');
    assert.deepEqual([rows.server[0]!.major_version, rows.server[0]!.minor_version], [1, 0], 'http.server answers HTTP/1.0');
  } finally {
    await server.stop();
  }
});

test('Node https server and Node https client (OpenSSL inside the node binary): keep-alive, chunked, POST bodies', async () => {
  const server = await httpServer('127.0.0.1', cert);
  try {
    const chunked = await nodeClient(`https://127.0.0.1:${server.port}`, { n: 6, concurrency: 2, prefix: '/chunked?parts=9&i=' });
    assert.ok(new Set(chunked.results.map((r) => r.localPort)).size <= 2, 'at most 2 kept-alive connections');
    let rows = await cap.waitRows(server.port, 6, 6);
    checkNodeRows(rows, chunked.results, { method: 'GET', reqBodySize: 0, respBodySize: chunkedBody(9).length, port: server.port, serverPid: server.pid, clientPid: chunked.pid });
    assert.equal(rows.server[0]!.resp_body, chunkedBody(9), 'the de-chunked body');

    const post = await nodeClient(`https://127.0.0.1:${server.port}`, { n: 3, method: 'POST', bodyBytes: 70_000, prefix: '/p?size=100000&i=' });
    rows = await cap.waitRows(server.port, 9, 9);
    checkNodeRows({ server: rows.server.slice(6), client: rows.client.slice(6) }, post.results,
      { method: 'POST', reqBodySize: 70_000, port: server.port, serverPid: server.pid, clientPid: post.pid });
  } finally {
    await server.stop();
  }
});

test('a TLS server started after the engine from a binary it had not seen is captured (exec → attach)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-node-copy-'));
  const node = join(dir, 'node');
  // A copy is another inode: nothing attached to it before this process exists.
  copyFileSync(process.execPath, node);
  const server = await httpServer('127.0.0.1', cert, node);
  try {
    const c = await curl([`https://127.0.0.1:${server.port}/late?size=4321`], ['-k']);
    assert.equal(c.code, 0, c.stderr);
    const rows = await cap.waitRows(server.port, 1, 1);
    assertRow(rows.server[0], {
      method: 'GET', path: '/late?size=4321', status: 200, reqBodySize: 0, respBodySize: 4321, role: 2, localAddr: '127.0.0.1',
      localPort: server.port, remoteAddr: '127.0.0.1', remotePort: c.results[0]!.localPort, pid: server.pid, maxLatencyNs: c.results[0]!.latencyNs,
    }, 'row of the late server');
    assertEncrypted(rows.server, 'late server');
  } finally {
    await server.stop();
  }
});

test('a client whose TLS library cannot be probed (wget: GnuTLS) is listed as encrypted, not decoded, in the snapshot, /metrics and /readyz', async () => {
  const engine = await wispEngine();
  const server = await nginxServer(filesDir({ 'w.txt': 777 }), '127.0.0.1', cert);
  try {
    const [worker] = server.workerPids();
    const w = await exec('wget', ['-q', '--no-check-certificate', '-O', '/dev/null', `https://127.0.0.1:${server.port}/w.txt`]);
    assert.equal(w.code, 0, w.stderr);
    // The server end is OpenSSL's, so it is decoded; wget's own end is not.
    const rows = await cap.waitRows(server.port, 1, 0);
    assert.deepEqual(rows.server.map((r) => [r.req_path, r.resp_body_size, r.pid, r.encrypted]), [['/w.txt', 777, worker, true]]);
    assert.equal(cap.forPort(server.port).client.length, 0, 'no row from the undecoded end');
    const listed = (): boolean => cap.agent.snapshot().tls.undecoded.some((u) => u.pid === w.pid && u.comm === 'wget' && u.connections === 1);
    await cap.waitFor('wget listed as encrypted, not decoded', listed);
    const tls = cap.agent.snapshot().tls;
    assert.ok(tls.files >= 2, `probes on libssl.so.3 and node at least, got ${tls.files} files`);
    assert.equal(tls.failures, 0, `no attach failure: ${tls.lastError}`);

    const metrics = await (await fetch(`${engine.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`wisp_tls_undecoded_connections\\{pid="${w.pid}",comm="wget"\\} 1`), 'wget in /metrics');
    assert.match(metrics, /wisp_tls_attached_files [1-9]/, 'attached files in /metrics');
    assert.match(metrics, /wisp_tls_attach_failures_total 0/, 'attach failures in /metrics');
    const ready = await (await fetch(`${engine.url}/readyz`)).json() as { checks: { name: string; ok: boolean; detail: string }[] };
    const check = ready.checks.find((c) => c.name === 'tls');
    assert.ok(check?.ok, `a tls check: ${JSON.stringify(ready.checks)}`);
    assert.match(check.detail, new RegExp(`encrypted, not decoded: .*wget \\(pid ${w.pid}, 1 connections\\)`));
  } finally {
    await server.stop();
    await engine.stop();
  }
});

// A libssl whose SSL_write and SSL_read lie in a section with no bytes in the file (NOBITS), a
// megabyte past its end: the kernel refuses a uprobe there.
const UNPROBEABLE = `
	.section .probe_nobits,"awx",@nobits
	.zero 1048576
	.globl SSL_write
	.type SSL_write,@function
SSL_write:
	.zero 16
	.globl SSL_read
	.type SSL_read,@function
SSL_read:
	.zero 16
`;

test('a libssl the kernel will not probe, loaded by a process started after the engine, is counted as an attach failure and named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-badssl-'));
  writeFileSync(join(dir, 'bad.S'), UNPROBEABLE);
  const lib = join(dir, 'libssl.so.99');
  const cc = await run('cc', ['-shared', '-nostdlib', '-Wl,--no-warn-rwx-segments', '-o', lib, join(dir, 'bad.S')]);
  assert.equal(cc.code, 0, cc.stderr);
  const before = cap.agent.snapshot().tls.failures;
  const py = await start('python3', ['-c', `import ctypes, sys, time\nctypes.CDLL(${JSON.stringify(lib)})\nprint('loaded', flush=True)\ntime.sleep(30)`]);
  try {
    await cap.waitFor('the failed attach to be counted', () => cap.agent.snapshot().tls.failures > before);
    const tls = cap.agent.snapshot().tls;
    assert.match(tls.lastError, new RegExp(`^attaching to SSL_(write|read) in /proc/${py.pid}/root${lib}: Invalid argument$`));
  } finally {
    py.proc.kill();
    await py.exit;
  }
});
