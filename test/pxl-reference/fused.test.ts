/**
 * The fused aggregation loop against the operator pipeline: each plan runs once as is (source →
 * filter/map → agg fused into one loop) and once with a pass-through `head` under the agg, which
 * the fused loop does not cover, so the same plan runs through the separate operators. The two
 * answers must be identical — values, types and group order — and the first must really have
 * been fused. (The DuckDB reference tests cover the same shapes against SQL.) An engine's
 * answers to a broker's agg fragments are compared the same way, to the byte: grouped by the
 * fused loop, and by the operators (`unfused`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { agg, assign, binCount, binQuantiles, call, col, errorRate, errorRateOnePass, filter, join, limit, lit, source, type AggSpec } from '../../bench/query/plans.js';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from '../../src/engine/http/schema.js';
import type { ResultTable } from '../../src/engine/api/contract.js';
import { resultToJson } from '../../src/engine/api/encode.js';
import { execute, type ExecContext } from '../../src/engine/pxl/exec/execute.js';
import { fuseAggs } from '../../src/engine/pxl/exec/fused.js';
import { physicalInputs, type PhysicalPlan } from '../../src/engine/pxl/exec/physical.js';
import { planAgg, planPhysical } from '../../src/engine/pxl/exec/planner.js';
import type { Runtime } from '../../src/engine/pxl/exec/runtime.js';
import { emptyVec, type Chunk } from '../../src/engine/pxl/exec/vec.js';
import { inputsOf, mapInputs, type Expr, type LogicalPlan } from '../../src/engine/pxl/plan/logical.js';
import { compile } from '../../src/engine/pxl/compile.js';
import { runPartial } from '../../src/engine/pxl/distributed/engine/run.js';
import { splitProgram } from '../../src/engine/pxl/distributed/broker/split.js';
import type { LookupSpec, PartialLine } from '../../src/engine/pxl/distributed/wire/messages.js';
import { Store } from '../../src/engine/store/store.js';
import { fixedOptions, httpCatalog, loadScript } from '../../src/testkit/pxl-scripts/scripts.js';

const T0 = 1_763_000_000_000_000_007n;
const SPAN = 600e9;
const cluster = makeCluster(['default/a', 'default/b', 'kube-system/c', ''], 3);
const rows: HttpEventRow[] = [];
generateHttpEvents(cluster, 7000, 9, T0, SPAN, (b) => rows.push(...b));
// Latencies past int32 in some batches (stored as float64 there), empty strings as keys.
for (let i = 0; i < rows.length; i += 613) rows[i] = { ...rows[i]!, latency: 5_000_000_000 + i, req_method: '' };

const store = new Store();
store.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 30, batchRows: 1000 });
// The last append leaves an open tail: its codes are a growing Int32Array, not sealed narrow codes.
for (let o = 0; o < rows.length; o += 777) store.append('http_events', rows.slice(o, o + 777));

const ctx: ExecContext = { metadata: cluster.metadata, nowNs: T0 + 3_600_000_000_000n };
const START = rows[1500]!.time_;
const END = rows[6100]!.time_;

const I = (name: string): Expr => col(name, 'INT64');
const S = (name: string): Expr => col(name, 'STRING');
const T = col('time_', 'TIME64NS');
const ALL = HTTP_EVENTS_SCHEMA.fields.map((f) => f.name);
const src = (start: bigint | null = START, end: bigint | null = END): LogicalPlan => source(HTTP_EVENTS_SCHEMA, ALL, start, end);
const service = call('upid_to_service_name', 'STRING', col('upid', 'UINT128'));

function runtime(from: Store = store): Runtime {
  return {
    source: from,
    stats: { rowsScanned: 0, bytesScanned: 0 },
    metadata: cluster.metadata,
    timeBase: from.get('http_events')!.timeBaseNs() ?? 0n,
    nowNs: ctx.nowNs!,
    tick: async () => {},
  };
}

/** The same agg with a pass-through head under it: the fused loop declines it. */
function unfused(plan: LogicalPlan): LogicalPlan {
  return plan.kind === 'agg' ? { ...plan, input: limit(plan.input, 1e9) } : mapInputs(plan, unfused);
}

