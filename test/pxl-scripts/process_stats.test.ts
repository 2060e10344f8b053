/**
 * `process_stats` on a live engine: a real HTTP server in its own systemd-style cgroup
 * (`…/orders.service`) burns CPU and holds memory while it serves; a script in the shape of
 * Pixie's overview scripts joins process_stats with http_events for the service the cgroup
 * names, and its numbers are checked against /proc read around the samples.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { QueryResponse, SchemaResponse } from '../../src/engine/api/contract.js';
import { systemConstants } from '../../src/engine/meta/procstats.js';
import type { Child } from '../capture-kernel/helpers.js';
import { startService, type ServiceFixture } from './service.js';
import { rowsOf } from '../pxl-reference/duck.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = readFileSync(join(root, 'test/pxl-scripts/service_resources.pxl'), 'utf8');
const PERIOD_MS = 250;
const HELD_BYTES = 64 * 1024 * 1024;

// /burn spins until it has used ?ms=N of CPU (not wall time: the machine may be busy); /hold allocates and touches HELD_BYTES and keeps them.
const SERVER = `
  const held = [];
  const s = require('http').createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/burn') { const t = process.cpuUsage(); const us = Number(u.searchParams.get('ms')) * 1000; let x = 0; for (;;) { const d = process.cpuUsage(t); if (d.user + d.system >= us) break; x++; } res.end(String(x)); return; }
    if (u.pathname === '/hold') { held.push(Buffer.alloc(${HELD_BYTES}, 1)); res.end('held'); return; }
    res.end('ok');
  });
  s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

let service: ServiceFixture;
let server: Child;
let base: string;

before(async () => {
  service = await startService('wisp-ps', 'orders.service', SERVER, { processStats: { periodMs: PERIOD_MS } });
  ({ server, base } = service);
});

after(() => service.stop());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fields of /proc/<pid>/stat after the command name: index k is field k + 3. */
function stat(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
}

test('GET /api/v1/schema lists process_stats with Pixie\'s columns and types', async () => {
  const schema = (await (await fetch(`${base}/api/v1/schema`)).json()) as SchemaResponse;
  const t = schema.tables.find((x) => x.name === 'process_stats');
  assert.ok(t, 'process_stats is listed');
  assert.deepEqual(
    t.columns.map((c) => `${c.name}:${c.type}`),
    ['time_:TIME64NS', 'upid:UINT128', 'major_faults:INT64', 'minor_faults:INT64', 'cpu_utime_ns:INT64', 'cpu_ktime_ns:INT64', 'num_threads:INT64',
      'vsize_bytes:INT64', 'rss_bytes:INT64', 'rchar_bytes:INT64', 'wchar_bytes:INT64', 'read_bytes:INT64', 'write_bytes:INT64'],
  );
});

test('process_stats joined with http_events: requests, CPU and memory of a service as /proc tells them', async () => {
  const port = Number(server.firstLine);
  const tickNs = 1e9 / systemConstants().clockTicks;
  await sleep(2 * PERIOD_MS);
  const before0 = stat(server.pid);
  const get = async (path: string): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(res.status, 200);
    await res.text();
  };
  await get('/hold');
  await get('/burn?ms=600');
  for (let i = 0; i < 20; i++) await get(`/plain/${i}`);
  const after1 = stat(server.pid);
  await sleep(3 * PERIOD_MS);

  const res = await fetch(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ script: SCRIPT, function: { name: 'service_resources', args: { start_time: '-1m', service: 'orders' } } }),
  });
  const body = (await res.json()) as QueryResponse;
  assert.equal(res.status, 200, JSON.stringify(body));
  const after2 = stat(server.pid);
  const hwmBytes = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'latin1'))![1]) * 1024;

  const rows = rowsOf(body, 'service_resources');
  assert.equal(rows.length, 1, JSON.stringify(rows));
  const [service, pid, requests, rssMax, utimeMax, cpuNs, threads, samples] = rows[0]!.map((c) => (typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : c));
  assert.equal(service, 'orders', 'the service is the cgroup\'s systemd unit');
  assert.equal(pid, server.pid);
  assert.equal(requests, 22, 'every request the server answered');
  assert.ok(Number(rssMax) >= HELD_BYTES && Number(rssMax) <= hwmBytes, `rss ${rssMax} within [${HELD_BYTES}, VmHWM ${hwmBytes}]`);
  // The last sample came after the work and before the query: utime between the two readings.
  const utime = (f: string[]): number => Number(f[14 - 3]) * tickNs;
  const cpu = (f: string[]): number => (Number(f[14 - 3]) + Number(f[15 - 3])) * tickNs;
  assert.ok(Number(utimeMax) >= utime(after1) && Number(utimeMax) <= utime(after2), `utime ${utimeMax} within [${utime(after1)}, ${utime(after2)}]`);
  // The first sample came before the work: at least the 600 ms burned (less a clock tick at
  // each end), at most all CPU since then.
  assert.ok(Number(cpuNs) >= 600e6 - 2 * tickNs && Number(cpuNs) <= cpu(after2) - cpu(before0) + 2 * PERIOD_MS * 1e6, `cpu ${cpuNs} ns`);
  assert.ok(Number(threads) >= 1 && Number(threads) <= Number(after2[20 - 3]) + 4, `threads ${threads}`);
  assert.ok(Number(samples) >= 4, `${samples} samples`);
});

test('process_stats answers ctx and the metadata functions like http_events', async () => {
  const script = `import px
df = px.DataFrame(table='process_stats', start_time='-1m')
df = df[df.ctx['pid'] == ${server.pid}]
df.cmd = df.ctx['cmd']
df.service = df.ctx['service']
df = df.groupby(['cmd', 'service']).agg(n=('rss_bytes', px.count))
px.display(df)`;
  const res = await fetch(`${base}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const body = (await res.json()) as QueryResponse;
  assert.equal(res.status, 200, JSON.stringify(body));
  const rows = rowsOf(body);
  assert.equal(rows.length, 1);
  assert.match(String(rows[0]![0]), new RegExp(`^${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -e `));
  assert.equal(rows[0]![1], 'orders');
});
