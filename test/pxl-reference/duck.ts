import assert from 'node:assert/strict';
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, DuckDBInstance, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import type { QueryResultJson } from '../../src/engine/api/encode.js';
import type { DataType, Field, Row } from '../../src/engine/schema.js';

/** A cell as both engines are compared: 64-bit integers as decimal strings, like the API. */
export type Cell = string | number | boolean | null;

/** A fresh in-memory DuckDB. */
export async function duckdb(): Promise<{ con: DuckDBConnection; close(): void }> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  return {
    con,
    close() {
      con.closeSync();
      db.closeSync();
    },
  };
}

function duckType(t: DataType): DuckDBType {
  switch (t) {
    case 'TIME64NS':
    case 'INT64':
      return BIGINT;
    case 'FLOAT64':
      return DOUBLE;
    case 'BOOLEAN':
      return BOOLEAN;
    default:
      return VARCHAR;
  }
}

/** Creates `name` with the fields' DuckDB types and loads the rows, in order. */
export async function load(con: DuckDBConnection, name: string, fields: readonly Field[], rows: readonly Row[]): Promise<void> {
  const types = fields.map((f) => duckType(f.type));
  await con.run(`CREATE TABLE ${name} (${fields.map((f, j) => `"${f.name}" ${types[j]!.toString()}`).join(', ')})`);
  if (rows.length === 0) return;
  const app = await con.createAppender(name);
  for (let o = 0; o < rows.length; o += 2048) {
    const part = rows.slice(o, o + 2048);
    const chunk = DuckDBDataChunk.create(types, part.length);
    chunk.setColumns(
      fields.map((f) =>
        part.map((r) => {
          const v = r[f.name]!;
          return f.type === 'INT64' || f.type === 'TIME64NS' ? BigInt(v as number | bigint) : v;
        }),
      ),
    );
    app.appendDataChunk(chunk);
  }
  app.closeSync();
}

/** Rows of a SQL query, cells normalised to the API's encoding. */
export async function sql(con: DuckDBConnection, q: string): Promise<Cell[][]> {
  const r = await con.runAndReadAll(q);
  return r.getRows().map((row) =>
    row.map((v): Cell => {
      if (v === null) return null;
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
      return String(v);
    }),
  );
}

/** Rows of one output of the API body. */
export function rowsOf(body: QueryResultJson, name = 'output'): Cell[][] {
  const t = body.tables.find((x) => x.name === name);
  assert.ok(t, `no output ${name}`);
  return Array.from({ length: t.rowCount }, (_, i) => t.data.map((col) => col[i] as Cell));
}

function sortKey(r: readonly Cell[]): string {
  return JSON.stringify(r.map((c) => (typeof c === 'number' ? Number(c.toPrecision(9)) : c)));
}

/**
 * Asserts two row sets are equal as multisets (order ignored unless `ordered`); floats compare
 * with a relative tolerance.
 */
export function assertSameRows(actual: Cell[][], expected: Cell[][], opts: { ordered?: boolean; tol?: number } = {}): void {
  assert.equal(actual.length, expected.length, `row count: ${actual.length} vs expected ${expected.length}`);
  const a = opts.ordered ? actual : [...actual].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : 1));
  const e = opts.ordered ? expected : [...expected].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : 1));
  const tol = opts.tol ?? 1e-9;
  for (let i = 0; i < a.length; i++) {
    const ra = a[i]!;
    const re = e[i]!;
    assert.equal(ra.length, re.length, `row ${i} width`);
    for (let j = 0; j < ra.length; j++) {
      const x = ra[j];
      const y = re[j];
      if (typeof x === 'number' && typeof y === 'number') {
        assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `row ${i} col ${j}: ${x} vs ${y}\n${JSON.stringify(ra)}\n${JSON.stringify(re)}`);
      } else {
        assert.deepEqual(x, y, `row ${i} col ${j}\n${JSON.stringify(ra)}\n${JSON.stringify(re)}`);
      }
    }
  }
}