/** The physical aggregations the planner makes of a plan, depth first. */
function aggExecs(plan: LogicalPlan, from: Store = store): PhysicalPlan[] {
  const out: PhysicalPlan[] = [];
  const walk = (p: PhysicalPlan): void => {
    if (p.kind === 'HashAggExec' || p.kind === 'FusedAggExec') out.push(p);
    else physicalInputs(p).forEach(walk);
  };
  walk(planPhysical({ outputs: [{ name: 'o', plan }] }, runtime(from)).outputs[0]!.plan);
  return out;
}

function firstAgg(plan: LogicalPlan): Extract<LogicalPlan, { kind: 'agg' }> {
  if (plan.kind === 'agg') return plan;
  if (plan.kind === 'source') throw new Error('no agg');
  return firstAgg(inputsOf(plan)[0]!);
}

async function same(plan: LogicalPlan, minRows = 1): Promise<void> {
  assert.equal(aggExecs(plan)[0]!.kind, 'FusedAggExec', 'the plan is fused');
  const run = async (p: LogicalPlan) => resultToJson(await execute({ outputs: [{ name: 'o', plan: p }] }, store, ctx)).tables[0]!;
  const fused = await run(plan);
  const ops = await run(unfused(plan));
  assert.ok(fused.rowCount >= minRows, `${fused.rowCount} rows`);
  assert.deepEqual(fused, ops);
}

const withCols = (df: LogicalPlan, cols: Record<string, Expr>): LogicalPlan => {
  for (const [name, e] of Object.entries(cols)) df = assign(df, name, e);
  return df;
};
const A = (name: string, fn: string, column: string, type: string): AggSpec => ({ name, fn, column, type: type as AggSpec['type'] });

test('the dashboard queries: bin+count, bin+quantiles by service, error rate (one pass and joined)', async () => {
  await same(binCount(HTTP_EVENTS_SCHEMA, START, END, 7e9), 50);
  await same(binQuantiles(HTTP_EVENTS_SCHEMA, START, END, 30e9), 20);
  await same(errorRateOnePass(HTTP_EVENTS_SCHEMA, START, END), 3);
  const joined = errorRate(HTTP_EVENTS_SCHEMA, START, END);
  assert.ok(joined.kind === 'map' && joined.input.kind === 'join' && joined.input.left.kind === 'agg' && joined.input.right.kind === 'agg');
  const [left, right] = aggExecs(joined);
  assert.ok(left?.kind === 'FusedAggExec' && right?.kind === 'FusedAggExec' && left.scan === right.scan, 'both sides of the join share one scan');
  await same(joined, 3);
});

test('numeric keys in no order, every aggregate, int sums exact past int32', async () => {
  const df = withCols(src(null, null), { ms: call('divide', 'FLOAT64', I('latency'), lit(1e6, 'FLOAT64')), slow: call('greaterThan', 'BOOLEAN', I('latency'), lit(20_000_000, 'INT64')) });
  await same(
    agg(df, ['resp_status'], [
      A('n', 'count', 'latency', 'INT64'),
      A('total', 'sum', 'latency', 'INT64'),
      A('ms_sum', 'sum', 'ms', 'FLOAT64'),
      A('ms_mean', 'mean', 'ms', 'FLOAT64'),
      A('lo', 'min', 'latency', 'INT64'),
      A('hi', 'max', 'latency', 'INT64'),
      A('one', 'any', 'latency', 'INT64'),
      A('slow_n', 'sum', 'slow', 'INT64'),
      A('slow_any', 'max', 'slow', 'BOOLEAN'),
      A('q', 'quantiles', 'latency', 'STRING'),
    ]),
    5,
  );
});

