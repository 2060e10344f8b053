/**
 * The connection scripts beside this file (net_flow_graph.pxl, conn_stats.pxl), run verbatim
 * through `POST /api/v1/query` of a real engine over real loopback traffic whose numbers are
 * known: a TCP echo client that opens three connections of known sizes against an echo server.
 * Their answers for these two processes are computed here by hand. Other processes on the
 * machine make traffic too: only rows naming this test's processes are compared.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import type { QueryResponse, ResultTable } from '../../src/engine/api/contract.js';
import { waitForLine, wispEngine, type Peer } from '../support/peers.js';

const WISP = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));

const SCRIPTS = fileURLToPath(new URL('../../../test/pxl-scripts/', import.meta.url));
const SIZES = [100, 2000, 30_000];
const TOTAL = SIZES.reduce((a, b) => a + b, 0);
/** The report period net_flow_graph.pxl assumes (its conn_stats_period_ns). */
const SCRIPT_PERIOD_NS = 5e9;

let engine: Peer & { url: string };
let dir: string;
let server: { pid: number; port: number; label: string; stop: () => void };
let client: { pid: number; label: string };
let range: { from: number; to: number };

/** The command line as the engine shows it (`ctx['cmd']`): arguments joined by spaces. */
function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0$/, '').split('\0').join(' ');
}

