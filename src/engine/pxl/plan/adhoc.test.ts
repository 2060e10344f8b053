import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedOptions, httpCatalog } from '../../../testkit/pxl-scripts/scripts.js';
import { compile } from '../compile.js';
import { PxlError } from '../diagnostic.js';
import type { AdhocFilter } from './adhoc.js';
import type { Expr, LogicalPlan } from './logical.js';

function withFilters(script: string, adhocFilters: AdhocFilter[]) {
  return compile(script, { ...fixedOptions, adhocFilters }, httpCatalog);
}

/** The chain of nodes from the output down to its (only) source, outermost first. */
function chain(plan: LogicalPlan): LogicalPlan[] {
  const out = [plan];
  while (out.at(-1)!.kind !== 'source') {
    const p = out.at(-1)!;
    assert.ok(p.kind !== 'join' && p.kind !== 'union' && p.kind !== 'source');
    out.push(p.input);
  }
  return out;
}

/** Calls by function name, columns by name, literals by value. */
function shape(e: Expr): unknown {
  if (e.kind === 'column') return e.name;
  if (e.kind === 'literal') return typeof e.value === 'bigint' ? `${e.value}n` : e.value;
  return [e.fn, ...e.args.map(shape)];
}

/** The predicates of the Filter nodes right above the source, innermost first. */
function sourceFilters(plan: LogicalPlan): unknown[] {
  const nodes = chain(plan).reverse().slice(1);
  const out: unknown[] = [];
  for (const n of nodes) {
    if (n.kind !== 'filter') break;
    out.push(shape(n.predicate));
  }
  return out;
}

const RAW = `import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df.service = df.ctx['service']
px.display(df[['time_', 'service', 'resp_status']], 'raw')
`;

test('a filter on a column narrows the source itself, typed from the column; the report names the table', () => {
  const r = withFilters(RAW, [
    { key: 'resp_status', operator: '>=', value: '500' },
    { key: 'req_method', operator: '=', value: 'GET' },
  ]);
  assert.deepEqual(sourceFilters(r.program.outputs[0]!.plan), [
    ['greaterThanEqual', 'resp_status', '500n'],
    ['equal', 'req_method', 'GET'],
  ]);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.adhocFilters, [
    { key: 'resp_status', operator: '>=', value: '500', appliedTo: ['http_events'] },
    { key: 'req_method', operator: '=', value: 'GET', appliedTo: ['http_events'] },
  ]);
});

test('without filters the plan and the result are what they always were', () => {
  const plain = compile(RAW, fixedOptions, httpCatalog);
  assert.deepEqual(withFilters(RAW, []).program, plain.program);
  assert.equal(plain.adhocFilters, undefined);
  assert.deepEqual(sourceFilters(plain.program.outputs[0]!.plan), []);
});

test('a df.ctx key the table has no column for filters through the metadata lookup on upid', () => {
  const r = withFilters(RAW, [{ key: 'service', operator: '!=', value: 'default/cart' }]);
  assert.deepEqual(sourceFilters(r.program.outputs[0]!.plan), [['notEqual', ['upid_to_service_name', 'upid'], 'default/cart']]);
  assert.deepEqual(r.adhocFilters?.[0]?.appliedTo, ['http_events']);
});

test('regular expressions, one-of and none-of', () => {
  const r = withFilters(RAW, [
    { key: 'req_path', operator: '=~', value: '/api/.*' },
    { key: 'req_path', operator: '!~', value: '/healthz' },
    { key: 'resp_status', operator: '=|', values: ['500', '503'] },
    { key: 'req_method', operator: '!=|', values: ['GET', 'HEAD'] },
  ]);
  assert.deepEqual(sourceFilters(r.program.outputs[0]!.plan), [
    ['regex_match', '/api/.*', 'req_path'],
    ['logicalNot', ['regex_match', '/healthz', 'req_path']],
    ['logicalOr', ['equal', 'resp_status', '500n'], ['equal', 'resp_status', '503n']],
    ['logicalAnd', ['notEqual', 'req_method', 'GET'], ['notEqual', 'req_method', 'HEAD']],
  ]);
});

test('a column the script did not select= is read for the filter and projected away', () => {
  const script = `import px
df = px.DataFrame(table='http_events', select=['time_', 'latency'], start_time=__time_from)
px.display(df, 'lat')
`;
  const plan = withFilters(script, [{ key: 'resp_status', operator: '=', value: '404' }]).program.outputs[0]!.plan;
  assert.deepEqual(plan.schema.map((f) => f.name), ['time_', 'latency']);
  const nodes = chain(plan);
  const source = nodes.at(-1) as LogicalPlan & { kind: 'source' };
  assert.deepEqual(source.columns, ['time_', 'latency', 'resp_status']);
  assert.deepEqual(sourceFilters(plan), [['equal', 'resp_status', '404n']]);
});

test('a key the table lacks leaves it alone and warns once, at the px.DataFrame call, even from a def called twice', () => {
  const script = `import px
def load():
    return px.DataFrame(table='http_events', start_time=__time_from)
a = load()
b = load()
px.display(a.append(b), 'both')
`;
  const r = withFilters(script, [{ key: 'no_such', operator: '=', value: 'x' }]);
  assert.deepEqual(
    r.warnings.map((w) => [w.code, w.span?.start.line, w.span?.start.column, w.message]),
    [['ADHOC_FILTER_NOT_APPLIED', 3, 12, "ad hoc filter no_such = 'x' was not applied to http_events: it has no column 'no_such'"]],
  );
  assert.deepEqual(r.adhocFilters, [{ key: 'no_such', operator: '=', value: 'x', appliedTo: [] }]);
});

test('a value that does not fit the column, or a pattern that does not compile, is an error naming the filter', () => {
  const cases: [AdhocFilter, string, RegExp][] = [
    [{ key: 'resp_status', operator: '=', value: 'abc' }, 'PXL_VALUE', /^ad hoc filter resp_status = 'abc' cannot apply to http_events: 'abc' is not an integer \(resp_status is INT64\)$/],
    [{ key: 'encrypted', operator: '=', value: 'yes' }, 'PXL_VALUE', /'yes' is not true or false/],
    [{ key: 'req_path', operator: '=~', value: '(' }, 'PXL_VALUE', /^ad hoc filter req_path =~ '\(' cannot apply to http_events: /],
    [{ key: 'latency', operator: '=~', value: '1.*' }, 'PXL_TYPE', /^ad hoc filter latency =~ '1\.\*' cannot apply to http_events: .*INT64/],
    [{ key: 'upid', operator: '=', value: '1' }, 'PXL_VALUE', /UINT128 columns cannot be filtered by value/],
  ];
  for (const [f, code, re] of cases) {
    assert.throws(
      () => withFilters(RAW, [f]),
      (e: unknown) => e instanceof PxlError && e.diagnostic.code === code && re.test(e.diagnostic.message) && e.diagnostic.span?.start.line === 2,
      JSON.stringify(f),
    );
  }
});
