/**
 * The query bench: the three dashboard queries over N generated http_events rows (default 10 M),
 * timed in Wisp's executor and in DuckDB on the same rows in the same run, side by side; then
 * the store's bytes per row against Arrow IPC of the same rows.
 *
 *   node out/bench/query/run.js [--rows N] [--repeat R] [--arrow-rows N]
 */
import os from 'node:os';
import { DuckDBDataChunk, DuckDBInstance, BIGINT, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from '../../src/engine/http/schema.js';
import { resultToJson } from '../../src/engine/api/encode.js';
import { execute } from '../../src/engine/pxl/exec/execute.js';
import type { LogicalPlan } from '../../src/engine/pxl/plan/logical.js';
import { Store } from '../../src/engine/store/store.js';
import { generateHttpEvents, makeCluster } from './gen.js';
import { binCount, binQuantiles, errorRate, errorRateOnePass } from './plans.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} needs a number`);
  return v;
}

const ROWS = arg('--rows', 10_000_000);
const REPEAT = arg('--repeat', 5);
const ARROW_ROWS = Math.min(arg('--arrow-rows', 1_000_000), ROWS);
const START = 1_763_000_000_000_000_000n;
const SPAN_NS = 3600e9;
const BIN_NS = 10e9;
const END = START + BigInt(SPAN_NS) + 1n;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Times two functions alternately, REPEAT times each after one warm-up run of each. */
async function alternate(fa: () => Promise<void>, fb: () => Promise<void>): Promise<{ a: number[]; b: number[] }> {
  await fa(); // warm-up: JIT for Wisp, caches for DuckDB
  await fb();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    let t = performance.now();
    await fa();
    a.push(performance.now() - t);
    t = performance.now();
    await fb();
    b.push(performance.now() - t);
  }
  return { a, b };
}

async function loadDuck(con: DuckDBConnection, cols: { t: bigint[]; upid: string[]; svc: string[]; st: bigint[]; lat: bigint[] }): Promise<void> {
  const app = await con.createAppender('http_events');
  const types = [BIGINT, VARCHAR, VARCHAR, BIGINT, BIGINT];
  for (let o = 0; o < cols.t.length; o += 2048) {
    const e = Math.min(o + 2048, cols.t.length);
    const chunk = DuckDBDataChunk.create(types, e - o);
    chunk.setColumns([cols.t.slice(o, e), cols.upid.slice(o, e), cols.svc.slice(o, e), cols.st.slice(o, e), cols.lat.slice(o, e)]);
    app.appendDataChunk(chunk);
  }
  app.closeSync();
}

function arrowBytes(rows: HttpEventRow[], dictionary: boolean): number {
  const fields = HTTP_EVENTS_SCHEMA.fields;
  const data: Record<string, arrow.Vector> = {};
  for (const f of fields) {
    const vals = rows.map((r) => r[f.name as keyof HttpEventRow]);
    switch (f.type) {
      case 'TIME64NS':
        // Int64 has the same 8-byte layout as Timestamp(ns); the JS builder only takes ms numbers.
        data[f.name] = arrow.vectorFromArray(BigInt64Array.from(vals as bigint[]));
        break;
      case 'INT64':
        data[f.name] = arrow.vectorFromArray(BigInt64Array.from(vals as number[], (x) => BigInt(x)));
        break;
      case 'BOOLEAN':
        data[f.name] = arrow.vectorFromArray(vals as boolean[], new arrow.Bool());
        break;
      default:
        data[f.name] = arrow.vectorFromArray(
          vals as string[],
          dictionary ? new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()) : new arrow.Utf8(),
        );
    }
  }
  return arrow.tableToIPC(new arrow.Table(data), 'file').byteLength;
}

