import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readValue } from './column.js';
import { DEFAULT_TABLE_BUDGET, Store } from './store.js';
import { RowError, Table } from './table.js';
import type { Row, TableSchema } from '../schema.js';

const SCHEMA: TableSchema = {
  name: 't',
  fields: [
    { name: 'time_', type: 'TIME64NS' },
    { name: 'n', type: 'INT64' },
    { name: 's', type: 'STRING' },
    { name: 'f', type: 'FLOAT64' },
    { name: 'b', type: 'BOOLEAN' },
  ],
};

const T0 = 1_763_000_000_123_456_789n;

function row(i: number): Row {
  return { time_: T0 + BigInt(i) * 1000n, n: i, s: `s${i % 7}`, f: i / 4, b: i % 2 === 0 };
}

/** Every row the table would return from a full scan, in scan order. */
function allRows(t: Table): Row[] {
  const out: Row[] = [];
  for (const b of t.scan(null, null)) {
    for (let i = 0; i < b.rows; i++) {
      const r: Record<string, unknown> = {};
      for (const [name, c] of b.columns) r[name] = readValue(c, i);
      out.push(r as Row);
    }
  }
  return out;
}

test('rows come back exactly, sealed or still in the tail', () => {
  const t = new Table(SCHEMA, { budgetBytes: 1 << 30, batchRows: 100 });
  const rows = Array.from({ length: 250 }, (_, i) => row(i));
  t.append(rows);
  const back = allRows(t);
  assert.equal(back.length, 250);
  for (let i = 0; i < 250; i++) {
    assert.equal(back[i]!['time_'], rows[i]!['time_']);
    assert.equal(back[i]!['n'], i);
    assert.equal(back[i]!['s'], `s${i % 7}`);
    assert.equal(back[i]!['f'], i / 4);
    assert.equal(back[i]!['b'], i % 2 === 0);
  }
  assert.deepEqual(
    { rows: t.stats().rows, batches: t.stats().batches },
    { rows: 250, batches: 3 },
  );
});

test('a just-appended row is visible to the next scan without sealing', () => {
  const t = new Table(SCHEMA, { budgetBytes: 1 << 30 });
  t.append([row(1)]);
  const batches = [...t.scan(null, null)];
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.rows, 1);
});

test('64-bit values beyond 2^53 stay exact', () => {
  const t = new Table(SCHEMA, { budgetBytes: 1 << 30, batchRows: 2 });
  const big = 9_007_199_254_740_993n; // 2^53 + 1
  const far = T0 + (1n << 60n); // a time too far from the base for a float offset
  t.append([
    { ...row(0), n: big },
    { ...row(1), n: -big },
    { ...row(2), time_: far },
    { ...row(3), time_: T0 - 1n },
  ]);
  const back = allRows(t);
  assert.equal(back[0]!['n'], big);
  assert.equal(back[1]!['n'], -big);
  assert.equal(back[2]!['time_'], far);
  assert.equal(back[3]!['time_'], T0 - 1n);
});

test('a bad row is refused with the column named, and nothing of the batch is appended', () => {
  const t = new Table(SCHEMA, { budgetBytes: 1 << 30 });
  assert.throws(() => t.append([row(0), { ...row(1), n: 'x' }]), (e: unknown) => e instanceof RowError && /t\.n: expected an integer/.test(e.message));
  assert.throws(() => t.append([{ ...row(0), n: 0.5 }]), /not a safe integer/);
  assert.equal(t.stats().rows, 0);
});

test('the byte budget holds after every append; the oldest rows go first', () => {
  const budget = 256 * 1024;
  const t = new Table(SCHEMA, { budgetBytes: budget, batchRows: 512 });
  let appended = 0;
  for (let round = 0; round < 200; round++) {
    const rows = Array.from({ length: 97 }, (_, k) => row(appended + k));
    t.append(rows);
    appended += rows.length;
    const st = t.stats();
    assert.ok(st.bytes <= budget, `round ${round}: ${st.bytes} > ${budget}`);
    assert.equal(st.rows + st.droppedRows, appended);
  }
  const st = t.stats();
  assert.ok(st.droppedBatches > 0 && st.droppedRows > 0, 'sustained appends must have dropped batches');
  // What is left is exactly the newest rows, in order.
  const ns = allRows(t).map((r) => r['n']);
  assert.equal(ns.length, st.rows);
  assert.deepEqual(ns, Array.from({ length: st.rows }, (_, k) => appended - st.rows + k));
  // The budget is used, not left mostly empty: drops are batch-sized, at most 1/8 of it.
  assert.ok(st.bytes > budget / 2, `only ${st.bytes} of ${budget} bytes in use`);
});

