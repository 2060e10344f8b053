import { PxlCode, PxlError, type Diagnostic, type Span } from '../diagnostic.js';
import type { DataType, TableSchema } from '../../schema.js';
import type { FoldContext } from '../functions/entry.js';
import * as build from './builders.js';
import { applyNamed, toExpr } from './exprs.js';
import type { LogicalPlan } from './logical.js';
import type { Value } from './values.js';

/**
 * Grafana's ad hoc filters (the dashboard's filter bar, "filter for value" on a cell), sent as
 * data in the query request and applied to every DataFrame a script reads from a table, never
 * by editing the script's text.
 */

/** Operators of Grafana's ad hoc filters; `=|` and `!=|` take `values` (one of, none of). */
export const ADHOC_OPERATORS = ['=', '!=', '<', '>', '<=', '>=', '=~', '!~', '=|', '!=|'] as const;
type AdhocOperator = (typeof ADHOC_OPERATORS)[number];

/** One filter as the request carries it. */
export interface AdhocFilter {
  readonly key: string;
  readonly operator: AdhocOperator;
  readonly value?: string;
  readonly values?: readonly string[];
}

/** What became of one filter: the tables whose DataFrames it narrowed (each named once). */
export interface AdhocFilterReport extends AdhocFilter {
  readonly appliedTo: readonly string[];
}

/** Filters of one compile, and what happened to each. */
export interface AdhocContext {
  readonly filters: readonly AdhocFilter[];
  /** `df.ctx` keys and the registry lookups on `upid` they stand for (dataframe.ts's CTX_KEYS). */
  readonly ctxKeys: Readonly<Record<string, string>>;
  readonly applied: readonly Set<string>[];
  /** `filter index/table` pairs already warned about, so a `def` called twice warns once. */
  readonly skipped: Set<string>;
}

export function adhocContext(filters: readonly AdhocFilter[], ctxKeys: Readonly<Record<string, string>>): AdhocContext {
  return { filters, ctxKeys, applied: filters.map(() => new Set<string>()), skipped: new Set() };
}

export function adhocReport(ctx: AdhocContext): AdhocFilterReport[] {
  return ctx.filters.map((f, i) => ({ ...f, appliedTo: [...ctx.applied[i]!] }));
}

const COMPARISON: Record<Exclude<AdhocOperator, '=~' | '!~' | '=|' | '!=|'>, string> = {
  '=': 'equal',
  '!=': 'notEqual',
  '<': 'lessThan',
  '>': 'greaterThan',
  '<=': 'lessThanEqual',
  '>=': 'greaterThanEqual',
};

/** How a filter is written back in messages: `resp_status = '500'`. */
function describeFilter(f: AdhocFilter): string {
  const v = f.operator === '=|' || f.operator === '!=|' ? `[${valuesOf(f).map((x) => `'${x}'`).join(', ')}]` : `'${f.value ?? ''}'`;
  return `${f.key} ${f.operator} ${v}`;
}

function valuesOf(f: AdhocFilter): readonly string[] {
  return f.values ?? (f.value !== undefined ? [f.value] : []);
}

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A filter value as a constant of the column's type, or the reason it cannot be one. */
function constant(text: string, type: DataType, at: Span): Value | string {
  switch (type) {
    case 'STRING':
      return { kind: 'const', type, value: text, at };
    case 'INT64':
    case 'TIME64NS':
      return INTEGER.test(text.trim()) ? { kind: 'const', type: 'INT64', value: BigInt(text.trim()), at } : `'${text}' is not an integer`;
    case 'FLOAT64':
      return FLOAT.test(text.trim()) ? { kind: 'const', type, value: Number(text.trim()), at } : `'${text}' is not a number`;
    case 'BOOLEAN':
      return text === 'true' || text === 'false' ? { kind: 'const', type, value: text === 'true', at } : `'${text}' is not true or false`;
    case 'UINT128':
      return 'UINT128 columns cannot be filtered by value';
  }
}

