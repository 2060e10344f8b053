/**
 * Ad hoc filters (`adhocFilters` of POST /api/v1/query, docs/api.md) over real HTTP: an engine
 * holding every row of a simulated cluster and a broker over three engines holding a share each.
 * A filtered answer equals the answer of the same script with the filter written into it by
 * hand; the broker agrees with the engine; the answer says which tables each filter narrowed,
 * and warns where a table lacks the key; wrong filters are refused with 400.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ErrorResponse, QueryResponse } from '../../src/engine/api/contract.js';
import { LocalBackend } from '../../src/engine/api/local.js';
import { StaticEngines } from '../../src/engine/broker/engines.js';
import { startBroker, type RunningBroker } from '../../src/engine/cli/broker.js';
import type { AdhocFilter } from '../../src/engine/pxl/plan/adhoc.js';
import { assertSameAnswer, SAME_ROWS } from '../broker/compare.js';
import { serve, serveShard, storeSource, syntheticCluster } from '../broker/synthetic.js';

const NOW_MS = Date.now();
const range = { from: NOW_MS - 5 * 60_000, to: NOW_MS };
const cluster = syntheticCluster({
  engines: 3,
  rows: 30_000,
  seed: 5,
  startNs: BigInt(NOW_MS - 4 * 60_000) * 1_000_000n,
  spanNs: 180e9,
  services: ['default/frontend', 'default/cart', 'default/checkout', 'kube-system/dns', ''],
});

let engines: { url: string; close(): Promise<void> }[] = [];
let engine: { url: string; close(): Promise<void> };
let broker: RunningBroker;

before(async () => {
  engines = await Promise.all(cluster.shards.map((s) => serveShard(s)));
  engine = await serve(new LocalBackend(storeSource(cluster.reference.store, cluster.reference.metadata)));
  broker = await startBroker({ listen: '127.0.0.1:0', engines: new StaticEngines(engines.map((e) => e.url)), engineTimeoutMs: 5000 });
});

after(async () => {
  await broker.stop();
  await Promise.all([...engines.map((e) => e.close()), engine.close()]);
});

async function query(url: string, body: Record<string, unknown>): Promise<{ status: number; body: QueryResponse & ErrorResponse }> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ range, intervalMs: 10_000, ...body }),
  });
  return { status: res.status, body: (await res.json()) as QueryResponse & ErrorResponse };
}

/** Requests per service and status: what a dashboard panel of the filtered data would show. */
const PANEL = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df.service = df.ctx['service']
# FILTER
df = df.groupby(['service', 'resp_status']).agg(n=('latency', px.count))
px.display(df, 'per_service')
`;

const cases: [string, AdhocFilter[], string][] = [
  ['a status', [{ key: 'resp_status', operator: '=', value: '500' }], 'df = df[df.resp_status == 500]'],
  ['a ctx key (service) and a regex', [
    { key: 'service', operator: '!=', value: 'default/cart' },
    { key: 'req_path', operator: '=~', value: '/api/.*' },
  ], "df = df[df.ctx['service'] != 'default/cart']\ndf = df[px.regex_match('/api/.*', df.req_path)]"],
  ['one of', [{ key: 'req_method', operator: '=|', values: ['POST', 'PUT'] }], "df = df[df.req_method == 'POST' or df.req_method == 'PUT']"],
  ['a range', [{ key: 'latency', operator: '>', value: '2000000' }, { key: 'resp_status', operator: '<', value: '400' }], 'df = df[df.latency > 2000000]\ndf = df[df.resp_status < 400]'],
];

test('a filtered answer equals the script with the filter written in, on the engine and through the broker', async () => {
  const all = await query(engine.url, { script: PANEL });
  assert.equal(all.status, 200);
  const total = (r: QueryResponse) => r.tables[0]!.data[2]!.reduce((s: number, v) => s + Number(v), 0);
  for (const [what, adhocFilters, written] of cases) {
    const filtered = await query(engine.url, { script: PANEL, adhocFilters });
    assert.equal(filtered.status, 200, `${what}: ${JSON.stringify(filtered.body.error)}`);
    const byHand = await query(engine.url, { script: PANEL.replace('# FILTER', written) });
    assert.equal(byHand.status, 200, `${what}: ${JSON.stringify(byHand.body.error)}`);
    assertSameAnswer(what, filtered.body, byHand.body, SAME_ROWS, new Map());
    const n = total(filtered.body);
    assert.ok(n > 0 && n < total(all.body), `${what}: ${n} of ${total(all.body)} requests`);
    assert.deepEqual(filtered.body.adhocFilters, adhocFilters.map((f) => ({ ...f, appliedTo: ['http_events'] })), what);
    assert.deepEqual(filtered.body.warnings, [], what);

    const viaBroker = await query(broker.url, { script: PANEL, adhocFilters });
    assert.equal(viaBroker.status, 200, `${what}: broker: ${JSON.stringify(viaBroker.body.error)}`);
    assertSameAnswer(`${what} (broker)`, viaBroker.body, filtered.body, SAME_ROWS, new Map());
    assert.deepEqual(viaBroker.body.adhocFilters, filtered.body.adhocFilters);
  }
});

test('a key no source has is reported, not applied: the answer is the unfiltered one, with a warning', async () => {
  const adhocFilters: AdhocFilter[] = [{ key: 'tenant', operator: '=', value: 'a' }];
  const r = await query(engine.url, { script: PANEL, adhocFilters });
  assert.equal(r.status, 200);
  assertSameAnswer('unknown key', r.body, (await query(engine.url, { script: PANEL })).body, SAME_ROWS, new Map());
  assert.deepEqual(r.body.adhocFilters, [{ ...adhocFilters[0], appliedTo: [] }]);
  assert.deepEqual(r.body.warnings.map((w) => [w.code, w.span?.start.line, w.message]), [
    ['ADHOC_FILTER_NOT_APPLIED', 2, "ad hoc filter tenant = 'a' was not applied to http_events: it has no column 'tenant'"],
  ]);
});

test('wrong filters are refused with 400 and say why; the script is never involved', async () => {
  const bad: [unknown, string, RegExp][] = [
    [[{ key: 'resp_status', operator: '==', value: '1' }], 'BAD_REQUEST', /operator/],
    [[{ key: 'resp_status', operator: '=' }], 'BAD_REQUEST', /value/],
    [[{ key: 'resp_status', operator: '=', value: '1', values: ['2'] }], 'BAD_REQUEST', /values/],
    [[{ key: 'resp_status', operator: '=|', values: [] }], 'BAD_REQUEST', /values/],
    [[{ key: '', operator: '=', value: '1' }], 'BAD_REQUEST', /key/],
    [[{ key: 'resp_status', operator: '=', value: 1 }], 'BAD_REQUEST', /value/],
    [[{ key: 'resp_status', operator: '=', value: '1', extra: true }], 'BAD_REQUEST', /additional/],
    [Array.from({ length: 65 }, () => ({ key: 'resp_status', operator: '=', value: '1' })), 'BAD_REQUEST', /64/],
    [{ key: 'resp_status' }, 'BAD_REQUEST', /array/],
    [[{ key: 'resp_status', operator: '=', value: 'five hundred' }], 'PXL_VALUE', /^ad hoc filter resp_status = 'five hundred' cannot apply to http_events: 'five hundred' is not an integer/],
  ];
  for (const [adhocFilters, code, re] of bad) {
    for (const url of [engine.url, broker.url]) {
      const r = await query(url, { script: PANEL, adhocFilters });
      assert.equal(r.status, 400, JSON.stringify(adhocFilters).slice(0, 200));
      assert.equal(r.body.error.code, code, JSON.stringify(r.body.error));
      assert.match(r.body.error.message, re);
    }
  }
});
