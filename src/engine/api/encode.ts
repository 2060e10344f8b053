import type { Field } from '../schema.js';
import type { Diagnostic } from '../pxl/diagnostic.js';
import type { QueryResult } from '../pxl/exec/execute.js';
import type { Vec } from '../pxl/exec/vec.js';
import type { Cell, ResultTable } from './contract.js';

/*
 * The executor's answer as the API's JSON (docs/api.md): columns of exact cells, INT64 and
 * TIME64NS as decimal strings so no 64-bit value is rounded on its way to Grafana.
 */

function encodeColumn(v: Vec, f: Field, n: number, timeBase: bigint): Cell[] {
  const out: Cell[] = new Array(n);
  switch (v.t) {
    case 'str':
      for (let i = 0; i < n; i++) out[i] = v.dict[v.c[i]!]!;
      return out;
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = v.d[i] === 1;
      return out;
    case 'big':
      for (let i = 0; i < n; i++) out[i] = v.d[i]!.toString();
      return out;
    case 'num': {
      const d = v.d;
      if (f.type === 'FLOAT64') {
        for (let i = 0; i < n; i++) {
          const x = d[i]!;
          out[i] = Number.isFinite(x) ? x : x !== x ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
        }
        return out;
      }
      if (f.type === 'BOOLEAN') {
        for (let i = 0; i < n; i++) out[i] = d[i] !== 0;
        return out;
      }
      const base = f.type === 'TIME64NS' ? timeBase : 0n;
      for (let i = 0; i < n; i++) {
        // A non-finite INT64 cannot be produced by the integer kernels; 0 keeps the column typed.
        const x = Number.isFinite(d[i]!) ? Math.trunc(d[i]!) : 0;
        out[i] = base === 0n ? BigInt(x).toString() : (base + BigInt(x)).toString();
      }
      return out;
    }
  }
}

/** The `tables` / `stats` / `warnings` part of the `POST /api/v1/query` response body. */
export interface QueryResultJson {
  readonly tables: readonly ResultTable[];
  readonly stats: { readonly executeMs: number; readonly rowsScanned: number; readonly bytesScanned: number };
  readonly warnings: readonly Diagnostic[];
}

/** Turns a result into the JSON body of docs/api.md (INT64/TIME64NS as exact decimal strings). */
export function resultToJson(r: QueryResult): QueryResultJson {
  return {
    tables: r.tables.map((t) => ({
      name: t.name,
      columns: t.fields.map((f) => ({ name: f.name, type: f.type, semantic: f.semantic ?? 'ST_NONE' })),
      rowCount: t.rowCount,
      data: t.fields.map((f, j) => encodeColumn(t.columns[j]!, f, t.rowCount, r.timeBase)),
    })),
    stats: { executeMs: r.stats.executeMs, rowsScanned: r.stats.rowsScanned, bytesScanned: r.stats.bytesScanned },
    warnings: r.warnings,
  };
}
