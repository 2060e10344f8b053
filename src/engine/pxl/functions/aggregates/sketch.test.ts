import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../../../testkit/rng.js';
import { DDSketch, QUANTILE_KEYS, RELATIVE_ERROR, quantilesJson, quantileValues } from './sketch.js';

/** The exact value at rank floor(q * (n - 1)) of sorted values: the rank the sketch estimates. */
function exact(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function within(est: number, want: number): boolean {
  return Math.abs(est - want) <= RELATIVE_ERROR * Math.abs(want) + 1e-9;
}

test('every quantile is within the stated relative error of the exact one', () => {
  const r = rng(1);
  for (const [name, gen] of [
    ['log-normal latencies', () => 1e6 * Math.exp(1.5 * (r() + r() + r() - 1.5))],
    ['uniform', () => r() * 1000],
    ['mixed signs and zeros', () => (r() < 0.1 ? 0 : (r() - 0.5) * 1e4)],
  ] as const) {
    const s = new DDSketch();
    const xs: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = gen();
      xs.push(x);
      s.add(x);
    }
    xs.sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
      const est = s.quantile(q);
      assert.ok(within(est, exact(xs, q)), `${name} q=${q}: ${est} vs ${exact(xs, q)}`);
    }
  }
});

test('merging the states of two sketches equals one sketch of all values', () => {
  const r = rng(2);
  const a = new DDSketch();
  const b = new DDSketch();
  const all = new DDSketch();
  for (let i = 0; i < 5000; i++) {
    const x = Math.exp(10 * r()) - 3;
    (i % 3 === 0 ? a : b).add(x);
    all.add(x);
  }
  const merged = new DDSketch();
  merged.merge(JSON.parse(JSON.stringify(a.state())));
  merged.merge(JSON.parse(JSON.stringify(b.state())));
  assert.deepEqual(quantileValues(merged), quantileValues(all));
  assert.equal(merged.count, 5000);
});

test("output is Pixie's JSON with keys p01..p99, readable as numbers", () => {
  const s = new DDSketch();
  for (let i = 1; i <= 100; i++) s.add(i);
  const json = quantilesJson(quantileValues(s));
  const o = JSON.parse(json) as Record<string, number>;
  assert.deepEqual(Object.keys(o), ['p01', 'p10', 'p25', 'p50', 'p75', 'p90', 'p99']);
  assert.deepEqual(
    QUANTILE_KEYS.map(([k]) => k),
    Object.keys(o),
  );
  assert.ok(within(o['p50']!, 50));
  assert.ok(within(o['p99']!, 99));
  // One value: every quantile is that value (clamped to the exact min/max).
  const one = new DDSketch();
  one.add(123456);
  assert.deepEqual(new Set(Object.values(quantileValues(one))), new Set([123456]));
  // Empty: not a number, rendered as null.
  assert.equal(JSON.parse(quantilesJson(quantileValues(new DDSketch())))['p50'], null);
});

test('the fast bucket index keeps every value within the stated error of its bucket value', async () => {
  const { bucketIndex, value } = await import('./sketch.js');
  const r = rng(6);
  let worst = 0;
  for (let i = 0; i < 200000; i++) {
    const v = Math.exp((r() - 0.3) * 60); // 1e-8 .. 1e18
    if (v <= 1e-9) continue;
    worst = Math.max(worst, Math.abs(value(bucketIndex(v)) - v) / v);
  }
  assert.ok(worst <= RELATIVE_ERROR, `worst relative error ${worst}`);
  assert.ok(worst > RELATIVE_ERROR * 0.9, `buckets are not needlessly fine (${worst})`);
});
