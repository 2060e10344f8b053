/**
 * bench/soak: a live engine left running under capture load with the provisioned dashboard open.
 *
 * wrk drives nginx (Debian, one worker) and a Node http server on loopback at a paced rate for
 * the whole run; every `--refresh` the "HTTP overview" dashboard refreshes as Grafana would (its
 * variables, then every panel's script at once, over the last 15 minutes); a separate process
 * probes /healthz every 200 ms. Every `--every` a row: the engine's RSS, what it captured and
 * dropped (by reason) and evicted, the queries' p50/p99 and failures, /healthz p99 and max. A
 * summary at the end. The servers and wrk run in a cgroup of their own and the engine is scoped
 * to it (--cgroup), so other work on the machine is not captured.
 *
 *   node out/bench/soak/run.js [--duration 10m] [--every 30s] [--refresh 10s] [--rate 2000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { parseDurationNs } from '../../src/engine/pxl/functions/time.js';
import { makeCgroup } from '../../test/capture-kernel/cgroups.js';
import { loadDashboard, resolveVariables, type Variables } from '../../test/deploy/dashboard.js';
import { filesDir, nginxServer, nodeServer, waitForLine } from '../../test/support/peers.js';
import { probeHealthz, rssBytes } from '../../test/support/watch.js';

function durationMs(flag: string, text: string): number {
  const ns = parseDurationNs(text);
  if (ns === undefined || ns <= 0n) throw new Error(`--${flag} wants a duration such as 30s or 10m (got '${text}')`);
  return Number(ns) / 1e6;
}

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10m' },
    every: { type: 'string', default: '30s' },
    refresh: { type: 'string', default: '10s' },
    rate: { type: 'string', default: '2000' },
  },
});
const DURATION_MS = durationMs('duration', values.duration);
const EVERY_MS = durationMs('every', values.every);
const REFRESH_MS = durationMs('refresh', values.refresh);
const RATE = Number(values.rate);
if (!(RATE > 0)) throw new Error(`--rate wants requests per second (got '${values.rate}')`);
const root = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'wisp-soak-'));
const cgroup = makeCgroup('wisp-bench-soak');
const MIB = 1 << 20;

/**
 * wrk paced at `rate` req/s for `seconds` (its delay() hook, per connection) over `paths` in
 * turn, inside the cgroup.
 */
function wrk(base: string, paths: readonly string[], rate: number, seconds: number): { proc: ChildProcess; done: Promise<string> } {
  const connections = 8;
  const script = join(work, `load-${new URL(base).port}.lua`);
  writeFileSync(
    script,
    `local paths = {${paths.map((p) => JSON.stringify(p)).join(', ')}}
local i = 0
function request() i = i + 1; return wrk.format(nil, paths[(i % #paths) + 1]) end
function delay() return ${(connections * 1000) / rate} end
`,
  );
  const proc = spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec wrk "$@"', cgroup.path, '-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, base], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return { proc, done: new Promise((resolve) => proc.once('exit', () => resolve(out))) };
}

