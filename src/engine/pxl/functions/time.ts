import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import { floorToKernel } from '../exec/kernels.js';
import type { NumData, Val } from '../exec/vec.js';
import type { Expr } from '../plan/logical.js';
import { checkInt } from './arithmetic.js';
import type { FunctionEntry, ScalarCall } from './entry.js';
import { binaryNum, operand, perStringNum } from './vectorized.js';

/*
 * Times and durations: px.bin, px.now, px.parse_duration, px.parse_time, px.format_duration,
 * the unit functions (px.seconds(10) …), and the one parser of durations and times that
 * scripts, the macros, the CLI's --from/--to and the broker's flags all read with — so a string
 * means the same time folded at compile time, read from a column at run time, or typed on a
 * command line.
 */

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

/** Parses '5m', '-1h30m', '250ms', '1.5s' into ns, exactly; undefined when the text is no duration. */
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
 * A time as a string: a duration relative to now ('-5m', as in Pixie; without a sign it lies
 * ahead of now), 'now', or an RFC 3339 time (a date alone, a space for the 'T', no seconds or
 * no zone are accepted too; digits below the ns are dropped). Undefined when the text is none.
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

const DURATION_HINT = "write a number and a unit: '5m', '-30s', '1h30m', '250ms' (units ns, us, ms, s, m, h, d)";
const TIME_HINT = "write a time relative to now ('-5m'), 'now', an RFC 3339 time, or pass __time_from / $__timeFrom()";

/**
 * The error for a string that should have been a duration: PXL_VALUE at its span when a script
 * gives it as a constant, PXL_BAD_ARGUMENT (no span) when a column's value is read at run time.
 */
function durationError(text: string, at?: Span): PxlError {
  return new PxlError(at ? PxlCode.value : 'PXL_BAD_ARGUMENT', `'${text}' is not a duration`, at, [DURATION_HINT]);
}

/** The error for a string that should have been a time (codes as for durationError). */
export function timeError(text: string, at?: Span): PxlError {
  return new PxlError(at ? PxlCode.value : 'PXL_BAD_ARGUMENT', `'${text}' is not a time`, at, [TIME_HINT]);
}

function bin({ args, chunk, env, value }: ScalarCall): Val {
  const [ex, es] = args as [Expr, Expr];
  const x = value(ex);
  const s = value(es);
  const n = chunk.n;
  const xo = operand(x, n, env, ex.type) as NumData | number;
  const so = operand(s, n, env, es.type) as NumData | number;
  const isTime = ex.type === 'TIME64NS';
  if (typeof so === 'number') {
    if (!(so > 0)) throw new PxlError('PXL_BAD_ARGUMENT', `px.bin: the bin size must be positive, got ${so}`);
    // Offsets are from the time base; bins are aligned on absolute time, so shift by base mod size.
    const shift = isTime ? Number(env.timeBase % BigInt(Math.trunc(so))) : 0;
    if (typeof xo === 'number') {
      const out = new Float64Array(1);
      floorToKernel(xo, so, shift, out, null, 1, false, false);
      return { t: 'scalar', v: out[0]! };
    }
    const out = new Float64Array(n);
    floorToKernel(xo, so, shift, out, chunk.sel, n, true, false);
    return { t: 'num', d: out };
  }
  const out = new Float64Array(n);
  const sel = chunk.sel;
  const m = sel ? sel.length : n;
  for (let k = 0; k < m; k++) {
    const i = sel ? sel[k]! : k;
    const size = so[i]!;
    const xv = typeof xo === 'number' ? xo : xo[i]!;
    const shift = isTime && size > 0 ? Number(env.timeBase % BigInt(Math.trunc(size))) : 0;
    out[i] = size > 0 ? xv - ((((xv + shift) % size) + size) % size) : xv;
  }
  return { t: 'num', d: out };
}

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1000n * NS_PER_MS;
const NS_PER_MIN = 60n * NS_PER_S;
const NS_PER_H = 60n * NS_PER_MIN;
const NS_PER_DAY = 24n * NS_PER_H;

/**
 * Pixie's px.format_duration: ns as whole days, hours, minutes, seconds or milliseconds, the
 * largest unit that fits, rounded towards zero, the sign kept (-300e9 → '-5m', 5e9 + 1 → '5s').
 */
export function formatDuration(ns: bigint): string {
  const abs = ns < 0n ? -ns : ns;
  const text =
    abs >= NS_PER_DAY ? `${abs / NS_PER_DAY}d` : abs >= NS_PER_H ? `${abs / NS_PER_H}h` : abs >= NS_PER_MIN ? `${abs / NS_PER_MIN}m` : abs >= NS_PER_S ? `${abs / NS_PER_S}s` : `${abs / NS_PER_MS}ms`;
  return ns < 0n ? `-${text}` : text;
}

