/**
 * Operators that could outgrow memory before an output's row limit applies, over 200,000
 * generated rows in a child process whose heap is capped at 256 MiB: a self-join on
 * trace_role (about 2 * 10^10 pairs), aggregates with a group per row. Each must answer — cut
 * with a warning, or PXL_LIMIT naming the bound — with memory that stays small, and merges
 * within the bounds must still give every row.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../../src/engine/pxl/diagnostic.js';

const CHILD = fileURLToPath(new URL('./bounded-child.js', import.meta.url));
const HEAP_MIB = 256;
const ROWS = 200_000;
const HEAD = "import px\ndf = px.DataFrame(table='http_events', start_time=__time_from)\n";
const SELF_JOIN = "a = df[['trace_role', 'req_path']]\nb = a.merge(a, how='inner', left_on='trace_role', right_on='trace_role', suffixes=['', '_r'])\n";

interface Line {
  readonly name: string;
  readonly tables?: readonly { name: string; rowCount: number; first: Record<string, string | number | boolean> | null }[];
  readonly warnings?: readonly { code: string; message: string }[];
  readonly error?: Diagnostic;
  readonly ms: number;
  readonly heapUsed: number;
  readonly arrayBuffers: number;
}

const cases = [
  { name: 'self-join shown', script: HEAD + SELF_JOIN + 'px.display(b)\n' },
  { name: 'self-join grouped', script: HEAD + SELF_JOIN + "px.display(b.groupby('req_path').agg(n=('trace_role', px.count)))\n" },
  { name: 'a group per row', maxGroups: 10_000, script: HEAD + "px.display(df.groupby('time_').agg(n=('latency', px.count)))\n" },
  { name: 'quantiles per row', script: HEAD + "px.display(df.groupby('time_').agg(q=('latency', px.quantiles)))\n" },
  {
    name: 'outer merge of every row',
    script:
      HEAD +
      "paths = df.groupby('req_path').agg(n=('latency', px.count))\n" +
      "paths.req_path = paths.req_path + '/other'\n" +
      "j = df[['req_path', 'latency']].merge(paths, how='outer', left_on='req_path', right_on='req_path', suffixes=['', '_r'])\n" +
      "px.display(j.agg(rows=('latency', px.count)), 'rows')\n" +
      "px.display(paths.agg(paths=('n', px.count)), 'paths')\n",
  },
  {
    name: 'merge of every row with its path',
    script:
      HEAD +
      "paths = df.groupby('req_path').agg(n=('latency', px.count))\n" +
      "j = df[['req_path', 'latency']].merge(paths, how='inner', left_on='req_path', right_on='req_path', suffixes=['', '_r'])\n" +
      "px.display(j.agg(rows=('latency', px.count)), 'rows')\n",
  },
];

const lines = new Map<string, Line>();

test.before(async () => {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, '--expose-gc', CHILD, JSON.stringify({ rows: ROWS, cases })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `the child failed (heap ${HEAP_MIB} MiB): ${err.slice(0, 2000)}`);
  for (const l of out.trim().split('\n')) {
    const line = JSON.parse(l) as Line;
    lines.set(line.name, line);
  }
});

function result(name: string): Line {
  const l = lines.get(name);
  assert.ok(l, `no result for ${name}`);
  return l;
}

test('a self-join on trace_role shown directly streams: cut at the output row limit with a warning', () => {
  const l = result('self-join shown');
  assert.equal(l.error, undefined, l.error?.message);
  assert.equal(l.tables![0]!.rowCount, 100_000);
  assert.deepEqual(
    l.warnings!.map((w) => w.code),
    ['RESULT_TRUNCATED'],
  );
  assert.ok(l.heapUsed < 200 << 20, `heap ${l.heapUsed >> 20} MiB`);
  assert.ok(l.ms < 10_000, `${l.ms.toFixed(0)} ms`);
});

test('a self-join feeding a groupby fails with PXL_LIMIT naming the merge and the bound, as the pairs are made', () => {
  const l = result('self-join grouped');
  assert.equal(l.error?.code, 'PXL_LIMIT');
  assert.equal(l.error.message, 'merge(left_on=[trace_role], right_on=[trace_role]) produces more than 10000000 rows');
  assert.ok(l.error.hints.some((h) => h.includes('filter or aggregate both sides')));
  assert.ok(l.heapUsed < 200 << 20, `heap ${l.heapUsed >> 20} MiB`);
});

test('a groupby with more groups than the bound fails with PXL_LIMIT', () => {
  const l = result('a group per row');
  assert.equal(l.error?.code, 'PXL_LIMIT');
  assert.equal(l.error.message, 'the groupby by time_ has more than 10000 groups');
});

test('quantiles of a group per row stop at the arena bound, not at the end of memory', () => {
  const l = result('quantiles per row');
  assert.equal(l.error?.code, 'PXL_LIMIT');
  assert.equal(l.error.message, 'px.quantiles needs more than 256 MiB for its groups');
  assert.ok(l.arrayBuffers < 384 << 20, `array buffers ${l.arrayBuffers >> 20} MiB`);
});

test('merges within the bounds keep every row, across output chunks, with right and outer rows', () => {
  const outer = result('outer merge of every row');
  assert.equal(outer.error, undefined, outer.error?.message);
  // No path matches its renamed copy: every left row and every right row once.
  const paths = Number(outer.tables![1]!.first!['paths']);
  assert.ok(paths > 10, `${paths} paths`);
  assert.equal(Number(outer.tables![0]!.first!['rows']), ROWS + paths);
  const inner = result('merge of every row with its path');
  assert.equal(inner.error, undefined, inner.error?.message);
  assert.equal(Number(inner.tables![0]!.first!['rows']), ROWS);
});
