import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ColumnBuilder, readValue } from './column.js';

function fill(values: readonly string[]): ColumnBuilder {
  const b = new ColumnBuilder('s', 'STRING', values.length, 0n);
  for (const v of values) b.push(v);
  return b;
}

test('a near-unique string column is stored plainly after the probe; values read back exactly', () => {
  // Unique for the probe, then repeating: once plain, repeats get entries of their own.
  const values = Array.from({ length: 2000 }, (_, i) => (i < 600 ? `{"x-id":"${i}"}` : `{"x-id":"${i % 7}"}`));
  const b = fill(values);
  assert.equal(b.plain, true);
  for (const c of [b.view(values.length), b.seal(values.length)]) {
    assert.equal(c.kind, 'dict');
    assert.deepEqual(Array.from({ length: values.length }, (_, i) => readValue(c, i)), values);
    if (c.kind === 'dict') assert.equal(c.dict.length, 512 + (values.length - 512), 'one entry per row after the probe');
  }
});

test('a repeating string column keeps its dictionary', () => {
  const values = Array.from({ length: 2000 }, (_, i) => ['GET', 'POST', 'PUT'][i % 3]!);
  const b = fill(values);
  assert.equal(b.plain, false);
  const c = b.seal(values.length);
  assert.ok(c.kind === 'dict' && c.dict.length === 3 && c.codes instanceof Uint8Array);
  assert.deepEqual(Array.from({ length: values.length }, (_, i) => readValue(c, i)), values);
});

test('the byte charge counts every stored entry, plain or deduplicated', () => {
  const unique = Array.from({ length: 1000 }, (_, i) => `v${String(i).padStart(4, '0')}`);
  const b = new ColumnBuilder('s', 'STRING', 1000, 0n);
  let added = 0;
  for (const v of unique) added += b.push(v);
  assert.equal(added, 1000 * (5 + 16));
  assert.equal(b.bytes(), 1000 * 4 + added);
});
