// Grafana live (issue 16): queries with "Stream" on, in the built plugin in headless Chromium
// on the harness, against a live `bin/wisp engine` capturing real traffic the test makes while
// the panels are open. A live tail of raw events in Explore gets every request exactly once as it
// is captured, also across a connection the proxy breaks (resumed with the cursor, a notice
// says so); a live time series gets each closed px.bin window; closing the panels aborts the
// streams all the way to the engine. Needs root (the engine loads BPF programs).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { nodeServer, run } from '../support/peers.js';
import type { PanelResult } from './harness/panels.js';
import { startLiveEngine } from './liveEngine.js';
import { artifacts, configure, drawnSeries, openHarness } from './session.js';

/** Server-side rows of the test's tail traffic, as raw events. */
const TAIL = `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df = df[px.contains(df.req_path, '/tail/') and df.trace_role == 2]
px.display(df[['time_', 'req_method', 'req_path', 'resp_status', 'latency']], 'events')
`;

/** Server-side requests of the series traffic per 1 s window. */
const SERIES = `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df = df[px.contains(df.req_path, '/series/') and df.trace_role == 2]
df.timestamp = px.bin(df.time_, px.DurationNanos(1000 * 1000 * 1000))
df = df.groupby(['timestamp', 'req_method']).agg(requests=('latency', px.count))
df.time_ = df.timestamp
px.display(df[['time_', 'req_method', 'requests']], 'per_second')
`;