async function main(): Promise<void> {
  const cluster = makeCluster(30, 7);
  const store = new Store();
  store.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 16 * 1024 ** 3 });
  const duckCols = { t: [] as bigint[], upid: [] as string[], svc: [] as string[], st: [] as bigint[], lat: [] as bigint[] };
  const sample: HttpEventRow[] = [];
  let appendMs = 0;
  const tGen = performance.now();
  generateHttpEvents(cluster, ROWS, 42, START, SPAN_NS, (rows) => {
    const t = performance.now();
    store.append('http_events', rows);
    appendMs += performance.now() - t;
    for (const r of rows) {
      duckCols.t.push(r.time_);
      duckCols.upid.push(r.upid);
      duckCols.svc.push(cluster.metadata.upidToServiceName(r.upid));
      duckCols.st.push(BigInt(r.resp_status));
      duckCols.lat.push(BigInt(r.latency));
      if (sample.length < ARROW_ROWS) sample.push(r);
    }
  });
  const genMs = performance.now() - tGen;
  const st = store.get('http_events')!.stats();

  // Arrow sizes first, so the sample rows are garbage before anything is timed.
  const tArrow = performance.now();
  const arrowPlain = arrowBytes(sample, false) / sample.length;
  const arrowDict = arrowBytes(sample, true) / sample.length;
  const arrowMs = performance.now() - tArrow;
  const sampleRows = sample.length;
  sample.length = 0;

  const duck = await DuckDBInstance.create(':memory:');
  const con = await duck.connect();
  await con.run('CREATE TABLE http_events (time_ BIGINT, upid VARCHAR, service VARCHAR, resp_status BIGINT, latency BIGINT)');
  const tLoad = performance.now();
  await loadDuck(con, duckCols);
  await con.run('CHECKPOINT');
  const duckLoadMs = performance.now() - tLoad;
  duckCols.t = duckCols.upid = duckCols.svc = [];
  duckCols.st = duckCols.lat = [];
  // With --expose-gc (make bench-query passes it), start the timings from a collected heap.
  (globalThis as { gc?: () => void }).gc?.();

  const s = START.toString();
  const e = END.toString();
  const bin = BIN_NS.toString();
  const queries: { name: string; plan: LogicalPlan; sql: string }[] = [
    {
      name: 'bin+count',
      plan: binCount(HTTP_EVENTS_SCHEMA, START, END, BIN_NS),
      sql: `SELECT time_ - time_ % ${bin} AS timestamp, count(*) AS throughput FROM http_events
            WHERE time_ >= ${s} AND time_ < ${e} GROUP BY 1`,
    },
    {
      name: 'bin+quantiles by service',
      plan: binQuantiles(HTTP_EVENTS_SCHEMA, START, END, BIN_NS),
      sql: `SELECT time_ - time_ % ${bin} AS timestamp, service,
              approx_quantile(latency::DOUBLE, [0.5, 0.9, 0.99]) AS q FROM http_events
            WHERE time_ >= ${s} AND time_ < ${e} GROUP BY 1, 2`,
    },
    {
      name: 'error rate, one pass',
      plan: errorRateOnePass(HTTP_EVENTS_SCHEMA, START, END),
      sql: `SELECT service, count(*) AS requests, count(*) FILTER (WHERE resp_status >= 400) AS errors,
              avg((resp_status >= 400)::INT) AS error_rate FROM http_events
            WHERE time_ >= ${s} AND time_ < ${e} AND service != '' GROUP BY 1`,
    },
    {
      name: 'filter+groupby error rate',
      plan: errorRate(HTTP_EVENTS_SCHEMA, START, END),
      sql: `SELECT service, count(*) AS requests, count(*) FILTER (WHERE resp_status >= 400) AS errors,
              (count(*) FILTER (WHERE resp_status >= 400))::DOUBLE / count(*) AS error_rate FROM http_events
            WHERE time_ >= ${s} AND time_ < ${e} GROUP BY 1`,
    },
  ];

  const source = { get: (name: string) => store.get(name) };
  const lines: string[] = [];
  const checks: string[] = [];
  for (const q of queries) {
    const program = { outputs: [{ name: 'output', plan: q.plan }] };
    let wispRows = 0;
    let wispJson: ReturnType<typeof resultToJson> | null = null;
    let duckRows = 0;
    let duckRowsData: Record<string, unknown>[] = [];
    const runWisp = async (): Promise<void> => {
      const r = await execute(program, source, { metadata: cluster.metadata, maxRows: 1e7 });
      wispRows = r.tables[0]!.rowCount;
      wispJson = resultToJson(r);
    };
    const runDuck = async (): Promise<void> => {
      const r = await con.runAndReadAll(q.sql);
      duckRows = r.currentRowCount;
      duckRowsData = r.getRowObjectsJS() as Record<string, unknown>[];
    };
    // Each query starts from a collected heap, so one query's garbage is not billed to the
    // next; within a query, engines alternate run by run, so background work of either (GC,
    // DuckDB's threads) lands on both alike.
    (globalThis as { gc?: () => void }).gc?.();
    const { a: wisp, b: dk } = await alternate(runWisp, runDuck);
    const w = median(wisp);
    const d = median(dk);
    lines.push(`| ${q.name.padEnd(26)} | ${w.toFixed(1).padStart(9)} | ${d.toFixed(1).padStart(9)} | ${(w / d).toFixed(2).padStart(5)} | ${String(wispRows).padStart(6)} | ${String(duckRows).padStart(6)} |`);
    checks.push(crossCheck(q.name, wispJson!, duckRowsData));
    if (q.name === 'bin+quantiles by service') checks.push(await exactQuantileCheck(con, wispJson!, s, e, bin));
  }
  const wispBytesPerRow = st.bytes / st.rows;

  console.log(`# query bench — ${new Date().toISOString()} — ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
  console.log(`rows ${ROWS.toLocaleString('en')}, bins ${BIN_NS / 1e9}s over ${SPAN_NS / 3.6e12} h, ${REPEAT} runs after a warm-up, median ms`);
  console.log(`generate ${(genMs / 1000).toFixed(1)} s (store append ${(appendMs / 1000).toFixed(1)} s = ${((appendMs * 1e3) / ROWS).toFixed(2)} µs/row); DuckDB load ${(duckLoadMs / 1000).toFixed(1)} s`);
  console.log('');
  console.log('| query                      |  Wisp ms  | DuckDB ms | ratio | rows W | rows D |');
  console.log('|----------------------------|-----------|-----------|-------|--------|--------|');
  for (const l of lines) console.log(l);
  console.log('');
  for (const c of checks) console.log(c);
  // A faster wrong answer is no result: any disagreement fails the run.
  if (checks.some((c) => /mismatch|outside/.test(c))) process.exitCode = 1;
  console.log('');
  console.log(`store: ${st.rows.toLocaleString('en')} rows in ${st.batches} batches, ${(st.bytes / 1024 ** 2).toFixed(1)} MiB = ${wispBytesPerRow.toFixed(1)} B/row`);
  console.log(`Arrow IPC of the first ${sampleRows.toLocaleString('en')} rows (all ${HTTP_EVENTS_SCHEMA.fields.length} columns): utf8 ${arrowPlain.toFixed(1)} B/row, dictionary-encoded strings ${arrowDict.toFixed(1)} B/row (${(arrowMs / 1000).toFixed(1)} s)`);
  console.log(`ratio store / Arrow: ${(wispBytesPerRow / arrowPlain).toFixed(2)} (utf8), ${(wispBytesPerRow / arrowDict).toFixed(2)} (dictionary)`);
  con.closeSync();
  duck.closeSync();
}

const QS = [
  ['latency_p50', 0.5],
  ['latency_p90', 0.9],
  ['latency_p99', 0.99],
] as const;

/**
 * Wisp's quantiles against the exact value at rank floor(q·(n−1)) of each group, ranked by
 * DuckDB outside the timings: every estimate must be within the sketch's 1 %.
 */
async function exactQuantileCheck(con: DuckDBConnection, w: ReturnType<typeof resultToJson>, s: string, e: string, bin: string): Promise<string> {
  const r = await con.runAndReadAll(`
    WITH r AS (
      SELECT time_ - time_ % ${bin} AS timestamp, service, latency,
        row_number() OVER (PARTITION BY time_ - time_ % ${bin}, service ORDER BY latency) - 1 AS rk,
        count(*) OVER (PARTITION BY time_ - time_ % ${bin}, service) AS n
      FROM http_events WHERE time_ >= ${s} AND time_ < ${e})
    SELECT timestamp, service,
      ${QS.map(([name, q]) => `max(latency) FILTER (WHERE rk = floor(${q} * (n - 1))) AS ${name}`).join(', ')}
    FROM r GROUP BY 1, 2`);
  const exact = new Map((r.getRowObjectsJS() as Record<string, unknown>[]).map((x) => [`${x['timestamp']}|${x['service']}`, x]));
  const t = w.tables[0]!;
  const colOf = (n: string): readonly unknown[] => t.data[t.columns.findIndex((c) => c.name === n)]!;
  const ts = colOf('timestamp');
  const sv = colOf('service');
  let worst = 0;
  let bad = exact.size === ts.length ? 0 : 1;
  for (const [name] of QS) {
    const est = colOf(name);
    ts.forEach((x, i) => {
      const want = Number(exact.get(`${x}|${sv[i]}`)?.[name] ?? NaN);
      const err = Math.abs(Number(est[i]) - want) / want;
      if (!(err <= 0.01)) bad++;
      if (err > worst) worst = err;
    });
  }
  return `check bin+quantiles by service vs exact ranks: ${bad === 0 ? 'all within 1 %' : `${bad} outside 1 %`} (p50/p90/p99 of ${ts.length} groups, worst ${(worst * 100).toFixed(2)} %)`;
}

/** Checks the two engines agree: exact for counts, within the sketch's error for quantiles. */
function crossCheck(name: string, w: ReturnType<typeof resultToJson>, d: Record<string, unknown>[]): string {
  const t = w.tables[0]!;
  const colOf = (n: string): readonly unknown[] => t.data[t.columns.findIndex((c) => c.name === n)]!;
  if (name === 'bin+count') {
    const want = new Map(d.map((r) => [String(r['timestamp']), Number(r['throughput'])]));
    const ts = colOf('timestamp');
    const n = colOf('throughput');
    let bad = want.size === ts.length ? 0 : 1;
    ts.forEach((x, i) => {
      if (want.get(String(x)) !== Number(n[i])) bad++;
    });
    return `check ${name}: ${bad === 0 ? 'identical' : `${bad} mismatches`} (${ts.length} bins)`;
  }
  if (name === 'filter+groupby error rate' || name === 'error rate, one pass') {
    const want = new Map(d.map((r) => [String(r['service']), `${r['requests']}/${r['errors']}`]));
    const s = colOf('service');
    const rq = colOf('requests');
    const er = colOf('errors');
    let bad = want.size === s.length ? 0 : 1;
    s.forEach((x, i) => {
      if (want.get(String(x)) !== `${rq[i]}/${er[i]}`) bad++;
    });
    return `check ${name}: ${bad === 0 ? 'identical' : `${bad} mismatches`} (${s.length} services)`;
  }
  const want = new Map(d.map((r) => [`${r['timestamp']}|${r['service']}`, (r['q'] as number[]).map(Number)]));
  const ts = colOf('timestamp');
  const sv = colOf('service');
  const p50 = colOf('latency_p50');
  let worst = 0;
  ts.forEach((x, i) => {
    const q = want.get(`${x}|${sv[i]}`);
    if (q) worst = Math.max(worst, Math.abs(Number(p50[i]) - q[0]!) / q[0]!);
  });
  return `check ${name}: ${ts.length} groups (DuckDB ${want.size}); worst p50 difference vs DuckDB's t-digest ${(worst * 100).toFixed(2)} %`;
}

await main();
