/**
 * Scripts as function libraries, run with named arguments as Pixie runs them (`px run px/service
 * -- --start_time -5m --service ns/name`): through the engine's API (`function: {name, args}`)
 * and through `wisp query --fn NAME --arg KEY=VALUE`, against a live engine with capture
 * running. Answers are checked against DuckDB on the same rows.
 *
 * The rows are generated and appended to the engine's store, and their processes resolve to
 * services through the generator's metadata: a double, because no Kubernetes API server can
 * run here (test/k8s covers the real list/watch path).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { Agent } from '../../src/engine/agent.js';
import type { ErrorResponse, FunctionsResponse } from '../../src/engine/api/contract.js';
import type { QueryResultJson } from '../../src/engine/api/encode.js';
import { LocalBackend } from '../../src/engine/api/local.js';
import { ApiMetrics } from '../../src/engine/api/metrics.js';
import { buildApi } from '../../src/engine/api/server.js';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from '../../src/engine/http/schema.js';
import { assertSameRows, duckdb, load, rowsOf, sql } from '../pxl-reference/duck.js';
import { run } from '../support/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const wisp = join(root, 'bin/wisp');
const LIBRARY_PATH = join(root, 'test/pxl-scripts/service_library.pxl');
const LIBRARY = readFileSync(LIBRARY_PATH, 'utf8');

const cluster = makeCluster(['default/frontend', 'default/cart', 'pl/vizier', ''], 5);
const rows: HttpEventRow[] = [];
// Two clumps: 4 to 3 minutes ago and 60 to 30 s ago, so that start_time '-2m' selects exactly
// the second one however long the test takes to get there.
const nowNs = BigInt(Date.now()) * 1_000_000n;
const OLD_FROM = nowNs - 240_000_000_000n;
const NEW_FROM = nowNs - 60_000_000_000n;
generateHttpEvents(cluster, 4000, 11, OLD_FROM, 60e9, (b) => rows.push(...b));
generateHttpEvents(cluster, 6000, 12, NEW_FROM, 30e9, (b) => rows.push(...b));

let agent: Agent;
let base: string;
let close: () => Promise<void>;
let db: Awaited<ReturnType<typeof duckdb>>;

before(async () => {
  agent = Agent.start({ metadata: () => cluster.metadata });
  agent.table.append(rows);
  const metrics = new ApiMetrics();
  metrics.setSnapshot(() => agent.snapshot());
  const app = buildApi({ backend: new LocalBackend(agent), metrics });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  close = async () => {
    agent.close();
    await app.close();
  };
  db = await duckdb();
  await load(db.con, 'http_events', HTTP_EVENTS_SCHEMA.fields, rows);
  await load(db.con, 'meta', [{ name: 'upid', type: 'STRING' }, { name: 'service', type: 'STRING' }], cluster.procs.map((p) => ({ upid: p.upid, service: p.service })));
  await db.con.run('CREATE VIEW h AS SELECT * FROM http_events JOIN meta USING (upid)');
});

after(async () => {
  db.close();
  await close();
});

async function call(name: string, args: Record<string, string>, script = LIBRARY): Promise<{ status: number; body: QueryResultJson & ErrorResponse }> {
  const res = await fetch(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ script, function: { name, args } }),
  });
  return { status: res.status, body: (await res.json()) as QueryResultJson & ErrorResponse };
}

/** Line and column (1-based) of the first occurrence of `marker` in the library. */
function positionOf(marker: string): { line: number; column: number } {
  const i = LIBRARY.indexOf(marker);
  assert.ok(i >= 0, marker);
  const before = LIBRARY.slice(0, i).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

test('API: a function run with arguments answers what it returns, per window, as DuckDB does', async () => {
  const { status, body } = await call('inbound_let', { start_time: '-2m', service: 'default/cart' });
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.tables.map((t) => t.name), ['inbound_let']);
  const want = await sql(
    db.con,
    `SELECT time_ - time_ % 10000000000, count(*), avg(CASE WHEN resp_status >= 400 THEN 1.0 ELSE 0.0 END), max(latency)
     FROM h WHERE time_ >= ${NEW_FROM} AND service = 'default/cart' GROUP BY 1`,
  );
  assert.ok(want.length >= 3);
  assertSameRows(rowsOf(body, 'inbound_let'), want);
  // The other service and the wider window give other answers: the arguments were used.
  const wide = await call('inbound_let', { start_time: '-5m', service: 'default/frontend' });
  const wantWide = await sql(db.con, `SELECT count(*) FROM h WHERE service = 'default/frontend'`);
  assert.equal(rowsOf(wide.body, 'inbound_let').reduce((n, r) => n + Number(r[1]), 0), Number(wantWide[0]![0]));
});

