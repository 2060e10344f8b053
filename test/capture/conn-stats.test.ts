/**
 * `conn_stats` from real loopback traffic, read back through `POST /api/v1/query` of a real
 * engine: a TCP echo pair and a Redis-like request/response protocol (neither is HTTP), and a
 * connection opened before the engine started. Byte totals are what the processes sent and
 * received; open/close/active counts are exact. Other processes on the machine make traffic
 * too, so rows are picked by the pids of this test's processes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { nodeServer, waitForLine, wispEngine, type Peer } from '../support/peers.js';

type Engine = Peer & { url: string };
let engine: Engine;
const PERIOD_MS = 200;

before(async () => {
  engine = await wispEngine(['--conn-stats-period-ms', String(PERIOD_MS)]);
});

after(async () => {
  await engine.stop();
});

/** One conn_stats key: its latest row, and how many rows it has. */
interface KeyState {
  remote_addr: string;
  remote_port: number;
  trace_role: number;
  addr_family: number;
  protocol: number;
  ssl: boolean;
  conn_open: number;
  conn_close: number;
  conn_active: number;
  bytes_sent: number;
  bytes_recv: number;
  rows: number;
}

const COLUMNS = ['time_', 'remote_addr', 'remote_port', 'trace_role', 'addr_family', 'protocol', 'ssl', 'conn_open', 'conn_close', 'conn_active', 'bytes_sent', 'bytes_recv'] as const;

