import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admission } from './admission.js';

const never = new AbortController().signal;

test('at most maxRunning run; the next wait in arrival order; past maxWaiting a query is refused', async () => {
  const a = new Admission(2, 2);
  const r1 = await a.enter(never)!;
  const r2 = await a.enter(never)!;
  const order: string[] = [];
  const w3 = a.enter(never)!.then((r) => (order.push('3'), r));
  const w4 = a.enter(never)!.then((r) => (order.push('4'), r));
  assert.equal(a.enter(never), null, 'the queue is full');
  assert.deepEqual(a.load(), { running: 2, waiting: 2 });
  r2();
  r2();
  const r3 = await w3;
  assert.deepEqual(order, ['3'], 'a second release of the same turn frees nothing');
  r1();
  const r4 = await w4;
  assert.deepEqual(order, ['3', '4']);
  assert.deepEqual(a.load(), { running: 2, waiting: 0 });
  r3();
  r4();
  assert.deepEqual(a.load(), { running: 0, waiting: 0 });
});

test('a query whose signal aborts while it waits leaves the queue with the reason', async () => {
  const a = new Admission(1, 4);
  const r1 = await a.enter(never)!;
  const c = new AbortController();
  const waiting = a.enter(c.signal)!;
  const after = a.enter(never)!;
  c.abort(new Error('timed out while waiting'));
  await assert.rejects(waiting, /timed out while waiting/);
  assert.deepEqual(a.load(), { running: 1, waiting: 1 });
  r1();
  (await after)();
  assert.deepEqual(a.load(), { running: 0, waiting: 0 });
  const full = await a.enter(never)!;
  await assert.rejects(a.enter(AbortSignal.abort(new Error('already gone')))!, /already gone/);
  full();
});
