import type { AdHocVariableFilter, MetricFindValue, QueryFixAction, ToggleFilterAction } from '@grafana/data';

import { ADHOC_OPERATORS } from './types.js';
import type { AdhocFilter, SchemaResponse, WispQuery } from './types.js';

/**
 * Ad hoc filters: Grafana's filters become the request's structured `adhocFilters`, which the
 * engine applies to every DataFrame a script reads from a table (docs/api.md). Nothing here
 * touches script text.
 */

const KNOWN = new Set<string>(ADHOC_OPERATORS);
const MULTI = new Set(['=|', '!=|']);

/** Whether the engine applies this filter's operator. */
export function isApplicable(f: AdHocVariableFilter): boolean {
  return KNOWN.has(f.operator);
}

/** Grafana's filters as the engine takes them; an operator the engine does not apply is an error. */
export function toAdhocFilters(filters: readonly AdHocVariableFilter[]): AdhocFilter[] {
  return filters.map((f) => {
    if (!isApplicable(f)) {
      throw new Error(`ad hoc filter ${f.key} ${f.operator} ${f.value}: the engine applies ${ADHOC_OPERATORS.join(' ')}, not '${f.operator}'`);
    }
    const operator = f.operator as AdhocFilter['operator'];
    return MULTI.has(operator) ? { key: f.key, operator, values: f.values?.length ? f.values : [f.value] } : { key: f.key, operator, value: f.value };
  });
}

/** Column types whose values make sense as filter values (no times, no UPIDs). */
const FILTERABLE = new Set(['STRING', 'INT64', 'FLOAT64', 'BOOLEAN']);

/**
 * Filter keys: the columns of every table (http_events first, each name once, grouped by its
 * table), then the `df.ctx` metadata keys, which the engine applies through `upid`.
 */
export function tagKeys(schema: SchemaResponse): MetricFindValue[] {
  const seen = new Set<string>();
  const out: MetricFindValue[] = [];
  const tables = [...schema.tables].sort((a, b) => Number(b.name === 'http_events') - Number(a.name === 'http_events'));
  for (const t of tables) {
    for (const c of t.columns) {
      if (FILTERABLE.has(c.type) && !seen.has(c.name)) {
        seen.add(c.name);
        out.push({ text: c.name, value: c.name, group: t.name });
      }
    }
  }
  for (const k of schema.ctx) {
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ text: k, value: k, group: 'df.ctx (metadata)' });
    }
  }
  return out;
}

/** Most distinct values a filter's value list offers. */
const TAG_VALUES_LIMIT = 1000;

/**
 * The script listing a key's distinct values over the query range: a group-by with no
 * aggregate on the first table holding the key (a `df.ctx` key on one with `upid`), capped at
 * TAG_VALUES_LIMIT. Undefined when no table has the key. Other filters travel in the request's
 * `adhocFilters`, so the list narrows with them.
 */
export function tagValuesScript(key: string, schema: SchemaResponse): string | undefined {
  const has = (t: SchemaResponse['tables'][number], c: string) => t.columns.some((x) => x.name === c);
  const byColumn = schema.tables.find((t) => t.name === 'http_events' && has(t, key)) ?? schema.tables.find((t) => has(t, key));
  const byCtx = schema.ctx.includes(key) ? schema.tables.find((t) => t.name === 'http_events' && has(t, 'upid')) ?? schema.tables.find((t) => has(t, 'upid')) : undefined;
  const table = byColumn ?? byCtx;
  if (!table || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    return undefined;
  }
  const value = byColumn ? `df.${key}` : `df.ctx['${key}']`;
  return `import px

df = px.DataFrame(table='${table.name}', start_time=__time_from, end_time=__time_to)
df.filter_value = ${value}
df = df.groupby('filter_value').agg()
px.display(df.head(${TAG_VALUES_LIMIT}), 'values')
`;
}

/** Values sorted as people read them: numbers by value, the rest alphabetically; no empty value. */
export function sortedValues(values: Iterable<unknown>): MetricFindValue[] {
  const texts = [...new Set([...values].map((v) => String(v ?? '')))].filter((v) => v !== '');
  const numeric = texts.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
  texts.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => a.localeCompare(b));
  return texts.map((text) => ({ text, value: text }));
}

const same = (f: AdhocFilter, key: string, value: string) => f.key === key && f.value === value;

/** The query with `key = value` (or `!=` when `out`) among its own filters, replacing the opposite one. */
function withFilter(query: WispQuery, key: string, value: string, out: boolean): WispQuery {
  const kept = (query.adhocFilters ?? []).filter((f) => !(same(f, key, value) && (f.operator === '=' || f.operator === '!=')));
  return { ...query, adhocFilters: [...kept, { key, operator: out ? '!=' : '=', value }] };
}

/** Explore's "filter for value" / "filter out value" (modifyQuery): ADD_FILTER and ADD_FILTER_OUT. */
export function modifyQuery(query: WispQuery, action: QueryFixAction): WispQuery {
  const key = action.options?.key;
  const value = action.options?.value;
  if (key === undefined || value === undefined) {
    return query;
  }
  switch (action.type) {
    case 'ADD_FILTER':
      return withFilter(query, key, value, false);
    case 'ADD_FILTER_OUT':
      return withFilter(query, key, value, true);
    default:
      return query;
  }
}

/** The query-modification actions modifyQuery handles. */
export const QUERY_MODIFICATIONS = ['ADD_FILTER', 'ADD_FILTER_OUT'];

/** Log details' toggles: the same filter again removes it, the opposite one replaces it. */
export function toggleQueryFilter(query: WispQuery, filter: ToggleFilterAction): WispQuery {
  const { key, value } = filter.options;
  const op = filter.type === 'FILTER_FOR' ? '=' : '!=';
  const existing = (query.adhocFilters ?? []).find((f) => same(f, key, value) && f.operator === op);
  if (existing) {
    return { ...query, adhocFilters: (query.adhocFilters ?? []).filter((f) => f !== existing) };
  }
  return withFilter(query, key, value, op === '!=');
}

/** Whether the query filters for `key = value` (log details show the toggle as active). */
export function queryHasFilter(query: WispQuery, filter: { key: string; value: string }): boolean {
  return (query.adhocFilters ?? []).some((f) => same(f, filter.key, filter.value) && f.operator === '=');
}
