/** Durations and times as PxL scripts and Grafana write them. */

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

const DURATION_RE = /^([+-]?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+)$/;
const PART_RE = /(\d+)(?:\.(\d+))?(ns|us|µs|ms|s|m|h|d)/g;

/** Parses '5m', '-1h30m', '250ms', '1.5s' into ns; undefined when the text is no duration. */
export function parseDurationNs(text: string): bigint | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  let total = 0n;
  for (const p of m[2]!.matchAll(PART_RE)) {
    const unit = UNIT_NS[p[3]!]!;
    total += BigInt(p[1]!) * unit;
    if (p[2]) {
      const frac = p[2];
      total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    }
  }
  return m[1] === '-' ? -total : total;
}

/**
 * A time as `px.DataFrame(start_time=...)` accepts it in a string: a duration relative to now
 * ('-5m', as in Pixie; without a sign it lies ahead of now), 'now', or an RFC 3339 time.
 */
export function parseTimeNs(text: string, nowNs: bigint): bigint | undefined {
  const t = text.trim();
  if (t === 'now') return nowNs;
  const d = parseDurationNs(t);
  if (d !== undefined) return nowNs + d;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) {
      const frac = /\.(\d+)/.exec(t)?.[1] ?? '';
      const subMs = frac.length > 3 ? BigInt(frac.slice(3, 9).padEnd(6, '0')) : 0n;
      return BigInt(ms) * 1_000_000n + subMs;
    }
  }
  return undefined;
}

/**
 * Grafana's text for a duration (`secondsToHms`): the largest whole unit, e.g. 30s, 5m, 1h,
 * 200ms. `$__interval` and `$__range` expand to this inside string literals.
 */
export function grafanaDurationText(ms: number): string {
  const seconds = ms / 1000;
  const units: [number, string][] = [[31536000, 'y'], [86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  for (const [size, suffix] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n}${suffix}`;
  }
  const whole = Math.floor(ms);
  return whole >= 1 ? `${whole}ms` : '0ms';
}
