import { PxlCode, PxlError } from '../diagnostic.js';
import type { Val } from '../exec/vec.js';
import { checkRewrite, compilePattern, compileReplacer, patternFor, replacerFor } from '../regex.js';
import type { CheckArg, FunctionEntry, ScalarCall } from './entry.js';
import { parsedDict } from './parsed.js';
import { asStr, constantArg, gatherBool, gatherNum, perStrings, stringsToBool, stringsToStr } from './vectorized.js';

/*
 * Strings: px.contains, px.regex_match, px.replace, px.has_service_name and the JSON readers
 * px.pluck, px.pluck_float64 and px.pluck_int64. Each runs once per distinct string of a
 * column (or distinct combination of its arguments), never once per row.
 */

/** A regular expression argument must be a constant RE2 compiles (regex.ts): checked at its span. */
function constantPattern(fn: string, p: CheckArg): void {
  if (p.value === undefined) {
    throw new PxlError(PxlCode.type, `the regular expression of px.${fn} must be a constant string`, p.at, [`px.${fn}('pattern', df.column${fn === 'replace' ? ", 'with'" : ''})`]);
  }
  const m = compilePattern(String(p.value));
  if (typeof m !== 'function') throw new PxlError(m.tooLarge ? PxlCode.limit : PxlCode.value, m.message, p.at, m.hints);
}

function replace(call: ScalarCall): Val {
  // As Pixie's: a pattern or a rewrite that is still wrong at run time answers with the error
  // as the value (the planner refuses both when they are constants).
  const r = replacerFor(String(constantArg(call, call.args[0]!)));
  return stringsToStr(
    perStrings(call, [call.args[1]!, call.args[2]!], ([value, rewrite]) => {
      if (!('replaceAll' in r)) return `Invalid regex expr: ${r.message}`;
      const bad = checkRewrite(rewrite!, r.groups);
      return bad !== undefined ? `Invalid regex in substitution string: ${bad}` : r.replaceAll(value!, rewrite!);
    }),
  );
}

/** A service name, or a JSON array of them (a pod in several services), holds `value` (Pixie's EqualsOrArrayContains). */
function hasServiceName(service: string, value: string): boolean {
  if (service.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(service);
    } catch {
      return service === value;
    }
    if (Array.isArray(parsed)) return parsed.every((x) => typeof x === 'string') && parsed.includes(value);
  }
  return service === value;
}

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
    check: ([pattern]) => constantPattern('regex_match', pattern!),
  },
  {
    name: 'replace',
    spelling: 'px.replace',
    kind: 'scalar',
    signatures: [{ args: ['STRING', 'STRING', 'STRING'], ret: 'STRING' }],
    doc: 'The second argument with every match of the RE2 regular expression given first replaced by the third; \\1…\\9 in it stand for the groups, \\0 for the match.',
    example: "df.path = px.replace('/items/[0-9]+', df.req_path, '/items/{id}')",
    eval: replace,
    check: ([pattern, , rewrite]) => {
      constantPattern('replace', pattern!);
      const r = compileReplacer(String(pattern!.value));
      const bad = rewrite!.value !== undefined && 'groups' in r ? checkRewrite(String(rewrite!.value), r.groups) : undefined;
      if (bad !== undefined) throw new PxlError(PxlCode.value, bad, rewrite!.at, ['write \\1 for the first group, \\\\ for a backslash']);
    },
    fold: ([p, v, w]) => {
      const r = compileReplacer(String(p!.value));
      return 'replaceAll' in r ? r.replaceAll(String(v!.value), String(w!.value)) : undefined;
    },
  },
  {
    name: 'has_service_name',
    spelling: 'px.has_service_name',
    kind: 'scalar',
    signatures: [{ args: ['STRING', 'STRING'], ret: 'BOOLEAN' }],
    doc: "True where the service (as df.ctx['service'] gives it: one name, or a JSON array of names for a pod in several services) is or includes the second argument.",
    example: "df[px.has_service_name(df.ctx['service'], 'default/frontend')]",
    eval: (call) => stringsToBool(perStrings(call, call.args, ([svc, value]) => hasServiceName(svc!, value!)), call.chunk),
    fold: ([svc, value]) => hasServiceName(String(svc!.value), String(value!.value)),
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
