import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TableSchema } from '../../schema.js';
import { Store } from '../../store/store.js';
import { compile } from '../compile.js';
import { PxlError } from '../diagnostic.js';
import { LookupMetadata } from '../distributed/broker/metadata.js';
import { execute } from '../exec/execute.js';
import type { Vec } from '../exec/vec.js';
import { formatDuration, parseDurationNs, parseTimeNs } from './time.js';

test('durations: units, signs, fractions, compound; garbage is undefined', () => {
  assert.equal(parseDurationNs('5m'), 300_000_000_000n);
  assert.equal(parseDurationNs('-1h30m'), -5_400_000_000_000n);
  assert.equal(parseDurationNs('1.5s'), 1_500_000_000n);
  assert.equal(parseDurationNs('250ms'), 250_000_000n);
  assert.equal(parseDurationNs('2d'), 172_800_000_000_000n);
  assert.equal(parseDurationNs('10us'), 10_000n);
  for (const bad of ['', '5', 'm', '5 m', '5mins', '--5m', '5m-']) assert.equal(parseDurationNs(bad), undefined, bad);
});

test('times: relative to now, now, RFC 3339 with sub-ms digits', () => {
  const now = 1_700_000_000_000_000_000n;
  assert.equal(parseTimeNs('-5m', now), now - 300_000_000_000n);
  assert.equal(parseTimeNs('5m', now), now + 300_000_000_000n);
  assert.equal(parseTimeNs('now', now), now);
  assert.equal(parseTimeNs('2023-11-14T22:13:20Z', now), 1_700_000_000_000_000_000n);
  assert.equal(parseTimeNs('2023-11-14T22:13:20.123456Z', now), 1_700_000_000_123_456_000n);
  assert.equal(parseTimeNs('yesterday', now), undefined);
});

const T = 1_700_000_000_000_000_000n;
const SCHEMA: TableSchema = { name: 't', fields: [{ name: 'time_', type: 'TIME64NS' }, { name: 'n', type: 'INT64' }] };
const store = new Store();
store.create(SCHEMA);
store.append('t', [{ time_: T, n: 1 }]);
/** No metadata is read here: a view with no answers. */
const metadata = new LookupMetadata();

/** `fn('text')` folded at compile time, and `fn` of a column holding 'text': the one row's two values. */
async function bothWays(fn: string, text: string): Promise<{ constant: unknown; column: unknown }> {
  const lit = JSON.stringify(text);
  const script = `import px
df = px.DataFrame(table='t', start_time=0)
df.constant = px.${fn}(${lit})
df.column = px.${fn}(px.select(df.n > 0, ${lit}, ${lit}))
px.display(df[['constant', 'column']])`;
  const options = { fromNs: T - 60_000_000_000n, toNs: T, intervalNs: 1_000_000_000n, nowNs: T };
  const { program } = compile(script, options, store);
  const table = (await execute(program, store, { metadata, nowNs: T })).tables[0]!;
  const value = (v: Vec): unknown => (v.t === 'str' ? v.dict[v.c[0]!] : v.d[0]);
  return { constant: value(table.columns[0]!), column: value(table.columns[1]!) };
}

test('px.parse_time reads a time the same on a constant and on a column', async () => {
  for (const text of ['now', '-5m', '+90s', '5m', '2023-11-14', '2023-11-14 22:13', '2023-11-14T22:13:20Z', '2023-11-14T22:13:20.123456789Z', '2023-11-14T23:13:20+01:00']) {
    const { constant, column } = await bothWays('parse_time', text);
    assert.equal(column, constant, text);
  }
});

test('px.parse_duration reads a duration the same on a constant and on a column', async () => {
  for (const text of ['5m', '-1h30m', '1.5s', '250ms', '10us', '0.000000001s']) {
    const { constant, column } = await bothWays('parse_duration', text);
    assert.equal(column, constant, text);
  }
});

test('a string that is no time fails on a constant and on a column, naming the text', async () => {
  for (const fn of ['parse_time', 'parse_duration']) {
    for (const column of [false, true]) {
      const arg = column ? "px.select(df.n > 0, 'yesterday', 'yesterday')" : "'yesterday'";
      const script = `import px\ndf = px.DataFrame(table='t', start_time=0)\ndf.x = px.${fn}(${arg})\npx.display(df)`;
      const run = async (): Promise<unknown> => execute(compile(script, { fromNs: 0n, toNs: T, intervalNs: 1_000_000_000n, nowNs: T }, store).program, store, { metadata, nowNs: T });
      await assert.rejects(run, (e: unknown) => e instanceof PxlError && /'yesterday' is not a (time|duration)/.test(e.message), `${fn} on a ${column ? 'column' : 'constant'}`);
    }
  }
});

test("format_duration: the largest whole unit, towards zero, sign kept (Pixie's examples)", () => {
  const s = 1_000_000_000n;
  const cases: [bigint, string][] = [
    [-5n * 60n * s, '-5m'],
    [-5n * 60n * s + 5n, '-4m'],
    [5n * 60n * s + 5n, '5m'],
    [-5n * 3600n * s, '-5h'],
    [2n * 86400n * s + 1n, '2d'],
    [59n * s, '59s'],
    [999_999n, '0ms'],
    [1_500_000n, '1ms'],
    [0n, '0ms'],
  ];
  for (const [ns, text] of cases) assert.equal(formatDuration(ns), text, String(ns));
});