test('a budget smaller than one row keeps nothing, and says so in the stats', () => {
  const t = new Table(SCHEMA, { budgetBytes: 16 });
  t.append([row(0), row(1)]);
  const st = t.stats();
  assert.equal(st.rows, 0);
  assert.equal(st.droppedRows, 2);
  assert.ok(st.bytes <= 16);
});

test('range scans skip batches outside [start, end)', () => {
  const t = new Table(SCHEMA, { budgetBytes: 1 << 30, batchRows: 100 });
  t.append(Array.from({ length: 1000 }, (_, i) => row(i)));
  const at = (i: number): bigint => T0 + BigInt(i) * 1000n;
  const batches = [...t.scan(at(250), at(420))];
  assert.deepEqual(
    batches.map((b) => [b.minTime, b.maxTime]),
    [
      [at(200), at(299)],
      [at(300), at(399)],
      [at(400), at(499)],
    ],
  );
  // End is exclusive: a batch starting exactly at `end` is skipped; one ending at `start` is kept.
  assert.equal([...t.scan(at(299), at(300))].length, 1);
  assert.equal([...t.scan(null, at(0))].length, 0);
  assert.equal([...t.scan(at(1000), null)].length, 0);
});

test('the store is a catalog of its tables and reports stats by name', () => {
  const s = new Store();
  s.create(SCHEMA, { budgetBytes: 1 << 20 });
  assert.equal(s.table('t'), SCHEMA);
  assert.equal(s.table('nope'), undefined);
  assert.deepEqual(s.tables(), [SCHEMA]);
  s.append('t', [row(0)]);
  assert.equal(s.stats()['t']!.rows, 1);
  assert.throws(() => s.create(SCHEMA), /already exists/);
  assert.throws(() => s.append('nope', []), /no table nope/);
  // A table's name earns it no budget of its own: its creator (the agent, for http_events) sets it.
  const http = new Store().create({ name: 'http_events', fields: SCHEMA.fields });
  assert.equal(http.stats().budgetBytes, DEFAULT_TABLE_BUDGET);
});

test('since(seq) gives each appended row once, by sequence, across sealed batches and the tail', () => {
  const t = new Table(SCHEMA, { budgetBytes: 1 << 30, batchRows: 100 });
  t.append(Array.from({ length: 250 }, (_, i) => row(i)));
  const seen: number[] = [];
  let seq = 0;
  let late = false;
  for (;;) {
    const r = t.since(seq, 37);
    assert.equal(r.firstSeq, 0);
    assert.equal(r.from, seq);
    for (const b of r.batches) for (let i = 0; i < b.rows; i++) seen.push(readValue(b.columns.get('n')!, i) as number);
    if (r.to === seq) break;
    seq = r.to;
    if (seq >= 200 && !late) {
      t.append([row(250)]);
      late = true;
    }
  }
  assert.deepEqual(seen, Array.from({ length: 251 }, (_, i) => i));
  assert.equal(t.nextSeq(), 251);
});

test('since(seq) past dropped rows starts at the oldest stored row and says where that is', () => {
  const t = new Table(SCHEMA, { budgetBytes: 40_000, batchRows: 50 });
  t.append(Array.from({ length: 2000 }, (_, i) => row(i)));
  const r = t.since(0, 10);
  assert.ok(r.firstSeq > 0, 'the budget dropped the oldest rows');
  assert.equal(r.firstSeq, t.stats().droppedRows);
  assert.equal(r.from, r.firstSeq);
  assert.equal(readValue(r.batches[0]!.columns.get('n')!, 0), r.firstSeq);
});
