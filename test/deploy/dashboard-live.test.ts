/**
 * The provisioned dashboard against a live `bin/wisp engine` (real eBPF capture, bearer token)
 * while the demo workload of `wisp demo` and docker-compose.yaml runs: loadgen → frontend →
 * catalog, cart, each its own process on loopback. Variables are filled as Grafana fills them,
 * then every panel's script is POSTed the way the plugin sends it (range, intervalMs,
 * maxDataPoints, variables) and its answer is checked against what the workload is known to do.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { waitForLine } from '../support/peers.js';
import { loadDashboard, output, panelOf, queryPanel, resolveVariables, root, rows, type Panel, type Variables } from './dashboard.js';

const dashboard = loadDashboard();
const token = `deploy-live-${process.pid}`;
const INTERVAL_MS = 1000;
const DEMO = ['demo-frontend', 'demo-catalog', 'demo-cart'];

const children: ChildProcess[] = [];
let dir: string;
let url: string;
let range: { from: number; to: number };

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  return exited;
}

/** One process of the demo workload; servers answer with their bound port. */
async function workload(role: string, args: string[]): Promise<ChildProcess & { url?: string }> {
  const child = spawn(process.execPath, [join(root, 'out/src/engine/cli/demo/workload.js'), role, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  if (role === 'loadgen') return child;
  const port = (await waitForLine(child, /^listening (\d+)$/))[1]!;
  return Object.assign(child, { url: `http://127.0.0.1:${port}` });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wisp-deploy-live-'));
  writeFileSync(join(dir, 'token'), `${token}\n`);
  const engine = spawn(join(root, 'bin/wisp'), ['engine', '--listen', '127.0.0.1:0', '--token-file', join(dir, 'token')], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(engine);
  url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 30_000))[1]!;
  const start = Date.now() - 1000;
  const catalog = await workload('catalog', []);
  const cart = await workload('cart', []);
  const frontend = await workload('frontend', ['--catalog', catalog.url!, '--cart', cart.url!]);
  const loadgen = await workload('loadgen', ['--target', frontend.url!, '--rps', '60']);
  // Several intervals of traffic, so time-series panels get several points per service.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  await stop(loadgen);
  // Let the last responses reach the store; the range then ends after all of them, so every
  // panel below reads the same, complete rows.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  range = { from: start, to: Date.now() };
});

after(async () => {
  for (const c of children.reverse()) await stop(c);
  rmSync(dir, { recursive: true, force: true });
});

const query = (script: string, variables: Variables): Promise<QueryResponse> => queryPanel(url, { script, range, intervalMs: INTERVAL_MS, variables }, token);

const panel = (title: string): Panel => panelOf(dashboard, title);
async function panelRows(title: string, name: string, variables: Variables) {
  return rows(output(await query(panel(title).targets[0]!.script, variables), name));
}

let vars: Variables;
async function variables(): Promise<Variables> {
  vars ??= await resolveVariables(dashboard, async (script, earlier) => {
    const t = (await query(script, earlier)).tables[0]!;
    return t.data[0]!.map(String);
  });
  return vars;
}

/** Sums `col` per service over a time-series output (rate × interval = requests). */
function perService(rs: Record<string, unknown>[], col: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rs) m.set(String(r['service']), (m.get(String(r['service'])) ?? 0) + Number(r[col]));
  return m;
}

test('variables: no namespace on a plain host; services are the processes that served requests', async () => {
  const v = await variables();
  assert.deepEqual(v['namespace'], [], 'no Kubernetes here, so no namespace');
  const services = v['service'] as string[];
  for (const s of DEMO) assert.ok(services.includes(s), `${s} in ${services.join(', ')}`);
  assert.ok(!services.includes('demo-loadgen'), 'the load generator only calls');
});

test('every panel returns non-empty outputs, shaped as its panel shows them', async () => {
  const v = await variables();
  for (const p of dashboard.panels) {
    const res = await query(p.targets[0]!.script, v);
    assert.ok(res.tables.length > 0, p.title);
    for (const t of res.tables) {
      assert.ok(t.rowCount > 0, `${p.title}: output ${t.name} is empty`);
      const names = t.columns.map((c) => c.name);
      if (p.type === 'timeseries') {
        assert.equal(t.columns.find((c) => c.name === 'time_')?.type, 'TIME64NS', p.title);
        assert.ok(names.includes('service'), `${p.title}: the legend reads labels.service`);
        // The plugin draws a time series only with ≥ 2 rows per label set on average; the demo
        // services (other processes on this machine may serve a request or two) have more.
        const svc = t.data[names.indexOf('service')]!;
        for (const s of DEMO) {
          const n = svc.filter((x) => x === s).length;
          assert.ok(n >= 2, `${p.title}: ${n} points for ${s}`);
        }
      }
      for (const s of p.options?.sortBy ?? []) assert.ok(names.includes(s.displayName), `${p.title} sorts by ${s.displayName}`);
      if (t.name === 'nodes') for (const c of ['id', 'title', 'mainstat']) assert.ok(names.includes(c), `nodes.${c}`);
      if (t.name === 'edges') for (const c of ['id', 'source', 'target', 'mainstat']) assert.ok(names.includes(c), `edges.${c}`);
    }
  }
});

