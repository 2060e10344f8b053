/**
 * End to end: a real Prometheus server (Debian's `prometheus`, started here with a generated
 * config on a free loopback port) scrapes a real `wisp engine` while a load client sends
 * requests to a Node server, and then the engine of a running `wisp demo` under its own
 * workload. Over a window closed on both sides (no traffic at its edges), the RED metrics
 * Prometheus stored must give the counts the engine's own PxL gives for the same window
 * exactly, and the p99 latency within the histogram's bucket resolution.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RED_BUCKETS } from '../../src/engine/api/red.js';
import { cgroup2Mount } from '../../src/engine/capture/cgroup.js';
import { nodeServer, run, waitForLine, wispEngine, type Peer } from '../support/peers.js';

const client = fileURLToPath(new URL('../support/client.js', import.meta.url));
let engine: Peer & { url: string };
let server: Peer;
let prometheus: Prometheus;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Sample = { metric: Record<string, string>; value: [number, string] };

/** A Prometheus server scraping one target every second; `query` is an instant query at a time. */
interface Prometheus {
  query(expr: string, atSec: number): Promise<Sample[]>;
  stop(): void;
}

async function startPrometheus(target: string): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-prom-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: wisp\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const child: ChildProcess = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const query = async (expr: string, atSec: number): Promise<Sample[]> => {
    const r = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(atSec) })}`);
    const body = (await r.json()) as { status: string; error?: string; data: { result: Sample[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error}`);
    return body.data.result;
  };
  const until = Date.now() + 30_000;
  for (;;) {
    const up = await query('up{job="wisp"}', Date.now() / 1000).catch(() => []);
    if (up.length === 1 && up[0]!.value[1] === '1') break;
    if (Date.now() > until) {
      child.kill('SIGTERM');
      assert.fail('Prometheus did not scrape the engine within 30 s');
    }
    await sleep(500);
  }
  return { query, stop: () => child.kill('SIGTERM') };
}

/** PromQL's increase of a counter's sum between two instants (each reads the last sample at or before it). */
async function delta(prom: Prometheus, metric: string, sel: string, a: number, b: number): Promise<number> {
  const res = await prom.query(`sum(${metric}{${sel}} @ ${b}) - sum(${metric}{${sel}} @ ${a})`, b);
  assert.equal(res.length, 1, `no samples of ${metric}{${sel}}`);
  return Number(res[0]!.value[1]);
}

/** Seconds from PxL's p99 (ns) and the histogram bucket that holds it. */
function bucketOf(p99Sec: number): [number, number] {
  const hi = RED_BUCKETS.find((x) => p99Sec <= x)!;
  return [RED_BUCKETS[RED_BUCKETS.indexOf(hi) - 1] ?? 0, hi];
}

