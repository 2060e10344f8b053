/**
 * px.regex_match through the compiler and the executor, over stored rows whose paths are
 * chosen for it: RE2's full-match meaning in both the fused loop (per dictionary entry) and the
 * operators, and a catastrophic-backtracking pattern that answers at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from '../../src/engine/http/schema.js';
import { compile } from '../../src/engine/pxl/compile.js';
import { PxlError } from '../../src/engine/pxl/diagnostic.js';
import { resultToJson } from '../../src/engine/api/encode.js';
import { execute } from '../../src/engine/pxl/exec/execute.js';
import { Store } from '../../src/engine/store/store.js';
import { fixedOptions } from '../../src/testkit/pxl-scripts/scripts.js';

const PATHS = ['/api/v1/users', '/api/vx/users', 'a'.repeat(30), 'a'.repeat(29) + 'b', 'line\nbreak', '/héllo', '/api/v2/orders/17'];
const cluster = makeCluster(2, 8);
const rows: HttpEventRow[] = [];
generateHttpEvents(cluster, PATHS.length * 50, 4, fixedOptions.fromNs, 100e9, (b) => rows.push(...b));
const store = new Store();
store.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 26 });
store.append(
  'http_events',
  rows.map((r, i) => ({ ...r, req_path: PATHS[i % PATHS.length]! })),
);

/** For each path, whether `pattern` matched it: from a displayed filter and from a fused count. */
async function matched(pattern: string): Promise<{ shown: Set<string>; counted: Set<string>; ms: number }> {
  const lit = JSON.stringify(pattern);
  const script =
    "import px\ndf = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)\n" +
    `df.m = px.regex_match(${lit}, df.req_path)\n` +
    "px.display(df[df.m][['req_path']], 'shown')\n" +
    "px.display(df.groupby('req_path').agg(hits=('m', px.sum)), 'counted')\n";
  const t = performance.now();
  const r = resultToJson(await execute(compile(script, fixedOptions, store).program, store, { metadata: cluster.metadata, nowNs: fixedOptions.nowNs }));
  const ms = performance.now() - t;
  const [shown, counted] = r.tables;
  const paths = counted!.data[0]!;
  const hits = counted!.data[1]!;
  return {
    shown: new Set(shown!.data[0]!.map(String)),
    counted: new Set(paths.filter((_, i) => Number(hits[i]) > 0).map(String)),
    ms,
  };
}

test('(a+)+b over a 30-character path answers at once, in both executors', async () => {
  const { shown, counted, ms } = await matched('(a+)+b');
  assert.deepEqual([...shown].sort(), ['a'.repeat(29) + 'b']);
  assert.deepEqual([...counted].sort(), ['a'.repeat(29) + 'b']);
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
});

test('regex_match matches whole values, RE2 style, in both executors', async () => {
  const table: [string, string[]][] = [
    ['/api/v[0-9]+/.*', ['/api/v1/users', '/api/v2/orders/17']],
    ['/api', []],
    ['.*users', ['/api/v1/users', '/api/vx/users']],
    ['line.break', []],
    ['(?s)line.break', ['line\nbreak']],
    ['/h\\pLllo', ['/héllo']],
    ['a{30}', ['a'.repeat(30)]],
  ];
  for (const [pattern, expected] of table) {
    const { shown, counted } = await matched(pattern);
    assert.deepEqual([...shown].sort(), [...expected].sort(), `${pattern} (operators)`);
    assert.deepEqual([...counted].sort(), [...expected].sort(), `${pattern} (fused)`);
  }
});

test('a backreference is a PXL_VALUE diagnostic on the pattern argument', () => {
  const script = "import px\ndf = px.DataFrame(table='http_events')\ndf = df[px.regex_match(r'(a+)\\1', df.req_path)]\npx.display(df)\n";
  assert.throws(
    () => compile(script, fixedOptions, store),
    (err: unknown) =>
      err instanceof PxlError &&
      err.diagnostic.code === 'PXL_VALUE' &&
      err.diagnostic.message === 'backreferences such as \\1 are not supported in regular expressions' &&
      err.diagnostic.span?.start.line === 3 &&
      err.diagnostic.span.start.column === 24,
  );
});