test('API: int, float and bool arguments are read as their annotated types; defaults apply', async () => {
  const slow = await call('slow_paths', { start_time: '-5m', service: 'default/cart', min_latency_ms: '2.5' });
  assert.equal(slow.status, 200, JSON.stringify(slow.body));
  const want = await sql(db.con, `SELECT regexp_replace(req_path, '[?].*', ''), max(latency), count(*) FROM h WHERE service = 'default/cart' AND latency >= 2500000 GROUP BY 1`);
  assert.ok(want.length > 1 && want.length <= 10, `${want.length} paths`);
  assertSameRows(rowsOf(slow.body, 'slow_paths'), want);
  const two = await call('slow_paths', { start_time: '-5m', service: 'default/cart', max_rows: '2' });
  assert.equal(rowsOf(two.body, 'slow_paths').length, 2);

  const split = await call('status_split', { start_time: '-5m', service: 'default/cart' });
  assert.deepEqual(split.body.tables.map((t) => t.name), ['status_split[0]', 'status_split[1]']);
  const noHealth = await sql(db.con, `SELECT resp_status, count(*) FROM h WHERE service = 'default/cart' AND req_path != '/healthz' GROUP BY 1`);
  assertSameRows(rowsOf(split.body, 'status_split[0]'), noHealth);
  const withHealth = await call('status_split', { start_time: '-5m', service: 'default/cart', include_health: 'true' });
  const all = await sql(db.con, `SELECT count(*) FROM h WHERE service = 'default/cart'`);
  assertSameRows(rowsOf(withHealth.body, 'status_split[1]'), all);
  assert.ok(Number(all[0]![0]) > Number(rowsOf(split.body, 'status_split[1]')[0]![0]), 'the health checks were filtered out by default');
});

test('API: wrong arguments are errors at the parameter, with what was expected', async () => {
  const cases: [Record<string, string>, string, string, RegExp][] = [
    [{ start_time: '-5m', service: 'default/cart', max_rows: 'ten' }, 'max_rows: int', 'PXL_TYPE', /argument 'max_rows' of 'slow_paths' must be an integer \(int\), got 'ten'/],
    [{ start_time: '-5m', service: 'default/cart', min_latency_ms: '1ms' }, 'min_latency_ms: float', 'PXL_TYPE', /must be a number \(float\)/],
    [{ start_time: '-5m', service: 'default/cart', maxrows: '3' }, 'slow_paths', 'PXL_ARITY', /'slow_paths' has no parameter 'maxrows'/],
    [{ service: 'default/cart' }, 'slow_paths', 'PXL_ARITY', /missing the argument 'start_time'/],
  ];
  for (const [args, marker, code, message] of cases) {
    const { status, body } = await call('slow_paths', args);
    assert.equal(status, 400, JSON.stringify(args));
    assert.equal(body.error.code, code);
    assert.match(body.error.message, message);
    assert.deepEqual(body.error.span?.start, positionOf(marker), JSON.stringify(body.error));
  }
  const typo = await call('slow_path', { start_time: '-5m' });
  assert.equal(typo.status, 400);
  assert.equal(typo.body.error.code, 'PXL_UNKNOWN_NAME');
  assert.ok(typo.body.error.hints.includes("did you mean 'slow_paths'?"), JSON.stringify(typo.body.error));
  const notFrame = await call('f', {}, 'def f(a: int = 1):\n    return a\n');
  assert.equal(notFrame.status, 400);
  assert.match(notFrame.body.error.message, /must return a DataFrame/);
});

test('API: /api/v1/functions lists what a script defines, for the editor', async () => {
  const res = await fetch(`${base}/api/v1/functions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script: LIBRARY }) });
  assert.equal(res.status, 200);
  const { functions } = (await res.json()) as FunctionsResponse;
  assert.deepEqual(functions.map((f) => f.name), ['inbound_let', 'slow_paths', 'status_split', 'http_table']);
  assert.deepEqual(functions[1], {
    name: 'slow_paths',
    doc: 'The paths of a service with requests slower than min_latency_ms.',
    params: [
      { name: 'start_time', type: 'str' },
      { name: 'service', type: 'px.Service' },
      { name: 'max_rows', type: 'int', default: '10' },
      { name: 'min_latency_ms', type: 'float', default: '0.0' },
    ],
  });
});

test('CLI: wisp query --fn NAME --arg KEY=VALUE, values starting with "-" included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-fn-'));
  const file = join(dir, 'service.pxl');
  writeFileSync(file, LIBRARY);
  const r = await run(wisp, ['query', '--url', base, '--format', 'csv', file, '--fn', 'slow_paths', '--arg', 'start_time=-2m', '--arg', 'service=default/frontend', '--arg', 'max_rows=50']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], '# slow_paths');
  assert.equal(lines[1], 'req_path,slowest,requests');
  const got = lines.slice(2).map((l) => l.split(','));
  const want = await sql(db.con, `SELECT regexp_replace(req_path, '[?].*', ''), max(latency), count(*) FROM h WHERE time_ >= ${NEW_FROM} AND service = 'default/frontend' GROUP BY 1`);
  assertSameRows(got, want.map((row) => row.map(String)));

  const bad = await run(wisp, ['query', '--url', base, file, '--fn', 'slow_paths', '--arg', 'start_time=-2m', '--arg', 'service=x', '--arg', 'max_rows=many']);
  assert.equal(bad.code, 1);
  const at = positionOf('max_rows: int');
  assert.match(bad.stderr, new RegExp(`^error\\[PXL_TYPE\\]: argument 'max_rows'.*\\n  --> \\S+service\\.pxl:${at.line}:${at.column}\\n`));
  const orphan = await run(wisp, ['query', '--url', base, file, '--arg', 'service=x']);
  assert.equal(orphan.code, 2);
  assert.match(orphan.stderr, /add --fn NAME/);
});
