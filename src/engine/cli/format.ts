import type { ResultTable } from '../api/contract.js';
import type { Row, RowValue } from '../schema.js';

/** Renders wall-clock ns as RFC 3339 with nanoseconds, exact (no float on the way). */
export function nsToIso(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(ms)).toISOString().slice(0, 19) + '.' + frac + 'Z';
}

/** Lays out cells as aligned text columns under a header, for people. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function cellText(table: ResultTable, col: number, row: number): string {
  const v = table.data[col]![row];
  if (v === null || v === undefined) return '';
  if (table.columns[col]!.type === 'TIME64NS' && typeof v === 'string') return nsToIso(BigInt(v));
  return String(v);
}

/** One result table as aligned text. */
export function resultAsText(table: ResultTable): string {
  const rows: string[][] = [];
  for (let r = 0; r < table.rowCount; r++) rows.push(table.columns.map((_, c) => cellText(table, c, r)));
  return textTable(table.columns.map((c) => c.name), rows);
}

/** A CSV field, quoted when it must be. */
export function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * One result table as CSV: a header row, then the rows; TIME64NS stays as epoch-ns integers so
 * a spreadsheet or script gets exact values.
 */
export function resultAsCsv(table: ResultTable): string {
  const lines = [table.columns.map((c) => csvField(c.name)).join(',')];
  for (let r = 0; r < table.rowCount; r++) {
    lines.push(table.data.map((col) => csvField(col[r] === null || col[r] === undefined ? '' : String(col[r]))).join(','));
  }
  return lines.join('\n');
}

/** A captured row as one JSON object keyed by column name (64-bit values as decimal strings). */
export function rowAsJson(row: Row): string {
  return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function short(v: RowValue | undefined, max: number): string {
  const s = v === undefined ? '' : String(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

const ROLE = ['?', 'client', 'server'];

/** The columns `wisp tail --format table` shows, in order, with their fixed widths. */
const TAIL_COLUMNS: readonly (readonly [string, number])[] = [
  ['time', 12],
  ['pid', 7],
  ['comm', 15],
  ['role', 6],
  ['local', 21],
  ['remote', 21],
  ['method', 7],
  ['path', 32],
  ['status', 6],
  ['latency', 10],
  ['req_B', 8],
  ['resp_B', 8],
];

function tailLine(cells: readonly string[]): string {
  return cells.map((c, i) => c.padEnd(TAIL_COLUMNS[i]![1])).join(' ').trimEnd();
}

/** The header line of `wisp tail --format table`. */
export function tailHeader(): string {
  return tailLine(TAIL_COLUMNS.map(([name]) => name));
}

/** A captured row as one line of `wisp tail --format table`. */
export function tailRow(row: Row): string {
  const lat = Number(row['latency'] ?? 0);
  return tailLine([
    nsToIso(BigInt(row['time_'] ?? 0)).slice(11, 23),
    short(row['pid'], 8),
    short(row['comm'], 15),
    ROLE[Number(row['trace_role'] ?? 0)] ?? '?',
    `${short(row['local_addr'], 39)}:${short(row['local_port'], 5)}`,
    `${short(row['remote_addr'], 39)}:${short(row['remote_port'], 5)}`,
    short(row['req_method'], 8),
    short(row['req_path'], 32),
    short(row['resp_status'], 3),
    lat >= 1e6 ? `${(lat / 1e6).toFixed(2)}ms` : `${(lat / 1e3).toFixed(1)}µs`,
    short(row['req_body_size'], 10),
    short(row['resp_body_size'], 10),
  ]);
}
