/**
 * `tls_handshakes` (and `conn_stats.ssl`) from real TLS handshakes on loopback, read back through
 * `POST /api/v1/query` of a real engine: Node `tls` servers and clients at TLS 1.2 and 1.3, and
 * Debian's `openssl s_server`. The certificate is made here with `openssl req`; every field of
 * the rows is what the test configured. Rows are picked by the pids of this test's processes.
 * Last, with the OpenSSL uprobes: the connections whose http_events rows are encrypted are
 * exactly those with a handshake.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { nodeServer, run, waitForLine, wispEngine, type Peer } from '../support/peers.js';

type Engine = Peer & { url: string };
let engine: Engine;
let dir: string;
let certPem: string;
let keyPem: string;
/** The certificate's notAfter, in ns since the epoch. */
let notAfterNs: bigint;

const SUBJECT = 'CN=tls.test,O=Wisp Test';
const SANS = 'DNS:tls.test,DNS:alt.tls.test,IP:127.0.0.1';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wisp-tls-'));
  const req = await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '20', '-subj', '/O=Wisp Test/CN=tls.test',
    '-addext', 'subjectAltName=DNS:tls.test,DNS:alt.tls.test,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ]);
  assert.equal(req.code, 0, req.stderr);
  certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  keyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
  const end = await run('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-noout', '-enddate']);
  notAfterNs = BigInt(Date.parse(end.stdout.trim().replace(/^notAfter=/, ''))) * 1_000_000n;
  engine = await wispEngine(['--conn-stats-period-ms', '200']);
});

