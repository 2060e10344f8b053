import type { AdhocFilter, FunctionCall, QueryRequest } from './types.js';

/** The parts of Grafana's DataQueryRequest a query body is built from. */
export interface RequestContext {
  range: { from: { valueOf(): number }; to: { valueOf(): number } };
  intervalMs?: number;
  maxDataPoints?: number;
}

/**
 * The body of POST /api/v1/query. The script goes unchanged: the engine expands the macros
 * (`__time_from`, `$__interval`, …) from `range` and `intervalMs`, substitutes dashboard
 * variables from `variables`, and applies ad hoc filters from `adhocFilters` to the script's
 * DataFrame sources. A picked function goes as `function` (its argument values with dashboard
 * variables already replaced: they are values, not code) and picked columns as `columns`.
 */
export function buildQueryRequest(
  script: string,
  ctx: RequestContext,
  variables: Record<string, string | string[]>,
  adhocFilters: AdhocFilter[] = [],
  pick: { function?: FunctionCall; columns?: string[] } = {}
): QueryRequest {
  const body: QueryRequest = {
    script,
    range: { from: ctx.range.from.valueOf(), to: ctx.range.to.valueOf() },
  };
  if (ctx.intervalMs !== undefined && ctx.intervalMs > 0) {
    body.intervalMs = ctx.intervalMs;
  }
  if (ctx.maxDataPoints !== undefined && ctx.maxDataPoints > 0) {
    body.maxDataPoints = ctx.maxDataPoints;
  }
  if (Object.keys(variables).length > 0) {
    body.variables = variables;
  }
  if (adhocFilters.length > 0) {
    body.adhocFilters = adhocFilters;
  }
  if (pick.function && pick.function.name !== '') {
    body.function = pick.function;
  }
  if (pick.columns && pick.columns.length > 0) {
    body.columns = pick.columns;
  }
  return body;
}