before(async () => {
  engine = await wispEngine(['--conn-stats-period-ms', '200']);
  const start = Date.now();
  dir = mkdtempSync(join(tmpdir(), 'wisp-net-'));
  writeFileSync(join(dir, 'echo-server.mjs'), `
import net from 'node:net';
const s = net.createServer((c) => c.pipe(c));
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  writeFileSync(join(dir, 'echo-client.mjs'), `
import net from 'node:net';
const port = Number(process.argv[2]);
for (const size of ${JSON.stringify(SIZES)}) {
  await new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let got = 0;
    c.on('data', (d) => { got += d.length; if (got === size) c.end(); });
    c.on('close', resolve);
    c.write(Buffer.alloc(size, 0x61));
  });
}
console.log('done');
setInterval(() => {}, 1000);`);
  const s = spawn(process.execPath, [join(dir, 'echo-server.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = Number((await waitForLine(s, /^listening (\d+)$/))[1]);
  server = { pid: s.pid!, port, label: cmdline(s.pid!), stop: () => s.kill() };
  const c = spawn(process.execPath, [join(dir, 'echo-client.mjs'), String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(c, /^done$/);
  client = { pid: c.pid!, label: cmdline(c.pid!) };
  after(() => c.kill());
  // Two report periods, so every close has been reported.
  await new Promise((r) => setTimeout(r, 600));
  range = { from: start - 1000, to: Date.now() + 1000 };
});

after(async () => {
  server.stop();
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(script: string, url = engine.url): Promise<QueryResponse> {
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script, range }) });
  const body = (await res.json()) as QueryResponse;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

/** The rows of `t` as objects, numbers as numbers. */
function rows(t: ResultTable): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < t.rowCount; i++) {
    const r: Record<string, unknown> = {};
    t.columns.forEach((c, j) => {
      const v = t.data[j]![i];
      r[c.name] = c.type === 'INT64' || c.type === 'FLOAT64' ? Number(v) : v;
    });
    out.push(r);
  }
  return out;
}

function table(res: QueryResponse, name: string): ResultTable {
  const t = res.tables.find((x) => x.name === name);
  assert.ok(t, `no output ${name} in ${res.tables.map((x) => x.name).join(', ')}`);
  return t;
}

test('net_flow_graph.pxl: nodes and edges of the echo pair, connections and bytes each way, bytes/s over the range, mean duration', async () => {
  const res = await run(readFileSync(join(SCRIPTS, 'net_flow_graph.pxl'), 'utf8'));
  const nodes = rows(table(res, 'nodes')).map((n) => n['id']);
  for (const label of [client.label, server.label, '127.0.0.1']) assert.ok(nodes.includes(label), `node ${label}`);
  assert.deepEqual(rows(table(res, 'nodes')).find((n) => n['id'] === client.label), { id: client.label, title: client.label });
  const edges = rows(table(res, 'edges')).filter((e) => e['source'] === client.label || e['target'] === server.label);

  // Hand-computed: the client's three connections, seen from each end; conn_active summed over
  // each key's rows in the range, times the script's period, over the closed connections.
  const active = async (pid: number): Promise<number> => {
    const t = table(await run(`import px
df = px.DataFrame(table='conn_stats', start_time=__time_from, end_time=__time_to)
df = df[px.upid_to_pid(df.upid) == ${pid}]
px.display(df[['conn_active']], 'a')
`), 'a');
    return rows(t).reduce((a, r) => a + (r['conn_active'] as number), 0);
  };
  const seconds = (range.to - range.from) / 1000;
  const want = (source: string, target: string, activeSum: number): Record<string, unknown> => ({
    id: `${source}->${target}`, source, target, mainStat: 3, secondaryStat: (2 * TOTAL) / seconds, connections: 3,
    bytes_to_server: TOTAL, bytes_to_client: TOTAL, mean_duration: (activeSum * SCRIPT_PERIOD_NS) / 3,
  });
  const byId = new Map(edges.map((e) => [e['id'], e]));
  const check = (got: Record<string, unknown> | undefined, exp: Record<string, unknown>): void => {
    assert.ok(got, `edge ${String(exp['id'])} in ${JSON.stringify([...byId.keys()])}`);
    assert.ok(Math.abs((got['secondaryStat'] as number) - (exp['secondaryStat'] as number)) < 1e-6, `bytes/s ${String(got['secondaryStat'])}`);
    assert.deepEqual({ ...got, secondaryStat: 0 }, { ...exp, secondaryStat: 0 });
  };
  check(byId.get(`${client.label}->127.0.0.1`), want(client.label, '127.0.0.1', await active(client.pid)));
  check(byId.get(`127.0.0.1->${server.label}`), want('127.0.0.1', server.label, await active(server.pid)));
  assert.equal(edges.length, 2, JSON.stringify(edges));
});

test('conn_stats.pxl: per process and remote endpoint, opened/closed/open at the end and bytes each way in the range', async () => {
  const res = await run(readFileSync(join(SCRIPTS, 'conn_stats.pxl'), 'utf8'));
  const mine = rows(table(res, 'conn_stats'))
    .filter((r) => r['pid'] === client.pid || r['pid'] === server.pid)
    .map(({ last_seen: _l, ...r }) => r)
    .sort((a, b) => (a['trace_role'] as number) - (b['trace_role'] as number));
  const common = { remote_addr: '127.0.0.1', protocol: 0, ssl: false, conn_opened: 3, conn_closed: 3, conn_open_at_end: 0, bytes_sent: TOTAL, bytes_recv: TOTAL, bytes_total: 2 * TOTAL };
  assert.deepEqual(mine, [
    { pid: client.pid, cmd: client.label, remote_port: server.port, trace_role: 1, ...common },
    { pid: server.pid, cmd: server.label, remote_port: 0, trace_role: 2, ...common },
  ]);
});

test('through `wisp broker`: both scripts answer for conn_stats what the engine answers (the broker splits and merges the aggregates)', async () => {
  const broker = spawn(WISP, ['broker', '--listen', '127.0.0.1:0', '--engines', engine.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = (await waitForLine(broker, /^wisp broker: API on (http:\/\/\S+) /, 30_000))[1]!;
    for (const name of ['conn_stats.pxl', 'net_flow_graph.pxl']) {
      const script = readFileSync(join(SCRIPTS, name), 'utf8');
      const mine = (res: QueryResponse): string[] =>
        res.tables.flatMap((t) => rows(t).filter((r) => Object.values(r).some((v) => v === client.pid || v === server.pid || v === client.label || v === server.label)).map((r) => `${t.name} ${JSON.stringify(r)}`)).sort();
      const direct = mine(await run(script));
      assert.ok(direct.length >= 2, `${name}: ${direct.length} rows of ours`);
      assert.deepEqual(mine(await run(script, url)), direct, name);
    }
  } finally {
    broker.kill();
  }
});
