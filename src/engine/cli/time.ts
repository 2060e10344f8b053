/** Units accepted in durations, in milliseconds (Grafana's and Pixie's spellings). */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a duration like `500ms`, `10s`, `5m`, `1h30m` into milliseconds. Throws with the
 * offending text when it is not one.
 */
export function parseDurationMs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)/y;
  let total = 0;
  let at = 0;
  const t = text.trim();
  while (at < t.length) {
    re.lastIndex = at;
    const m = re.exec(t);
    if (!m) throw new Error(`'${text}' is not a duration (use e.g. 500ms, 10s, 5m, 1h)`);
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = re.lastIndex;
  }
  if (t.length === 0) throw new Error('empty duration');
  return total;
}

/**
 * Parses a point in time for `--from`/`--to`: `now`, a relative `-5m` (or `now-5m`), RFC 3339,
 * or epoch milliseconds. Returns epoch milliseconds.
 */
export function parseTimeMs(text: string, nowMs: number): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  const rel = /^(?:now)?([+-])(.+)$/.exec(t);
  if (rel && !/^\d{4}-/.test(t)) {
    const d = parseDurationMs(rel[2]!);
    return rel[1] === '-' ? nowMs - d : nowMs + d;
  }
  if (/^\d+$/.test(t)) return Number(t);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new Error(`'${text}' is not a time (use now, -5m, an RFC 3339 time like 2026-11-22T10:00:00Z, or epoch ms)`);
}
