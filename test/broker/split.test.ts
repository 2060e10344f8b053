/**
 * The broker over three in-process engines (generated rows of a simulated cluster, each process
 * on one node, served over real HTTP) against one engine holding every row: every script of the
 * compatibility set and every dashboard preset gives the same answer. Also: pruning by node,
 * metadata lookups after an aggregate, auth between broker and engines, engines that fail or
 * hang, and the engine's checks of untrusted fragments.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import type { ErrorResponse, QueryResponse } from '../../src/engine/api/contract.js';
import { LocalBackend } from '../../src/engine/api/local.js';
import { StaticEngines } from '../../src/engine/broker/engines.js';
import { startBroker, type RunningBroker } from '../../src/engine/cli/broker.js';
import { QUERY_PRESETS, VARIABLE_PRESETS } from '../../src/plugin/presets.js';
import { loadScript, scriptNames } from '../../src/testkit/pxl-scripts/scripts.js';
import { assertSameAnswer, SAME_ROWS } from './compare.js';
import { serve, serveShard, storeSource, syntheticCluster } from './synthetic.js';

const ENGINE_TOKEN = 'engine-secret';
const NOW_MS = Date.now();
const range = { from: NOW_MS - 5 * 60_000, to: NOW_MS };
const variables = { service: ['default/frontend', 'default/cart'], ns: 'default', namespace: 'default' };
const cluster = syntheticCluster({
  engines: 3,
  rows: 60_000,
  seed: 11,
  // Well inside the last 5 minutes, so '-5m' windows agree however long the test takes.
  startNs: BigInt(NOW_MS - 4 * 60_000) * 1_000_000n,
  spanNs: 180e9,
  services: ['default/frontend', 'default/cart', 'default/checkout', 'pl/vizier', 'kube-system/dns', 'default/ads', ''],
});

let engines: { url: string; close(): Promise<void> }[] = [];
let reference: { url: string; close(): Promise<void> };
let broker: RunningBroker;

before(async () => {
  engines = await Promise.all(cluster.shards.map((s) => serveShard(s, { token: ENGINE_TOKEN })));
  reference = await serve(new LocalBackend(storeSource(cluster.reference.store, cluster.reference.metadata)));
  broker = await startBroker({ listen: '127.0.0.1:0', engines: new StaticEngines(engines.map((e) => e.url)), engineToken: ENGINE_TOKEN, engineTimeoutMs: 5000 });
});

after(async () => {
  await broker.stop();
  await Promise.all([...engines.map((e) => e.close()), reference.close()]);
});

async function query(url: string, script: string, extra: Record<string, unknown> = {}): Promise<{ status: number; body: QueryResponse & ErrorResponse }> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ script, range, intervalMs: 10_000, variables, ...extra }),
  });
  return { status: res.status, body: (await res.json()) as QueryResponse & ErrorResponse };
}

async function same(what: string, script: string): Promise<QueryResponse> {
  const b = await query(broker.url, script);
  assert.equal(b.status, 200, `${what}: broker answered ${JSON.stringify(b.body.error)}`);
  const r = await query(reference.url, script);
  assert.equal(r.status, 200, `${what}: reference answered ${JSON.stringify(r.body.error)}`);
  const limited = new Map<string, QueryResponse>();
  if (/\.head\(/.test(script)) {
    const whole = await query(reference.url, script.replace(/\.head\((n=)?\d+\)/g, '.head(1000000)'));
    for (const t of whole.body.tables) limited.set(t.name, whole.body);
  }
  assert.deepEqual(
    b.body.warnings.filter((w) => w.code.startsWith('BROKER')),
    [],
    `${what}: broker warnings`,
  );
  assertSameAnswer(what, b.body, r.body, SAME_ROWS, limited);
  return b.body;
}

const scripts: [string, string][] = [
  ...scriptNames().map((n): [string, string] => [`pxl-scripts/${n}`, loadScript(n)]),
  ...[...QUERY_PRESETS, ...VARIABLE_PRESETS].map((p): [string, string] => [`preset/${p.id}`, p.script]),
];

test('every compatibility script and dashboard preset: broker over 3 engines = one engine with all rows', async () => {
  let nonEmpty = 0;
  for (const [name, script] of scripts) {
    const b = await same(name, script);
    if (b.tables.some((t) => t.rowCount > 0)) nonEmpty++;
    assert.equal(b.stats.engines?.queried, 3, `${name}: engines queried`);
  }
  // The comparison means something only if the scripts return rows.
  assert.ok(nonEmpty >= scripts.length - 1, `only ${nonEmpty} of ${scripts.length} scripts returned rows`);
});

test('a script library run with arguments: broker over 3 engines = one engine', async () => {
  const library = readFileSync(new URL('../../../test/pxl-scripts/service_library.pxl', import.meta.url), 'utf8');
  const calls = [
    { name: 'inbound_let', args: { start_time: '-5m', service: 'default/cart' } },
    { name: 'slow_paths', args: { start_time: '-5m', service: 'default/frontend', max_rows: '1000', min_latency_ms: '2.5' } },
    { name: 'status_split', args: { start_time: '-5m', service: 'default/checkout', include_health: 'true' } },
  ];
  for (const call of calls) {
    const b = await query(broker.url, library, { function: call });
    assert.equal(b.status, 200, `${call.name}: broker answered ${JSON.stringify(b.body.error)}`);
    const r = await query(reference.url, library, { function: call });
    assert.ok(r.body.tables.every((t) => t.rowCount > 0), `${call.name}: rows to compare`);
    assertSameAnswer(call.name, b.body, r.body);
  }
  const wrong = await query(broker.url, library, { function: { name: 'slow_paths', args: { start_time: '-5m', service: 'x', max_rows: 'ten' } } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error.code, 'PXL_TYPE');
  const listed = await fetch(`${broker.url}/api/v1/functions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script: library }) });
  assert.deepEqual(((await listed.json()) as { functions: { name: string }[] }).functions.map((f) => f.name), ['inbound_let', 'slow_paths', 'status_split', 'http_table']);
});

test('explain on the broker: the fragments as engines plan them, then the broker part', async () => {
  const script = `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df.service = df.ctx['service']
df = df.groupby('service').agg(n=('latency', px.count))
df.per_s = df.n / 300
px.display(df, 'rates')`;
  const res = await fetch(`${broker.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ script, range, explain: true }),
  });
  assert.equal(res.status, 200);
  const { plan } = (await res.json()) as { plan: string };
  const lines = plan.split('\n');
  assert.deepEqual(
    lines.filter((l) => !l.startsWith('    ')),
    ['fragment 0, on each engine (sends partial aggregates):', '  FusedAggExec by [service] n=px.count(latency) (fused loop #1)', "output 'rates', on the broker:", '  MapExec [service, n, per_s=(n / 300)]'],
    plan,
  );
  assert.equal(lines.at(-1), '    ScanExec __fragment_0 [service, n] time_ from unbounded to unbounded');
});

test('quantiles merge from sketches: per-service p50/p99 over 3 engines match one engine', async () => {
  const b = await same(
    'quantiles',
    `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df.service = df.ctx['service']
df = df.groupby('service').agg(q=('latency', px.quantiles), n=('latency', px.count), s=('latency', px.sum),
    lo=('latency', px.min), hi=('latency', px.max), avg=('latency', px.mean), first=('time_', px.min))
df.p99 = px.pluck_float64(df.q, 'p99')
px.display(df)`,
  );
  assert.ok(b.tables[0]!.rowCount >= 6);
});

test('two different fragments joined, a union, and a head above an aggregate, on the broker', async () => {
  await same(
    'join',
    `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df.service = df.ctx['service']
reqs = df.groupby('service').agg(n=('latency', px.count), last=('time_', px.max))
errs = df[df.resp_status >= 500].groupby('service').agg(errors=('latency', px.count))
both = reqs.merge(errs, how='left', left_on='service', right_on='service', suffixes=['', '_e'])
both = both[['service', 'n', 'errors', 'last']]
slow = df[df.latency > 50000000]
slow = slow.groupby('service').agg(n=('latency', px.count), last=('time_', px.min))
slow.errors = slow.n
px.display(both.append(slow[['service', 'n', 'errors', 'last']]), 'joined')
px.display(df.groupby(['service', 'resp_status']).agg(n=('latency', px.count)).head(3), 'top')`,
  );
});

test('a metadata lookup after the aggregate is answered by the engine that holds the process', async () => {
  const b = await same(
    'lookup',
    `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df = df.groupby(['upid', 'remote_addr']).agg(n=('latency', px.count))
df.pod = df.ctx['pod']
df.node = px.upid_to_node_name(df.upid)
df.remote_pod = px.pod_id_to_pod_name(px.ip_to_pod_id(df.remote_addr))
df = df.groupby(['pod', 'node', 'remote_pod']).agg(n=('n', px.sum))
px.display(df)`,
  );
  const t = b.tables[0]!;
  const pods = t.data[t.columns.findIndex((c) => c.name === 'pod')]!;
  assert.ok(pods.every((p) => p !== ''), 'every upid resolved to its pod on the broker');
});

test('a filter on ctx node skips the engines of other nodes', async () => {
  const b = await same(
    'prune',
    `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df.node = df.ctx['node']
df = df[df.node == 'node-1']
df = df.groupby('node').agg(n=('latency', px.count))
px.display(df)`,
  );
  assert.deepEqual(b.stats.engines, { queried: 1, pruned: 2, failed: 0 });
  assert.equal(b.tables[0]!.rowCount, 1);
});

test('a script the broker cannot split says so', async () => {
  const b = await query(
    broker.url,
    `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df = df.groupby('upid').agg(n=('latency', px.count))
df.x = px.select(df.n > 1, df.upid, df.upid)
df.pod = px.upid_to_pod_name(df.x)
px.display(df)`,
  );
  // x is a select of group keys, not a key itself: its lookups cannot be routed.
  assert.equal(b.status, 400);
  assert.equal(b.body.error.code, 'BROKER_UNSUPPORTED');
  assert.match(b.body.error.message, /upid_to_pod_name/);
});

test('the broker authenticates to the engines; a wrong engine token fails every engine', async () => {
  const bad = await startBroker({ listen: '127.0.0.1:0', engines: new StaticEngines(engines.map((e) => e.url)), engineToken: 'wrong', engineTimeoutMs: 5000 });
  try {
    const r = await query(bad.url, scripts[0]![1]);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'BROKER_ENGINES_FAILED');
    assert.match(r.body.error.message, /401 UNAUTHORIZED/);
  } finally {
    await bad.stop();
  }
});

test('an engine that is down gives a partial result with a warning naming it; all down is an error', async () => {
  const gone = await serveShard(cluster.shards[0]!, { token: ENGINE_TOKEN });
  await gone.close();
  const b = await startBroker({ listen: '127.0.0.1:0', engines: new StaticEngines([gone.url, engines[1]!.url]), engineToken: ENGINE_TOKEN, engineTimeoutMs: 5000 });
  try {
    const r = await query(b.url, `import px\ndf = px.DataFrame(table='http_events', start_time=__time_from)\ndf = df.agg(n=('latency', px.count))\npx.display(df)`);
    assert.equal(r.status, 200);
    const w = r.body.warnings.find((x) => x.code === 'BROKER_ENGINE_FAILED');
    assert.ok(w, JSON.stringify(r.body.warnings));
    assert.ok(w.message.includes(gone.url), w.message);
    assert.equal(r.body.tables[0]!.data[0]![0], String(cluster.shards[1]!.store.stats()['http_events']!.rows));
  } finally {
    await b.stop();
  }
  const none = await startBroker({ listen: '127.0.0.1:0', engines: new StaticEngines([gone.url]), engineTimeoutMs: 5000 });
  try {
    const r = await query(none.url, scripts[0]![1]);
    assert.equal(r.body.error.code, 'BROKER_ENGINES_FAILED');
    assert.ok(r.body.error.message.includes(gone.url));
  } finally {
    await none.stop();
  }
});

test('an engine that never answers is cut at the engine timeout', async () => {
  // Accepts connections and reads requests, never answers: a hung engine.
  const sockets = new Set<import('node:net').Socket>();
  const hung: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  const hungUrl = `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
  const b = await startBroker({ listen: '127.0.0.1:0', engines: new StaticEngines([hungUrl, engines[2]!.url]), engineToken: ENGINE_TOKEN, engineTimeoutMs: 700 });
  try {
    const t0 = performance.now();
    const r = await query(b.url, `import px\ndf = px.DataFrame(table='http_events', start_time=__time_from)\ndf = df.agg(n=('latency', px.count))\npx.display(df)`);
    const ms = performance.now() - t0;
    assert.equal(r.status, 200);
    const w = r.body.warnings.find((x) => x.code === 'BROKER_ENGINE_TIMEOUT');
    assert.ok(w && w.message.includes(hungUrl), JSON.stringify(r.body.warnings));
    assert.equal(r.body.tables[0]!.data[0]![0], String(cluster.shards[2]!.store.stats()['http_events']!.rows));
    // One timeout for the node facts, one for the query; nothing waits longer.
    assert.ok(ms < 700 * 2 + 1500, `took ${ms} ms`);
  } finally {
    await b.stop();
    for (const s of sockets) s.destroy();
    hung.close();
  }
});

test('engines check fragments as untrusted input', async () => {
  const url = engines[0]!.url;
  const post = async (body: unknown): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${url}/api/v1/partial`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ENGINE_TOKEN}` }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const src = { kind: 'source', table: 'http_events', columns: ['latency', 'req_path'], startNs: null, endNs: null };
  const frag = (plan: unknown): unknown => ({ nowNs: '0', fragments: [{ id: '0', plan, lookups: [] }] });
  const cases: [unknown, RegExp][] = [
    [frag({ ...src, table: 'secrets' }), /fragments\[0\]\.plan\.table: no table 'secrets'/],
    [frag({ ...src, columns: ['passwd'] }), /plan\.columns\[0\]: no column 'passwd'/],
    [frag({ kind: 'filter', input: src, predicate: { kind: 'call', fn: 'eval', args: [], type: 'BOOLEAN' } }), /predicate\.fn: 'eval' is not a scalar function/],
    [frag({ kind: 'filter', input: src, predicate: { kind: 'column', name: 'latency', type: 'BOOLEAN' } }), /column 'latency' is INT64, not BOOLEAN/],
    [frag({ kind: 'filter', input: src, predicate: { kind: 'call', fn: 'regex_match', args: [{ kind: 'literal', type: 'STRING', value: '(a)\\1' }, { kind: 'column', name: 'req_path', type: 'STRING' }], type: 'BOOLEAN' } }), /backreferences/],
    [frag({ kind: 'map', input: { kind: 'limit', input: src, n: 1 }, exprs: [] }), /'limit' may only be the top node/],
    [frag({ kind: 'agg', input: src, groups: [], aggs: [{ name: 'x', fn: 'add', args: [], type: 'INT64' }] }), /aggs\[0\]\.fn: 'add' is not an aggregate/],
    [{ nowNs: '0', fragments: [] }, /expected 1 to 64 fragments/],
  ];
  for (const [body, re] of cases) {
    const r = await post(body);
    assert.equal(r.status, 400, r.text);
    const e = (JSON.parse(r.text) as ErrorResponse).error;
    assert.equal(e.code, 'BAD_FRAGMENT');
    assert.match(e.message, re);
  }
  const noAuth = await fetch(`${url}/api/v1/partial`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(frag(src)) });
  assert.equal(noAuth.status, 401);
});