test('rate, errors and latency per service agree with the endpoints table and with the workload', async () => {
  const v = await variables();
  const rate = perService(await panelRows('Request rate by service', 'request_rate', v), 'request_throughput');
  const endpoints = await panelRows('Top endpoints', 'endpoints', v);
  const served = new Map<string, number>();
  for (const e of endpoints) served.set(String(e['service']), (served.get(String(e['service'])) ?? 0) + Number(e['requests']));
  for (const s of DEMO) {
    // request_throughput is per ns (Pixie's ST_THROUGHPUT_PER_NS): × interval in ns = requests.
    const requests = Math.round(rate.get(s)! * INTERVAL_MS * 1e6);
    assert.ok(requests > 10, `${s}: ${requests} requests`);
    assert.equal(requests, served.get(s), `${s}: the rate panel and the endpoints table count the same requests`);
  }
  // The catalog answers 404 for ids 8 and 9 and 200 for 0..7 (src/engine/cli/demo/workload.ts).
  const byPath = (svc: string, path: string) => endpoints.find((e) => e['service'] === svc && e['req_path'] === path);
  assert.equal(byPath('demo-catalog', '/items')?.['error_rate'], 0);
  const missing = ['/items/8', '/items/9'].map((p) => byPath('demo-catalog', p)).filter((e) => e !== undefined);
  assert.ok(missing.length > 0, 'the load generator asked for a missing item');
  for (const e of missing) assert.equal(e['error_rate'], 1, String(e['req_path']));
  assert.ok(byPath('demo-frontend', '/checkout')?.['req_method'] === 'POST');

  const errors = await panelRows('Error rate by service', 'error_rate', v);
  for (const e of errors) assert.ok(Number(e['error_rate']) >= 0 && Number(e['error_rate']) <= 1);
  assert.ok(errors.some((e) => e['service'] === 'demo-catalog' && Number(e['error_rate']) > 0), 'the catalog 404s show up');

  const latency = await panelRows('Latency p50 / p90 / p99 by service', 'latency', v);
  for (const s of DEMO) {
    const mine = latency.filter((l) => l['service'] === s);
    assert.ok(mine.length >= 2, s);
    for (const l of mine) {
      const [p50, p90, p99] = ['p50', 'p90', 'p99'].map((k) => Number(l[k]));
      assert.ok(p50! > 0 && p50! <= p90! && p90! <= p99!, `${s}: ${p50} ≤ ${p90} ≤ ${p99}`);
    }
  }

  const slowest = await panelRows('Slowest requests', 'slowest', v);
  for (const s of DEMO) {
    const mine = slowest.filter((r) => r['service'] === s).length;
    assert.ok(mine >= 1 && mine < served.get(s)! / 4, `${s}: ${mine} of ${served.get(s)} requests at or above its p99`);
  }
});

test('the service map is the workload topology, with every served request on an edge', async () => {
  const v = await variables();
  const res = await query(panel('Service map').targets[0]!.script, v);
  const edges = rows(output(res, 'edges'));
  const demoEdges = edges.filter((e) => String(e['source']).startsWith('demo-') || String(e['target']).startsWith('demo-'));
  assert.deepEqual(
    demoEdges.map((e) => `${e['source']}->${e['target']}`).sort(),
    ['demo-frontend->demo-cart', 'demo-frontend->demo-catalog', 'demo-loadgen->demo-frontend'],
  );
  const endpoints = await panelRows('Top endpoints', 'endpoints', v);
  for (const e of demoEdges) {
    const served = endpoints.filter((x) => x['service'] === e['target']).reduce((n, x) => n + Number(x['requests']), 0);
    assert.equal(Number(e['mainstat']), served, `${e['id']}: every request ${e['target']} served has its caller`);
  }
  const nodes = rows(output(res, 'nodes')).map((n) => String(n['id']));
  for (const s of [...DEMO, 'demo-loadgen']) assert.ok(nodes.includes(s), `node ${s}`);
});

test('choosing one service narrows every panel to it', async () => {
  const v = { ...(await variables()), service: 'demo-cart' };
  const rate = await panelRows('Request rate by service', 'request_rate', v);
  assert.ok(rate.length > 0);
  assert.deepEqual([...new Set(rate.map((r) => r['service']))], ['demo-cart']);
  const endpoints = await panelRows('Top endpoints', 'endpoints', v);
  assert.deepEqual([...new Set(endpoints.map((r) => r['service']))], ['demo-cart']);
  const edges = rows(output(await query(panel('Service map').targets[0]!.script, v), 'edges'));
  assert.deepEqual(edges.map((e) => e['id']), ['demo-frontend->demo-cart']);
});
