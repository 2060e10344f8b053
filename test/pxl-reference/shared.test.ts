/**
 * Scripts whose values share sub-expressions, compiled and run over generated rows. A value
 * built from itself (`a = a + a`) is one node per line however large it is written out; a chain
 * of column assignments folds, under an aggregate, into such a DAG too (each line's column read
 * twice). The executor and the fused loop must do the work of the distinct nodes, give the
 * answers of the written-out expressions, and stop strings that double per line at the bound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { HTTP_EVENTS_SCHEMA } from '../../src/engine/http/schema.js';
import { compile } from '../../src/engine/pxl/compile.js';
import { PxlError } from '../../src/engine/pxl/diagnostic.js';
import type { ResultTable } from '../../src/engine/api/contract.js';
import { resultToJson } from '../../src/engine/api/encode.js';
import { execute, type ExecContext } from '../../src/engine/pxl/exec/execute.js';
import { Store } from '../../src/engine/store/store.js';
import { fixedOptions } from '../../src/testkit/pxl-scripts/scripts.js';

const T0 = fixedOptions.fromNs;
const cluster = makeCluster(5, 3);
const store = new Store();
store.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 30, batchRows: 4096 });
generateHttpEvents(cluster, 20_000, 9, T0, 200e9, (rows) => store.append('http_events', rows));
const ctx: ExecContext = { metadata: cluster.metadata, nowNs: fixedOptions.nowNs };
const HEAD = "import px\ndf = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)\n";

async function run(script: string): Promise<{ tables: readonly ResultTable[]; ms: number }> {
  const t = performance.now();
  const { program } = compile(script, fixedOptions, store);
  const json = resultToJson(await execute(program, store, ctx));
  return { tables: json.tables, ms: performance.now() - t };
}

function column(t: ResultTable, name: string): readonly (string | number | boolean)[] {
  const j = t.columns.findIndex((c) => c.name === name);
  assert.ok(j >= 0, `no column ${name}`);
  return t.data[j]!;
}

test('a value doubled 12 times (8,191 terms written out) is evaluated once per distinct node, exactly', async () => {
  const script = HEAD + 'a = df.latency\n' + 'a = a + a\n'.repeat(12) + "df.x = a\npx.display(df[['latency', 'x']], 'rows')\n" + "px.display(df.groupby('req_method').agg(x=('x', px.sum), l=('latency', px.sum)), 'sums')\n";
  const { tables, ms } = await run(script);
  const rows = tables[0]!;
  assert.equal(rows.rowCount, 20_000);
  const lat = column(rows, 'latency');
  const x = column(rows, 'x');
  for (let i = 0; i < rows.rowCount; i++) assert.equal(BigInt(x[i] as string), BigInt(lat[i] as string) * 4096n);
  const sums = tables[1]!;
  const xs = column(sums, 'x');
  const ls = column(sums, 'l');
  for (let g = 0; g < sums.rowCount; g++) assert.equal(BigInt(xs[g] as string), BigInt(ls[g] as string) * 4096n);
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
});

test('40 column assignments that each read the last one twice fold into a DAG the fused loop runs in linear time', async () => {
  const script =
    HEAD +
    "df = df[['req_path', 'latency']]\n" +
    'df.a = df.latency\n' +
    'df.a = df.a + df.a\n'.repeat(40) +
    "df = df.groupby('req_path').agg(a=('a', px.mean), l=('latency', px.mean), n=('a', px.count))\n" +
    "px.display(df, 'means')\n";
  const { tables, ms } = await run(script);
  const t = tables[0]!;
  assert.ok(t.rowCount > 5, `${t.rowCount} groups`);
  const a = column(t, 'a');
  const l = column(t, 'l');
  // Doubling is exact in binary floating point: the mean of a is the mean of latency times 2^40.
  for (let g = 0; g < t.rowCount; g++) assert.equal(a[g], (l[g] as number) * 2 ** 40);
  assert.equal(column(t, 'n').reduce<number>((s, v) => s + Number(v), 0), 20_000);
  assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
});

test('a chain of maps folding deeper than one expression may nest runs by the operators, a level at a time', async () => {
  // 300 lines of 4 additions fold to 1,200 levels under the aggregate, past LIMITS.exprDepth.
  const script = HEAD + "df = df[['req_method', 'latency']]\ndf.a = df.latency\n" + 'df.a = df.a + 1 + 1 + 1 + 1\n'.repeat(300) + "px.display(df.groupby('req_method').agg(a=('a', px.max), l=('latency', px.max)), 'max')\n";
  const { tables } = await run(script);
  const t = tables[0]!;
  assert.ok(t.rowCount > 1);
  const a = column(t, 'a');
  const l = column(t, 'l');
  for (let g = 0; g < t.rowCount; g++) assert.equal(BigInt(a[g] as string), BigInt(l[g] as string) + 1200n);
});

test('a string column doubled per line stops with PXL_LIMIT before its values exhaust the heap', async () => {
  const script = HEAD + 'df.p = df.req_path\n' + 'df.p = df.p + df.p\n'.repeat(30);
  for (const tail of ["px.display(df[['p']].head(3), 'rows')\n", "px.display(df.groupby('p').agg(n=('latency', px.count)), 'groups')\n"]) {
    await assert.rejects(run(script + tail), (err: unknown) => {
      assert.ok(err instanceof PxlError, String(err));
      assert.equal(err.diagnostic.code, 'PXL_LIMIT');
      assert.match(err.diagnostic.message, /'\+' would build a string longer than 1048576 characters/);
      return true;
    });
  }
});