before(async () => {
  engine = await wispEngine();
  // Every 20th item takes 30 ms, so the p99 of each burst sits well inside one bucket (25–50 ms).
  server = await nodeServer(`
import http from 'node:http';
const s = http.createServer((req, res) => {
  const n = Number(req.url.split('/').pop());
  const answer = () => { res.writeHead(req.url.startsWith('/fail/') ? 500 : 200, {'content-length': 2}); res.end('ok'); };
  if (n % 20 === 0) setTimeout(answer, 30); else answer();
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  prometheus = await startPrometheus(new URL(engine.url).host);
});

after(async () => {
  prometheus?.stop();
  await server.stop();
  await engine.stop();
});

async function send(prefix: string, n: number): Promise<void> {
  const r = await run(process.execPath, [client, '--url', `http://127.0.0.1:${server.port}`, '--n', String(n), '--concurrency', '4', '--prefix', prefix]);
  assert.equal(r.code, 0, r.stderr);
}

test('Prometheus answers over a closed window agree with PxL: counts exactly, p99 within its bucket', async () => {
  // A burst before the window, so the window's counts are differences of stored samples.
  await send('/items/', 120);
  await send('/fail/', 10);
  await sleep(3000);
  const t1 = Date.now();
  await send('/items/', 300);
  await send('/fail/', 40);
  await sleep(3000);
  const t2 = Date.now();
  const [a, b] = [t1 / 1000, t2 / 1000];
  const route = (r: string): string => `service="node",method="GET",route="${r}"`;

  const pxl = `import px
df = px.DataFrame(table='http_events', start_time=${BigInt(t1) * 1_000_000n}, end_time=${BigInt(t2) * 1_000_000n})
df = df[df.trace_role == 2 and df.local_port == ${server.port}]
df.route = px.select(px.contains(df.req_path, '/fail/'), '/fail/{id}', '/items/{id}')
df.error = px.select(df.resp_status >= 400, 1, 0)
df = df.groupby('route').agg(requests=('latency', px.count), errors=('error', px.sum), latency=('latency', px.quantiles))
df.p99 = px.pluck_float64(df.latency, 'p99')
px.display(df[['route', 'requests', 'errors', 'p99']], 'red')
`;
  const r = await fetch(`${engine.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script: pxl }) });
  assert.equal(r.status, 200);
  const table = ((await r.json()) as { tables: { data: unknown[][] }[] }).tables[0]!;
  const byRoute = new Map(table.data[0]!.map((rt, i) => [String(rt), { requests: Number(table.data[1]![i]), errors: Number(table.data[2]![i]), p99: Number(table.data[3]![i]) / 1e9 }]));
  assert.equal(byRoute.get('/items/{id}')?.requests, 300, 'PxL sees the burst');

  for (const [rt, want] of byRoute) {
    assert.equal(await delta(prometheus, 'wisp_http_server_requests_total', route(rt), a, b), want.requests, `requests of ${rt}`);
    assert.equal(await delta(prometheus, 'wisp_http_server_errors_total', route(rt), a, b), want.errors, `errors of ${rt}`);
    assert.equal(await delta(prometheus, 'wisp_http_server_duration_seconds_count', route(rt), a, b), want.requests, `latency count of ${rt}`);
  }
  assert.equal(byRoute.get('/fail/{id}')?.errors, 40);

  // The dashboard's p99, as PromQL computes it from the histogram over the window.
  const items = byRoute.get('/items/{id}')!;
  const buckets = `wisp_http_server_duration_seconds_bucket{${route('/items/{id}')}}`;
  const q = await prometheus.query(`histogram_quantile(0.99, sum by (le) (${buckets} @ ${b}) - sum by (le) (${buckets} @ ${a}))`, b);
  const promP99 = Number(q[0]!.value[1]);
  const [lo, hi] = bucketOf(items.p99);
  process.stdout.write(`# p99 of /items/{id}: PxL ${(items.p99 * 1e3).toFixed(2)} ms, Prometheus ${(promP99 * 1e3).toFixed(2)} ms (bucket ${lo * 1e3}–${hi * 1e3} ms)\n`);
  assert.ok(promP99 >= lo && promP99 <= hi, `Prometheus p99 ${promP99} s is outside PxL's bucket (${lo}, ${hi}]`);
  // The dashboard's panels use rate() over a range: over one reaching back past the window's
  // start (so its first sample holds the count before the burst), the same quantile, and the
  // count up to Prometheus's extrapolation of the range to its edges.
  const range = `${Math.ceil(b - a) + 1}s`;
  const qr = await prometheus.query(`histogram_quantile(0.99, sum by (le) (rate(${buckets}[${range}] @ ${b})))`, b);
  assert.ok(Math.abs(Number(qr[0]!.value[1]) - promP99) < 1e-9, `rate() p99 ${qr[0]!.value[1]} vs ${promP99}`);
  const rate = Number((await prometheus.query(`sum(rate(wisp_http_server_requests_total{${route('/items/{id}')}}[${range}] @ ${b}))`, b))[0]!.value[1]);
  const seconds = Math.ceil(b - a) + 1;
  process.stdout.write(`# rate() × ${seconds} s = ${(rate * seconds).toFixed(1)} for ${items.requests} requests\n`);
  // Samples come every second, so they span at least `seconds - 2` of the range.
  assert.ok(rate * seconds >= items.requests - 1e-6 && rate * seconds <= (items.requests * seconds) / (seconds - 2), `rate ${rate}/s over ${seconds} s`);
});

test('under the demo workload: Prometheus scraping `wisp demo`\'s engine agrees with PxL per service over a closed window', { timeout: 120_000 }, async () => {
  const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
  const demo = spawn(wisp, ['demo', '--listen', '127.0.0.1:0', '--rps', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  let stopProm = (): void => undefined;
  try {
    const url = (await waitForLine(demo, /engine API on (http:\/\/\S+) /, 60_000))[1]!;
    const prom = await startPrometheus(new URL(url).host);
    stopProm = prom.stop;
    // The load generator's cgroup (the demo runs each workload process in its own): freezing it
    // pauses the demo's traffic at its source, which gives the window quiet edges.
    const freeze = join(cgroup2Mount()!, `wisp-demo-${demo.pid}.slice`, 'loadgen.service', 'cgroup.freeze');
    const paused = (on: boolean) => writeFileSync(freeze, on ? '1' : '0');
    // Every service's series exists before the window, so its start has a sample.
    await sleep(4000);
    paused(true);
    // In-flight calls finish, their rows reach the store and a scrape reads them.
    await sleep(2500);
    const t1 = Date.now();
    await sleep(1500);
    paused(false);
    await sleep(5000);
    paused(true);
    await sleep(3000);
    const t2 = Date.now();
    await sleep(1500);
    paused(false);
    const [a, b] = [t1 / 1000, t2 / 1000];

    const pxl = `import px
df = px.DataFrame(table='http_events', start_time=${BigInt(t1) * 1_000_000n}, end_time=${BigInt(t2) * 1_000_000n})
df = df[df.trace_role == 2]
df.service = df.ctx['service']
df = df[df.service == 'frontend' or df.service == 'catalog' or df.service == 'cart']
df.error = px.select(df.resp_status >= 400, 1, 0)
df = df.groupby('service').agg(requests=('latency', px.count), errors=('error', px.sum), latency=('latency', px.quantiles))
df.p99 = px.pluck_float64(df.latency, 'p99')
px.display(df[['service', 'requests', 'errors', 'p99']], 'red')
`;
    const r = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script: pxl }) });
    assert.equal(r.status, 200);
    const table = ((await r.json()) as { tables: { data: unknown[][] }[] }).tables[0]!;
    const bySvc = new Map(table.data[0]!.map((s, i) => [String(s), { requests: Number(table.data[1]![i]), errors: Number(table.data[2]![i]), p99: Number(table.data[3]![i]) / 1e9 }]));
    assert.deepEqual([...bySvc.keys()].sort(), ['cart', 'catalog', 'frontend'], 'PxL sees every demo service in the window');
    for (const [svc, want] of bySvc) {
      const sel = `service="${svc}"`;
      const got = {
        requests: await delta(prom, 'wisp_http_server_requests_total', sel, a, b),
        errors: await delta(prom, 'wisp_http_server_errors_total', sel, a, b),
        count: await delta(prom, 'wisp_http_server_duration_seconds_count', sel, a, b),
      };
      process.stdout.write(`# demo ${svc}: PxL ${want.requests} requests, ${want.errors} errors; Prometheus ${got.requests}, ${got.errors}\n`);
      assert.deepEqual(got, { requests: want.requests, errors: want.errors, count: want.requests }, svc);
    }
    const frontend = bySvc.get('frontend')!;
    assert.ok(frontend.requests >= 200, `the demo's load generator sent ${frontend.requests} requests in 5 s`);
    const buckets = `wisp_http_server_duration_seconds_bucket{service="frontend"}`;
    const q = await prom.query(`histogram_quantile(0.99, sum by (le) (${buckets} @ ${b}) - sum by (le) (${buckets} @ ${a}))`, b);
    const promP99 = Number(q[0]!.value[1]);
    const [lo, hi] = bucketOf(frontend.p99);
    process.stdout.write(`# demo frontend p99: PxL ${(frontend.p99 * 1e3).toFixed(2)} ms, Prometheus ${(promP99 * 1e3).toFixed(2)} ms (bucket ${lo * 1e3}–${hi * 1e3} ms)\n`);
    assert.ok(promP99 >= lo && promP99 <= hi, `Prometheus p99 ${promP99} s is outside PxL's bucket (${lo}, ${hi}]`);
  } finally {
    stopProm();
    demo.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});
