/**
 * The executor against DuckDB: each operator and function runs on the same generated rows in
 * Wisp (plans built by hand, as the planner emits them) and as SQL in DuckDB, and the results
 * must match. Values are compared in the API's JSON encoding, so 64-bit times are checked
 * exactly as decimal strings.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { rng } from '../../src/testkit/rng.js';
import { agg, assign, call, col, filter, join, keep, limit, lit, project, source, union } from '../../bench/query/plans.js';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from '../../src/engine/http/schema.js';
import { PxlError } from '../../src/engine/pxl/diagnostic.js';
import { resultToJson } from '../../src/engine/api/encode.js';
import { execute, type ExecContext } from '../../src/engine/pxl/exec/execute.js';
import type { JoinHow, LogicalPlan } from '../../src/engine/pxl/plan/logical.js';
import { Store } from '../../src/engine/store/store.js';
import { assertSameRows, duckdb, load, rowsOf, sql, type Cell } from './duck.js';

const T0 = 1_763_000_000_000_000_007n; // not a multiple of any bin size: bins must align on absolute time
const SPAN = 600e9;
const N = 6000;
const cluster = makeCluster(6, 11);
const rows: HttpEventRow[] = [];
generateHttpEvents(cluster, N, 5, T0, SPAN, (b) => {
  for (const r of b) rows.push(r);
});
// Empty strings as values and as group keys.
for (let i = 0; i < rows.length; i += 397) rows[i] = { ...rows[i]!, req_path: '', resp_message: '' };

const store = new Store();
store.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 30, batchRows: 1000 });
for (let o = 0; o < rows.length; o += 777) store.append('http_events', rows.slice(o, o + 777));
const empty = new Store();
empty.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 20 });
const one = new Store();
one.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 20 });
one.append('http_events', [rows[0]!]);

const ctx: ExecContext = { metadata: cluster.metadata, nowNs: T0 + 3_600_000_000_000n };
let db: Awaited<ReturnType<typeof duckdb>>;

before(async () => {
  db = await duckdb();
  await load(db.con, 'http_events', HTTP_EVENTS_SCHEMA.fields, rows);
  await load(db.con, 'one_row', HTTP_EVENTS_SCHEMA.fields, [rows[0]!]);
  await load(db.con, 'no_rows', HTTP_EVENTS_SCHEMA.fields, []);
  await load(
    db.con,
    'meta',
    [
      { name: 'upid', type: 'STRING' },
      { name: 'service', type: 'STRING' },
      { name: 'pod', type: 'STRING' },
    ],
    cluster.procs.map((p) => ({ upid: p.upid, service: p.service, pod: p.pod })),
  );
});

after(() => db.close());

async function wisp(plan: LogicalPlan, s: Store = store, extra: Partial<ExecContext> = {}): Promise<Cell[][]> {
  const r = await execute({ outputs: [{ name: 'output', plan }] }, s, { ...ctx, ...extra });
  return rowsOf(resultToJson(r));
}

const ALL = HTTP_EVENTS_SCHEMA.fields.map((f) => f.name);
const src = (cols: readonly string[] = ALL, start: bigint | null = null, end: bigint | null = null): LogicalPlan => source(HTTP_EVENTS_SCHEMA, cols, start, end);
const I = (name: string) => col(name, 'INT64');
const S = (name: string) => col(name, 'STRING');
const T = col('time_', 'TIME64NS');

test('source: every column of every row, 64-bit times exact', async () => {
  assertSameRows(await wisp(src()), await sql(db.con, `SELECT * FROM http_events`));
});

test('source: time range is [start, end), cutting batches in the middle', async () => {
  const start = rows[1234]!.time_;
  const end = rows[4321]!.time_;
  const got = await wisp(src(['time_', 'req_path'], start, end));
  assertSameRows(got, await sql(db.con, `SELECT time_, req_path FROM http_events WHERE time_ >= ${start} AND time_ < ${end}`));
  assert.ok(got.some((r) => r[0] === start.toString()), 'a row exactly at start is in');
  assert.ok(!got.some((r) => r[0] === end.toString()), 'a row exactly at end is out');
});

test('filter + map: arithmetic, comparisons, logic, select, strings', async () => {
  let df = src();
  df = filter(
    df,
    call(
      'logicalOr',
      'BOOLEAN',
      call('logicalAnd', 'BOOLEAN', call('greaterThanEqual', 'BOOLEAN', I('resp_status'), lit(400, 'INT64')), call('greaterThan', 'BOOLEAN', I('latency'), lit(5_000_000n, 'INT64'))),
      call('equal', 'BOOLEAN', S('req_method'), lit('POST', 'STRING')),
    ),
  );
  df = project(df, [
    { name: 'time_', expr: T },
    { name: 'ms', expr: call('divide', 'FLOAT64', I('latency'), lit(1e6, 'FLOAT64')) },
    { name: 'kb', expr: call('floorDivide', 'INT64', I('resp_body_size'), lit(7, 'INT64')) },
    { name: 'neg', expr: call('negate', 'INT64', I('latency')) },
    { name: 'mod', expr: call('modulo', 'INT64', I('remote_port'), lit(7, 'INT64')) },
    { name: 'sum', expr: call('add', 'INT64', I('req_body_size'), call('multiply', 'INT64', I('resp_body_size'), lit(3, 'INT64'))) },
    { name: 'kind', expr: call('select', 'STRING', call('greaterThanEqual', 'BOOLEAN', I('resp_status'), lit(500, 'INT64')), lit('server', 'STRING'), S('req_method')) },
    { name: 'has', expr: call('contains', 'BOOLEAN', S('req_path'), lit('res1', 'STRING')) },
    { name: 're', expr: call('regex_match', 'BOOLEAN', lit('/api/v1/.*', 'STRING'), S('req_path')) },
    { name: 'cat', expr: call('add', 'STRING', call('add', 'STRING', S('req_method'), lit(' ', 'STRING')), S('req_path')) },
    { name: 'not_get', expr: call('logicalNot', 'BOOLEAN', call('equal', 'BOOLEAN', S('req_method'), lit('GET', 'STRING'))) },
    { name: 'later', expr: call('add', 'TIME64NS', T, lit(1_000_000_000n, 'INT64')) },
    { name: 'ago', expr: call('subtract', 'INT64', call('now', 'TIME64NS'), T) },
    { name: 'fl', expr: call('floor', 'FLOAT64', call('divide', 'FLOAT64', I('latency'), lit(3, 'INT64'))) },
  ]);
  const now = ctx.nowNs!;
  const want = await sql(
    db.con,
    `SELECT time_, latency / 1e6, floor(resp_body_size / 7)::BIGINT, -latency, remote_port % 7, req_body_size + resp_body_size * 3,
            CASE WHEN resp_status >= 500 THEN 'server' ELSE req_method END, contains(req_path, 'res1'),
            regexp_full_match(req_path, '/api/v1/.*'), req_method || ' ' || req_path, NOT (req_method = 'GET'),
            time_ + 1000000000, ${now} - time_, floor(latency / 3)
     FROM http_events WHERE (resp_status >= 400 AND latency > 5000000) OR req_method = 'POST'`,
  );
  assert.ok(want.length > 100);
  assertSameRows(await wisp(df), want);
});

test('bin floors times to multiples of the size on absolute time, at the range edges too', async () => {
  for (const size of [1_000_000_000, 7_000_000_000, 60_000_000_000]) {
    // Start and end exactly on bin boundaries, and one ns inside them.
    const b0 = ((T0 + 100_000_000_000n) / BigInt(size)) * BigInt(size);
    for (const [start, end] of [
      [b0, b0 + BigInt(size) * 20n],
      [b0 + 1n, b0 + BigInt(size) * 20n - 1n],
    ] as const) {
      let df = src(['time_'], start, end);
      df = assign(df, 'timestamp', call('bin', 'TIME64NS', T, lit(size, 'INT64')));
      df = agg(df, ['timestamp'], [{ name: 'n', fn: 'count', column: 'time_', type: 'INT64' }]);
      assertSameRows(
        await wisp(df),
        await sql(db.con, `SELECT time_ - time_ % ${size} AS b, count(*) FROM http_events WHERE time_ >= ${start} AND time_ < ${end} GROUP BY b`),
      );
    }
  }
});

test('groupby several keys (one a metadata lookup) with count, sum, mean, min, max', async () => {
  let df = src(['time_', 'upid', 'req_method', 'resp_status', 'latency', 'req_path']);
  df = assign(df, 'service', call('upid_to_service_name', 'STRING', col('upid', 'UINT128')));
  df = agg(df, ['service', 'req_method', 'resp_status'], [
    { name: 'n', fn: 'count', column: 'latency', type: 'INT64' },
    { name: 'total', fn: 'sum', column: 'latency', type: 'INT64' },
    { name: 'avg', fn: 'mean', column: 'latency', type: 'FLOAT64' },
    { name: 'first', fn: 'min', column: 'time_', type: 'TIME64NS' },
    { name: 'worst', fn: 'max', column: 'latency', type: 'INT64' },
  ]);
  assertSameRows(
    await wisp(df),
    await sql(
      db.con,
      `SELECT m.service, req_method, resp_status, count(*), sum(latency)::BIGINT, avg(latency), min(time_), max(latency)
       FROM http_events h JOIN meta m USING (upid) GROUP BY ALL`,
    ),
  );
});

test('groupby with no aggregates gives the distinct groups, empty strings included', async () => {
  const df = agg(src(['req_path', 'resp_message']), ['req_path', 'resp_message'], []);
  const got = await wisp(df);
  assert.ok(got.some((r) => r[0] === ''), 'the empty path is a group');
  assertSameRows(got, await sql(db.con, `SELECT DISTINCT req_path, resp_message FROM http_events`));
});

test('global aggregates (no groups), any, and booleans', async () => {
  let df = src(['latency', 'resp_status', 'req_method']);
  df = assign(df, 'failure', call('greaterThanEqual', 'BOOLEAN', I('resp_status'), lit(400, 'INT64')));
  df = agg(df, [], [
    { name: 'n', fn: 'count', column: 'latency', type: 'INT64' },
    { name: 'errors', fn: 'sum', column: 'failure', type: 'INT64' },
    { name: 'error_rate', fn: 'mean', column: 'failure', type: 'FLOAT64' },
    { name: 'method', fn: 'any', column: 'req_method', type: 'STRING' },
  ]);
  const got = await wisp(df);
  const want = await sql(db.con, `SELECT count(*), count(*) FILTER (WHERE resp_status >= 400), avg((resp_status >= 400)::INT) FROM http_events`);
  assertSameRows(
    got.map((r) => r.slice(0, 3)),
    want,
  );
  assert.ok(['GET', 'POST'].includes(got[0]![3] as string));
});

for (const how of ['inner', 'left', 'right', 'outer'] as JoinHow[]) {
  test(`merge how='${how}' on two keys, unmatched sides filled with zero values`, async () => {
    const left = agg(filter(src(), call('equal', 'BOOLEAN', S('req_method'), lit('GET', 'STRING'))), ['req_path', 'local_addr'], [
      { name: 'gets', fn: 'count', column: 'latency', type: 'INT64' },
    ]);
    const right = agg(filter(src(), call('greaterThanEqual', 'BOOLEAN', I('resp_status'), lit(400, 'INT64'))), ['req_path', 'local_addr'], [
      { name: 'slow', fn: 'max', column: 'latency', type: 'INT64' },
    ]);
    const df = join(left, right, how, ['req_path', 'local_addr'], ['req_path', 'local_addr']);
    assert.deepEqual(
      df.schema.map((f) => f.name),
      ['req_path_x', 'local_addr_x', 'gets', 'req_path_y', 'local_addr_y', 'slow'],
    );
    const sqlHow = { inner: 'INNER', left: 'LEFT', right: 'RIGHT', outer: 'FULL OUTER' }[how];
    const want = await sql(
      db.con,
      `WITH l AS (SELECT req_path, local_addr, count(*) AS gets FROM http_events WHERE req_method = 'GET' GROUP BY ALL),
            r AS (SELECT req_path, local_addr, max(latency) AS slow FROM http_events WHERE resp_status >= 400 GROUP BY ALL)
       SELECT coalesce(l.req_path, ''), coalesce(l.local_addr, ''), coalesce(l.gets, 0),
              coalesce(r.req_path, ''), coalesce(r.local_addr, ''), coalesce(r.slow, 0)
       FROM l ${sqlHow} JOIN r ON l.req_path = r.req_path AND l.local_addr = r.local_addr`,
    );
    const got = await wisp(df);
    if (how !== 'inner') assert.ok(got.length > (await wisp(join(left, right, 'inner', ['req_path', 'local_addr'], ['req_path', 'local_addr']))).length);
    assertSameRows(got, want);
  });
}

test('aggregations sharing one scan, different filters, merged with keys missing on one side or an empty side', async () => {
  let df = src(['time_', 'upid', 'req_method', 'resp_status', 'latency']);
  df = assign(df, 'service', call('upid_to_service_name', 'STRING', col('upid', 'UINT128')));
  df = assign(df, 'slow', call('greaterThan', 'BOOLEAN', I('latency'), lit(20_000_000, 'INT64')));
  const totals = agg(df, ['service'], [
    { name: 'requests', fn: 'count', column: 'latency', type: 'INT64' },
    { name: 'slow', fn: 'sum', column: 'slow', type: 'INT64' },
  ]);
  const postErrors = agg(filter(filter(df, call('equal', 'BOOLEAN', I('resp_status'), lit(401, 'INT64'))), call('equal', 'BOOLEAN', S('req_method'), lit('POST', 'STRING'))), ['service'], [
    { name: 'errors', fn: 'count', column: 'latency', type: 'INT64' },
    { name: 'slow_rate', fn: 'mean', column: 'slow', type: 'FLOAT64' },
  ]);
  const none = agg(filter(df, call('greaterThanEqual', 'BOOLEAN', I('resp_status'), lit(600, 'INT64'))), ['service'], [{ name: 'errors', fn: 'count', column: 'latency', type: 'INT64' }]);
  const base = `SELECT m.service, h.* FROM http_events h JOIN meta m USING (upid)`;
  const l = `SELECT service, count(*) AS requests, count(*) FILTER (WHERE latency > 20000000) AS slow FROM (${base}) GROUP BY 1`;
  const r = `SELECT service, count(*) AS errors, avg((latency > 20000000)::INT) AS slow_rate FROM (${base}) WHERE resp_status = 401 AND req_method = 'POST' GROUP BY 1`;
  const e = `SELECT service, count(*) AS errors FROM (${base}) WHERE resp_status >= 600 GROUP BY 1`;
  const [services, posts] = [(await sql(db.con, l)).length, (await sql(db.con, r)).length];
  assert.ok(posts >= 1 && posts < services, `${posts} of ${services} services with 401s to POSTs`);
  for (const how of ['inner', 'left', 'outer'] as JoinHow[]) {
    const sqlHow = { inner: 'INNER', left: 'LEFT', right: 'RIGHT', outer: 'FULL OUTER' }[how];
    assertSameRows(
      await wisp(join(totals, postErrors, how, ['service'], ['service'])),
      await sql(
        db.con,
        `SELECT coalesce(l.service, ''), coalesce(l.requests, 0), coalesce(l.slow, 0), coalesce(r.service, ''), coalesce(r.errors, 0), coalesce(r.slow_rate, 0)
         FROM (${l}) l ${sqlHow} JOIN (${r}) r ON l.service = r.service`,
      ),
    );
    assertSameRows(
      await wisp(join(totals, none, how, ['service'], ['service'])),
      await sql(
        db.con,
        `SELECT coalesce(l.service, ''), coalesce(l.requests, 0), coalesce(l.slow, 0), coalesce(r.service, ''), coalesce(r.errors, 0)
         FROM (${l}) l ${sqlHow} JOIN (${e}) r ON l.service = r.service`,
      ),
    );
  }
});

test('append (union) keeps every row of both inputs, columns matched by name', async () => {
  const a = keep(filter(src(), call('lessThan', 'BOOLEAN', I('resp_status'), lit(300, 'INT64'))), ['req_path', 'resp_status']);
  const b = keep(filter(src(), call('greaterThanEqual', 'BOOLEAN', I('resp_status'), lit(500, 'INT64'))), ['resp_status', 'req_path']);
  const df = union(a, b);
  assertSameRows(await wisp(df), await sql(db.con, `SELECT req_path, resp_status FROM http_events WHERE resp_status < 300 OR resp_status >= 500`));
});

test('head(n) returns the first n rows in scan order and stops the scan early', async () => {
  for (const n of [0, 1, 999, 1000, 1001, 2500]) {
    const got = await wisp(limit(keep(src(), ['time_', 'req_path']), n));
    assertSameRows(got, await sql(db.con, `SELECT time_, req_path FROM http_events ORDER BY rowid LIMIT ${n}`), { ordered: true });
  }
  const r = await execute({ outputs: [{ name: 'o', plan: limit(src(['time_']), 10) }] }, store, ctx);
  assert.ok(r.stats.rowsScanned <= 1000, `scanned ${r.stats.rowsScanned} rows for head(10)`);
});

test('empty and one-row tables', async () => {
  const byPath = (p: LogicalPlan): LogicalPlan => agg(p, ['req_path'], [{ name: 'n', fn: 'count', column: 'latency', type: 'INT64' }]);
  assertSameRows(await wisp(src(), empty), []);
  assertSameRows(await wisp(byPath(src()), empty), await sql(db.con, `SELECT req_path, count(*) FROM no_rows GROUP BY 1`));
  assertSameRows(await wisp(src(), one), await sql(db.con, `SELECT * FROM one_row`));
  assertSameRows(await wisp(byPath(src()), one), await sql(db.con, `SELECT req_path, count(*) FROM one_row GROUP BY 1`));
  // A filter that keeps nothing still yields a typed, empty output.
  const none = await execute({ outputs: [{ name: 'o', plan: filter(src(), lit(false, 'BOOLEAN')) }] }, store, ctx);
  assert.equal(none.tables[0]!.rowCount, 0);
  assert.equal(resultToJson(none).tables[0]!.columns.length, ALL.length);
});

test('quantiles per group are within the sketch error of the exact rank, read with pluck_float64', async () => {
  let df = src(['upid', 'latency']);
  df = assign(df, 'pod', call('upid_to_pod_name', 'STRING', col('upid', 'UINT128')));
  df = agg(df, ['pod'], [{ name: 'q', fn: 'quantiles', column: 'latency', type: 'STRING' }]);
  df = project(df, [
    { name: 'pod', expr: S('pod') },
    ...['p01', 'p10', 'p25', 'p50', 'p75', 'p90', 'p99'].map((k) => ({ name: k, expr: call('pluck_float64', 'FLOAT64', S('q'), lit(k, 'STRING')) })),
  ]);
  const got = await wisp(df);
  const lat = await sql(db.con, `SELECT m.pod, list(latency ORDER BY latency) FROM http_events JOIN meta m USING (upid) GROUP BY 1`);
  assert.equal(got.length, lat.length);
  const byPod = new Map(lat.map((r) => [r[0] as string, JSON.parse(String(r[1])) as number[]]));
  for (const r of got) {
    const xs = byPod.get(r[0] as string)!;
    [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99].forEach((q, j) => {
      const want = xs[Math.floor(q * (xs.length - 1))]!;
      const est = r[j + 1] as number;
      assert.ok(Math.abs(est - want) <= 0.01 * want, `${r[0]} q${q}: ${est} vs exact ${want}`);
    });
  }
});

test('metadata lookups run once per distinct value and match the cluster', async () => {
  const df = agg(
    project(src(['upid', 'remote_addr']), [
      { name: 'pod', expr: call('upid_to_pod_name', 'STRING', col('upid', 'UINT128')) },
      { name: 'pid', expr: call('upid_to_pid', 'INT64', col('upid', 'UINT128')) },
      { name: 'peer', expr: call('pod_id_to_pod_name', 'STRING', call('ip_to_pod_id', 'STRING', S('remote_addr'))) },
      { name: 'peer_svc', expr: call('service_id_to_service_name', 'STRING', call('ip_to_service_id', 'STRING', S('remote_addr'))) },
    ]),
    ['pod', 'pid', 'peer', 'peer_svc'],
    [],
  );
  const got = await wisp(df);
  const want: Cell[][] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const p = cluster.procs.find((x) => x.upid === r.upid)!;
    const peer = cluster.procs.find((x) => x.ip === r.remote_addr)!;
    const row: Cell[] = [p.pod, String(p.pid), peer.pod, peer.service];
    if (!seen.has(JSON.stringify(row))) want.push(row);
    seen.add(JSON.stringify(row));
  }
  assertSameRows(got, want);
});

test('several outputs, a result cut at maxRows with a warning', async () => {
  const r = await execute(
    {
      outputs: [
        { name: 'a', plan: keep(src(), ['req_path']) },
        { name: 'b', plan: agg(src(), ['req_method'], []) },
      ],
    },
    store,
    { ...ctx, maxRows: 100 },
  );
  const body = resultToJson(r);
  assert.deepEqual(
    body.tables.map((t) => [t.name, t.rowCount]),
    [
      ['a', 100],
      ['b', 2],
    ],
  );
  assert.equal(body.warnings.length, 1);
  assert.equal(body.warnings[0]!.code, 'RESULT_TRUNCATED');
  assert.match(body.warnings[0]!.message, /'a' was cut off at 100 rows/);
});

test('a deadline or an abort stops the query with a clear error', async () => {
  await assert.rejects(
    execute({ outputs: [{ name: 'o', plan: src() }] }, store, { ...ctx, deadlineMs: Date.now() - 1 }),
    (e: unknown) => e instanceof PxlError && e.diagnostic.code === 'QUERY_TIMEOUT',
  );
  await assert.rejects(
    execute({ outputs: [{ name: 'o', plan: src() }] }, store, { ...ctx, signal: AbortSignal.abort() }),
    (e: unknown) => e instanceof PxlError && e.diagnostic.code === 'QUERY_CANCELLED',
  );
  await assert.rejects(
    execute({ outputs: [{ name: 'o', plan: src() }] }, store, { ...ctx, signal: AbortSignal.abort(new DOMException('t', 'TimeoutError')) }),
    (e: unknown) => e instanceof PxlError && e.diagnostic.code === 'QUERY_TIMEOUT',
  );
});

test('a long query yields to the event loop every ~20 ms', async () => {
  const big = new Store();
  big.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 30 });
  const r = rng(9);
  // 1.2 M rows, so that each query runs for several slices even with the fused loop at full
  // speed (with 400k, a warm query could end within one slice and never need to yield).
  for (let k = 0; k < 3; k++) {
    const t = Array.from({ length: 400_000 }, (_, i) => ({ ...rows[i % rows.length]!, time_: T0 + BigInt(k * 400_000 + i) * 1000n, latency: Math.floor(r() * 1e9) }));
    big.append('http_events', t);
  }
  let plan = src(['time_', 'upid', 'latency']);
  plan = assign(plan, 'service', call('upid_to_service_name', 'STRING', col('upid', 'UINT128')));
  plan = assign(plan, 'b', call('bin', 'TIME64NS', T, lit(1_000_000, 'INT64')));
  plan = agg(plan, ['b', 'service'], [{ name: 'q', fn: 'quantiles', column: 'latency', type: 'STRING' }]);
  let last = performance.now();
  const gaps: number[] = [];
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  const started = performance.now();
  // Six runs back to back: long enough for many slices even on a fast machine, so that a
  // garbage-collection pause of the rows built above cannot hide them.
  const runs = 6;
  for (let i = 0; i < runs; i++) await execute({ outputs: [{ name: 'o', plan }] }, big, ctx);
  const took = performance.now() - started;
  clearInterval(timer);
  gaps.push(performance.now() - last);
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)]!;
  assert.ok(took > 150, `the queries must be long enough to matter (${took.toFixed(0)} ms)`);
  // Without yields inside a query the timer can only run between runs (runs + 1 gaps); on a
  // loaded machine single gaps can still be long.
  assert.ok(gaps.length > runs + 2, `timers ran ${gaps.length} times during ${took.toFixed(0)} ms of queries`);
  assert.ok(median < 60, `the event loop was typically blocked for ${median.toFixed(0)} ms`);
});
