/**
 * The provisioned "Network" dashboard against a live `bin/wisp engine` (real eBPF capture)
 * while known TCP and TLS traffic runs on loopback: an echo client that opens three connections
 * of known sizes, and a TLS 1.2 client and server with a certificate made here that expires in
 * 20 days. Every panel's script is the query-editor preset of the same name, and is POSTed the
 * way the plugin sends it; its answer is checked against what the traffic is known to be. The
 * processes name themselves (process.title → /proc/PID/comm), so their rows are told apart
 * from other processes' on this machine.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { NETWORK_PRESETS } from '../../src/plugin/presets.js';
import { run, waitForLine } from '../support/peers.js';
import { loadDashboard, output, panelOf, queryPanel, root, rows, type Panel } from './dashboard.js';

const dashboard = loadDashboard('network.json');
const INTERVAL_MS = 1000;
const SIZES = [500, 7000, 40_000];
const TOTAL = SIZES.reduce((a, b) => a + b, 0);

const children: ChildProcess[] = [];
let dir: string;
let url: string;
let range: { from: number; to: number };
let notAfterNs: bigint;

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  return exited;
}

function node(file: string, code: string, args: string[] = []): ChildProcess {
  writeFileSync(join(dir, file), code);
  const child = spawn(process.execPath, [join(dir, file), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wisp-network-live-'));
  const req = await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '20', '-subj', '/CN=network.test',
    '-addext', 'subjectAltName=DNS:network.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ]);
  assert.equal(req.code, 0, req.stderr);
  const end = await run('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-noout', '-enddate']);
  notAfterNs = BigInt(Date.parse(end.stdout.trim().replace(/^notAfter=/, ''))) * 1_000_000n;
  const engine = spawn(join(root, 'bin/wisp'), ['engine', '--listen', '127.0.0.1:0', '--conn-stats-period-ms', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(engine);
  url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 30_000))[1]!;
  const start = Date.now() - 1000;
  const echo = node('echo-server.mjs', `
import net from 'node:net';
process.title = 'net-echo-srv';
const s = net.createServer((c) => c.pipe(c));
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  const echoPort = (await waitForLine(echo, /^listening (\d+)$/))[1]!;
  const client = node('echo-client.mjs', `
import net from 'node:net';
process.title = 'net-echo-cli';
for (const size of ${JSON.stringify(SIZES)}) {
  await new Promise((resolve) => {
    const c = net.connect(${echoPort}, '127.0.0.1');
    let got = 0;
    c.on('data', (d) => { got += d.length; if (got === size) c.end(); });
    c.on('close', resolve);
    c.write(Buffer.alloc(size, 0x61));
  });
  await new Promise((r) => setTimeout(r, 700));
}
console.log('done');
setInterval(() => {}, 1000);`);
  const tlsServer = node('tls-server.mjs', `
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
process.title = 'net-tls-srv';
const s = tls.createServer({ cert: readFileSync('${join(dir, 'cert.pem')}'), key: readFileSync('${join(dir, 'key.pem')}'),
  maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ALPNProtocols: ['http/1.1'] }, (c) => {
  c.on('data', () => c.end('pong'));
});
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  const tlsPort = (await waitForLine(tlsServer, /^listening (\d+)$/))[1]!;
  const tlsClient = node('tls-client.mjs', `
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
process.title = 'net-tls-cli';
const c = tls.connect({ host: '127.0.0.1', port: ${tlsPort}, servername: 'network.test', ca: readFileSync('${join(dir, 'cert.pem')}'),
  ALPNProtocols: ['h2', 'http/1.1'] }, () => c.write('ping'));
c.on('data', () => { c.destroy(); console.log('done'); });
setInterval(() => {}, 1000);`);
  await waitForLine(client, /^done$/, 20_000);
  await waitForLine(tlsClient, /^done$/);
  // Two report periods, so every close is in conn_stats.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  range = { from: start, to: Date.now() };
});

after(async () => {
  for (const c of children.reverse()) await stop(c);
  rmSync(dir, { recursive: true, force: true });
});

const query = (script: string): Promise<QueryResponse> => queryPanel(url, { script, range, intervalMs: INTERVAL_MS, variables: {} });

const panel = (title: string): Panel => panelOf(dashboard, title);
async function panelRows(title: string, name: string) {
  return rows(output(await query(panel(title).targets[0]!.script), name));
}

test('the Network dashboard: each panel is a query-editor preset, on the Wisp datasource variable', () => {
  assert.equal(dashboard.uid, 'wisp-network');
  assert.deepEqual(dashboard.panels.map((p) => p.targets[0]!.script).sort(), NETWORK_PRESETS.map((p) => p.script).sort());
  for (const p of dashboard.panels) {
    assert.deepEqual(p.datasource, { type: 'wisp-ebpf-datasource', uid: '${datasource}' }, p.title);
    const preset = NETWORK_PRESETS.find((x) => x.script === p.targets[0]!.script)!;
    assert.equal(p.targets[0]!.format, preset.format, p.title);
  }
  assert.deepEqual(dashboard.panels.map((p) => p.type).sort(), ['nodeGraph', 'table', 'table', 'table', 'table', 'timeseries', 'timeseries']);
});

test('every panel returns non-empty outputs, shaped as its panel shows them', async () => {
  for (const p of dashboard.panels) {
    const res = await query(p.targets[0]!.script);
    assert.ok(res.tables.length > 0, p.title);
    for (const t of res.tables) {
      assert.ok(t.rowCount > 0, `${p.title}: output ${t.name} is empty`);
      const names = t.columns.map((c) => c.name);
      if (p.type === 'timeseries') {
        assert.equal(t.columns.find((c) => c.name === 'time_')?.type, 'TIME64NS', p.title);
        assert.ok(names.includes('service'), `${p.title}: the legend reads labels.service`);
      }
      for (const s of p.options?.sortBy ?? []) assert.ok(names.includes(s.displayName), `${p.title} sorts by ${s.displayName}`);
      if (t.name === 'nodes') for (const c of ['id', 'title', 'mainstat']) assert.ok(names.includes(c), `nodes.${c}`);
      if (t.name === 'edges') for (const c of ['id', 'source', 'target', 'mainstat', 'secondarystat']) assert.ok(names.includes(c), `edges.${c}`);
    }
  }
});

test('the network graph: the echo and TLS pairs as edges with their connections and bytes each way', async () => {
  const res = await query(panel('Network graph').targets[0]!.script);
  const edges = new Map(rows(output(res, 'edges')).map((e) => [String(e['id']), e]));
  const seconds = (range.to - range.from) / 1000;
  for (const id of ['net-echo-cli->127.0.0.1', '127.0.0.1->net-echo-srv']) {
    const e = edges.get(id);
    assert.ok(e, `edge ${id} in ${[...edges.keys()].join(', ')}`);
    assert.equal(Number(e['mainstat']), 3, id);
    assert.equal(Number(e['detail__bytes_to_server']), TOTAL, id);
    assert.equal(Number(e['detail__bytes_to_client']), TOTAL, id);
    assert.ok(Math.abs(Number(e['secondarystat']) - (2 * TOTAL) / seconds) < 1e-6, `${id}: bytes/s`);
  }
  for (const id of ['net-tls-cli->127.0.0.1', '127.0.0.1->net-tls-srv']) assert.equal(Number(edges.get(id)?.['mainstat']), 1, id);
  const nodes = new Map(rows(output(res, 'nodes')).map((n) => [String(n['id']), n]));
  assert.equal(Number(nodes.get('net-echo-cli')?.['mainstat']), 3);
  assert.equal(nodes.get('net-echo-srv')?.['title'], 'net-echo-srv');
});

test('bytes/s and open connections by service, and the heaviest connections table, agree with the traffic', async () => {
  const bytes = (await panelRows('TCP bytes/s by service', 'bytes')).filter((r) => r['service'] === 'net-echo-cli');
  // Max − min per interval (as Pixie reads its counters): growth between two rows of a key in
  // one interval; what grows across an interval boundary is not counted, so never more than
  // the total (how much less depends on where the rows fall).
  assert.ok(bytes.length > 0, 'the client has points');
  assert.ok(bytes.every((r) => Number(r['bytes_per_s']) >= 0));
  const moved = bytes.reduce((a, r) => a + Number(r['bytes_per_s']) * (INTERVAL_MS / 1000), 0);
  assert.ok(moved <= 2 * TOTAL + 1e-6, `${moved} bytes`);
  const open = (await panelRows('Open TCP connections by service', 'open_connections')).filter((r) => r['service'] === 'net-echo-cli');
  assert.ok(open.length > 0 && open.every((r) => Number(r['open_connections']) <= 1), JSON.stringify(open));
  const heavy = (await panelRows('Heaviest and longest-lived connections', 'connections')).filter((r) => r['service'] === 'net-echo-cli');
  assert.equal(heavy.length, 1);
  assert.deepEqual([heavy[0]!['connections'], heavy[0]!['bytes_sent'], heavy[0]!['bytes_recv'], heavy[0]!['bytes_total']].map(Number), [3, TOTAL, TOTAL, 2 * TOTAL]);
});

test('the TLS panels: version and cipher, the server name with ALPN offered and chosen, the certificate expiring in 20 days', async () => {
  const versions = await panelRows('TLS versions and ciphers', 'tls_versions');
  const v12 = versions.find((r) => r['version'] === 'TLS 1.2' && r['cipher'] === 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
  assert.ok(v12 && Number(v12['handshakes']) >= 2, JSON.stringify(versions));
  const sni = (await panelRows('TLS server names (SNI)', 'sni')).filter((r) => r['sni'] === 'network.test');
  assert.deepEqual(
    sni.map((r) => [r['service'], Number(r['trace_role']), r['alpn_offered'], r['alpn'], r['version'], Number(r['handshakes'])]).sort(),
    [['net-tls-cli', 1, 'h2,http/1.1', 'http/1.1', 'TLS 1.2', 1], ['net-tls-srv', 2, 'h2,http/1.1', 'http/1.1', 'TLS 1.2', 1]],
  );
  const certs = (await panelRows('Certificates expiring within 30 days', 'expiring_certs')).filter((r) => r['sni'] === 'network.test');
  assert.equal(certs.length, 1, JSON.stringify(certs));
  assert.equal(certs[0]!['cert_subject'], 'CN=network.test');
  assert.equal(certs[0]!['cert_sans'], 'DNS:network.test');
  assert.equal(BigInt(String(certs[0]!['cert_not_after'])), notAfterNs);
  const days = Number(certs[0]!['expires_in_days']);
  assert.ok(days > 19 && days <= 20, `${days} days`);
});
