/**
 * End to end: traffic sent in known bursts on loopback, captured by a real `wisp engine`, then
 * `wisp query` of a binned throughput script in Pixie's style. The counts per bin must equal
 * the requests sent in each bin.
 */
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeServer, run, wispEngine, type Peer } from '../support/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const wisp = join(root, 'bin/wisp');
const client = fileURLToPath(new URL('../support/client.js', import.meta.url));
let engine: Peer & { url: string };
let server: Peer;

before(async () => {
  engine = await wispEngine();
  server = await nodeServer(`
import http from 'node:http';
const s = http.createServer((req, res) => { res.writeHead(200, {'content-length': 5}); res.end('hello'); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
});

after(async () => {
  await server.stop();
  await engine.stop();
});

async function sleepUntil(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));
}

test('wisp query: binned throughput equals the requests sent in each bin', async () => {
  // Bursts of different sizes, each sent in the middle of its own one-second bin so that no
  // request can straddle a bin edge.
  const bursts = [7, 23, 0, 41, 12];
  const firstBin = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  for (let i = 0; i < bursts.length; i++) {
    await sleepUntil(firstBin + i * 1000 + 250);
    if (bursts[i] === 0) continue;
    const r = await run(process.execPath, [client, '--url', `http://127.0.0.1:${server.port}`, '--n', String(bursts[i]), '--concurrency', '4', '--prefix', `/burst${i}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() < firstBin + i * 1000 + 1000, `burst ${i} spilled into the next bin`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'wisp-q-'));
  const script = join(dir, 'throughput.pxl');
  writeFileSync(
    script,
    `import px

# Request throughput of one server, binned by Grafana's interval (Pixie's macros).
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[df.trace_role == 2]
df = df[df.local_port == ${server.port}]
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby('timestamp').agg(requests=('latency', px.count))
px.display(df, 'throughput')
`,
  );
  await new Promise((r) => setTimeout(r, 500));
  const from = String(firstBin - 2000);
  const to = String(firstBin + bursts.length * 1000 + 1000);
  const res = await run(wisp, ['query', '--url', engine.url, '--from', from, '--to', to, '--interval', '1s', '--format', 'csv', script]);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n');
  assert.equal(lines[0], '# throughput');
  assert.equal(lines[1], 'timestamp,requests');
  const got = new Map(lines.slice(2).map((l) => l.split(',')).map(([t, n]) => [BigInt(t!), Number(n)]));
  const want = new Map<bigint, number>();
  bursts.forEach((n, i) => {
    if (n > 0) want.set(BigInt(firstBin + i * 1000) * 1_000_000n, n);
  });
  assert.deepEqual(got, want);
});

test('wisp query --explain prints the physical plan the script would run, and runs nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-q-'));
  const script = join(dir, 'throughput.pxl');
  writeFileSync(
    script,
    `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[df.trace_role == 2]
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby('timestamp').agg(requests=('latency', px.count))
df.rps = df.requests / 10
px.display(df, 'throughput')
`,
  );
  const res = await run(wisp, ['query', '--url', engine.url, '--from', '1700000000000', '--to', '1700000060000', '--interval', '10s', '--explain', script]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(res.stdout.trim().split('\n'), [
    "output 'throughput':",
    '  MapExec [timestamp, requests, rps=(requests / 10)]',
    '    FusedAggExec by [timestamp] requests=px.count(latency) (fused loop #1)',
    '      MapExec [latency, timestamp=px.bin(time_, 10000000000)]  [folded into the loop]',
    '        FilterExec (trace_role == 2)  [folded into the loop]',
    '          ScanExec http_events [time_, trace_role, latency] time_ from 2023-11-14T22:13:20.000Z to 2023-11-14T22:14:20.000Z  [folded into the loop]',
  ]);
  const json = await run(wisp, ['query', '--url', engine.url, '--explain', '--format', 'json', script]);
  assert.equal(json.code, 0, json.stderr);
  const body = JSON.parse(json.stdout) as { plan: string; warnings: unknown[]; tables?: unknown };
  assert.match(body.plan, /FusedAggExec by \[timestamp\]/);
  assert.equal(body.tables, undefined, 'an explained script is not run');
});
