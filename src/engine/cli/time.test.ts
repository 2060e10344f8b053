import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDurationMs, parseTimeMs } from './time.js';

test('durations in every unit and combined', () => {
  assert.equal(parseDurationMs('500ms'), 500);
  assert.equal(parseDurationMs('10s'), 10_000);
  assert.equal(parseDurationMs('5m'), 300_000);
  assert.equal(parseDurationMs('1h30m'), 5_400_000);
  assert.equal(parseDurationMs('2d'), 172_800_000);
  assert.equal(parseDurationMs('1500us'), 1.5);
  assert.throws(() => parseDurationMs('5 minutes'), /'5 minutes' is not a duration/);
  assert.throws(() => parseDurationMs(''), /empty duration/);
});

test('times: now, relative, RFC 3339 and epoch ms', () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  assert.equal(parseTimeMs('now', now), now);
  assert.equal(parseTimeMs('-5m', now), now - 300_000);
  assert.equal(parseTimeMs('now-1h', now), now - 3_600_000);
  assert.equal(parseTimeMs('2026-11-22T11:00:00Z', now), Date.UTC(2026, 10, 22, 11, 0, 0));
  assert.equal(parseTimeMs('2026-11-22T13:00:00+02:00', now), Date.UTC(2026, 10, 22, 11, 0, 0));
  assert.equal(parseTimeMs('1763812800000', now), 1763812800000);
  assert.throws(() => parseTimeMs('yesterday', now), /'yesterday' is not a time/);
});
