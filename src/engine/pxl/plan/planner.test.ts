import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedOptions, httpCatalog, loadScript, scriptNames } from '../../../testkit/pxl-scripts/scripts.js';
import { compile, effectiveIntervalNs, languageSchema, type CompileOptions } from '../compile.js';
import { inputsOf, type Expr, type LogicalPlan, type Program } from './logical.js';

const FROM = fixedOptions.fromNs;
const TO = fixedOptions.toNs;
const NOW = fixedOptions.nowNs;
const INTERVAL = fixedOptions.intervalNs;

function run(script: string, options: CompileOptions = fixedOptions): Program {
  return compile(script, options, httpCatalog).program;
}

function output(p: Program, name: string): LogicalPlan {
  const o = p.outputs.find((x) => x.name === name);
  assert.ok(o, `no output '${name}' in ${p.outputs.map((x) => x.name).join(', ')}`);
  return o.plan;
}

/** All plan nodes, outermost first. */
function nodes(plan: LogicalPlan): LogicalPlan[] {
  return [plan, ...inputsOf(plan).flatMap(nodes)];
}

function only<K extends LogicalPlan['kind']>(plan: LogicalPlan, kind: K): (LogicalPlan & { kind: K })[] {
  return nodes(plan).filter((n): n is LogicalPlan & { kind: K } => n.kind === kind);
}

/** The expression a map computes for `name`, searching from the output down. */
function mapped(plan: LogicalPlan, name: string): Expr {
  for (const m of only(plan, 'map')) {
    const e = m.exprs.find((x) => x.name === name);
    if (e && !(e.expr.kind === 'column' && e.expr.name === name)) return e.expr;
  }
  assert.fail(`no map computes '${name}'`);
}

const names = (plan: LogicalPlan): string[] => plan.schema.map((f) => f.name);

/** Drops types and semantics so trees compare by shape: fn names, columns and literal values. */
function shape(e: Expr): unknown {
  if (e.kind === 'column') return e.name;
  if (e.kind === 'literal') return e.value;
  return [e.fn, ...e.args.map(shape)];
}

test('every script under src/testkit/pxl-scripts compiles with outputs and no warnings', () => {
  const all = scriptNames();
  assert.ok(all.length >= 7, all.join(', '));
  for (const n of all) {
    const r = compile(loadScript(n), fixedOptions, httpCatalog);
    assert.ok(r.program.outputs.length > 0, n);
    assert.deepEqual(r.warnings, [], n);
  }
});

/** The invariants the executor relies on, checked on every node. */
function assertWellFormed(plan: LogicalPlan, where: string): void {
  const has = (p: LogicalPlan, e: Expr): void => {
    if (e.kind === 'column') {
      const f = p.schema.find((x) => x.name === e.name);
      assert.ok(f && f.type === e.type, `${where}: ${e.name}:${e.type} not in ${p.schema.map((x) => x.name).join(',')}`);
    } else if (e.kind === 'call') e.args.forEach((a) => has(p, a));
  };
  const fieldNames = (p: LogicalPlan) => p.schema.map((f) => f.name);
  assert.equal(new Set(fieldNames(plan)).size, plan.schema.length, `${where}: duplicate names`);
  switch (plan.kind) {
    case 'source':
      assert.deepEqual(plan.columns, fieldNames(plan), where);
      break;
    case 'filter':
      has(plan.input, plan.predicate);
      assert.deepEqual(plan.schema, plan.input.schema, where);
      break;
    case 'map':
      assert.deepEqual(plan.exprs.map((x) => x.name), fieldNames(plan), where);
      plan.exprs.forEach((x) => has(plan.input, x.expr));
      break;
    case 'agg':
      assert.deepEqual(fieldNames(plan), [...plan.groups, ...plan.aggs.map((a) => a.name)], where);
      plan.groups.forEach((g) => assert.ok(plan.input.schema.some((f) => f.name === g), `${where}: group ${g}`));
      plan.aggs.forEach((a) => a.args.forEach((x) => has(plan.input, x)));
      break;
    case 'join':
      assert.deepEqual(plan.outputs.map((o) => o.name), fieldNames(plan), where);
      plan.leftOn.forEach((k) => assert.ok(plan.left.schema.some((f) => f.name === k), `${where}: left key ${k}`));
      plan.rightOn.forEach((k) => assert.ok(plan.right.schema.some((f) => f.name === k), `${where}: right key ${k}`));
      plan.outputs.forEach((o) => assert.ok((o.side === 'left' ? plan.left : plan.right).schema.some((f) => f.name === o.column), `${where}: ${o.column}`));
      break;
    case 'union':
      plan.inputs.forEach((i) => assert.deepEqual(i.schema.map((f) => [f.name, f.type]), plan.schema.map((f) => [f.name, f.type]), where));
      break;
    case 'limit':
      assert.deepEqual(plan.schema, plan.input.schema, where);
      break;
  }
  for (const input of inputsOf(plan)) assertWellFormed(input, where);
}