/** The BOOLEAN expression one filter stands for over `column`, checked as the compiler checks a script's. */
function predicate(f: AdhocFilter, column: Value, type: DataType, at: Span, fold: FoldContext): Value {
  const consts = valuesOf(f).map((v) => constant(v, f.operator === '=~' || f.operator === '!~' ? 'STRING' : type, at));
  const bad = consts.find((c): c is string => typeof c === 'string');
  if (bad !== undefined) throw new PxlError(PxlCode.value, `${bad} (${f.key} is ${type})`, at);
  const values = consts as Value[];
  switch (f.operator) {
    case '=~':
    case '!~': {
      const match = applyNamed('regex_match', [values[0]!, column], at, fold);
      return f.operator === '=~' ? match : applyNamed('logicalNot', [match], at, fold);
    }
    case '=|':
    case '!=|':
      return applyNamed(f.operator === '=|' ? 'equal' : 'notEqual', [column, { kind: 'list', tuple: false, items: values, at }], at, fold);
    default:
      return applyNamed(COMPARISON[f.operator], [column, values[0]!], at, fold);
  }
}

/**
 * What a filter key names in a table: its column, or — when the table has no such column but
 * has `upid` — the `df.ctx[key]` metadata lookup (`service`, `pod`, `namespace` …).
 */
function keyIn(table: TableSchema, key: string, ctxKeys: Readonly<Record<string, string>>): { column: string; ctx?: string } | undefined {
  if (table.fields.some((f) => f.name === key)) return { column: key };
  const fn = Object.hasOwn(ctxKeys, key) ? ctxKeys[key] : undefined;
  if (fn && table.fields.some((f) => f.name === 'upid')) return { column: 'upid', ctx: fn };
  return undefined;
}

/**
 * The source DataFrame of `px.DataFrame(table=...)` with the request's ad hoc filters applied:
 * one Filter per filter whose key the table has (as a column, or as a `df.ctx` key), placed
 * right above the Source, so every later step of the script sees only matching rows. A column
 * the script did not `select=` is read for the filter and projected away again. A filter whose
 * key the table lacks leaves it alone and is reported in a warning.
 */
export function applyAdhocFilters(
  source: LogicalPlan & { kind: 'source' },
  table: TableSchema,
  ctx: AdhocContext,
  at: Span,
  fold: FoldContext,
  warn: (d: Diagnostic) => void,
): LogicalPlan {
  const keys = ctx.filters.map((f) => keyIn(table, f.key, ctx.ctxKeys));
  const needed = [...new Set(keys.flatMap((k) => (k ? [k.column] : [])))].filter((c) => !source.columns.includes(c));
  let plan: LogicalPlan = source;
  if (needed.length > 0) {
    plan = build.source(table, [...source.columns, ...needed].map((name) => ({ name, at })), source.startNs, source.endNs);
  }
  ctx.filters.forEach((f, i) => {
    const k = keys[i];
    if (!k) {
      const id = `${i}/${table.name}`;
      if (!ctx.skipped.has(id)) {
        ctx.skipped.add(id);
        warn({
          severity: 'warning',
          code: PxlCode.adhocFilterNotApplied,
          message: `ad hoc filter ${describeFilter(f)} was not applied to ${table.name}: it has no column '${f.key}'`,
          span: at,
          hints: [`columns of ${table.name}: ${table.fields.map((x) => x.name).join(', ')}`],
        });
      }
      return;
    }
    const ref: Value = { kind: 'column', expr: build.columnRef(plan, k.column, at), at };
    const column = k.ctx ? applyNamed(k.ctx, [ref], at, fold) : ref;
    try {
      plan = build.filter(plan, toExpr(predicate(f, column, toExpr(column, f.key).type, at, fold), 'the ad hoc filter'), at);
    } catch (e) {
      if (!(e instanceof PxlError)) throw e;
      const d = e.diagnostic;
      throw new PxlError(d.code, `ad hoc filter ${describeFilter(f)} cannot apply to ${table.name}: ${d.message}`, at, d.hints);
    }
    ctx.applied[i]!.add(table.name);
  });
  return needed.length > 0 ? build.project(plan, source.columns.map((name) => ({ name, at })), at) : plan;
}