test('three keys: a boolean, a raw string column with empty strings, a derived string', async () => {
  const df = withCols(src(), { failure: call('greaterThanEqual', 'BOOLEAN', I('resp_status'), lit(400, 'INT64')), service });
  await same(agg(df, ['failure', 'req_method', 'service'], [A('n', 'count', 'latency', 'INT64'), A('m', 'mean', 'latency', 'FLOAT64')]), 10);
});

test('filters: row arithmetic and logic, per-dictionary predicates, times against absolute ns', async () => {
  let df = src(null, null);
  df = filter(
    df,
    call(
      'logicalOr',
      'BOOLEAN',
      call('logicalAnd', 'BOOLEAN', call('greaterThan', 'BOOLEAN', call('divide', 'FLOAT64', I('latency'), lit(1e6, 'FLOAT64')), lit(3, 'FLOAT64')), call('logicalNot', 'BOOLEAN', call('equal', 'BOOLEAN', S('req_method'), lit('GET', 'STRING')))),
      call('contains', 'BOOLEAN', S('req_path'), lit('res1', 'STRING')),
    ),
  );
  df = filter(df, call('lessThan', 'BOOLEAN', T, lit(END, 'INT64')));
  df = filter(df, call('notEqual', 'BOOLEAN', service, lit('', 'STRING')));
  df = withCols(df, {
    service,
    b: call('bin', 'TIME64NS', T, lit(13e9, 'INT64')),
    m: call('modulo', 'INT64', T, lit(60e9, 'INT64')),
    k: call('select', 'INT64', call('greaterThanEqual', 'BOOLEAN', I('resp_status'), lit(500, 'INT64')), lit(1, 'INT64'), call('floor', 'FLOAT64', call('divide', 'FLOAT64', I('resp_status'), lit(100, 'INT64')))),
    pid: call('upid_to_pid', 'INT64', col('upid', 'UINT128')),
    x: call('subtract', 'INT64', call('multiply', 'INT64', I('resp_body_size'), lit(3, 'INT64')), call('negate', 'INT64', I('req_body_size'))),
  });
  await same(agg(df, ['service', 'b'], [A('n', 'count', 'latency', 'INT64'), A('mx', 'max', 'm', 'INT64'), A('k', 'sum', 'k', 'INT64'), A('p', 'any', 'pid', 'INT64'), A('x', 'sum', 'x', 'INT64')]), 10);
});

test('no groups; a filter that keeps nothing; a constant filter', async () => {
  await same(agg(src(), [], [A('n', 'count', 'latency', 'INT64'), A('s', 'sum', 'latency', 'INT64'), A('m', 'mean', 'latency', 'FLOAT64')]), 1);
  await same(agg(filter(src(), call('greaterThan', 'BOOLEAN', I('latency'), lit(1e15, 'INT64'))), ['resp_status'], [A('n', 'count', 'latency', 'INT64')]), 0);
  await same(agg(filter(src(), lit(true, 'BOOLEAN')), ['req_method'], [A('n', 'count', 'latency', 'INT64')]), 2);
});

test('shapes the loop does not cover are left to the operators', () => {
  const strAny = agg(src(), ['resp_status'], [A('m', 'any', 'req_method', 'STRING')]);
  assert.equal(aggExecs(strAny)[0]!.kind, 'HashAggExec');
  const overLimit = agg(limit(src(), 10), ['resp_status'], [A('n', 'count', 'latency', 'INT64')]);
  assert.equal(aggExecs(overLimit)[0]!.kind, 'HashAggExec');
  const twoColumns = agg(withCols(src(), { both: call('add', 'STRING', S('req_method'), S('req_path')) }), ['both'], [A('n', 'count', 'latency', 'INT64')]);
  assert.equal(aggExecs(twoColumns)[0]!.kind, 'HashAggExec');
});