test('every plan is well-formed after pruning: names, types and references line up', () => {
  for (const n of scriptNames()) {
    for (const o of run(loadScript(n)).outputs) assertWellFormed(o.plan, `${n}/${o.name}`);
  }
});

test('pruning: sources read only the columns the outputs need', () => {
  const t = output(run(loadScript('throughput')), 'throughput');
  assert.deepEqual(only(t, 'source')[0]!.columns, ['time_', 'latency']);
  const raw = output(run(loadScript('raw_events')), 'events');
  assert.deepEqual(only(raw, 'source')[0]!.columns, ['time_', 'upid', 'req_method', 'req_path', 'resp_status', 'resp_body_size', 'latency']);
  const p = run(`import px
a = px.DataFrame(table='http_events')
a = a[a.req_method == 'GET']
b = a.groupby('req_path').agg(n=('latency', px.count), m=('latency', px.max))
c = a.merge(b, how='inner', left_on='req_path', right_on='req_path')
d = c.append(c[c.n > 1])
e = px.DataFrame(table='http_events')
e.one = 1
px.display(d[['latency', 'n']], 'd')
px.display(e[['one']], 'e')
`);
  const d = output(p, 'd');
  assertWellFormed(d, 'd');
  for (const src of only(d, 'source')) assert.deepEqual(src.columns, ['req_method', 'req_path', 'latency']);
  for (const agg of only(d, 'agg')) assert.deepEqual(agg.aggs.map((x) => x.name), ['n']);
  const e = output(p, 'e');
  assertWellFormed(e, 'e');
  assert.deepEqual(only(e, 'source')[0]!.columns, ['time_']);
});

test('throughput: binned on __interval, counted per bin, scaled to per second', () => {
  const plan = output(run(loadScript('throughput')), 'throughput');
  assert.deepEqual(names(plan), ['time_', 'request_throughput']);
  const [src] = only(plan, 'source');
  assert.equal(src!.table, 'http_events');
  assert.equal(src!.startNs, FROM);
  assert.equal(src!.endNs, TO);
  assert.deepEqual(shape(mapped(plan, 'timestamp')), ['bin', 'time_', INTERVAL]);
  const [agg] = only(plan, 'agg');
  assert.deepEqual(agg!.groups, ['timestamp']);
  assert.deepEqual(agg!.aggs.map((a) => [a.name, a.fn, a.type]), [['throughput_total', 'count', 'INT64']]);
  const rate = mapped(plan, 'request_throughput');
  assert.deepEqual(shape(rate), ['multiply', ['divide', 'throughput_total', INTERVAL], 1e9]);
  assert.equal(rate.type, 'FLOAT64');
  assert.equal(plan.schema[0]!.type, 'TIME64NS');
});

test('throughput per service: ctx lookup, filter, tuple projection, default output name', () => {
  const p = run(loadScript('throughput_per_service'));
  assert.deepEqual(p.outputs.map((o) => o.name), ['output']);
  const plan = output(p, 'output');
  assert.deepEqual(names(plan), ['time_', 'service', 'request_throughput']);
  assert.deepEqual(shape(mapped(plan, 'service')), ['upid_to_service_name', 'upid']);
  assert.equal(plan.schema[1]!.semantic, 'ST_SERVICE_NAME');
  const [flt] = only(plan, 'filter');
  assert.deepEqual(shape(flt!.predicate), ['notEqual', 'service', '']);
  assert.equal(only(plan, 'source')[0]!.endNs, null);
  assert.deepEqual(only(plan, 'agg')[0]!.groups, ['timestamp', 'service']);
});

