import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../../../testkit/rng.js';
import type { DataType } from '../../../schema.js';
import type { Val, Vec } from '../../exec/vec.js';
import { createAgg, registryEntries } from '../registry.js';

const GROUPS = 5;

function finalizeValues(v: Vec): unknown[] {
  switch (v.t) {
    case 'str':
      return Array.from(v.c, (c) => v.dict[c]);
    default:
      return Array.from(v.d as ArrayLike<number | bigint>);
  }
}

/** Runs an aggregate over rows, either in one state or split over two merged through partials. */
function run(fn: string, argType: DataType, outType: DataType, gids: Int32Array, arg: Val, split: boolean): unknown[] {
  if (!split) {
    const s = createAgg(fn, argType, outType);
    s.grow(GROUPS);
    s.update(gids, null, arg);
    return finalizeValues(s.finalize(GROUPS));
  }
  // Two "nodes": even rows and odd rows, via selections over the same columns.
  const even = Int32Array.from({ length: Math.ceil(gids.length / 2) }, (_, k) => 2 * k);
  const odd = Int32Array.from({ length: Math.floor(gids.length / 2) }, (_, k) => 2 * k + 1);
  const parts = [even, odd].map((sel) => {
    const s = createAgg(fn, argType, outType);
    s.grow(GROUPS);
    s.update(Int32Array.from(sel, (i) => gids[i]!), sel, arg);
    // Partials cross the wire as JSON.
    return Array.from({ length: GROUPS }, (_, g) => JSON.parse(JSON.stringify(s.partial(g))) as unknown);
  });
  const merged = createAgg(fn, argType, outType);
  merged.grow(GROUPS);
  for (const p of parts) p.forEach((v, g) => merged.merge(g, v));
  return finalizeValues(merged.finalize(GROUPS));
}

test('partial → merge → finalize equals a single pass, for every aggregate', () => {
  const r = rng(3);
  const n = 4001;
  const gids = Int32Array.from({ length: n }, () => Math.floor(r() * GROUPS));
  const nums = Float64Array.from({ length: n }, () => (r() < 0.05 ? 0 : Math.round((r() - 0.1) * 1e6)));
  const strs: Val = { t: 'str', c: Int32Array.from({ length: n }, (_, i) => i % 3), dict: ['a', 'b', 'c'] };
  for (const fn of registryEntries().flatMap((e) => (e.agg ? [e.name] : []))) {
    const [argType, outType]: [DataType, DataType] =
      fn === 'count' ? ['INT64', 'INT64'] : fn === 'quantiles' ? ['INT64', 'STRING'] : fn === 'mean' ? ['INT64', 'FLOAT64'] : ['INT64', 'INT64'];
    const arg: Val = { t: 'num', d: nums };
    const one = run(fn, argType, outType, gids, arg, false);
    const two = run(fn, argType, outType, gids, arg, true);
    if (fn === 'any') {
      // Any value of the group will do, but it must be one of the group's values.
      two.forEach((v, g) => assert.ok(nums.some((x, i) => gids[i] === g && x === v), `any of group ${g}`));
    } else if (fn === 'mean') {
      two.forEach((v, g) => assert.ok(Math.abs((v as number) - (one[g] as number)) < 1e-6, `mean of group ${g}`));
    } else {
      assert.deepEqual(two, one, fn);
    }
  }
  const anyStr = run('any', 'STRING', 'STRING', gids, strs, true);
  anyStr.forEach((v) => assert.ok(['a', 'b', 'c'].includes(v as string)));
});

