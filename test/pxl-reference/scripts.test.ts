/**
 * Golden tests: the PxL scripts under src/testkit/pxl-scripts, compiled by the real compiler and run by
 * the executor on generated rows, against the same question asked of DuckDB in SQL.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from '../../src/engine/http/schema.js';
import { compile } from '../../src/engine/pxl/compile.js';
import { resultToJson, type QueryResultJson } from '../../src/engine/api/encode.js';
import { execute } from '../../src/engine/pxl/exec/execute.js';
import { Store } from '../../src/engine/store/store.js';
import { fixedOptions, httpCatalog, loadScript, scriptNames } from '../../src/testkit/pxl-scripts/scripts.js';
import { assertSameRows, duckdb, load, rowsOf, sql, type Cell } from './duck.js';

const FROM = fixedOptions.fromNs;
const TO = fixedOptions.toNs;
const NOW = fixedOptions.nowNs;
const INTERVAL = fixedOptions.intervalNs;
// The variables name frontend and cart; 'front' matches frontend only; '' is outside any service;
// namespace 'pl' is filtered out by errors_per_service.
const cluster = makeCluster(['default/frontend', 'default/cart', 'default/checkout', 'pl/vizier', ''], 21);
const rows: HttpEventRow[] = [];
// From 16 minutes before the range (raw_events looks back 15 m) to a minute past its end.
generateHttpEvents(cluster, 12000, 8, FROM - 960_000_000_000n, 1320e9, (b) => rows.push(...b));
const store = new Store();
store.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 30, batchRows: 2048 });
store.append('http_events', rows);

let db: Awaited<ReturnType<typeof duckdb>>;
before(async () => {
  db = await duckdb();
  await load(db.con, 'http_events', HTTP_EVENTS_SCHEMA.fields, rows);
  await load(
    db.con,
    'meta',
    [
      { name: 'upid', type: 'STRING' },
      { name: 'service', type: 'STRING' },
      { name: 'namespace', type: 'STRING' },
      { name: 'pod', type: 'STRING' },
    ],
    cluster.procs.map((p) => ({ upid: p.upid, service: p.service, namespace: cluster.metadata.upidToNamespace(p.upid), pod: p.pod })),
  );
  await db.con.run('CREATE VIEW h AS SELECT * FROM http_events JOIN meta USING (upid)');
});
after(() => db.close());

async function run(name: string): Promise<QueryResultJson> {
  const { program } = compile(loadScript(name), fixedOptions, httpCatalog);
  return resultToJson(await execute(program, store, { metadata: cluster.metadata, nowNs: NOW }));
}

test('errors_per_service', async () => {
  const got = rowsOf(await run('errors_per_service'), 'errors');
  const want = await sql(
    db.con,
    `SELECT service, count(*) FILTER (WHERE resp_status >= 400), count(*),
            (count(*) FILTER (WHERE resp_status >= 400))::DOUBLE / count(*)
     FROM h WHERE time_ >= ${FROM} AND service != '' AND namespace != 'pl' GROUP BY 1`,
  );
  assert.equal(want.length, 3);
  assertSameRows(got, want);
});

test('throughput', async () => {
  const got = rowsOf(await run('throughput'), 'throughput');
  const want = await sql(
    db.con,
    `SELECT time_ - time_ % ${INTERVAL} AS t, count(*) / ${INTERVAL} * 1e9 FROM http_events
     WHERE time_ >= ${FROM} AND time_ < ${TO} GROUP BY t`,
  );
  // 300 s from a time that is not a multiple of 15 s: 21 partly covered bins.
  assert.equal(want.length, 21);
  assertSameRows(got, want);
});

test('throughput_per_service', async () => {
  const got = rowsOf(await run('throughput_per_service'));
  const want = await sql(
    db.con,
    `SELECT time_ - time_ % ${INTERVAL} AS t, service, count(*) / ${INTERVAL} * 1e9 FROM h
     WHERE time_ >= ${FROM} AND service != '' GROUP BY t, service`,
  );
  assertSameRows(got, want);
});

test('grafana_macros', async () => {
  const got = rowsOf(await run('grafana_macros'), 'per_service');
  const rangeNs = TO - FROM;
  const want = await sql(
    db.con,
    `SELECT time_ - time_ % ${INTERVAL} AS t, service, count(*) / (${INTERVAL / 1_000_000n} / 1000),
            count(*) FILTER (WHERE resp_status >= 400), count(*) / (${rangeNs / 1_000_000n} / ${INTERVAL / 1_000_000n}),
            service || ' @ 15s'
     FROM h WHERE time_ >= ${FROM} AND time_ < ${TO} AND service IN ('default/frontend', 'default/cart') GROUP BY t, service`,
  );
  assert.ok(want.length >= 30);
  assertSameRows(got, want);
});

test('latency_quantiles: p50/p90/p99 within 1 % of the exact ranks', async () => {
  const got = rowsOf(await run('latency_quantiles'), 'latency');
  const want = await sql(
    db.con,
    `SELECT time_ - time_ % 10000000000 AS t, service, list(latency ORDER BY latency), count(*) / 10000000000
     FROM h WHERE time_ >= ${NOW - 300_000_000_000n} AND trace_role = 2 GROUP BY t, service`,
  );
  assert.equal(got.length, want.length);
  const byKey = new Map(want.map((r) => [`${r[0]}|${r[1]}`, r]));
  for (const r of got) {
    const w = byKey.get(`${r[0]}|${r[1]}`);
    assert.ok(w, `group ${r[0]} ${r[1]} is not in DuckDB's answer`);
    const xs = JSON.parse(String(w[2])) as number[];
    [0.5, 0.9, 0.99].forEach((q, j) => {
      const exact = xs[Math.floor(q * (xs.length - 1))]!;
      // floor() of the estimate: within 1 % plus the one ns floor may take off.
      assert.ok(Math.abs((r[2 + j] as number) - exact) <= 0.01 * exact + 1, `${r[1]} p${q * 100}: ${r[2 + j]} vs ${exact}`);
    });
    assert.ok(Math.abs((r[5] as number) - (w[3] as number)) < 1e-15);
  }
});

test('raw_events: head(100) in capture order, metadata columns, drops', async () => {
  const body = await run('raw_events');
  const got = rowsOf(body, 'events');
  const want = await sql(
    db.con,
    `SELECT time_, service, pod, req_method, req_path, resp_status, latency, resp_body_size
     FROM (SELECT *, rowid AS rid FROM http_events) JOIN meta USING (upid)
     WHERE time_ >= ${NOW - 900_000_000_000n} ORDER BY rid LIMIT 100`,
  );
  assert.deepEqual(
    body.tables[0]!.columns.map((c) => c.name),
    ['timestamp', 'svc', 'pod', 'req_method', 'req_path', 'resp_status', 'latency', 'resp_body_size'],
  );
  assertSameRows(got, want as Cell[][], { ordered: true });
});

test('every script under src/testkit/pxl-scripts compiles and runs, each output as its plan declares', async () => {
  for (const name of scriptNames()) {
    const { program } = compile(loadScript(name), fixedOptions, httpCatalog);
    const r = await execute(program, store, { metadata: cluster.metadata, nowNs: NOW });
    assert.equal(r.tables.length, program.outputs.length, name);
    r.tables.forEach((t, i) => {
      assert.deepEqual(t.fields, program.outputs[i]!.plan.schema, `${name}: ${t.name}`);
      assert.ok(t.rowCount > 0, `${name}: output ${t.name} is empty on data that should fill it`);
    });
  }
});