after(async () => {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Handshake {
  remote_port: number;
  local_port: number;
  trace_role: number;
  sni: string;
  alpn_offered: string;
  alpn: string;
  versions_offered: string;
  version: string;
  cipher: string;
  cert_subject: string;
  cert_issuer: string;
  cert_sans: string;
  cert_not_after: bigint;
  handshake_duration: number;
}

const COLUMNS = ['remote_port', 'local_port', 'trace_role', 'sni', 'alpn_offered', 'alpn', 'versions_offered', 'version', 'cipher', 'cert_subject', 'cert_issuer', 'cert_sans', 'cert_not_after', 'handshake_duration'] as const;

async function query(script: string): Promise<QueryResponse> {
  const res = await fetch(`${engine.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const body = (await res.json()) as QueryResponse;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

/** The handshakes of process `pid`, waiting until there are `want` of them. */
async function handshakesOf(pid: number, want: number): Promise<Handshake[]> {
  const script = `import px
df = px.DataFrame(table='tls_handshakes', start_time='-5m')
df = df[px.upid_to_pid(df.upid) == ${pid}]
px.display(df[[${COLUMNS.map((c) => `'${c}'`).join(', ')}]], 'tls')
`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const t = (await query(script)).tables[0]!;
    if (t.rowCount >= want || Date.now() > deadline) {
      const out: Handshake[] = [];
      for (let i = 0; i < t.rowCount; i++) {
        const v = (name: string): unknown => t.data[t.columns.findIndex((c) => c.name === name)]![i];
        out.push({
          remote_port: Number(v('remote_port')),
          local_port: Number(v('local_port')),
          trace_role: Number(v('trace_role')),
          sni: String(v('sni')),
          alpn_offered: String(v('alpn_offered')),
          alpn: String(v('alpn')),
          versions_offered: String(v('versions_offered')),
          version: String(v('version')),
          cipher: String(v('cipher')),
          cert_subject: String(v('cert_subject')),
          cert_issuer: String(v('cert_issuer')),
          cert_sans: String(v('cert_sans')),
          cert_not_after: BigInt(String(v('cert_not_after'))),
          handshake_duration: Number(v('handshake_duration')),
        });
      }
      return out;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * conn_stats' ssl and protocol in the latest row of process `pid`, once it says TLS (a key's
 * row from before its first bytes does not know its protocol yet).
 */
async function sslOf(pid: number): Promise<[boolean, number]> {
  const script = `import px
df = px.DataFrame(table='conn_stats', start_time='-5m')
df = df[px.upid_to_pid(df.upid) == ${pid}]
px.display(df[['time_', 'ssl', 'protocol']], 'ssl')
`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const t = (await query(script)).tables[0]!;
    let latest: [boolean, number] = [false, -1];
    let at = -1n;
    t.data[0]!.forEach((time, i) => {
      if (BigInt(String(time)) > at) {
        at = BigInt(String(time));
        latest = [t.data[1]![i] === true, Number(t.data[2]![i])];
      }
    });
    if (latest[0] || Date.now() > deadline) return latest;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Node child running `code` that prints `done` when its connection is over. */
function nodeChild(code: string): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
}

function tlsServerCode(opts: { maxVersion: string; ciphers: string; alpn: string[] }): string {
  return `
import tls from 'node:tls';
const s = tls.createServer({ cert: ${JSON.stringify(certPem)}, key: ${JSON.stringify(keyPem)}, minVersion: 'TLSv1.2',
  maxVersion: '${opts.maxVersion}', ciphers: '${opts.ciphers}', ALPNProtocols: ${JSON.stringify(opts.alpn)} }, (c) => {
  c.on('data', (d) => c.write('pong:' + d));
  c.on('end', () => c.end());
});
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`;
}

function tlsClientCode(port: number, opts: { minVersion: string; maxVersion: string; alpn: string[]; replied?: boolean }): string {
  const replied = opts.replied ?? true;
  return `
import tls from 'node:tls';
const c = tls.connect({ host: '127.0.0.1', port: ${port}, servername: 'tls.test', ca: ${JSON.stringify(certPem)},
  minVersion: '${opts.minVersion}', maxVersion: '${opts.maxVersion}', ALPNProtocols: ${JSON.stringify(opts.alpn)} },
  () => { port = c.localPort; c.write('ping', () => { if (!${replied}) c.end(); }); });
let port = 0;
c.on('data', () => c.end());
c.on('error', (e) => { console.error(e.message); process.exit(1); });
c.on('close', () => { console.log('done ' + port); process.exit(0); });`;
}

test('tls_handshakes: Node tls at TLS 1.2, both ends: SNI, ALPN offered and chosen, version, cipher and the certificate', async () => {
  const server = await nodeServer(tlsServerCode({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', alpn: ['http/1.1'] }));
  try {
    const client = nodeChild(tlsClientCode(server.port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', alpn: ['h2', 'http/1.1'] }));
    const clientPort = Number((await waitForLine(client, /^done (\d+)$/))[1]);
    const common = {
      sni: 'tls.test', alpn_offered: 'h2,http/1.1', alpn: 'http/1.1', versions_offered: 'TLS 1.2', version: 'TLS 1.2',
      cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', cert_subject: SUBJECT, cert_issuer: SUBJECT, cert_sans: SANS, cert_not_after: notAfterNs,
    };
    const [cli, ...moreCli] = await handshakesOf(client.pid!, 1);
    assert.equal(moreCli.length, 0);
    assert.ok(cli && cli.handshake_duration > 0 && cli.handshake_duration < 5e9, `duration ${cli?.handshake_duration}`);
    assert.deepEqual({ ...cli, handshake_duration: 0 }, { ...common, remote_port: server.port, local_port: clientPort, trace_role: 1, handshake_duration: 0 });
    const srv = (await handshakesOf(server.pid, 1)).filter((h) => h.remote_port === clientPort);
    assert.equal(srv.length, 1);
    assert.deepEqual({ ...srv[0]!, handshake_duration: 0 }, { ...common, remote_port: clientPort, local_port: server.port, trace_role: 2, handshake_duration: 0 });
    assert.deepEqual(await sslOf(client.pid!), [true, 13]);
    assert.deepEqual(await sslOf(server.pid), [true, 13]);
  } finally {
    await server.stop();
  }
});

test('tls_handshakes: Node tls at TLS 1.3: versions offered and chosen, cipher; ALPN chosen and certificate are encrypted', async () => {
  const server = await nodeServer(tlsServerCode({ maxVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256', alpn: ['h2'] }));
  try {
    const client = nodeChild(tlsClientCode(server.port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', alpn: ['h2', 'http/1.1'] }));
    const clientPort = Number((await waitForLine(client, /^done (\d+)$/))[1]);
    const common = {
      sni: 'tls.test', alpn_offered: 'h2,http/1.1', alpn: '', versions_offered: 'TLS 1.3,TLS 1.2', version: 'TLS 1.3',
      cipher: 'TLS_CHACHA20_POLY1305_SHA256', cert_subject: '', cert_issuer: '', cert_sans: '', cert_not_after: 0n,
    };
    const [cli] = await handshakesOf(client.pid!, 1);
    assert.ok(cli && cli.handshake_duration > 0, `duration ${cli?.handshake_duration}`);
    assert.deepEqual({ ...cli, handshake_duration: 0 }, { ...common, remote_port: server.port, local_port: clientPort, trace_role: 1, handshake_duration: 0 });
    const srv = (await handshakesOf(server.pid, 1)).filter((h) => h.remote_port === clientPort);
    assert.equal(srv.length, 1);
    assert.deepEqual({ ...srv[0]!, handshake_duration: 0 }, { ...common, remote_port: clientPort, local_port: server.port, trace_role: 2, handshake_duration: 0 });
  } finally {
    await server.stop();
  }
});

test('tls_handshakes: openssl s_server at TLS 1.2 with a Node client: the server end and the certificate it sent', async () => {
  const port = 20000 + (process.pid % 20000);
  const server = spawn('openssl', [
    's_server', '-accept', `127.0.0.1:${port}`, '-cert', join(dir, 'cert.pem'), '-key', join(dir, 'key.pem'),
    '-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384', '-alpn', 'http/1.1', '-naccept', '1',
  ], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    await waitForLine(server, /^ACCEPT$/);
    // s_server answers nothing by itself: the client ends once its bytes are written.
    const client = nodeChild(tlsClientCode(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', alpn: ['http/1.1'], replied: false }));
    const clientPort = Number((await waitForLine(client, /^done (\d+)$/))[1]);
    const common = {
      sni: 'tls.test', alpn_offered: 'http/1.1', alpn: 'http/1.1', versions_offered: 'TLS 1.3,TLS 1.2', version: 'TLS 1.2',
      cipher: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', cert_subject: SUBJECT, cert_issuer: SUBJECT, cert_sans: SANS, cert_not_after: notAfterNs,
    };
    const srv = (await handshakesOf(server.pid!, 1)).filter((h) => h.remote_port === clientPort);
    assert.equal(srv.length, 1);
    assert.deepEqual({ ...srv[0]!, handshake_duration: 0 }, { ...common, remote_port: clientPort, local_port: port, trace_role: 2, handshake_duration: 0 });
    const [cli] = await handshakesOf(client.pid!, 1);
    assert.deepEqual({ ...cli!, handshake_duration: 0 }, { ...common, remote_port: port, local_port: clientPort, trace_role: 1, handshake_duration: 0 });
  } finally {
    server.kill();
  }
});

/** The connections of `port` in a table, as `role:client port`, from the traced end's view. */
function connectionsOf(t: QueryResponse['tables'][number], port: number, where: (i: number) => boolean = () => true): Set<string> {
  const col = (name: string): readonly unknown[] => t.data[t.columns.findIndex((c) => c.name === name)]!;
  const [role, local, remote] = [col('trace_role'), col('local_port'), col('remote_port')].map((c) => c.map(Number));
  const out = new Set<string>();
  for (let i = 0; i < t.rowCount; i++) {
    if (!where(i)) continue;
    if (role[i] === 2 && local[i] === port) out.add(`2:${remote[i]}`);
    if (role[i] === 1 && remote[i] === port) out.add(`1:${local[i]}`);
  }
  return out;
}

test('http_events and tls_handshakes agree on which connections were TLS: curl (libssl) to a Node https server and to a plain one', async () => {
  const serve = (module: string, options: string): string => `import m from 'node:${module}';
const s = m.createServer(${options}(req, res) => res.end('ok'));
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`;
  const secure = await nodeServer(serve('https', `{ cert: ${JSON.stringify(certPem)}, key: ${JSON.stringify(keyPem)} }, `));
  const plain = await nodeServer(serve('http', ''));
  try {
    // Two requests a connection: curl keeps its connection for the second URL.
    for (const [url, times] of [[`https://127.0.0.1:${secure.port}`, 2], [`http://127.0.0.1:${plain.port}`, 1]] as const) {
      for (let i = 0; i < times; i++) {
        const c = await run('curl', ['-sk', '-o', '/dev/null', '-o', '/dev/null', `${url}/a`, `${url}/b`]);
        assert.equal(c.code, 0, c.stderr);
      }
    }
    const ports = `df.local_port == ${secure.port} or df.remote_port == ${secure.port} or df.local_port == ${plain.port} or df.remote_port == ${plain.port}`;
    const script = (table: string, columns: string): string => `import px
df = px.DataFrame(table='${table}', start_time='-5m')
df = df[${ports}]
px.display(df[[${columns}]], '${table}')
`;
    const deadline = Date.now() + 15_000;
    let http: QueryResponse['tables'][number];
    let hs: QueryResponse['tables'][number];
    do {
      await new Promise((r) => setTimeout(r, 100));
      http = (await query(script('http_events', "'trace_role', 'local_port', 'remote_port', 'encrypted'"))).tables[0]!;
      hs = (await query(script('tls_handshakes', "'trace_role', 'local_port', 'remote_port'"))).tables[0]!;
    } while ((http.rowCount < 12 || hs.rowCount < 4) && Date.now() < deadline);
    const encrypted = http.data[http.columns.findIndex((c) => c.name === 'encrypted')]!;
    assert.equal(http.rowCount, 12, 'three connections of two requests, both ends');
    const tlsConns = connectionsOf(http, secure.port, (i) => encrypted[i] === true);
    assert.equal(tlsConns.size, 4, 'two https connections, each seen from both ends, every row encrypted');
    assert.deepEqual(connectionsOf(http, secure.port, (i) => encrypted[i] !== true), new Set(), 'no https row unencrypted');
    assert.deepEqual(connectionsOf(hs, secure.port), tlsConns, 'a handshake for exactly the connections whose rows are encrypted');
    assert.equal(connectionsOf(http, plain.port, (i) => encrypted[i] !== true).size, 2, 'the plain connection, both ends, not encrypted');
    assert.deepEqual(connectionsOf(hs, plain.port), new Set(), 'and no handshake for it');
  } finally {
    await secure.stop();
    await plain.stop();
  }
});