test('aggregates agree with plain loops', () => {
  const r = rng(4);
  const n = 3000;
  const gids = Int32Array.from({ length: n }, () => Math.floor(r() * GROUPS));
  const xs = Float64Array.from({ length: n }, () => Math.round((r() - 0.3) * 1e5));
  const want = Array.from({ length: GROUPS }, (_, g) => {
    const vs = [...xs].filter((_, i) => gids[i] === g);
    return { count: vs.length, sum: vs.reduce((a, b) => a + b, 0), min: Math.min(...vs), max: Math.max(...vs) };
  });
  const arg: Val = { t: 'num', d: xs };
  assert.deepEqual(run('count', 'INT64', 'INT64', gids, arg, false), want.map((w) => w.count));
  assert.deepEqual(run('sum', 'INT64', 'INT64', gids, arg, false), want.map((w) => w.sum));
  assert.deepEqual(run('min', 'INT64', 'INT64', gids, arg, false), want.map((w) => w.min));
  assert.deepEqual(run('max', 'INT64', 'INT64', gids, arg, false), want.map((w) => w.max));
  const mean = run('mean', 'INT64', 'FLOAT64', gids, arg, false) as number[];
  mean.forEach((m, g) => assert.ok(Math.abs(m - want[g]!.sum / want[g]!.count) < 1e-9));
  // Booleans: sum counts true, mean is the true fraction.
  const bools: Val = { t: 'bool', d: Uint8Array.from(xs, (x) => (x > 0 ? 1 : 0)) };
  const trues = Array.from({ length: GROUPS }, (_, g) => [...xs].filter((x, i) => gids[i] === g && x > 0).length);
  assert.deepEqual(run('sum', 'BOOLEAN', 'INT64', gids, bools, false), trues);
});

test('an INT64 sum stays exact past 2^53, through partials too', () => {
  const big = 2 ** 52; // each addend is safe; the sum of 8 of them is not representable as a double
  const n = 8;
  const gids = new Int32Array(n);
  const arg: Val = { t: 'num', d: new Float64Array(n).fill(big + 1) };
  const want = (BigInt(big) + 1n) * BigInt(n);
  const s = createAgg('sum', 'INT64', 'INT64');
  s.grow(1);
  s.update(gids, null, arg);
  const v = s.finalize(1);
  assert.equal(v.t, 'big');
  assert.equal((v as Extract<Vec, { t: 'big' }>).d[0], want);
  assert.equal(s.partial(0), want.toString());
  const m = createAgg('sum', 'INT64', 'INT64');
  m.grow(1);
  m.merge(0, s.partial(0));
  m.merge(0, s.partial(0));
  assert.equal((m.finalize(1) as Extract<Vec, { t: 'big' }>).d[0], want * 2n);
});

test('grouped quantiles agree with one DDSketch per group, negatives and zeros included', async () => {
  const { DDSketch, quantileValues, quantilesJson } = await import('./sketch.js');
  const r = rng(5);
  const n = 20000;
  const gids = Int32Array.from({ length: n }, () => Math.floor(r() * GROUPS));
  const xs = Float64Array.from({ length: n }, (_, i) => (i % 50 === 0 ? 0 : (gids[i] === 0 ? -1 : 1) * Math.exp(12 * r())));
  const s = createAgg('quantiles', 'FLOAT64', 'STRING');
  s.grow(GROUPS);
  s.update(gids, null, { t: 'num', d: xs });
  const got = finalizeValues(s.finalize(GROUPS));
  const want = Array.from({ length: GROUPS }, (_, g) => {
    const sk = new DDSketch();
    xs.forEach((x, i) => gids[i] === g && sk.add(x));
    return quantilesJson(quantileValues(sk));
  });
  assert.deepEqual(got, want);
});

test('quantile states reuse released arena pages as if they were fresh', async () => {
  const { DDSketch, quantileValues, quantilesJson } = await import('./sketch.js');
  const r = rng(8);
  // Enough groups to fill more than one 8 MiB page, so full and partly used pages both return.
  const groups = 5000;
  const sketchOf = (seed: number): { got: unknown[]; want: string[] } => {
    const rr = rng(seed);
    const n = 30000;
    const gids = Int32Array.from({ length: n }, () => Math.floor(rr() * groups));
    const xs = Float64Array.from({ length: n }, () => Math.exp(20 * rr()));
    const s = createAgg('quantiles', 'FLOAT64', 'STRING');
    s.grow(groups);
    s.update(gids, null, { t: 'num', d: xs });
    const got = finalizeValues(s.finalize(groups));
    s.release?.();
    const want = Array.from({ length: groups }, (_, g) => {
      const sk = new DDSketch();
      xs.forEach((x, i) => gids[i] === g && sk.add(x));
      return quantilesJson(quantileValues(sk));
    });
    return { got, want };
  };
  for (const seed of [1 + Math.floor(r() * 100), 200, 300]) {
    const { got, want } = sketchOf(seed);
    assert.deepEqual(got, want, `run with seed ${seed}`);
  }
});