/** The conn_stats keys of process `pid` in `e`, each as its latest row. */
async function keysOf(e: Engine, pid: number): Promise<KeyState[]> {
  const script = `import px
df = px.DataFrame(table='conn_stats', start_time='-5m')
df = df[px.upid_to_pid(df.upid) == ${pid}]
px.display(df[[${COLUMNS.map((c) => `'${c}'`).join(', ')}]], 'conns')
`;
  const res = await fetch(`${e.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const body = (await res.json()) as QueryResponse;
  assert.equal(res.status, 200, JSON.stringify(body));
  const t = body.tables[0]!;
  const col = (name: string): readonly unknown[] => t.data[t.columns.findIndex((c) => c.name === name)]!;
  const byKey = new Map<string, KeyState & { time: bigint }>();
  for (let i = 0; i < t.rowCount; i++) {
    const key = `${String(col('remote_addr')[i])}|${String(col('remote_port')[i])}|${String(col('trace_role')[i])}`;
    const time = BigInt(String(col('time_')[i]));
    const prev = byKey.get(key);
    const rows = (prev?.rows ?? 0) + 1;
    if (prev && prev.time > time) {
      prev.rows = rows;
      continue;
    }
    const n = (c: string): number => Number(col(c)[i]);
    byKey.set(key, {
      time,
      rows,
      remote_addr: String(col('remote_addr')[i]),
      remote_port: n('remote_port'),
      trace_role: n('trace_role'),
      addr_family: n('addr_family'),
      protocol: n('protocol'),
      ssl: col('ssl')[i] === true,
      conn_open: n('conn_open'),
      conn_close: n('conn_close'),
      conn_active: n('conn_active'),
      bytes_sent: n('bytes_sent'),
      bytes_recv: n('bytes_recv'),
    });
  }
  return [...byKey.values()].map(({ time: _t, ...k }) => k);
}

/** Polls until `pid`'s keys, without the row counts, equal `want` (or fails showing the last answer). */
async function expectKeys(e: Engine, pid: number, want: Omit<KeyState, 'rows'>[], what: string): Promise<KeyState[]> {
  const deadline = Date.now() + 15_000;
  const strip = (ks: KeyState[]): Omit<KeyState, 'rows'>[] =>
    ks.map(({ rows: _r, ...k }) => k).sort((a, b) => a.trace_role - b.trace_role || a.remote_port - b.remote_port);
  for (;;) {
    const got = await keysOf(e, pid);
    try {
      assert.deepEqual(strip(got), strip(want as KeyState[]), what);
      return got;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Node child process running `code`; it talks over stdin/stdout lines. */
function nodeChild(code: string): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

const ECHO_SERVER = `
import net from 'node:net';
const s = net.createServer((c) => c.pipe(c));
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`;

/**
 * A client of the echo server: one connection per size, each sends that many bytes, reads them
 * all back and closes; then one more connection that stays open (sending its size) until a
 * line comes on stdin.
 */
function echoClient(port: number, sizes: readonly number[], open: number): string {
  return `
import net from 'node:net';
function exchange(size, keep) {
  return new Promise((resolve, reject) => {
    const c = net.connect(${port}, '127.0.0.1');
    let got = 0;
    c.on('error', reject);
    c.on('data', (d) => {
      got += d.length;
      if (got !== size) return;
      if (keep) return resolve(c);
      c.end();
    });
    c.on('close', () => resolve(null));
    c.write(Buffer.alloc(size, 0x61));
  });
}
for (const size of ${JSON.stringify(sizes)}) await exchange(size, false);
const kept = await exchange(${open}, true);
console.log('open');
process.stdin.once('data', () => {
  kept.on('close', () => { console.log('closed'); process.exit(0); });
  kept.end();
});`;
}

test('conn_stats: a TCP echo pair, exact bytes both ways and open/close/active counts on both ends', async () => {
  const server = await nodeServer(ECHO_SERVER);
  try {
    const sizes = [1000, 20_000, 300];
    const open = 50;
    const total = sizes.reduce((a, b) => a + b, 0) + open;
    const client = nodeChild(echoClient(server.port, sizes, open));
    await waitForLine(client, /^open$/);
    const common = { addr_family: 2, protocol: 0, ssl: false, remote_addr: '127.0.0.1' };
    await expectKeys(engine, client.pid!, [{ ...common, remote_port: server.port, trace_role: 1, conn_open: 4, conn_close: 3, conn_active: 1, bytes_sent: total, bytes_recv: total }], 'client while one connection is open');
    await expectKeys(engine, server.pid, [{ ...common, remote_port: 0, trace_role: 2, conn_open: 4, conn_close: 3, conn_active: 1, bytes_sent: total, bytes_recv: total }], 'server while one connection is open');
    client.stdin!.write('close\n');
    await waitForLine(client, /^closed$/);
    await exited(client);
    await expectKeys(engine, client.pid!, [{ ...common, remote_port: server.port, trace_role: 1, conn_open: 4, conn_close: 4, conn_active: 0, bytes_sent: total, bytes_recv: total }], 'client after the last close');
    await expectKeys(engine, server.pid, [{ ...common, remote_port: 0, trace_role: 2, conn_open: 4, conn_close: 4, conn_active: 0, bytes_sent: total, bytes_recv: total }], 'server after the last close');
  } finally {
    await server.stop();
  }
});

/** A server of a Redis-like protocol (RESP): PING → +PONG, SET k v → +OK, GET k → bulk string. */
const RESP_SERVER = `
import net from 'node:net';
const store = new Map();
const s = net.createServer((c) => {
  let buf = Buffer.alloc(0);
  c.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const text = buf.toString('latin1');
      if (!text.startsWith('*')) return;
      const lines = text.split('\\r\\n');
      const n = Number(lines[0].slice(1));
      if (lines.length < 1 + 2 * n + 1) return;
      const args = [];
      for (let i = 0; i < n; i++) args.push(lines[2 + 2 * i]);
      const used = lines.slice(0, 1 + 2 * n).join('\\r\\n').length + 2;
      buf = buf.subarray(used);
      const cmd = args[0].toUpperCase();
      if (cmd === 'PING') c.write('+PONG\\r\\n');
      else if (cmd === 'SET') { store.set(args[1], args[2]); c.write('+OK\\r\\n'); }
      else if (cmd === 'GET') { const v = store.get(args[1]); c.write(v === undefined ? '$-1\\r\\n' : '$' + v.length + '\\r\\n' + v + '\\r\\n'); }
      else c.write('-ERR unknown\\r\\n');
    }
  });
  c.on('end', () => c.end());
});
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`;

function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;
}

test('conn_stats: a Redis-like request/response protocol, one request at a time on one connection', async () => {
  const server = await nodeServer(RESP_SERVER);
  try {
    const value = 'v'.repeat(700);
    const exchanges: Array<[string, string]> = [
      [resp('PING'), '+PONG\r\n'],
      [resp('SET', 'key', value), '+OK\r\n'],
      [resp('GET', 'key'), `$${value.length}\r\n${value}\r\n`],
      [resp('GET', 'missing'), '$-1\r\n'],
    ];
    const sent = exchanges.reduce((a, [q]) => a + q.length, 0);
    const recv = exchanges.reduce((a, [, r]) => a + r.length, 0);
    const client = nodeChild(`