function formatDurations({ args, chunk, env, value }: ScalarCall): Val {
  const v = value(args[0]!);
  if (v.t === 'scalar') return { t: 'scalar', v: formatDuration(BigInt(Math.trunc(Number(v.v)))) };
  const d = operand(v, chunk.n, env, 'INT64') as NumData;
  const codes = new Int32Array(chunk.n);
  const dict: string[] = [];
  const seen = new Map<number, number>();
  const sel = chunk.sel;
  const m = sel ? sel.length : chunk.n;
  for (let k = 0; k < m; k++) {
    const i = sel ? sel[k]! : k;
    const x = d[i]!;
    let code = seen.get(x);
    if (code === undefined) {
      code = dict.push(formatDuration(BigInt(Math.trunc(x)))) - 1;
      seen.set(x, code);
    }
    codes[i] = code;
  }
  return { t: 'str', c: codes, dict };
}

/** Pixie's compile-time unit functions: px.seconds(10) is 10 s in ns. */
function unit(name: string, ns: bigint): FunctionEntry {
  return {
    name,
    spelling: `px.${name}`,
    kind: 'scalar',
    signatures: [{ args: ['INT64'], ret: 'INT64', semantic: 'ST_DURATION_NS' }],
    doc: `A number of ${name} as a duration in ns.`,
    example: `df.timestamp = px.bin(df.time_, px.${name}(10))`,
    eval: ({ args, chunk, env, value }) => binaryNum('multiply', value(args[0]!), { t: 'scalar', v: Number(ns) }, 'INT64', 'INT64', chunk, env, false),
    fold: ([x], _ret, at) => checkInt((x!.value as bigint) * ns, at),
  };
}

/** px.bin, px.now, px.parse_duration, px.parse_time, px.format_duration and the unit functions. */
export const TIME: readonly FunctionEntry[] = [
  unit('days', NS_PER_DAY),
  unit('hours', NS_PER_H),
  unit('minutes', NS_PER_MIN),
  unit('seconds', NS_PER_S),
  unit('milliseconds', NS_PER_MS),
  unit('microseconds', 1000n),
  {
    name: 'format_duration',
    spelling: 'px.format_duration',
    kind: 'scalar',
    signatures: [{ args: ['INT64'], ret: 'STRING' }],
    doc: "A duration in ns as text in its largest whole unit, rounded towards zero: -300e9 is '-5m' (d, h, m, s, ms).",
    example: 'df.took = px.format_duration(df.latency)',
    eval: formatDurations,
    fold: ([x]) => formatDuration(x!.value as bigint),
  },
  {
    name: 'bin',
    spelling: 'px.bin',
    kind: 'scalar',
    signatures: [
      { args: ['TIME64NS', 'INT64'], ret: 'TIME64NS' },
      { args: ['INT64', 'INT64'], ret: 'INT64' },
    ],
    doc: 'Rounds down to a multiple of the bin size (ns for times).',
    example: 'df.timestamp = px.bin(df.time_, __interval)',
    semantic: 'first',
    eval: bin,
    fold: ([x, y]) => {
      const p = x!.value as bigint;
      const q = y!.value as bigint;
      if (q <= 0n) throw new PxlError(PxlCode.value, 'px.bin needs a positive bin size', y!.at);
      return p - (((p % q) + q) % q);
    },
  },
  {
    name: 'now',
    spelling: 'px.now',
    kind: 'scalar',
    signatures: [{ args: [], ret: 'TIME64NS' }],
    doc: 'The query time (fixed for the whole script).',
    example: "px.now() - px.parse_duration('5m')",
    eval: ({ env }) => ({ t: 'scalar', v: Number(env.nowNs - env.timeBase) }),
    fold: (_args, _ret, _at, ctx) => ctx.nowNs,
  },
  {
    name: 'parse_duration',
    spelling: 'px.parse_duration',
    kind: 'scalar',
    signatures: [{ args: ['STRING'], ret: 'INT64', semantic: 'ST_DURATION_NS' }],
    doc: "A duration such as '5m', '-30s', '1h30m' in ns.",
    example: "px.parse_duration('5m')",
    throwsOnData: true,
    eval: (call) =>
      perStringNum(
        (s) => {
          const d = parseDurationNs(s);
          if (d === undefined) throw durationError(s);
          return Number(d);
        },
        call,
        call.args[0]!,
      ),
    fold: ([x]) => {
      const d = parseDurationNs(String(x!.value));
      if (d === undefined) throw durationError(String(x!.value), x!.at);
      return d;
    },
  },
  {
    name: 'parse_time',
    spelling: 'px.parse_time',
    kind: 'scalar',
    signatures: [{ args: ['STRING'], ret: 'TIME64NS' }],
    doc: "A time: 'now', relative to now ('-5m') or RFC 3339.",
    example: "px.parse_time('-5m')",
    throwsOnData: true,
    eval: (call) =>
      perStringNum(
        (s) => {
          const t = parseTimeNs(s, call.env.nowNs);
          if (t === undefined) throw timeError(s);
          return Number(t - call.env.timeBase);
        },
        call,
        call.args[0]!,
      ),
    fold: ([x], _ret, _at, ctx) => {
      const t = parseTimeNs(String(x!.value), ctx.nowNs);
      if (t === undefined) throw timeError(String(x!.value), x!.at);
      return t;
    },
  },
];