test('Pixie-style scripts compile to plans whose aggregations are fused', () => {
  const aggsOf = (p: LogicalPlan): Extract<LogicalPlan, { kind: 'agg' }>[] => [...(p.kind === 'agg' ? [p] : []), ...inputsOf(p).flatMap(aggsOf)];
  for (const name of ['throughput', 'throughput_per_service', 'errors_per_service', 'latency_quantiles', 'grafana_macros']) {
    const r = compile(loadScript(name), fixedOptions, httpCatalog);
    for (const o of r.program.outputs) {
      const aggs = aggsOf(o.plan);
      assert.ok(aggs.length > 0, `${name}: an aggregation`);
      for (const a of aggs) assert.equal(aggExecs(a)[0]!.kind, 'FusedAggExec', `${name}/${o.name}: fused`);
    }
  }
});

test('bins of rows exactly on, just before and just after bin edges, in time order', async () => {
  const size = 10_000_000_000n;
  const first = ((T0 / size) + 1n) * size;
  const edgeRows: HttpEventRow[] = [];
  for (let b = 0n; b < 40n; b++) for (const d of [-1n, 0n, 1n, 2n]) edgeRows.push({ ...rows[edgeRows.length]!, time_: first + b * size + d });
  const edges = new Store();
  edges.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 26, batchRows: 64 });
  edges.append('http_events', edgeRows);
  const plan = binCount(HTTP_EVENTS_SCHEMA, first - size, first + 50n * size, Number(size));
  const run = async (p: LogicalPlan) => resultToJson(await execute({ outputs: [{ name: 'o', plan: p }] }, edges, ctx)).tables[0]!;
  const fused = await run(plan);
  assert.deepEqual(fused, await run(unfused(plan)));
  // Each edge starts a bin: its row and the next two, plus the row 1 ns before the next edge;
  // the first bin holds only the row before the first edge, the last lacks that row.
  assert.deepEqual(fused.data[1], ['1', ...Array.from({ length: 39 }, () => '4'), '3']);
});

/** A fused chunk as the JSON table `execute` would return for the plan. */
function chunkJson(plan: LogicalPlan, ch: Chunk | null): ResultTable {
  const cols = plan.schema.map((f, j) => ch?.cols[j] ?? emptyVec(f.type));
  const rt = runtime();
  return resultToJson({ tables: [{ name: 'o', fields: plan.schema, rowCount: ch?.n ?? 0, columns: cols }], warnings: [], stats: { ...rt.stats, executeMs: 0 }, timeBase: rt.timeBase }).tables[0]!;
}

/** Runs aggs in one shared scan and checks each against the operators running it alone. */
async function sameShared(plans: readonly LogicalPlan[]): Promise<ResultTable[]> {
  const aggs = plans.map((p) => firstAgg(p));
  const scan = fuseAggs(aggs, runtime());
  assert.ok(scan !== null, 'the aggs share one fused scan');
  const got = await Promise.all(aggs.map(async (a, j) => chunkJson(a, await scan.take(j))));
  for (let j = 0; j < aggs.length; j++) {
    const ops = resultToJson(await execute({ outputs: [{ name: 'o', plan: unfused(aggs[j]!) }] }, store, ctx)).tables[0]!;
    assert.deepEqual(got[j], ops, `agg ${j}`);
  }
  return got;
}

const gte = (name: string, v: number): Expr => call('greaterThanEqual', 'BOOLEAN', I(name), lit(v, 'INT64'));

