import type { DataType, Field, SemanticType, TableSchema } from '../../src/engine/schema.js';
import type { Expr, JoinHow, JoinOutput, LiteralValue, LogicalPlan } from '../../src/engine/pxl/plan/logical.js';

/**
 * Logical plans built by hand, the way the planner would emit them: for the query bench and
 * for the executor's reference tests (which must not depend on the compiler).
 */

/** A column reference. */
export function col(name: string, type: DataType, semantic?: SemanticType): Expr {
  return { kind: 'column', name, type, semantic };
}

/** A literal. */
export function lit(value: LiteralValue, type: DataType): Expr {
  return { kind: 'literal', value, type };
}

/** A registry call. */
export function call(fn: string, type: DataType, ...args: Expr[]): Expr {
  return { kind: 'call', fn, args, type };
}

/** Scans `columns` of a table over [startNs, endNs). */
export function source(table: TableSchema, columns: readonly string[], startNs: bigint | null = null, endNs: bigint | null = null): LogicalPlan {
  const schema = columns.map((c) => {
    const f = table.fields.find((x) => x.name === c);
    if (!f) throw new Error(`no column ${c} in ${table.name}`);
    return f;
  });
  return { kind: 'source', table: table.name, columns, startNs, endNs, schema };
}

/** Keeps rows where `predicate` holds. */
export function filter(input: LogicalPlan, predicate: Expr): LogicalPlan {
  return { kind: 'filter', input, predicate, schema: input.schema };
}

/** Adds or replaces columns (`df.x = expr`), keeping the others in place. */
export function assign(input: LogicalPlan, name: string, expr: Expr): LogicalPlan {
  const exprs: { name: string; expr: Expr }[] = input.schema.map((f) => ({ name: f.name, expr: col(f.name, f.type, f.semantic) }));
  const at = exprs.findIndex((e) => e.name === name);
  if (at >= 0) exprs[at] = { name, expr };
  else exprs.push({ name, expr });
  return project(input, exprs);
}

/** The complete output as expressions. */
export function project(input: LogicalPlan, exprs: readonly { name: string; expr: Expr }[]): LogicalPlan {
  const schema: Field[] = exprs.map((e) => ({ name: e.name, type: e.expr.type, semantic: e.expr.semantic ?? 'ST_NONE' }));
  return { kind: 'map', input, exprs, schema };
}

/** Keeps the named columns, in that order. */
export function keep(input: LogicalPlan, names: readonly string[]): LogicalPlan {
  return project(
    input,
    names.map((n) => {
      const f = input.schema.find((x) => x.name === n)!;
      return { name: n, expr: col(n, f.type, f.semantic) };
    }),
  );
}

/** One aggregate: `name = fn(column)`. */
export interface AggSpec {
  readonly name: string;
  readonly fn: string;
  readonly column: string;
  readonly type: DataType;
}

/** groupby(groups).agg(...) */
export function agg(input: LogicalPlan, groups: readonly string[], aggs: readonly AggSpec[]): LogicalPlan {
  const field = (n: string): Field => input.schema.find((x) => x.name === n)!;
  return {
    kind: 'agg',
    input,
    groups,
    aggs: aggs.map((a) => ({ name: a.name, fn: a.fn, args: [col(a.column, field(a.column).type)], type: a.type })),
    schema: [...groups.map(field), ...aggs.map((a) => ({ name: a.name, type: a.type }))],
  };
}

/** merge(): every left column then every right column, clashing names suffixed as pandas does. */
export function join(left: LogicalPlan, right: LogicalPlan, how: JoinHow, leftOn: readonly string[], rightOn: readonly string[], suffixes: readonly [string, string] = ['_x', '_y']): LogicalPlan {
  const lnames = new Set(left.schema.map((f) => f.name));
  const rnames = new Set(right.schema.map((f) => f.name));
  const outputs: JoinOutput[] = [];
  const schema: Field[] = [];
  for (const f of left.schema) {
    const name = rnames.has(f.name) ? f.name + suffixes[0] : f.name;
    outputs.push({ side: 'left', column: f.name, name });
    schema.push({ ...f, name });
  }
  for (const f of right.schema) {
    const name = lnames.has(f.name) ? f.name + suffixes[1] : f.name;
    outputs.push({ side: 'right', column: f.name, name });
    schema.push({ ...f, name });
  }
  return { kind: 'join', left, right, how, leftOn, rightOn, outputs, schema };
}

