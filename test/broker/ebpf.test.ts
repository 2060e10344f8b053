/**
 * The broker over real engines with real eBPF capture: three `wisp engine` processes, each
 * scoped to its own cgroup (its "node") in which a real HTTP server and client run, and a
 * fourth reference engine scoped to the common parent cgroup, so it holds every row the three
 * hold. Every compatibility script and dashboard preset (verbatim, and with `ctx['service']`
 * read as `ctx['cmd']` so that a host without Kubernetes still has groups to compare) returns
 * through `wisp broker` what the reference returns. An engine that hangs (SIGSTOP) is cut at
 * the timeout; an engine killed mid-query gives a partial result with a warning. Needs root.
 *
 * The reference captures the same requests, but as its own measurement: each engine converts
 * kernel timestamps on its own, so its `time_` and `latency` of a request differ from another
 * engine's by microseconds. Counts, statuses, paths and names are compared exactly; times,
 * durations and the floats and quantiles derived from them within CAPTURED. Exactness of the
 * merge itself is test/broker/split.test.ts's job (engines over the very same rows).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ErrorResponse, QueryResponse, ReadyResponse } from '../../src/engine/api/contract.js';
import { StaticEngines } from '../../src/engine/broker/engines.js';
import { startBroker } from '../../src/engine/cli/broker.js';
import { QUERY_PRESETS, VARIABLE_PRESETS } from '../../src/plugin/presets.js';
import { makeCgroup, startIn, type TestCgroup } from '../capture-kernel/cgroups.js';
import type { Child } from '../capture-kernel/helpers.js';
import { loadDashboard, resolveVariables } from '../deploy/dashboard.js';
import { waitForLine } from '../support/peers.js';
import { loadScript, scriptNames } from '../../src/testkit/pxl-scripts/scripts.js';
import { assertSameAnswer, type Tolerance } from './compare.js';

const WISP = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
const NODES = ['a', 'b', 'c'] as const;
const REQUESTS = 300;
/**
 * Timestamp skew between two engines' captures of one syscall: each engine's BPF program stamps
 * it on its own, one after the other, and on a loaded machine (interrupts, preemption) tens of
 * µs can pass between them (48 µs seen in a p10 on 2026-12-03). So durations and latency
 * quantiles also pass within 100 µs.
 */
const CAPTURED: Tolerance = { float: 0.03, quantile: 0.03, timeNs: 1_000_000, duration: 0.001, durationAbsNs: 100_000 };

if (process.getuid?.() !== 0) throw new Error('test/broker/ebpf.test.ts needs root (BPF and cgroup v2): run it as root, as CI does');

const dir = mkdtempSync(join(tmpdir(), 'wisp-broker-e2e-'));
const engineToken = join(dir, 'engine-token');
const brokerToken = join(dir, 'broker-token');
writeFileSync(engineToken, 'engine-secret\n');
writeFileSync(brokerToken, 'broker-secret\n');

const SERVER = `
const http = require('http');
let k = 0;
const s = http.createServer((req, res) => {
  const status = req.url.startsWith('/err') ? 500 : req.url.startsWith('/missing') ? 404 : 200;
  // Latencies spread over 1..30 ms so quantiles have something to tell apart.
  const delay = req.url.startsWith('/slow') ? 1 + (k++ * 7) % 30 : 0;
  setTimeout(() => { res.writeHead(status, { 'content-type': 'text/plain' }); res.end('x'.repeat(10 + (k % 50))); }, delay);
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

const CLIENT = `
const http = require('http');
const [port, n] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const paths = ['/ok', '/slow/a', '/slow/b', '/err', '/missing', '/ok/' + process.pid];
console.log('started');
let done = 0, sent = 0;
function next() {
  if (sent >= n) return;
  const path = paths[sent++ % paths.length];
  http.get({ host: '127.0.0.1', port, path, agent }, (res) => { res.resume(); res.on('end', () => { if (++done === n) { agent.destroy(); console.log('done'); } else next(); }); });
}
for (let i = 0; i < 4; i++) next();`;

interface Engine {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly url: string;
}

let parent: TestCgroup;
const nodeCgroups: TestCgroup[] = [];
const children: Child[] = [];
const engines: Engine[] = [];
let reference: Engine;
let broker: { proc: ChildProcess; url: string };
let range: { from: number; to: number };
const cmdlines: string[] = [];

async function startEngine(name: string, cgroup: string): Promise<Engine> {
  const proc = spawn(WISP, ['engine', '--listen', '127.0.0.1:0', '--token-file', engineToken, '--cgroup', cgroup], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(proc, /listening on (http:\/\/\S+)/, 30_000);
  return { name, proc, url: m[1]! };
}

async function query(url: string, token: string, script: string, extra: Record<string, unknown> = {}): Promise<{ status: number; body: QueryResponse & ErrorResponse }> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    // A 1-minute interval: a request a few µs from a bin edge could fall in another bin per engine,
    // and the traffic lasts seconds, so at most one edge can fall inside it.
    body: JSON.stringify({ script, range, intervalMs: 60_000, variables: { service: cmdlines.slice(0, 2), ns: '', namespace: '' }, ...extra }),
  });
  return { status: res.status, body: (await res.json()) as QueryResponse & ErrorResponse };
}

const COUNT = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df.agg(n=('latency', px.count))
px.display(df)`;