test('aggs sharing a scan, counted per code: different filters and flags, two key columns', async () => {
  const df = withCols(src(), { service, failure: gte('resp_status', 400), server: gte('resp_status', 500) });
  const got = await sameShared([
    agg(df, ['service'], [A('requests', 'count', 'latency', 'INT64')]),
    agg(filter(df, gte('resp_status', 400)), ['service'], [A('errors', 'count', 'latency', 'INT64')]),
    // A row filter, a filter on another string column, a flag summed and averaged.
    agg(filter(filter(df, gte('latency', 20_000_000)), call('equal', 'BOOLEAN', S('req_method'), lit('GET', 'STRING'))), ['service'], [
      A('slow_gets', 'count', 'latency', 'INT64'),
      A('server_errors', 'sum', 'server', 'INT64'),
      A('server_rate', 'mean', 'server', 'FLOAT64'),
    ]),
    // A filter on the key's own column, and the failure flag again (the same bit).
    agg(filter(df, call('notEqual', 'BOOLEAN', service, lit('', 'STRING'))), ['service'], [A('n', 'count', 'latency', 'INT64'), A('f', 'sum', 'failure', 'INT64')]),
    // Another key column: a tally of its own.
    agg(filter(df, call('lessThan', 'BOOLEAN', I('resp_status'), lit(300, 'INT64'))), ['req_method'], [A('ok', 'count', 'latency', 'INT64')]),
  ]);
  assert.ok(got.every((t) => t.rowCount >= 2));
});

test('more flags than a tally holds: the aggs past them are keyed row by row, same answers', async () => {
  const df = withCols(src(), { service });
  await sameShared(
    [200, 300, 400, 404, 500, 503].map((s) => agg(filter(df, gte('resp_status', s)), ['service'], [A(`n${s}`, 'count', 'latency', 'INT64')])),
  );
});

test('groups first seen in a later batch of one branch only, in order of first appearance', async () => {
  // Service c has no row before row 3000, and service b no error before row 5000: their groups
  // are new in later batches, after batches whose every code already had its group.
  const [a, b, c] = ['default/a', 'default/b', 'kube-system/c'].map((s) => cluster.procs.filter((p) => p.service === s));
  const late = rows.map((r, i) => {
    const p = cluster.procs.find((x) => x.upid === r.upid)!;
    if (i < 3000 && c!.includes(p)) return { ...r, upid: a![i % a!.length]!.upid };
    if (i < 5000 && b!.includes(p) && r.resp_status >= 400) return { ...r, resp_status: 200 };
    return r;
  });
  const lateStore = new Store();
  lateStore.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 30, batchRows: 1000 });
  for (let o = 0; o < late.length; o += 777) lateStore.append('http_events', late.slice(o, o + 777));
  const end = T0 + BigInt(SPAN) + 1n;
  const df = withCols(source(HTTP_EVENTS_SCHEMA, ALL, T0, end), { service });
  const outputs = [
    { name: 'requests', plan: agg(df, ['service'], [A('requests', 'count', 'latency', 'INT64')]) },
    { name: 'errors', plan: agg(filter(df, gte('resp_status', 400)), ['service'], [A('errors', 'count', 'latency', 'INT64')]) },
    { name: 'joined', plan: errorRate(HTTP_EVENTS_SCHEMA, T0, end) },
    { name: 'one_pass', plan: errorRateOnePass(HTTP_EVENTS_SCHEMA, T0, end) },
  ];
  const fused = resultToJson(await execute({ outputs }, lateStore, ctx)).tables;
  const ops = resultToJson(await execute({ outputs: outputs.map((o) => ({ name: o.name, plan: unfused(o.plan) })) }, lateStore, ctx)).tables;
  assert.deepEqual(fused, ops);
  // c's group comes after those of the first rows; b's errors come last.
  assert.equal(fused[0]!.data[0]!.at(-1), 'kube-system/c');
  assert.equal(fused[1]!.data[0]!.at(-1), 'default/b');
});

test('a branch that keeps no row, and joins with keys missing on one side', async () => {
  const df = withCols(src(), { service });
  const totals = agg(df, ['service'], [A('requests', 'count', 'latency', 'INT64')]);
  const none = agg(filter(df, gte('resp_status', 600)), ['service'], [A('errors', 'count', 'latency', 'INT64')]);
  // Server errors of POSTs: some services have none.
  const some = agg(filter(filter(df, gte('resp_status', 500)), call('equal', 'BOOLEAN', S('req_method'), lit('POST', 'STRING'))), ['service'], [A('post_errors', 'count', 'latency', 'INT64')]);
  const [, empty, partial] = await sameShared([totals, none, some]);
  assert.equal(empty!.rowCount, 0);
  assert.ok(partial!.rowCount >= 1 && partial!.rowCount < 4, `${partial!.rowCount} services with POST server errors`);
  for (const how of ['left', 'inner', 'outer', 'right'] as const) {
    for (const right of [none, some]) {
      const plan = join(totals, right, how, ['service'], ['service']);
      const run = async (p: LogicalPlan) => resultToJson(await execute({ outputs: [{ name: 'o', plan: p }] }, store, ctx)).tables[0]!;
      assert.deepEqual(await run(plan), await run(unfused(plan)), `${how} join`);
    }
  }
});