test('errors per service: boolean sum, select with a float literal, Percent', () => {
  const plan = output(run(loadScript('errors_per_service')), 'errors');
  const [agg] = only(plan, 'agg');
  assert.deepEqual(agg!.aggs.map((a) => [a.name, a.fn, a.args[0]!.type, a.type]), [
    ['error_count', 'sum', 'BOOLEAN', 'INT64'],
    ['total_requests', 'count', 'INT64', 'INT64'],
  ]);
  const rate = mapped(plan, 'error_rate');
  assert.deepEqual(shape(rate), ['select', ['notEqual', 'total_requests', 0n], ['divide', 'error_count', 'total_requests'], 0]);
  assert.equal(rate.type, 'FLOAT64');
  assert.equal(rate.semantic, 'ST_PERCENT');
  assert.equal(only(plan, 'filter').length, 2);
});

test('latency quantiles: def inlined with arguments, relative start, pluck and semantics', () => {
  const plan = output(run(loadScript('latency_quantiles')), 'latency');
  assert.equal(only(plan, 'source')[0]!.startNs, NOW - 300_000_000_000n);
  assert.deepEqual(shape(mapped(plan, 'timestamp')), ['bin', 'time_', 10_000_000_000n]);
  const q = only(plan, 'agg')[0]!.aggs.find((a) => a.name === 'latency_quantiles')!;
  assert.deepEqual([q.fn, q.type, q.semantic], ['quantiles', 'STRING', 'ST_QUANTILES']);
  const p99 = mapped(plan, 'latency_p99');
  assert.deepEqual(shape(p99), ['floor', ['pluck_float64', 'latency_quantiles', 'p99']]);
  assert.equal(p99.semantic, 'ST_DURATION_NS');
  assert.equal(mapped(plan, 'request_throughput').semantic, 'ST_THROUGHPUT_PER_NS');
  assert.deepEqual(only(plan, 'filter').map((f) => shape(f.predicate)), [['equal', 'trace_role', 2n]]);
});

test('raw events: drop in its three spellings, reorder, head', () => {
  const plan = output(run(loadScript('raw_events')), 'events');
  assert.deepEqual(names(plan), ['timestamp', 'svc', 'pod', 'req_method', 'req_path', 'resp_status', 'latency', 'resp_body_size']);
  assert.equal(plan.kind, 'limit');
  assert.equal(plan.kind === 'limit' && plan.n, 100);
  const src = only(plan, 'source')[0]!;
  assert.equal(src.startNs, NOW - 900_000_000_000n);
  for (const m of only(plan, 'map')) {
    if (m.exprs.length < 20) continue;
    assert.ok(!names(m).includes('upid') || m.exprs.some((e) => e.name === 'pod'), 'upid dropped after ctx');
  }
  const below = only(plan, 'map').map(names);
  assert.ok(below.some((n) => !n.includes('upid') && !n.includes('trace_role') && n.includes('pod')));
});

test('service map: functions inlined into nodes and edges, flags folded', () => {
  const p = run(loadScript('service_map'));
  assert.deepEqual(p.outputs.map((o) => o.name), ['nodes', 'edges']);
  const nodesPlan = output(p, 'nodes');
  assert.equal(nodesPlan.kind, 'union');
  assert.deepEqual(names(nodesPlan), ['id', 'title']);
  if (nodesPlan.kind === 'union') {
    for (const side of nodesPlan.inputs) {
      assert.equal(side.kind, 'agg');
      assert.ok(side.kind === 'agg' && side.aggs.length === 0 && side.groups.join() === 'id,title');
    }
  }
  const edges = output(p, 'edges');
  assert.deepEqual(names(edges), ['id', 'source', 'target', 'mainStat', 'secondaryStat']);
  assert.deepEqual(shape(mapped(edges, 'id')), ['add', ['add', 'source', '-'], 'target']);
  assert.deepEqual(shape(mapped(edges, 'remote_pod')), ['pod_id_to_pod_name', ['ip_to_pod_id', 'remote_addr']]);
  // `include_ips or (...)` is True: no filter; `cond and filter_health_checks` is just cond.
  const filters = only(edges, 'filter');
  assert.equal(filters.length, 1);
  assert.deepEqual(shape(filters[0]!.predicate), [
    'logicalNot',
    ['logicalOr',
      ['logicalOr', ['logicalOr', ['equal', 'req_path', '/healthz'], ['equal', 'req_path', '/readyz']], ['equal', 'req_path', '/livez']],
      ['equal', 'remote_addr', '-']],
  ]);
  const window = 10_000_000_000n;
  assert.deepEqual(shape(mapped(edges, 'timestamp')), ['bin', 'time_', window]);
});

