/**
 * What a query may cost the API: its answer carries at most 16 MiB of tables in all, however
 * many outputs it has; and the API works on a bounded number of queries at once (each holds up
 * to an answer's worth of memory): past `maxConcurrentQueries` they wait their turn, past
 * `maxQueuedQueries` more they are refused at once with 429 and the API's error body;
 * `/healthz` is not a query and is answered throughout. Real engine: capture running under the
 * API.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { Agent } from '../../src/engine/agent.js';
import type { ErrorResponse, QueryResponse } from '../../src/engine/api/contract.js';
import { LocalBackend } from '../../src/engine/api/local.js';
import { ApiMetrics } from '../../src/engine/api/metrics.js';
import { buildApi } from '../../src/engine/api/server.js';

let agent: Agent;
let url: string;
let close: () => Promise<void>;

before(async () => {
  agent = Agent.start();
  // Far in the past, so that only the queries below read them.
  generateHttpEvents(makeCluster(8, 1), 100_000, 3, 1_000_000_000_000_000_000n, 60e9, (rows) => agent.table.append(rows));
  const app = buildApi({ backend: new LocalBackend(agent), metrics: new ApiMetrics(), limits: { maxConcurrentQueries: 1, maxQueuedQueries: 1 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  close = async () => {
    agent.close();
    await app.close();
  };
});

after(() => close());

const LIGHT = `import px
df = px.DataFrame(table='http_events', start_time=0)
px.display(df.head(1))`;
const HEAVY = `import px
df = px.DataFrame(table='http_events', start_time=0)
df = df.groupby(['req_path', 'remote_port']).agg(n=('latency', px.count), q=('latency', px.quantiles))
px.display(df)`;

/** The answer, and when its head arrived (reading a large body takes this process a while). */
async function timed(run: () => Promise<Response>): Promise<{ status: number; body: unknown; at: number }> {
  const res = await run();
  const at = performance.now();
  return { status: res.status, body: await res.json(), at };
}

test('one query runs, one waits its turn, a third is refused at once with 429; /healthz is answered meanwhile', async () => {
  const query = (script: string) => (): Promise<Response> => fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const first = timed(query(HEAVY));
  await new Promise((r) => setTimeout(r, 20));
  // A query of one row: run at once, it would be done long before the first.
  const second = timed(query(LIGHT));
  await new Promise((r) => setTimeout(r, 20));
  const third = await timed(query(LIGHT));
  const health = await timed(() => fetch(`${url}/healthz`));
  const [a, b] = await Promise.all([first, second]);
  assert.equal(third.status, 429);
  assert.equal((third.body as ErrorResponse).error.code, 'TOO_MANY_QUERIES');
  assert.match((third.body as ErrorResponse).error.message, /1 queries are running and 1 waiting/);
  assert.ok(third.at < a.at, 'refused before the running query finished');
  assert.equal(health.status, 200);
  assert.deepEqual([a.status, b.status], [200, 200]);
  assert.ok(b.at > a.at, 'the one-row query waited for the heavy one');
  // Turns are given back: the API takes queries again.
  assert.equal((await timed(query(LIGHT))).status, 200);
});

test('an answer carries at most 16 MiB of tables however many outputs display the whole table', async () => {
  const full = (name: string): string => `px.display(df, '${name}')`;
  const script = `import px\ndf = px.DataFrame(table='http_events', start_time=0)\n${full('a')}\n${full('b')}\n${full('c')}`;
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const text = await res.text();
  assert.equal(res.status, 200);
  // 100 000 rows of ~450 bytes each: 45 MB per output uncut.
  assert.ok(text.length < (16 << 20) * 1.1, `the answer is ${(text.length / (1 << 20)).toFixed(1)} MiB`);
  const body = JSON.parse(text) as QueryResponse;
  assert.equal(body.tables.length, 3);
  assert.ok(body.tables.every((t) => t.rowCount > 1000), 'each output keeps its share');
  assert.equal(body.warnings.filter((w) => w.code === 'RESULT_TRUNCATED').length, 3);
});