test('the outputs of one program share a scan, an agg the loop declines aside; stats count every scan', async () => {
  const df = withCols(src(), { service });
  const totals = agg(df, ['service'], [A('requests', 'count', 'latency', 'INT64')]);
  const errors = agg(filter(df, gte('resp_status', 400)), ['service'], [A('errors', 'count', 'latency', 'INT64')]);
  const bins = binCount(HTTP_EVENTS_SCHEMA, START, END, 7e9);
  const outputs = [
    { name: 'joined', plan: join(totals, errors, 'left', ['service'], ['service']) },
    { name: 'self', plan: join(totals, totals, 'inner', ['service'], ['service']) },
    { name: 'bins', plan: bins },
    { name: 'errors', plan: errors },
    // Over the same scan, but not covered by the loop: run by the operators, the rest still shared.
    { name: 'methods', plan: agg(src(), ['resp_status'], [A('m', 'any', 'req_method', 'STRING')]) },
  ];
  const shared = await execute({ outputs }, store, ctx);
  const alone = await execute({ outputs: outputs.map((o) => ({ name: o.name, plan: unfused(o.plan) })) }, store, ctx);
  assert.deepEqual(resultToJson(shared).tables, resultToJson(alone).tables);
  assert.equal(shared.stats.rowsScanned, alone.stats.rowsScanned);
  assert.equal(shared.stats.bytesScanned, alone.stats.bytesScanned);
});

/** An engine's answer to agg fragments, as NDJSON text, grouped by the fused loop or by the operators. */
async function partialAnswer(plans: readonly LogicalPlan[], from: Store, unfused: boolean, lookups: readonly LookupSpec[][] = []): Promise<{ text: string; groups: number }> {
  const req = { nowNs: ctx.nowNs!, fragments: plans.map((plan, j) => ({ id: `f${j}`, plan, lookups: lookups[j] ?? [] })) };
  const lines: string[] = [];
  let groups = 0;
  for await (const line of runPartial(req, from, { metadata: cluster.metadata, signal: new AbortController().signal, maxRows: 1e6, unfused })) {
    if (line.t === 'groups') groups += line.n;
    // The time it took is the one thing that may differ; rows and bytes scanned may not.
    const l: PartialLine = line.t === 'end' ? { ...line, stats: { ...line.stats, executeMs: 0 } } : line;
    lines.push(JSON.stringify(l));
  }
  return { text: lines.join('\n'), groups };
}

/** Agg fragments answered with the fused loop give the bytes the operators give; returns the groups sent. */
async function samePartials(plans: readonly LogicalPlan[], from: Store = store, lookups: readonly LookupSpec[][] = []): Promise<number> {
  for (const p of plans) assert.ok(p.kind === 'agg' && planAgg(p, runtime(from)).kind === 'FusedAggExec', 'the fragment is fused');
  const fused = await partialAnswer(plans, from, false, lookups);
  const ops = await partialAnswer(plans, from, true, lookups);
  assert.equal(fused.text, ops.text);
  return fused.groups;
}

