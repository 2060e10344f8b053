/**
 * The "what varies" rules of the docs' test (match.ts): each lets through what it names and
 * nothing more, so a doc that drifted cannot pass by a rule that is too loose.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchJson, matchText } from './match.js';

const strict = { varies: [], sample: [] };

test('text: numbers match numbers, words and layout do not drift', () => {
  assert.equal(matchText('27 BPF programs attached', '31 BPF programs attached'), undefined);
  assert.equal(matchText('1.2 MiB of 256.0 MiB', '0.0 MiB of 256.0 MiB'), undefined);
  assert.match(matchText('12 tracepoints attached', '27 BPF programs attached')!, /shown line 1/);
  assert.match(matchText('of 256 MiB', 'of 256 KiB')!, /differs/);
  assert.match(matchText('--> <stdin>:3:12', '--> <stdin>:x:12')!, /differs/);
});

test('text: blanks, trailing blanks and blank edge lines; a missing or extra line fails', () => {
  assert.equal(matchText('a  b\n', '\na b   \n\n'), undefined);
  assert.match(matchText('a b', 'ab')!, /differs/);
  assert.match(matchText('= hint: one', '= hint: one\n= hint: two')!, /more lines than shown/);
  assert.match(matchText('= hint: one\n= hint: two', '= hint: one')!, /is missing/);
});

test('text: … inside a line is any text; a line of … or ... is any number of lines', () => {
  assert.equal(matchText('columns: time_, upid, …', 'columns: time_, upid, remote_addr, comm'), undefined);
  assert.match(matchText('columns: time_, upid, …', 'columns: upid, time_')!, /differs/);
  assert.equal(matchText('first\n...\nlast', 'first\nx\ny\nlast'), undefined);
  assert.equal(matchText('first\n…\nlast', 'first\nlast'), undefined);
  assert.ok(matchText('first\n...\nlast', 'first\nx\nlost') !== undefined);
});

test('JSON: numbers and "..." vary; keys, strings and array lengths do not', () => {
  assert.deepEqual(matchJson({ a: 1, b: '...', c: 'x 12' }, { a: 99, b: { deep: [1] }, c: 'x 7' }, strict), []);
  assert.deepEqual(matchJson({ ringbuf_full: 0 }, { ringbuf_full_events: 0 }, strict), [
    '(top): shown keys ringbuf_full are not in the answer',
    '(top): the answer has keys the doc does not show: ringbuf_full_events',
  ]);
  assert.equal(matchJson({ a: 'in http_events' }, { a: 'in this DataFrame' }, strict).length, 1);
  assert.equal(matchJson({ a: [1] }, { a: [1, 2] }, strict).length, 1);
  assert.equal(matchJson({ a: 1 }, { a: '1' }, strict).length, 1);
});

test('JSON: varies and sample apply at their paths only', () => {
  const answer = { tables: [{ name: 't', data: [[1, 2], ['x']] }], list: [{ name: 'b', v: 'y' }, { name: 'a', v: 'x' }] };
  assert.deepEqual(matchJson({ tables: [{ name: 't', data: [] }], list: '...' }, answer, { varies: ['tables.*.data'], sample: [] }), []);
  assert.equal(matchJson({ tables: [{ name: 't', data: [] }], list: '...' }, answer, strict).length, 1);
  assert.deepEqual(matchJson({ tables: '...', list: [{ name: 'a', v: 'x' }] }, answer, { varies: [], sample: ['list'] }), []);
  assert.equal(matchJson({ tables: '...', list: [{ name: 'a', v: 'y' }] }, answer, { varies: [], sample: ['list'] }).length, 1);
  assert.equal(matchJson({ tables: '...', list: [{ name: 'c', v: 'x' }] }, answer, { varies: [], sample: ['list'] }).length, 1);
});