/** The counters of /metrics this bench reports, summed by name and reason (or table). */
async function counters(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(wisp_(?:http_rows|capture_dropped|http_dropped|table_dropped_rows)_total)(?:\{(?:reason|table)="([^"]*)"\})? (\S+)$/.exec(line);
    if (m) out.set(m[2] === undefined ? m[1]! : `${m[1]}:${m[2]}`, Number(m[3]));
  }
  return out;
}

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Drops by reason between two counter readings, as `reason n` pairs (capture and HTTP stage). */
function dropsBetween(a: Map<string, number>, b: Map<string, number>): string {
  const parts: string[] = [];
  for (const [k, v] of b) {
    if (!/^wisp_(capture|http)_dropped_total:/.test(k)) continue;
    const d = v - (a.get(k) ?? 0);
    if (d > 0) parts.push(`${k.split(':')[1]} ${d}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'none';
}

interface Window {
  queries: number[];
  failed: number;
  healthz: number[];
}

const fresh = (): Window => ({ queries: [], failed: 0, healthz: [] });

async function main(): Promise<void> {
  const www = filesDir({ 'small.txt': 612 });
  const nginx = await nginxServer(www);
  const node = await nodeServer(`
import http from 'node:http';
const body = 'x'.repeat(612);
const s = http.createServer((req, res) => { res.writeHead(req.url.endsWith('/err') ? 500 : 200, {'content-type': 'text/plain', 'content-length': body.length}); res.end(body); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  for (const pid of [nginx.pid, ...nginx.workerPids(), node.pid]) writeFileSync(join(cgroup.path, 'cgroup.procs'), String(pid));
  const engine = spawn(join(root, 'bin/wisp'), ['engine', '--listen', '127.0.0.1:0', '--cgroup', cgroup.path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 30_000))[1]!;
  const seconds = Math.ceil(DURATION_MS / 1000);
  const loads = [
    wrk(`http://127.0.0.1:${nginx.port}`, ['/small.txt', '/small.txt?page=2', '/missing.txt'], RATE / 2, seconds),
    wrk(`http://127.0.0.1:${node.port}`, ['/api/items', '/api/items/7', '/api/cart', '/api/err'], RATE / 2, seconds),
  ];

  let window = fresh();
  const all = fresh();
  const stopProbing = probeHealthz({ engine: url }, 200, (p) => {
    window.healthz.push(p.ms);
    all.healthz.push(p.ms);
    if (p.status !== 200) all.failed++;
  });
  const dashboard = loadDashboard();
  const t0 = Date.now();
  const ends = t0 + DURATION_MS;
  /** One panel query as the plugin sends it; its latency goes to the window. */
  const query = async (script: string, variables: Variables): Promise<QueryResponse | null> => {
    const t = performance.now();
    const res = await fetch(`${url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ script, range: { from: Date.now() - 15 * 60_000, to: Date.now() }, intervalMs: 1000, maxDataPoints: 1000, variables }),
    }).catch(() => null);
    const body = res ? ((await res.json()) as QueryResponse) : null;
    const ms = performance.now() - t;
    window.queries.push(ms);
    all.queries.push(ms);
    if (res?.status !== 200) {
      window.failed++;
      all.failed++;
      return null;
    }
    return body;
  };
  const refreshing = (async () => {
    while (Date.now() < ends) {
      const started = Date.now();
      const variables = await resolveVariables(dashboard, async (script, vars) => (await query(script, vars))?.tables[0]?.data[0]?.map(String) ?? []);
      await Promise.all(dashboard.panels.flatMap((p) => p.targets.map((t) => query(t.script, variables))));
      await new Promise((r) => setTimeout(r, Math.max(0, REFRESH_MS - (Date.now() - started))));
    }
  })();

  console.log(`bench/soak — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, wrk ${RATE} req/s (nginx + node), dashboard every ${values.refresh}, ${values.duration}`);
  console.log('| t | engine RSS MiB | rows/s captured | dropped (by reason) | evicted rows | queries | query p50 ms | query p99 ms | failed | /healthz p99 ms | /healthz max ms |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  const first = await counters(url);
  let last = first;
  let lastAt = Date.now();
  const rss: number[] = [];
  while (Date.now() < ends) {
    await new Promise((r) => setTimeout(r, Math.min(EVERY_MS, ends - Date.now())));
    const now = await counters(url);
    const at = Date.now();
    const mem = rssBytes(engine.pid!) / MIB;
    rss.push(mem);
    const rows = ((now.get('wisp_http_rows_total') ?? 0) - (last.get('wisp_http_rows_total') ?? 0)) / ((at - lastAt) / 1000);
    const evicted = (now.get('wisp_table_dropped_rows_total:http_events') ?? 0) - (last.get('wisp_table_dropped_rows_total:http_events') ?? 0);
    const w = window;
    window = fresh();
    console.log(
      `| ${((at - t0) / 1000).toFixed(0)} s | ${mem.toFixed(0)} | ${rows.toFixed(0)} | ${dropsBetween(last, now)} | ${evicted} | ${w.queries.length} | ${quantile(w.queries, 0.5).toFixed(0)} | ${quantile(w.queries, 0.99).toFixed(0)} | ${w.failed} | ${quantile(w.healthz, 0.99).toFixed(0)} | ${Math.max(0, ...w.healthz).toFixed(0)} |`,
    );
    last = now;
    lastAt = at;
  }
  await refreshing;
  await stopProbing();
  const wrkOut = await Promise.all(loads.map((l) => l.done));
  const sent = wrkOut.reduce((a, o) => a + Number(/(\d+) requests in/.exec(o)?.[1] ?? 0), 0);
  const total = await counters(url);
  const exited = new Promise((r) => engine.once('exit', r));
  engine.kill('SIGTERM');
  await exited;
  await nginx.stop();
  await node.stop();
  await cgroup.remove();

  const captured = (total.get('wisp_http_rows_total') ?? 0) - (first.get('wisp_http_rows_total') ?? 0);
  console.log('');
  console.log('| summary | value |');
  console.log('|---|---|');
  console.log(`| requests sent by wrk | ${sent} (${(sent / (DURATION_MS / 1000)).toFixed(0)}/s) |`);
  console.log(`| rows captured (client + server side) | ${captured} |`);
  console.log(`| dropped, by reason | ${dropsBetween(first, total)} |`);
  console.log(`| rows evicted to keep the store's budget | ${(total.get('wisp_table_dropped_rows_total:http_events') ?? 0) - (first.get('wisp_table_dropped_rows_total:http_events') ?? 0)} |`);
  console.log(`| engine RSS MiB: first sample / max / last | ${rss[0]?.toFixed(0)} / ${Math.max(...rss).toFixed(0)} / ${rss.at(-1)?.toFixed(0)} |`);
  console.log(`| dashboard queries: count, p50, p99, max ms | ${all.queries.length}, ${quantile(all.queries, 0.5).toFixed(0)}, ${quantile(all.queries, 0.99).toFixed(0)}, ${Math.max(...all.queries).toFixed(0)} |`);
  console.log(`| failed queries or probes | ${all.failed} |`);
  console.log(`| /healthz: probes, p99, max ms | ${all.healthz.length}, ${quantile(all.healthz, 0.99).toFixed(0)}, ${Math.max(...all.healthz).toFixed(0)} |`);
}

await main();
