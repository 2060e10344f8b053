/**
 * Overload, end to end: a ring buffer small enough, and a shedding threshold low enough, that a
 * burst of keep-alive requests makes the kernel shed whole connections. Every exchange is then
 * either a row or counted as missing, exactly; nothing is torn (no parse errors, no gaps); a
 * query over the burst carries a warning with the count; /metrics reports the shed exchanges.
 * Real capture of real loopback traffic, scoped to a cgroup holding only this test's processes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from '../../src/engine/agent.js';
import { ApiMetrics } from '../../src/engine/api/metrics.js';
import { LocalBackend } from '../../src/engine/api/local.js';
import { resolveFrame } from '../../src/engine/api/options.js';
import { makeCgroup, startIn, PATH_SERVER } from '../capture-kernel/cgroups.js';

const N = 3000;
const cg = makeCgroup('wisp-overload');
// 256 KiB of ring, shedding everything once 2 % of it waits: the drain thread sleeps 10 ms
// between rounds, and a burst queues far more than 5 KiB in that time, but never 256 KiB.
const agent = Agent.start({ cgroup: cg.path, tracer: { ringBufferBytes: 256 << 10, shedFromPercent: 1, shedAllPercent: 2 } });
after(async () => {
  agent.close();
  await cg.remove();
});

/** N keep-alive requests on 8 connections, each awaited before the next, from inside the cgroup. */
const CLIENT = `
  const http = require('http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const port = Number(process.argv[1]);
  let next = 0, done = 0;
  function one() {
    if (next >= ${N}) return;
    const i = next++;
    http.get({ host: '127.0.0.1', port, path: '/burst-' + i, agent }, (res) => {
      res.resume();
      res.on('end', () => { if (++done === ${N}) { console.log('done'); process.exit(0); } else one(); });
    });
  }
  for (let k = 0; k < 8; k++) one();`;

test(`a burst under overload: each of ${N} exchanges per side is a row or counted missing, and queries say so`, async () => {
  const server = await startIn(cg.path, process.execPath, ['-e', PATH_SERVER]);
  after(() => server.proc.kill());
  const port = Number(server.firstLine);
  const from = BigInt(Date.now()) * 1_000_000n;
  const client = await startIn(cg.path, process.execPath, ['-e', CLIENT, String(port)]);
  assert.equal(client.firstLine, 'done');
  const backend = new LocalBackend(agent);
  const script = `import px
df = px.DataFrame(table='http_events', start_time=${from})
df = df[px.contains(df.req_path, '/burst-')]
df = df.groupby('trace_role').agg(n=('latency', px.count))
px.display(df)
`;
  const query = () => backend.query({ script }, resolveFrame({ script }, Date.now()), new AbortController().signal);
  let rows = 0;
  let counts = { kshed: 0, kept: 0, ushed: 0, dropped: 0 };
  const deadline = Date.now() + 30_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const res = await query();
    // Tables are columnar: the counts are the second column.
    rows = (res.tables[0]!.data[1] ?? []).reduce<number>((n, v) => n + Number(v), 0);
    const s = agent.snapshot();
    counts = {
      kshed: s.captureDrops['shed_exchanges'] ?? 0,
      kept: s.captureDrops['shed_kept_5xx'] ?? 0,
      ushed: s.httpDrops['shed_exchanges'] ?? 0,
      dropped: s.httpDrops['dropped_exchanges'] ?? 0,
    };
    if (rows + counts.kshed - counts.kept + counts.ushed + counts.dropped >= 2 * N || Date.now() > deadline) break;
  }
  const s = agent.snapshot();
  assert.ok(counts.kshed > 0, `the kernel shed nothing (drops ${JSON.stringify(s.captureDrops)}): the test did not overload capture`);
  assert.equal(s.captureDrops['ringbuf_full_events'] ?? 0, 0, 'shedding kept the ring from overflowing');
  assert.equal(rows + counts.kshed - counts.kept + counts.ushed + counts.dropped, 2 * N,
    `rows ${rows} + missing ${JSON.stringify(counts)} account for both sides of every exchange`);
  assert.deepEqual([s.httpDrops['parse_errors'], s.httpDrops['gaps'], s.httpDrops['unpaired_responses']], [0, 0, 0], 'whole connections were shed: no stream was torn');

  const res = await query();
  const warning = res.warnings.find((w) => w.code === 'CAPTURE_INCOMPLETE');
  const missing = counts.kshed - counts.kept + counts.ushed + counts.dropped;
  assert.ok(warning, `no CAPTURE_INCOMPLETE warning among ${JSON.stringify(res.warnings)}`);
  assert.match(warning.message, new RegExp(`^${missing} HTTP exchanges in this time range were not captured \\(${counts.kshed - counts.kept + counts.ushed} shed under overload, ${counts.dropped} lost`));

  const metrics = new ApiMetrics();
  metrics.setSnapshot(() => agent.snapshot());
  const text = await metrics.registry.metrics();
  assert.match(text, new RegExp(`^wisp_capture_dropped_total\\{reason="shed_exchanges"\\} ${counts.kshed}$`, 'm'));
});