/** append() */
export function union(...inputs: LogicalPlan[]): LogicalPlan {
  return { kind: 'union', inputs, schema: inputs[0]!.schema };
}

/** head(n) */
export function limit(input: LogicalPlan, n: number): LogicalPlan {
  return { kind: 'limit', input, n, schema: input.schema };
}

/** Dashboard query 1: requests per time bin. */
export function binCount(table: TableSchema, start: bigint, end: bigint, binNs: number): LogicalPlan {
  let df = source(table, ['time_'], start, end);
  df = assign(df, 'timestamp', call('bin', 'TIME64NS', col('time_', 'TIME64NS'), lit(binNs, 'INT64')));
  return agg(df, ['timestamp'], [{ name: 'throughput', fn: 'count', column: 'time_', type: 'INT64' }]);
}

/** Dashboard query 2: latency p50/p90/p99 per time bin and service. */
export function binQuantiles(table: TableSchema, start: bigint, end: bigint, binNs: number): LogicalPlan {
  let df = source(table, ['time_', 'upid', 'latency'], start, end);
  df = assign(df, 'timestamp', call('bin', 'TIME64NS', col('time_', 'TIME64NS'), lit(binNs, 'INT64')));
  df = assign(df, 'service', call('upid_to_service_name', 'STRING', col('upid', 'UINT128')));
  df = agg(df, ['timestamp', 'service'], [{ name: 'latency_quantiles', fn: 'quantiles', column: 'latency', type: 'STRING' }]);
  const q = col('latency_quantiles', 'STRING');
  return project(df, [
    { name: 'timestamp', expr: col('timestamp', 'TIME64NS') },
    { name: 'service', expr: col('service', 'STRING') },
    { name: 'latency_p50', expr: call('pluck_float64', 'FLOAT64', q, lit('p50', 'STRING')) },
    { name: 'latency_p90', expr: call('pluck_float64', 'FLOAT64', q, lit('p90', 'STRING')) },
    { name: 'latency_p99', expr: call('pluck_float64', 'FLOAT64', q, lit('p99', 'STRING')) },
  ]);
}

/** Dashboard query 3: per service, errors (status >= 400) over all requests. */
export function errorRate(table: TableSchema, start: bigint, end: bigint): LogicalPlan {
  let all = source(table, ['time_', 'upid', 'resp_status'], start, end);
  all = assign(all, 'service', call('upid_to_service_name', 'STRING', col('upid', 'UINT128')));
  const errors = agg(filter(all, call('greaterThanEqual', 'BOOLEAN', col('resp_status', 'INT64'), lit(400, 'INT64'))), ['service'], [
    { name: 'errors', fn: 'count', column: 'resp_status', type: 'INT64' },
  ]);
  const totals = agg(all, ['service'], [{ name: 'requests', fn: 'count', column: 'resp_status', type: 'INT64' }]);
  const j = join(totals, errors, 'left', ['service'], ['service']);
  return project(j, [
    { name: 'service', expr: col('service_x', 'STRING') },
    { name: 'requests', expr: col('requests', 'INT64') },
    { name: 'errors', expr: col('errors', 'INT64') },
    { name: 'error_rate', expr: call('divide', 'FLOAT64', col('errors', 'INT64'), col('requests', 'INT64')) },
  ]);
}

/**
 * Dashboard query 3, as Pixie's scripts write it (errors_per_service): one pass, a filter on
 * the service, the error flag averaged per service.
 */
export function errorRateOnePass(table: TableSchema, start: bigint, end: bigint): LogicalPlan {
  let df = source(table, ['time_', 'upid', 'resp_status'], start, end);
  df = assign(df, 'service', call('upid_to_service_name', 'STRING', col('upid', 'UINT128')));
  df = filter(df, call('notEqual', 'BOOLEAN', col('service', 'STRING'), lit('', 'STRING')));
  df = assign(df, 'failure', call('greaterThanEqual', 'BOOLEAN', col('resp_status', 'INT64'), lit(400, 'INT64')));
  df = agg(df, ['service'], [
    { name: 'requests', fn: 'count', column: 'resp_status', type: 'INT64' },
    { name: 'errors', fn: 'sum', column: 'failure', type: 'INT64' },
    { name: 'error_rate', fn: 'mean', column: 'failure', type: 'FLOAT64' },
  ]);
  return df;
}
