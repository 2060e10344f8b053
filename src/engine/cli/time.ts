import { parseDurationNs, parseTimeNs } from '../pxl/functions/time.js';

/**
 * Parses a duration like `500ms`, `10s`, `5m`, `1h30m` into milliseconds, with the spelling PxL
 * scripts use. Throws with the offending text when it is not one.
 */
export function parseDurationMs(text: string): number {
  if (text.trim().length === 0) throw new Error('empty duration');
  const ns = parseDurationNs(text);
  if (ns === undefined || ns < 0n) throw new Error(`'${text}' is not a duration (use e.g. 500ms, 10s, 5m, 1h)`);
  return Number(ns) / 1e6;
}

/**
 * Parses a point in time for `--from`/`--to`: `now`, a relative `-5m` (or `now-5m`), RFC 3339,
 * or epoch milliseconds. Returns epoch milliseconds.
 */
export function parseTimeMs(text: string, nowMs: number): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const ns = parseTimeNs(t.replace(/^now(?=[+-])/, ''), BigInt(nowMs) * 1_000_000n);
  if (ns === undefined) {
    throw new Error(`'${text}' is not a time (use now, -5m, an RFC 3339 time like 2026-11-22T10:00:00Z, or epoch ms)`);
  }
  return Number(ns / 1_000_000n);
}
