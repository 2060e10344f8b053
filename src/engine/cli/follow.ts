import type { WispClient } from '../api/client.js';
import type { QueryRequest, ResultTable } from '../api/contract.js';
import type { Diagnostic } from '../pxl/diagnostic.js';
import { UsageError } from './args.js';
import { csvField, nsToIso } from './format.js';

/** Column width of `--follow --format table` when the first rows are narrower. */
const MIN_WIDTH = 8;

/**
 * `wisp query --follow`: prints a stream's rows as they come, until the process is stopped.
 * jsonl: one object per row keyed by column name (with `_output` when the script has several
 * outputs); csv: a header once, then rows (one output only); table: a header once, then rows
 * in columns as wide as the first batch made them (wider cells push the line on).
 */
export async function follow(client: WispClient, request: QueryRequest, format: 'table' | 'csv' | 'jsonl', warn: (d: Diagnostic) => void): Promise<void> {
  const out = (line: string): void => {
    process.stdout.write(line + '\n');
  };
  let outputs = 0;
  const widths = new Map<string, number[]>();
  const print = (t: ResultTable): void => {
    const cells = (r: number): string[] =>
      t.columns.map((c, j) => {
        const v = t.data[j]![r]!;
        return format === 'table' && c.type === 'TIME64NS' && typeof v === 'string' ? nsToIso(BigInt(v)) : String(v);
      });
    if (format === 'jsonl') {
      for (let r = 0; r < t.rowCount; r++) {
        const row: Record<string, unknown> = outputs > 1 ? { _output: t.name } : {};
        t.columns.forEach((c, j) => (row[c.name] = t.data[j]![r]));
        out(JSON.stringify(row));
      }
      return;
    }
    if (format === 'csv') {
      if (!widths.has(t.name)) {
        widths.set(t.name, []);
        out(t.columns.map((c) => csvField(c.name)).join(','));
      }
      for (let r = 0; r < t.rowCount; r++) out(cells(r).map(csvField).join(','));
      return;
    }
    let w = widths.get(t.name);
    const rows = Array.from({ length: t.rowCount }, (_, r) => cells(r));
    if (!w) {
      w = t.columns.map((c, j) => Math.max(MIN_WIDTH, c.name.length, ...rows.map((row) => row[j]!.length)));
      widths.set(t.name, w);
      if (outputs > 1) out(`# ${t.name}`);
      out(t.columns.map((c, j) => c.name.padEnd(w![j]!)).join('  ').trimEnd());
    }
    for (const row of rows) out(row.map((v, j) => v.padEnd(w[j]!)).join('  ').trimEnd());
  };
  for await (const line of client.stream(request)) {
    switch (line.t) {
      case 'start':
        outputs = line.outputs.length;
        if (format === 'csv' && outputs > 1) throw new UsageError('--follow --format csv takes a script with one output; use jsonl for several');
        for (const w of line.warnings) warn(w);
        break;
      case 'batch':
        for (const t of line.tables) print(t);
        break;
      case 'warning':
        warn(line.warning);
        break;
      case 'reconnect':
        process.stderr.write(`wisp: reconnecting (${line.reason})\n`);
        break;
      default:
        break;
    }
  }
}