import net from 'node:net';
const exchanges = ${JSON.stringify(exchanges)};
const c = net.connect(${server.port}, '127.0.0.1');
let i = 0, got = '';
c.on('connect', () => c.write(exchanges[0][0]));
c.on('data', (d) => {
  got += d.toString('latin1');
  if (got !== exchanges[i][1]) return;
  got = '';
  if (++i < exchanges.length) c.write(exchanges[i][0]);
  else c.end();
});
c.on('close', () => { console.log('done'); process.exit(0); });`);
    await waitForLine(client, /^done$/);
    await exited(client);
    const common = { addr_family: 2, protocol: 0, ssl: false, remote_addr: '127.0.0.1', conn_open: 1, conn_close: 1, conn_active: 0 };
    await expectKeys(engine, client.pid!, [{ ...common, remote_port: server.port, trace_role: 1, bytes_sent: sent, bytes_recv: recv }], 'RESP client');
    await expectKeys(engine, server.pid, [{ ...common, remote_port: 0, trace_role: 2, bytes_sent: recv, bytes_recv: sent }], 'RESP server');
  } finally {
    await server.stop();
  }
});

test('conn_stats: a connection open before the engine started counts as opened when first seen, with the bytes from then on', async () => {
  const server = await nodeServer(ECHO_SERVER);
  let late: Engine | undefined;
  // The client outlives its connection by half a second: a process found mid-stream that exits
  // before the drain thread has read its /proc may go unreported (docs/capture.md, "Known limits").
  const client = nodeChild(`
import net from 'node:net';
const c = net.connect(${server.port}, '127.0.0.1');
let want = 0, got = 0;
c.on('data', (d) => { got += d.length; if (got === want) console.log('echoed ' + got); });
c.on('close', () => { console.log('closed'); setTimeout(() => process.exit(0), 500); });
c.on('connect', () => { want = 100; c.write(Buffer.alloc(100, 0x62)); });
process.stdin.on('data', (d) => {
  const line = d.toString().trim();
  if (line === 'close') return c.end();
  want += Number(line); c.write(Buffer.alloc(Number(line), 0x63));
});`);
  try {
    await waitForLine(client, /^echoed 100$/);
    late = await wispEngine(['--conn-stats-period-ms', String(PERIOD_MS)]);
    client.stdin!.write('400\n');
    await waitForLine(client, /^echoed 500$/);
    client.stdin!.write('close\n');
    await waitForLine(client, /^closed$/);
    await exited(client);
    const common = { addr_family: 2, protocol: 0, ssl: false, remote_addr: '127.0.0.1', conn_open: 1, conn_close: 1, conn_active: 0, bytes_sent: 400, bytes_recv: 400 };
    // Its role is told by the listening sockets: the server listens on its local port.
    await expectKeys(late, client.pid!, [{ ...common, remote_port: server.port, trace_role: 1 }], 'client of the earlier connection');
    await expectKeys(late, server.pid, [{ ...common, remote_port: 0, trace_role: 2 }], 'server of the earlier connection');
  } finally {
    client.kill();
    await late?.stop();
    await server.stop();
  }
});

test('conn_stats and tls_handshakes: listed by /api/v1/schema with Pixie\'s columns, and df.ctx answers on them', async () => {
  const schema = (await (await fetch(`${engine.url}/api/v1/schema`)).json()) as { tables: Array<{ name: string; columns: Array<{ name: string; type: string }> }> };
  const cols = (name: string): string[] => (schema.tables.find((t) => t.name === name)?.columns ?? []).map((c) => `${c.name}:${c.type}`);
  assert.deepEqual(cols('conn_stats'), [
    'time_:TIME64NS', 'upid:UINT128', 'remote_addr:STRING', 'remote_port:INT64', 'trace_role:INT64', 'addr_family:INT64', 'protocol:INT64',
    'ssl:BOOLEAN', 'conn_open:INT64', 'conn_close:INT64', 'conn_active:INT64', 'bytes_sent:INT64', 'bytes_recv:INT64',
    'comm:STRING',
  ]);
  assert.ok(cols('tls_handshakes').includes('sni:STRING') && cols('tls_handshakes').includes('cert_not_after:TIME64NS'));

  const server = await nodeServer(ECHO_SERVER);
  try {
    const client = nodeChild(echoClient(server.port, [10], 20));
    await waitForLine(client, /^open$/);
    await expectKeys(engine, client.pid!, [{ addr_family: 2, protocol: 0, ssl: false, remote_addr: '127.0.0.1', remote_port: server.port, trace_role: 1, conn_open: 2, conn_close: 1, conn_active: 1, bytes_sent: 30, bytes_recv: 30 }], 'client');
    const script = `import px
df = px.DataFrame(table='conn_stats', start_time='-5m')
df.pid = df.ctx['pid']
df.cmd = df.ctx['cmd']
df = df[df.pid == ${client.pid}]
df = df.groupby(['pid', 'cmd']).agg(n=('conn_open', px.count))
px.display(df, 'ctx')
`;
    const res = (await (await fetch(`${engine.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) })).json()) as QueryResponse;
    const t = res.tables[0]!;
    assert.equal(t.rowCount, 1, JSON.stringify(res));
    assert.equal(Number(t.data[0]![0]), client.pid);
    assert.match(String(t.data[1]![0]), /node/);
    client.stdin!.write('close\n');
    await exited(client);
  } finally {
    await server.stop();
  }
});
