import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LossLog } from './loss.js';

const S = 1_000_000_000n;

test('missing exchanges are counted by the second they went missing and summed over a range', () => {
  const log = new LossLog(60);
  const t0 = 1_700_000_000n * S;
  log.record(t0, 3, 0);
  log.record(t0 + 500_000_000n, 1, 2);
  log.record(t0 + 10n * S, 0, 5);
  log.record(t0 + 11n * S, 0, 0);
  const now = t0 + 20n * S;
  assert.deepEqual(log.between(null, null, now), { shed: 4, lost: 7 });
  assert.deepEqual(log.between(t0, t0 + S, now), { shed: 4, lost: 2 });
  assert.deepEqual(log.between(t0 + S, null, now), { shed: 0, lost: 5 });
  assert.deepEqual(log.between(t0 + 10n * S, t0 + 10n * S, now), { shed: 0, lost: 0 }, 'an empty range');
  assert.deepEqual(log.between(null, t0 + 10n * S + 1n, now), { shed: 4, lost: 7 }, 'the end is exclusive, by the second');
});

test('the log holds a fixed window: older seconds are forgotten, and their slots reused', () => {
  const log = new LossLog(10);
  const t0 = 1_700_000_000n * S;
  log.record(t0, 1, 1);
  log.record(t0 + 10n * S, 0, 7);
  assert.deepEqual(log.between(null, null, t0 + 10n * S), { shed: 0, lost: 7 });
});