test('Grafana live: a live tail in Explore and a live time series, resumed after a drop, aborted when closed', { timeout: 180_000 }, async (t) => {
  const { url: engineUrl, token } = await startLiveEngine(t, 'stream');
  const server = await nodeServer(`
import http from 'node:http';
const s = http.createServer((req, res) => { res.writeHead(200, {'content-length': 2}); res.end('ok'); });
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  t.after(() => server.stop());
  const client = fileURLToPath(new URL('../support/client.js', import.meta.url));
  const send = async (n: number, prefix: string) => {
    const r = await run(process.execPath, [client, '--url', `http://127.0.0.1:${server.port}`, '--n', String(n), '--concurrency', '4', '--prefix', prefix]);
    assert.equal(r.code, 0, r.stderr);
    return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  };

  const to = Date.now();
  const session = await openHarness(t, { from: to - 60_000, to });
  const { page, proxy } = session;
  await configure(page, engineUrl, token);
  const result = (id: string) => page.evaluate((p) => window.__wisp.runner!.panels.get(p)?.result, id);
  const queries = () => proxy.requests.filter((r) => r.endsWith('/engine/api/v1/query')).length;
  /** Waits until the panel's last answer passes `ok`; the answer, and how long it took. */
  const until = async (id: string, ok: (r: PanelResult) => boolean, what: string, ms = 15_000) => {
    const t0 = Date.now();
    for (;;) {
      const r = await result(id);
      if (r && ok(r)) return { r, ms: Date.now() - t0 };
      if (Date.now() - t0 > ms) assert.fail(`${what}: not within ${ms} ms; the panel shows ${JSON.stringify(r).slice(0, 800)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  /** The request paths of the tail panel's log lines (bodies read `GET /tail/… 200 1.25 ms`). */
  const paths = (r: PanelResult) => (r.frames[0]?.fields.find((f) => f.name === 'body')?.values ?? []).map((b) => String(b).split(' ')[1]!);
  const sorted = (xs: string[]) => [...xs].sort();

  // --- The live tail in Explore: opens on the stored rows (none yet), then takes each request as it comes.
  const before = queries();
  await page.evaluate((script) => void window.__wisp.panel!({ id: 'tail', title: 'Live tail (Explore)', app: 'explore', targets: [{ refId: 'A', script, stream: true }] }), TAIL);
  await until('tail', (r) => r.state === 'Streaming', 'the tail panel streaming');
  const sent: string[] = [];
  const lag: number[] = [];
  for (const round of [0, 1]) {
    sent.push(...(await send(50, `/tail/${round}/`)));
    const { r, ms } = await until('tail', (x) => paths(x).length >= sent.length, `round ${round}: ${sent.length} rows`);
    lag.push(ms);
    assert.equal(r.state, 'Streaming');
    assert.equal((r.frames[0]?.meta as { type?: string } | undefined)?.type, 'log-lines', 'raw rows in Explore are log lines');
    assert.deepEqual(sorted(paths(r)), sorted(sent), 'every request exactly once');
  }
  assert.equal(queries(), before + 1, 'one stream carried both rounds');

  // --- A dropped connection: the plugin opens the stream again with its cursor, no row lost or repeated.
  assert.equal(proxy.cut(), 1);
  sent.push(...(await send(50, '/tail/2/')));
  const { r: resumed } = await until('tail', (x) => paths(x).length >= sent.length, 'the rows after the drop');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const settled = (await result('tail'))!;
  assert.deepEqual(sorted(paths(settled)), sorted(sent), 'after the drop: every request exactly once');
  assert.ok(queries() >= before + 2, 'the stream was opened again');
  const notices = (resumed.frames[0]?.meta as { notices?: Array<{ text: string }> } | undefined)?.notices ?? [];
  assert.ok(notices.some((n) => n.text.startsWith('STREAM_RECONNECTED')), JSON.stringify(notices));
  assert.equal(settled.state, 'Streaming');

  // --- A live time series beside it: each 1 s window as it closes, its count exact.
  await page.evaluate((script) => void window.__wisp.panel!({ id: 'series', title: 'Requests per second (live)', panelId: 2, targets: [{ refId: 'A', script, stream: true }] }), SERIES);
  await until('series', (r) => r.state === 'Streaming', 'the series panel streaming');
  let requests = 0;
  for (const n of [30, 20, 40]) {
    requests += (await send(n, `/series/${requests}/`)).length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const counted = (r: PanelResult) => r.frames.flatMap((f) => f.fields.filter((x) => x.type === 'number')).reduce((s, f) => s + f.values.reduce((a: number, v) => a + Number(v ?? 0), 0), 0);
  const { r: series } = await until('series', (r) => counted(r) >= requests, `windows adding up to ${requests}`);
  assert.equal(counted(series), requests, 'each window once, its count exact');
  const time = series.frames[0]!.fields.find((f) => f.type === 'time')!;
  assert.ok(time.values.length >= 2, `a series of closed windows: ${JSON.stringify(time.values)}`);
  assert.ok(time.values.every((v) => Number(v) % 1000 === 0), 'one point per 1 s window');
  const drawn = Object.values(await drawnSeries(page, '#plot-series')).flat();
  assert.equal(drawn.reduce((s, p) => s + p.v, 0), requests, 'the panel draws every window');
  await page.locator('#panels').screenshot({ path: path.join(artifacts, 'stream-live.png') });

  // --- Closing the panels aborts both HTTP streams; the proxy closes its engine requests.
  const abandoned = proxy.abandoned.length;
  await page.evaluate(() => window.__wisp.runner!.clear());
  const deadline = Date.now() + 5000;
  while (proxy.abandoned.length < abandoned + 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(proxy.abandoned.slice(abandoned), ['/api/v1/query', '/api/v1/query']);
  // The browser reports its aborted fetches on its own schedule, after the proxy saw them go.
  const aborted = (): boolean => session.failed.some((f) => f.url.endsWith('/engine/api/v1/query') && f.reason === 'net::ERR_ABORTED');
  while (!aborted() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(aborted(), JSON.stringify(session.failed));
  const after = queries();
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(queries(), after, 'a closed panel does not reconnect');

  assert.deepEqual(session.browserAuth, [], 'the browser never sends the token');
  assert.deepEqual(session.pageErrors, []);
  t.diagnostic(`capture → panel, after each round of 50 requests: ${lag.join(', ')} ms`);
});
