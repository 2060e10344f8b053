import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LookupMetadata } from '../distributed/broker/metadata.js';
import { compile } from '../compile.js';
import { Store } from '../../store/store.js';
import type { Program } from '../plan/logical.js';
import { StreamQuery, streamModes } from './stream.js';

const SEC = 1_000_000_000n;
const T0 = 1_700_000_000n * SEC;
const signal = new AbortController().signal;
const metadata = new LookupMetadata();

function store(): Store {
  const s = new Store();
  s.create({ name: 'ev', fields: [{ name: 'time_', type: 'TIME64NS' }, { name: 'status', type: 'INT64' }, { name: 'path', type: 'STRING' }] }, { batchRows: 8 });
  return s;
}

function program(s: Store, script: string): Program {
  return compile(script, { fromNs: T0, toNs: T0 + 60n * SEC, intervalNs: SEC, nowNs: T0 + 60n * SEC }, s).program;
}

const ROWS = `import px
df = px.DataFrame(table='ev', start_time=__time_from, end_time=__time_to)
df = df[df.status >= 500]
df.p = df.path + '!'
px.display(df[['time_', 'p']], 'errors')
`;

const WINDOWS = `import px
df = px.DataFrame(table='ev', start_time=__time_from, end_time=__time_to)
df.timestamp = px.bin(df.time_, px.DurationNanos(10 * 1000 * 1000 * 1000))
px.display(df.groupby(['timestamp']).agg(n=('status', px.count)), 'per10s')
`;

/** The `p` (or `n`) cells of every table of every result of a step. */
async function cells(q: StreamQuery, nowNs: bigint, column: string): Promise<unknown[]> {
  const step = await q.step(nowNs, signal);
  return step.results.flatMap((r) =>
    r.result.tables.flatMap((t) => {
      const j = t.fields.findIndex((f) => f.name === column);
      const v = t.columns[j]!;
      return Array.from({ length: t.rowCount }, (_, i) => (v.t === 'str' ? v.dict[v.c[i]!] : v.t === 'num' ? v.d[i] : undefined));
    }),
  );
}

test('a row stream sends stored rows, then each new row once, past end_time and across steps', async () => {
  const s = store();
  s.append('ev', Array.from({ length: 20 }, (_, i) => ({ time_: T0 + BigInt(i) * SEC, status: i % 2 ? 500 : 200, path: `/a${i}` })));
  const q = new StreamQuery(program(s, ROWS), s, { metadata, stepRows: 7 });
  const got: unknown[] = [];
  for (let k = 0; k < 3; k++) got.push(...(await cells(q, T0, 'p')));
  assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `/a${2 * i + 1}!`));
  assert.deepEqual(await cells(q, T0, 'p'), []);
  // Rows after the range's end still stream: a stream's range has no end.
  s.append('ev', [{ time_: T0 + 120n * SEC, status: 503, path: '/late' }]);
  assert.deepEqual(await cells(q, T0, 'p'), ['/late!']);
  // A second stream resumed at the first one's position sees only what comes after.
  const resumed = new StreamQuery(program(s, ROWS), s, { metadata }, q.position());
  s.append('ev', [{ time_: T0 + 121n * SEC, status: 500, path: '/next' }]);
  assert.deepEqual(await cells(resumed, T0, 'p'), ['/next!']);
});

test('a resumed stream whose rows left the store is told how many it missed', async () => {
  const s = new Store();
  s.create({ name: 'ev', fields: [{ name: 'time_', type: 'TIME64NS' }, { name: 'status', type: 'INT64' }, { name: 'path', type: 'STRING' }] }, { batchRows: 8, budgetBytes: 4000 });
  const q = new StreamQuery(program(s, ROWS), s, { metadata }, { seqs: { ev: 0 }, windows: {} });
  s.append('ev', Array.from({ length: 400 }, (_, i) => ({ time_: T0 + BigInt(i), status: 500, path: `/p${i}` })));
  const step = await q.step(T0, signal);
  const dropped = s.stats()['ev']!.droppedRows;
  assert.ok(dropped > 0);
  assert.deepEqual(step.missed, [{ table: 'ev', rows: dropped }]);
});

test('a windowed aggregate sends each px.bin window once, when it has closed', async () => {
  const s = store();
  s.append('ev', Array.from({ length: 25 }, (_, i) => ({ time_: T0 + BigInt(i) * SEC, status: 200, path: '/' })));
  const q = new StreamQuery(program(s, WINDOWS), s, { metadata, graceNs: SEC });
  assert.deepEqual(q.modes, [{ kind: 'windows', widthNs: 10n * SEC }]);
  // At T0+21s the windows [T0, T0+10s) and [T0+10s, T0+20s) have closed (1 s of grace).
  assert.deepEqual(await cells(q, T0 + 21n * SEC, 'n'), [10, 10]);
  assert.deepEqual(await cells(q, T0 + 25n * SEC, 'n'), []);
  s.append('ev', [{ time_: T0 + 29n * SEC, status: 200, path: '/' }]);
  assert.deepEqual(await cells(q, T0 + 31n * SEC, 'n'), [6]);
});

test('scripts that have no meaning as a stream are refused, naming the output', () => {
  const s = store();
  const refused = (script: string, re: RegExp): void => assert.throws(() => streamModes(program(s, script)), (e: Error & { diagnostic?: { code: string; message: string } }) => e.diagnostic?.code === 'PXL_STREAM_UNSUPPORTED' && re.test(e.diagnostic.message));
  refused(`import px\ndf = px.DataFrame(table='ev')\npx.display(df.head(5), 'h')\n`, /^output 'h': head\(\)/);
  refused(`import px\ndf = px.DataFrame(table='ev')\npx.display(df.groupby('path').agg(n=('status', px.count)), 'g')\n`, /px\.bin/);
  refused(`import px\ndf = px.DataFrame(table='ev')\npx.display(df.merge(df, how='inner', left_on='path', right_on='path'), 'm')\n`, /merge of raw rows/);
  assert.deepEqual(streamModes(program(s, `import px\ndf = px.DataFrame(table='ev').stream()\npx.display(df)\n`)), [{ kind: 'rows' }]);
  assert.equal(program(s, `import px\ndf = px.DataFrame(table='ev').stream()\npx.display(df)\n`).stream, true);
});
