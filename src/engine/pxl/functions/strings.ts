import type { Val } from '../exec/vec.js';
import { patternFor } from '../regex.js';
import type { FunctionEntry, ScalarCall } from './entry.js';
import { parsedDict } from './parsed.js';
import { asStr, constantArg, gatherBool, gatherNum } from './vectorized.js';

/*
 * Strings: px.contains, px.regex_match and the JSON readers px.pluck, px.pluck_float64 and
 * px.pluck_int64. Each runs once per distinct string of a column, never once per row.
 */

function contains(call: ScalarCall): Val {
  const v = call.value(call.args[0]!);
  const sub = String(constantArg(call, call.args[1]!));
  if (v.t === 'scalar') return { t: 'scalar', v: String(v.v).includes(sub) };
  const s = asStr(v, call.chunk.n);
  return gatherBool(s, s.dict.map((x) => x.includes(sub)), call.chunk);
}

function regexMatch(call: ScalarCall): Val {
  // RE2 FullMatch (regex.ts), linear in each value; the planner and the engine's fragment
  // check refuse bad patterns, and, as in Pixie, one that still fails matches nothing.
  const m = patternFor(String(constantArg(call, call.args[0]!)));
  const test = (x: string): boolean => (typeof m === 'function' ? m(x) : false);
  const v = call.value(call.args[1]!);
  if (v.t === 'scalar') return { t: 'scalar', v: test(String(v.v)) };
  const s = asStr(v, call.chunk.n);
  return gatherBool(s, s.dict.map(test), call.chunk);
}

function field(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
}

function asFloat(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
}

function asInt(v: unknown): number {
  const f = asFloat(v);
  return Number.isFinite(f) ? Math.trunc(f) : 0;
}

function asText(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** pluck / pluck_float64 / pluck_int64: one JSON parse per distinct string (see parsed.ts). */
function pluck(kind: 'float' | 'int' | 'text'): (call: ScalarCall) => Val {
  return (call) => {
    const key = String(constantArg(call, call.args[1]!));
    const v = call.value(call.args[0]!);
    const conv = kind === 'float' ? asFloat : kind === 'int' ? asInt : asText;
    if (v.t === 'scalar') {
      let o: unknown;
      try {
        o = JSON.parse(String(v.v));
      } catch {
        o = undefined;
      }
      return { t: 'scalar', v: conv(field(o, key)) };
    }
    const s = asStr(v, call.chunk.n);
    const parsed = parsedDict(s.dict);
    if (kind === 'text') return { t: 'str', c: s.c, dict: parsed.map((o) => asText(field(o, key))) };
    const f = kind === 'float' ? asFloat : asInt;
    return gatherNum(s, Float64Array.from(parsed, (o) => f(field(o, key))), call.chunk);
  };
}

/** px.contains, px.regex_match and the px.pluck family. */
export const STRINGS: readonly FunctionEntry[] = [
  {
    name: 'contains',
    spelling: 'px.contains',
    kind: 'scalar',
    signatures: [{ args: ['STRING', 'STRING'], ret: 'BOOLEAN' }],
    doc: 'True where the first string contains the second.',
    example: "df[px.contains(df.req_path, '/api')]",
    eval: contains,
    fold: ([x, y]) => String(x!.value).includes(String(y!.value)),
  },
  {
    name: 'regex_match',
    spelling: 'px.regex_match',
    kind: 'scalar',
    signatures: [{ args: ['STRING', 'STRING'], ret: 'BOOLEAN' }],
    doc: 'True where the whole second argument matches the regular expression given first (checked at compile time).',
    example: "df[px.regex_match('/api/v[0-9]+/.*', df.req_path)]",
    eval: regexMatch,
  },
  {
    name: 'pluck_float64',
    spelling: 'px.pluck_float64',
    kind: 'scalar',
    signatures: [{ args: ['STRING', 'STRING'], ret: 'FLOAT64' }],
    doc: 'A number from a JSON object, e.g. a percentile from px.quantiles.',
    example: "px.pluck_float64(df.latency_quantiles, 'p99')",
    eval: pluck('float'),
  },
  {
    name: 'pluck',
    spelling: 'px.pluck',
    kind: 'scalar',
    signatures: [{ args: ['STRING', 'STRING'], ret: 'STRING' }],
    doc: 'A value from a JSON object, as text.',
    example: "px.pluck(df.req_headers, 'Host')",
    eval: pluck('text'),
  },
  {
    name: 'pluck_int64',
    spelling: 'px.pluck_int64',
    kind: 'scalar',
    signatures: [{ args: ['STRING', 'STRING'], ret: 'INT64' }],
    doc: 'An integer from a JSON object.',
    example: "px.pluck_int64(df.resp_headers, 'Content-Length')",
    eval: pluck('int'),
  },
];