test('service LET: helpers with flags, constant column names, $__from through a def, cross join', () => {
  const p = run(loadScript('service_let'));
  const let_ = output(p, 'let');
  assert.deepEqual(names(let_), ['time_', 'k8s', 'latency_p50', 'latency_p99', 'error_rate', 'request_throughput', 'bytes_throughput', 'window']);
  assert.equal(let_.kind, 'join');
  if (let_.kind === 'join') {
    assert.deepEqual([let_.leftOn, let_.rightOn], [[], []]);
    assert.deepEqual(only(let_.right, 'agg')[0]!.groups, []);
  }
  for (const src of only(let_, 'source')) assert.equal(src.startNs, FROM);
  const preds = only(let_, 'filter').map((f) => shape(f.predicate)).reverse();
  assert.deepEqual(preds, [
    ['notEqual', 'service', ''],
    // `x or not True` is x; `y or not False` is True, which drops out of the `and`.
    ['logicalAnd', ['notEqual', 'req_path', '/healthz'], ['notEqual', 'req_path', '/readyz']],
    ['contains', 'service', 'front'],
  ]);
  const hist = output(p, 'latency_histogram');
  assert.deepEqual(shape(only(hist, 'filter').at(0)!.predicate), [
    'logicalOr', ['contains', 'service', 'default/frontend'], ['contains', 'service', 'default/cart'],
  ]);
  assert.deepEqual(shape(mapped(hist, 'request_latency')), ['bin', 'latency', 50_000_000n]);
  assert.equal(mapped(hist, 'request_latency').semantic, 'ST_DURATION_NS');
});

test("Grafana macros: $__from/$__to as times, $__timeFrom() against time_, any-of variable, text forms", () => {
  const plan = output(run(loadScript('grafana_macros')), 'per_service');
  const src = only(plan, 'source')[0]!;
  assert.equal(src.startNs, FROM);
  assert.equal(src.endNs, TO);
  const preds = only(plan, 'filter').map((f) => shape(f.predicate));
  assert.deepEqual(preds.reverse(), [
    ['logicalAnd', ['greaterThanEqual', 'time_', FROM], ['lessThan', 'time_', TO]],
    ['logicalOr', ['equal', 'service', 'default/frontend'], ['equal', 'service', 'default/cart']],
  ]);
  assert.deepEqual(shape(mapped(plan, 'timestamp')), ['bin', 'time_', INTERVAL]);
  assert.deepEqual(shape(mapped(plan, 'requests_per_s')), ['divide', 'requests', 15]);
  assert.deepEqual(shape(mapped(plan, 'share_of_range')), ['divide', 'requests', 20]);
  assert.deepEqual(shape(mapped(plan, 'label')), ['add', 'service', ' @ 15s']);
});

test('variables: single value is a string; inside strings raw text, multi-value joined', () => {
  const plan = output(run(`import px
df = px.DataFrame(table='http_events')
df = df[df.req_path == $ns]
df.a = '\${ns}/x'
df.b = 'svc=$service'
df = df[df.req_method != \${service}]
px.display(df)
`), 'output');
  assert.deepEqual(shape(mapped(plan, 'a')), 'default/x');
  assert.deepEqual(shape(mapped(plan, 'b')), 'svc=default/frontend,default/cart');
  const preds = only(plan, 'filter').map((f) => shape(f.predicate)).reverse();
  assert.deepEqual(preds, [
    ['equal', 'req_path', 'default'],
    ['logicalAnd', ['notEqual', 'req_method', 'default/frontend'], ['notEqual', 'req_method', 'default/cart']],
  ]);
});

