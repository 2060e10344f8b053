import assert from 'node:assert/strict';
import type { QueryResponse, ResultTable } from '../../src/engine/api/contract.js';

/**
 * Compares a broker's answer with one engine's. Row order is not part of the contract (groups
 * come out in arrival order), so rows are matched as multisets: each broker row must pair with
 * its own reference row. Strings, booleans and plain INT64 (counts, statuses, sizes) must be
 * equal; the tolerances below apply to the rest.
 */
export interface Tolerance {
  /** Relative, for FLOAT64 (sums in another order; quantile-derived values). */
  readonly float: number;
  /**
   * Relative, for each value of a quantiles object (the sketch's bound is 1 %); latency
   * quantiles also pass within `durationAbsNs`, as the durations they summarise do.
   */
  readonly quantile: number;
  /** Absolute ns, for TIME64NS. */
  readonly timeNs: number;
  /** Relative, or absolute ns below `durationAbsNs`, for INT64 durations (ST_DURATION_NS). */
  readonly duration: number;
  readonly durationAbsNs: number;
}

/**
 * For engines over the same rows: only summation order and the sketch's stated bound may differ.
 */
export const SAME_ROWS: Tolerance = { float: 1e-9, quantile: 0.01, timeNs: 0, duration: 0, durationAbsNs: 0 };

type Cell = string | number | boolean;
type Column = ResultTable['columns'][number];

function rows(t: ResultTable): Cell[][] {
  return Array.from({ length: t.rowCount }, (_, i) => t.data.map((c) => c[i]!));
}

function exact(c: Column, tol: Tolerance): boolean {
  if (c.semantic === 'ST_QUANTILES' || c.type === 'FLOAT64') return false;
  if (c.type === 'TIME64NS') return tol.timeNs === 0;
  if (c.type === 'INT64' && c.semantic === 'ST_DURATION_NS') return tol.duration === 0 && tol.durationAbsNs === 0;
  return true;
}

function close(a: number, b: number, rel: number, abs = 0): boolean {
  if (a === b) return true;
  const d = Math.abs(a - b);
  return d <= abs || d <= rel * Math.max(Math.abs(a), Math.abs(b));
}

function sameCell(c: Column, a: Cell, b: Cell, tol: Tolerance): boolean {
  if (c.type === 'FLOAT64' && typeof a === 'number' && typeof b === 'number') return close(a, b, tol.float);
  if (c.semantic === 'ST_QUANTILES' && typeof a === 'string' && typeof b === 'string') {
    const qa = JSON.parse(a) as Record<string, number | null>;
    const qb = JSON.parse(b) as Record<string, number | null>;
    return Object.keys(qb).every((k) => (qa[k] === null || qb[k] === null ? qa[k] === qb[k] : close(qa[k]!, qb[k]!, tol.quantile, tol.durationAbsNs)));
  }
  if (c.type === 'TIME64NS' && typeof a === 'string' && typeof b === 'string') return Math.abs(Number(BigInt(a) - BigInt(b))) <= tol.timeNs;
  if (c.type === 'INT64' && c.semantic === 'ST_DURATION_NS') return close(Number(a), Number(b), tol.duration, tol.durationAbsNs);
  return a === b;
}

function sameRow(t: ResultTable, a: readonly Cell[], b: readonly Cell[], tol: Tolerance): boolean {
  return t.columns.every((c, j) => sameCell(c, a[j]!, b[j]!, tol));
}

/** Rows of `pool` by their exactly compared cells. */
function byExactKey(t: ResultTable, pool: Cell[][], tol: Tolerance): Map<string, { row: Cell[]; used: boolean }[]> {
  const out = new Map<string, { row: Cell[]; used: boolean }[]>();
  for (const r of pool) {
    const k = keyOf(t, r, tol);
    out.set(k, [...(out.get(k) ?? []), { row: r, used: false }]);
  }
  return out;
}

function keyOf(t: ResultTable, r: readonly Cell[], tol: Tolerance): string {
  return t.columns.map((c, j) => (exact(c, tol) ? String(r[j]) : '')).join('\u0000');
}

/**
 * Asserts equal answers: output names, columns, row counts, and rows. `limited` holds, per
 * output cut by head(n), the answer without the cut: over several engines head(n) keeps some n
 * rows, each of which must be a row of the whole.
 */
export function assertSameAnswer(what: string, broker: QueryResponse, reference: QueryResponse, tol: Tolerance = SAME_ROWS, limited: ReadonlyMap<string, QueryResponse> = new Map()): void {
  assert.deepEqual(
    broker.tables.map((t) => t.name),
    reference.tables.map((t) => t.name),
    `${what}: output names`,
  );
  broker.tables.forEach((bt, i) => {
    const rt = reference.tables[i]!;
    assert.deepEqual(bt.columns, rt.columns, `${what}/${bt.name}: columns`);
    assert.equal(bt.rowCount, rt.rowCount, `${what}/${bt.name}: row count`);
    const whole = limited.get(bt.name)?.tables.find((t) => t.name === bt.name) ?? rt;
    const pool = byExactKey(bt, rows(whole), tol);
    for (const r of rows(bt)) {
      const cands = pool.get(keyOf(bt, r, tol)) ?? [];
      const hit = cands.find((c) => !c.used && sameRow(bt, r, c.row, tol));
      assert.ok(hit, `${what}/${bt.name}: broker row ${JSON.stringify(r)} has no match in the reference; candidates:\n${cands.map((c) => JSON.stringify(c.row)).slice(0, 5).join('\n')}`);
      hit.used = true;
    }
  });
}