async function count(e: { url: string }, token = 'engine-secret'): Promise<number> {
  const r = await query(e.url, token, COUNT);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.tables[0]!.rowCount === 0 ? 0 : Number(r.body.tables[0]!.data[0]![0]);
}

function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGCONT');
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 5000).unref();
  });
}

before(async () => {
  parent = makeCgroup('wisp-test-node');
  for (const n of NODES) nodeCgroups.push(parent.sub(n));
  const started = Date.now();
  // Engines first, so each sees every request of its node from the first byte.
  const all = await Promise.all([...NODES.map((n, i) => startEngine(`node-${n}`, nodeCgroups[i]!.path)), startEngine('reference', parent.path)]);
  engines.push(...all.slice(0, 3));
  reference = all[3]!;
  await Promise.all(
    NODES.map(async (n, i) => {
      const file = join(dir, `frontend-${n}.js`);
      writeFileSync(file, SERVER);
      const clientFile = join(dir, `client-${n}.js`);
      writeFileSync(clientFile, CLIENT);
      const server = await startIn(nodeCgroups[i]!.path, process.execPath, [file]);
      children.push(server);
      cmdlines[i] = `${process.execPath} ${file}`;
      const client = await startIn(nodeCgroups[i]!.path, process.execPath, [clientFile, server.firstLine.trim(), String(REQUESTS * (i + 1))]);
      children.push(client);
      const [code] = await client.exit;
      assert.equal(code, 0, `client of node ${n}: ${client.stderr()}`);
    }),
  );
  range = { from: started - 60_000, to: Date.now() + 60_000 };
  // Each request is a client row and a server row, on its node's engine and on the reference.
  const want = 2 * REQUESTS * (1 + 2 + 3);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const counts = await Promise.all(engines.map((e) => count(e)));
    const ref = await count(reference);
    if (counts.reduce((a, b) => a + b, 0) === ref && ref >= want) break;
    if (Date.now() > deadline) throw new Error(`engines hold ${counts.join('+')} rows, the reference ${ref}, want ${want} in each`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const proc = spawn(
    WISP,
    ['broker', '--listen', '127.0.0.1:0', '--token-file', brokerToken, '--engine-token-file', engineToken, '--engines', engines.map((e) => e.url).join(','), '--engine-timeout', '3s'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const m = await waitForLine(proc, /API on (http:\/\/\S+)/, 15_000);
  broker = { proc, url: m[1]! };
});

after(async () => {
  const procs = [broker?.proc, ...engines.map((e) => e.proc), reference?.proc].filter((p): p is ChildProcess => p !== undefined);
  await Promise.all(procs.map(stopProc));
  for (const c of children) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exit));
  await parent?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A script with Kubernetes service names read as process command lines. */
function byProcess(script: string): string {
  return script.replaceAll("df.ctx['service']", "df.ctx['cmd']").replace("k8s_object = 'service'", "k8s_object = 'cmd'");
}

const scripts: [string, string][] = [
  ...scriptNames().map((n): [string, string] => [`pxl-scripts/${n}`, loadScript(n)]),
  ...[...QUERY_PRESETS, ...VARIABLE_PRESETS].map((p): [string, string] => [`preset/${p.id}`, p.script]),
];

test('every compatibility script and preset through the broker = the reference engine holding every row', async () => {
  let nonEmpty = 0;
  for (const [name, verbatim] of scripts) {
    for (const [what, script] of [
      [name, verbatim],
      [`${name} (by process)`, byProcess(verbatim)],
    ] as const) {
      if (what.endsWith('(by process)') && script === verbatim) continue;
      const b = await query(broker.url, 'broker-secret', script);
      assert.equal(b.status, 200, `${what}: ${JSON.stringify(b.body.error)}`);
      assert.deepEqual(b.body.warnings.filter((w) => w.code.startsWith('BROKER')), [], `${what}: warnings`);
      const r = await query(reference.url, 'engine-secret', script);
      assert.equal(r.status, 200, `${what}: reference ${JSON.stringify(r.body.error)}`);
      const limited = new Map<string, QueryResponse>();
      if (/\.head\(/.test(script)) {
        const whole = await query(reference.url, 'engine-secret', script.replace(/\.head\((n=)?\d+\)/g, '.head(1000000)'));
        for (const t of whole.body.tables) limited.set(t.name, whole.body);
      }
      assertSameAnswer(what, b.body, r.body, CAPTURED, limited);
      if (b.body.tables.some((t) => t.rowCount > 0)) nonEmpty++;
    }
  }
  assert.ok(nonEmpty >= scripts.length, `only ${nonEmpty} answers had rows`);
});

test('every panel of the provisioned dashboard, variables included, through the broker = the reference engine', async () => {
  const dashboard = loadDashboard();
  const resolve = (url: string, token: string): Promise<Record<string, string | string[]>> =>
    resolveVariables(dashboard, async (script, variables) => {
      const r = await query(url, token, script, { variables });
      assert.equal(r.status, 200, `variable script: ${JSON.stringify(r.body.error)}`);
      return r.body.tables[0]!.data[0]!.map(String).sort();
    });
  const variables = await resolve(broker.url, 'broker-secret');
  assert.deepEqual(variables, await resolve(reference.url, 'engine-secret'));
  assert.ok((variables['service'] as string[]).length > 0, 'the service variable lists the servers');
  let nonEmpty = 0;
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const b = await query(broker.url, 'broker-secret', target.script, { variables });
      assert.equal(b.status, 200, `${panel.title}: ${JSON.stringify(b.body.error)}`);
      assert.deepEqual(b.body.warnings.filter((w) => w.code.startsWith('BROKER')), [], `${panel.title}: warnings`);
      const r = await query(reference.url, 'engine-secret', target.script, { variables });
      assertSameAnswer(panel.title, b.body, r.body, CAPTURED);
      if (b.body.tables.some((t) => t.rowCount > 0)) nonEmpty++;
    }
  }
  assert.equal(nonEmpty, dashboard.panels.length, 'every panel has rows');
});

test('per-process latency quantiles merged on the broker match one engine (sketch bound, capture skew)', async () => {
  const script = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[df.trace_role == 2]
df.cmd = df.ctx['cmd']
df = df.groupby(['cmd', 'req_path']).agg(q=('latency', px.quantiles), n=('latency', px.count))
df.p50 = px.pluck_float64(df.q, 'p50')
df.p99 = px.pluck_float64(df.q, 'p99')
px.display(df[['cmd', 'req_path', 'n', 'q']])`;
  const b = await query(broker.url, 'broker-secret', script);
  const r = await query(reference.url, 'engine-secret', script);
  assertSameAnswer('quantiles', b.body, r.body, CAPTURED);
  assert.ok(b.body.tables[0]!.rowCount >= 9, `${b.body.tables[0]!.rowCount} groups`);
});

test("the broker's /readyz reads like one engine's: capture running, the engines' rows summed", async () => {
  const readyz = async (url: string): Promise<ReadyResponse> => (await (await fetch(`${url}/readyz`)).json()) as ReadyResponse;
  const each = await Promise.all(engines.map((e) => readyz(e.url)));
  const b = await readyz(broker.url);
  assert.equal(b.ready, true);
  assert.equal(b.capture.running, true);
  assert.equal(b.tables['http_events']?.rows, each.reduce((a, r) => a + r.tables['http_events']!.rows, 0));
  assert.deepEqual(
    b.checks.map((c) => [c.name, c.ok]),
    [['engines', true], ...engines.map((e) => [`engine ${e.url}`, true])],
  );
});

test('an engine that hangs (SIGSTOP) is cut at --engine-timeout; the answer is the other nodes', async () => {
  const hung = engines[2]!;
  const others = (await count(engines[0]!)) + (await count(engines[1]!));
  hung.proc.kill('SIGSTOP');
  try {
    const t0 = performance.now();
    const r = await query(broker.url, 'broker-secret', COUNT);
    const ms = performance.now() - t0;
    assert.equal(r.status, 200);
    const w = r.body.warnings.find((x) => x.code === 'BROKER_ENGINE_TIMEOUT');
    assert.ok(w?.message.includes(hung.url), JSON.stringify(r.body.warnings));
    assert.equal(Number(r.body.tables[0]!.data[0]![0]), others);
    assert.ok(ms >= 2900 && ms < 6000, `answered after ${ms} ms`);
  } finally {
    hung.proc.kill('SIGCONT');
  }
});

test('an engine killed mid-query gives a partial result with a warning naming it', async () => {
  const victim = engines[1]!;
  const others = (await count(engines[0]!)) + (await count(engines[2]!));
  const b = await startBroker({ listen: '127.0.0.1:0', engines: new StaticEngines(engines.map((e) => e.url)), engineToken: 'engine-secret', engineTimeoutMs: 20_000 });
  try {
    await b.backend.refresh();
    // Stopped first, so the query is certainly in flight at the victim when it dies.
    victim.proc.kill('SIGSTOP');
    const pending = query(b.url, 'x', COUNT);
    await new Promise((r) => setTimeout(r, 500));
    const exited = new Promise((r) => victim.proc.once('exit', r));
    victim.proc.kill('SIGKILL');
    await exited;
    const r = await pending;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const w = r.body.warnings.find((x) => x.code === 'BROKER_ENGINE_FAILED');
    assert.ok(w?.message.includes(victim.url), JSON.stringify(r.body.warnings));
    assert.equal(Number(r.body.tables[0]!.data[0]![0]), others);
  } finally {
    await b.stop();
  }
});