test('an empty multi-value variable matches nothing with == and everything with !=', () => {
  const opts = { ...fixedOptions, variables: { svc: [] } };
  const plan = output(run(`import px
df = px.DataFrame(table='http_events')
df = df[df.req_path == $svc]
px.display(df)
`, opts), 'output');
  assert.deepEqual(shape(only(plan, 'filter')[0]!.predicate), false);
  const all = output(run(`import px
df = px.DataFrame(table='http_events')
df = df[df.req_path != $svc]
px.display(df)
`, opts), 'output');
  assert.equal(only(all, 'filter').length, 0);
});

test("Pixie's names: __time_from/__time_to are INT64 ns and compare with time_", () => {
  const plan = output(run(`import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[df.time_ >= __time_from + 1]
df.shifted = df.time_ - __interval
px.display(df)
`), 'output');
  assert.deepEqual(shape(only(plan, 'filter')[0]!.predicate), ['greaterThanEqual', 'time_', FROM + 1n]);
  const shifted = mapped(plan, 'shifted');
  assert.equal(shifted.type, 'TIME64NS');
  assert.deepEqual(shape(shifted), ['subtract', 'time_', INTERVAL]);
});

test('type rules follow Pixie: time - time is a duration, int/int is float, mixed numbers promote', () => {
  const plan = output(run(`import px
df = px.DataFrame(table='http_events')
df.d = df.time_ - df.time_
df.f = df.latency / 2
df.m = df.latency * 1.5
df.i = df.latency * 2
df.k = df.latency // 1000
df.s = df.req_method + ' ' + df.req_path
df.n = -df.latency
df.c = px.select(df.resp_status >= 500, 1.0, 0)
px.display(df)
`), 'output');
  const t = (n: string) => [mapped(plan, n).type, mapped(plan, n).semantic];
  assert.deepEqual(t('d'), ['INT64', 'ST_DURATION_NS']);
  assert.deepEqual(t('f'), ['FLOAT64', undefined]);
  assert.deepEqual(t('m'), ['FLOAT64', undefined]);
  assert.deepEqual(t('i'), ['INT64', undefined]);
  assert.deepEqual(t('k'), ['INT64', undefined]);
  assert.deepEqual(t('s'), ['STRING', undefined]);
  assert.deepEqual(t('n'), ['INT64', 'ST_DURATION_NS']);
  assert.deepEqual(shape(mapped(plan, 'c')), ['select', ['greaterThanEqual', 'resp_status', 500n], 1, 0]);
  assert.equal(mapped(plan, 'c').type, 'FLOAT64');
});

test('constants fold, including px.now, px.parse_duration and numeric literals', () => {
  const plan = output(run(`import px
a = 1_000 * 1000
b = px.parse_duration('-1h30m')
c = px.now() - px.parse_duration('5m')
d = 7 // 2
e = -7 // 2
f = 1e9 / 4
g = 'a' + "b" '''c'''
df = px.DataFrame(table='http_events', start_time=c)
df.a = a
df.b = b
df.d = d
df.e = e
df.f = f
df.g = g
px.display(df)
`), 'output');
  assert.deepEqual(shape(mapped(plan, 'a')), 1_000_000n);
  assert.deepEqual(shape(mapped(plan, 'b')), -5_400_000_000_000n);
  assert.deepEqual(shape(mapped(plan, 'd')), 3n);
  assert.deepEqual(shape(mapped(plan, 'e')), -4n);
  assert.deepEqual(shape(mapped(plan, 'f')), 250_000_000);
  assert.deepEqual(shape(mapped(plan, 'g')), 'abc');
  assert.equal(only(plan, 'source')[0]!.startNs, NOW - 300_000_000_000n);
});

test('merge: suffixes on clashing names, keys kept from both sides, cross join with empty keys', () => {
  const p = run(`import px
a = px.DataFrame(table='http_events', select=['req_path', 'latency'])
b = a.groupby('req_path').agg(n=('latency', px.count))
j = a.merge(b, how='left', left_on='req_path', right_on=['req_path'], suffixes=['', '_x'])
c = b.merge(b, how='inner', left_on=[], right_on=[])
px.display(j, 'j')
px.display(c, 'c')
`);
  const j = output(p, 'j');
  assert.equal(j.kind, 'join');
  if (j.kind === 'join') {
    assert.equal(j.how, 'left');
    assert.deepEqual(j.leftOn, ['req_path']);
    assert.deepEqual(j.outputs.map((o) => `${o.side}.${o.column}->${o.name}`), ['left.req_path->req_path', 'left.latency->latency', 'right.req_path->req_path_x', 'right.n->n']);
  }
  const c = output(p, 'c');
  assert.deepEqual(names(c), ['req_path_x', 'n_x', 'req_path_y', 'n_y']);
});

