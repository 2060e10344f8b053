import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamReassembler, type ReassemblyCounters } from './reassembly.js';

/** Records what the parser would see: text runs and gaps. */
function harness(limits = { maxPendingBytes: 1000, maxPendingSegments: 8 }) {
  const out: string[] = [];
  const counters: ReassemblyCounters = { gaps: 0, gapBytes: 0, duplicateBytes: 0, reorderOverflows: 0 };
  const r = new StreamReassembler({
    data: (b, s, e) => void out.push(Buffer.from(b.subarray(s, e)).toString()),
    gap: (n) => void out.push(`<gap ${n}>`),
  }, limits, counters);
  const add = (pos: number, text: string, opts: { size?: number; off?: number } = {}) =>
    r.add(pos, opts.size ?? text.length + (opts.off ?? 0), opts.off ?? 0, Buffer.from(text), 1n);
  return { r, out, counters, add };
}

test('in order: delivered at once, nothing buffered', () => {
  const h = harness();
  h.add(0, 'abc');
  h.add(3, 'def');
  assert.deepEqual(h.out, ['abc', 'def']);
  assert.equal(h.r.bufferedBytes, 0);
});

test('out of order across syscalls: held until the hole fills', () => {
  const h = harness();
  h.add(0, 'ab');
  h.add(5, 'fg');
  h.add(2, 'cde');
  assert.deepEqual(h.out, ['ab', 'cde', 'fg']);
  assert.equal(h.r.bufferedBytes, 0);
});

test('duplicates and overlaps are trimmed and counted', () => {
  const h = harness();
  h.add(0, 'abcd');
  h.add(0, 'abcd');
  h.add(2, 'cdef');
  assert.deepEqual(h.out, ['abcd', 'ef']);
  assert.equal(h.counters.duplicateBytes, 6);
});

test('a truncated syscall: its tail becomes a gap when the next syscall arrives', () => {
  const h = harness();
  h.add(0, 'abc', { size: 10 });
  assert.deepEqual(h.out, ['abc']);
  h.add(10, 'xyz');
  assert.deepEqual(h.out, ['abc', '<gap 7>', 'xyz']);
  assert.deepEqual([h.counters.gaps, h.counters.gapBytes], [1, 7]);
});

test('chunks of one syscall in any order; a missing middle chunk is a gap once sealed', () => {
  const h = harness();
  h.add(0, 'ghi', { off: 6, size: 9 });
  h.add(0, 'abc', { size: 9 });
  assert.deepEqual(h.out, ['abc']);
  h.r.seal();
  assert.deepEqual(h.out, ['abc', '<gap 3>', 'ghi']);
});

test('a chunk arriving after its syscall was sealed is too late: counted, not delivered', () => {
  const h = harness();
  h.add(0, 'ef', { off: 4, size: 6 });
  assert.deepEqual(h.out, []);
  h.add(6, 'gh');
  assert.deepEqual(h.out, ['<gap 4>', 'ef', 'gh']);
  h.add(0, 'ab', { size: 6 });
  assert.deepEqual(h.out, ['<gap 4>', 'ef', 'gh']);
  assert.equal(h.counters.duplicateBytes, 2);
});

test('forceHoles: every hole before held data becomes a gap', () => {
  const h = harness();
  h.add(0, 'ab');
  h.add(4, 'ef', { size: 4 });
  h.add(2, 'c', { size: 2 });
  assert.deepEqual(h.out, ['ab', 'c']);
  h.r.forceHoles();
  assert.deepEqual(h.out, ['ab', 'c', '<gap 1>', 'ef', '<gap 2>']);
  assert.equal(h.r.bufferedBytes, 0);
});

test('the reorder window: a hole that never fills is given up when buffers overflow', () => {
  const h = harness({ maxPendingBytes: 10, maxPendingSegments: 100 });
  h.add(0, 'a');
  h.add(5, 'bbbbbb');
  assert.deepEqual(h.out, ['a']);
  h.add(11, 'ccccc');
  assert.deepEqual(h.out, ['a', '<gap 4>', 'bbbbbb', 'ccccc']);
  assert.equal(h.counters.reorderOverflows, 1);
  const k = harness({ maxPendingBytes: 1000, maxPendingSegments: 2 });
  k.add(0, 'a');
  k.add(3, 'b');
  k.add(5, 'c');
  k.add(7, 'd');
  // Three segments held is one over the bound: the first hole goes, two stay held.
  assert.deepEqual(k.out, ['a', '<gap 2>', 'b']);
  assert.equal(k.r.bufferedBytes, 2);
});

test('the first event fixes the stream start; discard drops what is held', () => {
  const h = harness();
  h.add(100, 'xy');
  h.add(110, 'zz');
  assert.deepEqual(h.out, ['xy']);
  assert.equal(h.r.bufferedBytes, 2);
  h.r.discard();
  assert.equal(h.r.bufferedBytes, 0);
});