test('engines\' partial aggregates: the fused loop sends the lines the operators send', async () => {
  const df = withCols(src(), {
    service,
    ms: call('divide', 'FLOAT64', I('latency'), lit(1e6, 'FLOAT64')),
    slow: call('greaterThan', 'BOOLEAN', I('latency'), lit(20_000_000, 'INT64')),
    failure: gte('resp_status', 400),
    b: call('bin', 'TIME64NS', T, lit(30e9, 'INT64')),
  });
  const every = [
    A('n', 'count', 'latency', 'INT64'),
    A('total', 'sum', 'latency', 'INT64'),
    A('ms_sum', 'sum', 'ms', 'FLOAT64'),
    A('ms_mean', 'mean', 'ms', 'FLOAT64'),
    A('lo', 'min', 'latency', 'INT64'),
    A('hi', 'max', 'ms', 'FLOAT64'),
    A('first', 'min', 'time_', 'TIME64NS'),
    A('one', 'any', 'latency', 'INT64'),
    A('slow_n', 'sum', 'slow', 'INT64'),
    A('slow_rate', 'mean', 'slow', 'FLOAT64'),
    A('slow_any', 'max', 'slow', 'BOOLEAN'),
    A('q', 'quantiles', 'latency', 'STRING'),
  ];
  // Every aggregate by a string, a number and a time bin; by three keys with a filter on rows and
  // one on the key's column; counted per code (the tally); no key; more groups than one line holds.
  const filtered = filter(filter(df, gte('latency', 5_000_000)), call('notEqual', 'BOOLEAN', service, lit('', 'STRING')));
  const fine = withCols(src(null, null), { service, b: call('bin', 'TIME64NS', T, lit(50e6, 'INT64')) });
  const groups = await samePartials([
    agg(df, ['service'], every),
    agg(df, ['resp_status'], every),
    agg(df, ['b'], every),
    agg(filtered, ['service', 'resp_status', 'b'], every),
    agg(filter(df, gte('resp_status', 400)), ['service'], [A('errors', 'count', 'latency', 'INT64'), A('f', 'sum', 'failure', 'INT64'), A('r', 'mean', 'failure', 'FLOAT64')]),
    agg(df, [], every),
    agg(fine, ['service', 'b'], [A('n', 'count', 'latency', 'INT64'), A('q', 'quantiles', 'latency', 'STRING')]),
  ]);
  assert.ok(groups > 4096 + 100, `${groups} groups`);
});

test('engines\' partial aggregates with no rows: an empty range, a filter that keeps nothing, an empty table', async () => {
  const every = [A('n', 'count', 'latency', 'INT64'), A('s', 'sum', 'latency', 'INT64'), A('m', 'mean', 'latency', 'FLOAT64'), A('q', 'quantiles', 'latency', 'STRING')];
  const emptyStore = new Store();
  emptyStore.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 20, batchRows: 64 });
  const none = [
    agg(src(T0 - 10_000_000_000n, T0 - 1n), ['resp_status'], every),
    agg(filter(src(), gte('latency', 1e15)), ['req_method'], every),
    agg(filter(withCols(src(), { service }), gte('resp_status', 600)), ['service'], [A('n', 'count', 'latency', 'INT64')]),
    agg(src(), [], every),
  ];
  assert.equal(await samePartials(none.slice(0, 3)), 0);
  assert.equal(await samePartials(none, emptyStore), 0);
});

test('engines\' partial aggregates of the compatibility scripts, lookups included', async () => {
  const options = { ...fixedOptions, fromNs: T0, toNs: T0 + BigInt(SPAN) + 1n, nowNs: T0 + BigInt(SPAN) + 1n };
  let groups = 0;
  for (const name of ['throughput', 'throughput_per_service', 'errors_per_service', 'latency_quantiles', 'grafana_macros', 'service_let', 'service_map']) {
    const { fragments } = splitProgram(compile(loadScript(name), options, httpCatalog).program);
    const aggs = fragments.filter((f) => f.plan.kind === 'agg');
    assert.ok(aggs.length > 0, `${name}: an aggregate fragment`);
    groups += await samePartials(
      aggs.map((f) => f.plan),
      store,
      aggs.map((f) => f.lookups),
    );
  }
  assert.ok(groups > 100, `${groups} groups`);
});