test('a function that assigns a column of its argument changes the caller\'s DataFrame, as in Python', () => {
  const plan = output(run(`import px
def add_pod(df):
    df.pod = df.ctx['pod']

df = px.DataFrame(table='http_events')
add_pod(df)
px.display(df[['pod']])
`), 'output');
  assert.deepEqual(names(plan), ['pod']);
});

test('px.display snapshots the DataFrame: later assignments do not change the output', () => {
  const plan = output(run(`import px
df = px.DataFrame(table='http_events', select=['latency'])
px.display(df)
df.x = 1
`), 'output');
  assert.deepEqual(names(plan), ['latency']);
});

test('a script without px.display compiles with a PXL_NO_OUTPUT warning', () => {
  const r = compile('import px\nx = 1\n', fixedOptions, httpCatalog);
  assert.deepEqual(r.program.outputs, []);
  assert.deepEqual(r.warnings.map((w) => [w.severity, w.code]), [['warning', 'PXL_NO_OUTPUT']]);
});

test('a DataFrame without start_time compiles with a PXL_UNBOUNDED warning at the call', () => {
  const r = compile("import px\ndf = px.DataFrame(table='http_events')\npx.display(df)\n", fixedOptions, httpCatalog);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.span?.start.line, w.span?.start.column]), [['PXL_UNBOUNDED', 2, 6]]);
  assert.equal(only(r.program.outputs[0]!.plan, 'source')[0]!.startNs, null);
});

test('the interval is widened to respect maxDataPoints and floored at 1 ms', () => {
  assert.equal(effectiveIntervalNs({ fromNs: 0n, toNs: 3_600_000_000_000n, intervalNs: 1_000_000_000n, maxDataPoints: 100 }), 36_000_000_000n);
  assert.equal(effectiveIntervalNs({ fromNs: 0n, toNs: 60_000_000_000n, intervalNs: 1_000_000_000n, maxDataPoints: 100 }), 1_000_000_000n);
  assert.equal(effectiveIntervalNs({ fromNs: 0n, toNs: 1n, intervalNs: 0n }), 1_000_000n);
});

test('the language schema lists px functions, macros and ctx keys without operators', () => {
  const s = languageSchema();
  const fns = s.functions.map((f) => f.name);
  for (const n of ['px.count', 'px.quantiles', 'px.bin', 'px.pluck_float64', 'px.upid_to_pid', 'px.DurationNanos']) assert.ok(fns.includes(n), n);
  assert.ok(!fns.some((n) => !n.startsWith('px.')));
  assert.ok(s.macros.some((m) => m.name === '__time_from') && s.macros.some((m) => m.name === '$__timeFrom()'));
  assert.deepEqual(s.ctx.slice(0, 7), ['pod', 'service', 'namespace', 'node', 'pid', 'cmd', 'container']);
});

test('compiling a 200-line script takes well under 5 ms', () => {
  const block = (i: number) => `
def stage_${i}(df):
    ''' Step ${i}. '''
    df.c_${i} = px.select(df.resp_status >= 400, df.latency * 2, df.latency + ${i})
    df = df[df.c_${i} > ${i} and not (df.req_path == '/healthz')]
    return df
`;
  let script = "import px\ndf = px.DataFrame(table='http_events', start_time='-5m')\n";
  for (let i = 0; i < 28; i++) script += block(i) + `df = stage_${i}(df)\n`;
  script += "df = df.groupby(['req_path']).agg(n=('latency', px.count), q=('latency', px.quantiles))\npx.display(df)\n";
  assert.ok(script.split('\n').length >= 200, `${script.split('\n').length} lines`);
  for (let i = 0; i < 300; i++) compile(script, fixedOptions, httpCatalog);
  // CPU time, not wall time: other test files run beside this one on two cores.
  const runs = 100;
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) compile(script, fixedOptions, httpCatalog);
  const used = process.cpuUsage(before);
  const ms = (used.user + used.system) / 1000 / runs;
  assert.ok(ms < 5, `${ms.toFixed(2)} ms of CPU per compile`);
});

