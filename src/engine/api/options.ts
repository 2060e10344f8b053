import { PxlError } from '../pxl/diagnostic.js';
import type { AdhocFilter } from '../pxl/plan/adhoc.js';
import type { FunctionCall } from '../pxl/plan/invoke.js';
import type { QueryRequest } from './contract.js';

/** The time frame a script runs in, resolved from a request: what the PxL macros expand to. */
export interface QueryFrame {
  readonly fromNs: bigint;
  readonly toNs: bigint;
  readonly intervalNs: bigint;
  readonly nowNs: bigint;
  readonly maxDataPoints: number;
  readonly variables: Readonly<Record<string, string | readonly string[]>>;
  readonly adhocFilters: readonly AdhocFilter[];
  /** The script's function to run with arguments, when the request names one. */
  readonly call?: FunctionCall;
  /** What `$__columns` stands for, when the request picks columns. */
  readonly columns?: readonly string[];
}

/** The one-of operators take `values` (or a lone `value`); every other operator one `value`. */
function checkFilterValues(f: AdhocFilter, i: number): void {
  const multi = f.operator === '=|' || f.operator === '!=|';
  if (multi ? f.value === undefined && f.values === undefined : f.value === undefined || f.values !== undefined) {
    throw new PxlError('BAD_REQUEST', `adhocFilters[${i}]: operator '${f.operator}' takes ${multi ? "'values' (a list) or 'value'" : "one 'value' and no 'values'"}`);
  }
}

const DEFAULT_RANGE_MS = 5 * 60 * 1000;
const DEFAULT_MAX_DATA_POINTS = 1000;
const NS_PER_MS = 1_000_000n;

/**
 * Resolves range, interval and maxDataPoints the way Grafana means them: no range → the last
 * five minutes; no interval → range / maxDataPoints; an interval that would give more bins than
 * maxDataPoints is widened so it does not (Grafana's own rule for `$__interval`).
 */
export function resolveFrame(req: QueryRequest, nowMs: number): QueryFrame {
  const to = req.range?.to ?? nowMs;
  const from = req.range?.from ?? to - DEFAULT_RANGE_MS;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) {
    throw new PxlError('BAD_REQUEST', `range must have finite epoch-ms 'from' ≤ 'to' (got from=${from}, to=${to})`);
  }
  const maxDataPoints = req.maxDataPoints ?? DEFAULT_MAX_DATA_POINTS;
  if (!Number.isInteger(maxDataPoints) || maxDataPoints < 1) {
    throw new PxlError('BAD_REQUEST', `maxDataPoints must be a positive integer (got ${maxDataPoints})`);
  }
  if (req.intervalMs !== undefined && !(Number.isFinite(req.intervalMs) && req.intervalMs > 0)) {
    throw new PxlError('BAD_REQUEST', `intervalMs must be a positive number (got ${req.intervalMs})`);
  }
  (req.adhocFilters ?? []).forEach(checkFilterValues);
  const span = to - from;
  const minInterval = Math.max(1, Math.ceil(span / maxDataPoints));
  const intervalMs = Math.max(Math.round(req.intervalMs ?? minInterval), minInterval);
  return {
    fromNs: BigInt(Math.trunc(from)) * NS_PER_MS,
    toNs: BigInt(Math.trunc(to)) * NS_PER_MS,
    intervalNs: BigInt(intervalMs) * NS_PER_MS,
    nowNs: BigInt(Math.trunc(nowMs)) * NS_PER_MS,
    maxDataPoints,
    variables: req.variables ?? {},
    adhocFilters: req.adhocFilters ?? [],
    ...(req.function ? { call: { name: req.function.name, args: req.function.args ?? {} } } : {}),
    ...(req.columns && req.columns.length > 0 ? { columns: req.columns } : {}),
  };
}
