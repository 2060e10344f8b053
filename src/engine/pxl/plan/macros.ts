import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import type { MacroRef } from '../parse/token.js';
import { closest } from './suggest.js';
import type { Value } from './values.js';

/** The query's time range and dashboard variables, as the macros see them. */
export interface MacroContext {
  readonly fromNs: bigint;
  readonly toNs: bigint;
  readonly intervalNs: bigint;
  readonly variables: Readonly<Record<string, string | readonly string[]>>;
  /** The editor's column picker, for `$__columns`; absent when nothing is picked (every column). */
  readonly columns?: readonly string[];
}

/** Pixie's predefined names (no `$`): plain integers in ns, as Pixie's Grafana plugin substitutes. */
export const PIXIE_MACROS = [
  { name: '__time_from', doc: 'Start of the query range, epoch ns (INT64), as in Pixie\'s Grafana plugin.' },
  { name: '__time_to', doc: 'End of the query range, epoch ns (INT64).' },
  { name: '__interval', doc: "Grafana's interval in ns (INT64), e.g. for px.bin(df.time_, __interval)." },
] as const;

/** Grafana's `$` macros; `text` is what each becomes inside a string literal. */
export const GRAFANA_MACROS = [
  { name: '$__interval', doc: "The interval: INT64 ns in code; Grafana's text ('30s') inside a string." },
  { name: '$__interval_ms', doc: 'The interval in ms: INT64 in code; digits inside a string.' },
  { name: '$__from', doc: 'Range start, epoch ms (INT64); start_time= takes it as a time. Digits inside a string.' },
  { name: '$__to', doc: 'Range end, epoch ms (INT64); end_time= takes it as a time. Digits inside a string.' },
  { name: '$__timeFrom()', doc: 'Range start as a TIME64NS value (compare with time_); RFC 3339 inside a string.' },
  { name: '$__timeTo()', doc: 'Range end as a TIME64NS value; RFC 3339 inside a string.' },
  { name: '$__range', doc: "Range length: INT64 ns in code; Grafana's text ('5m') inside a string." },
  { name: '$__range_ms', doc: 'Range length in ms (INT64); digits inside a string.' },
  { name: '$__range_s', doc: 'Range length in whole seconds (INT64); digits inside a string.' },
  {
    name: '$__columns',
    doc: "The columns picked in the editor, as a list of names spliced into the list it stands in (df[[$__columns]]); every column when none is picked. Inside a string: the names joined by ','.",
  },
] as const;

const CALL_FORMS = new Set(['__timeFrom', '__timeTo']);
const KNOWN = new Set(GRAFANA_MACROS.map((m) => m.name.replace(/^\$/, '').replace('()', '')));

const nsToMs = (ns: bigint): bigint => (ns >= 0n ? ns / 1_000_000n : -((-ns + 999_999n) / 1_000_000n));

function checkForm(ref: MacroRef): void {
  const wantsCall = CALL_FORMS.has(ref.name);
  if (wantsCall && !ref.call) {
    throw new PxlError(PxlCode.macro, `'$${ref.name}' is written with parentheses`, ref.span, [`write $${ref.name}()`]);
  }
}

function unknown(ref: MacroRef, ctx: MacroContext): never {
  const vars = Object.keys(ctx.variables);
  const all = [...vars.map((v) => '$' + v), ...GRAFANA_MACROS.map((m) => m.name)];
  const near = closest('$' + ref.name, all);
  const hints = near.length > 0 ? [`did you mean ${near.map((n) => `'${n}'`).join(' or ')}?`] : [];
  hints.push(`dashboard variables: ${vars.length > 0 ? vars.map((v) => '$' + v).join(', ') : '(none sent)'}`);
  hints.push(`macros: ${GRAFANA_MACROS.map((m) => m.name).join(', ')}`);
  const isMacro = ref.name.startsWith('__');
  throw new PxlError(isMacro ? PxlCode.macro : PxlCode.variable, `unknown ${isMacro ? 'macro' : 'variable'} '$${ref.name}'`, ref.span, hints);
}

function variable(ref: MacroRef, ctx: MacroContext): string | readonly string[] | undefined {
  return Object.prototype.hasOwnProperty.call(ctx.variables, ref.name) ? ctx.variables[ref.name] : undefined;
}

/** What a `$` reference means in code: a typed constant, or a (list of) string literal(s). */
export function macroValue(ref: MacroRef, ctx: MacroContext): Value {
  const at: Span = ref.span;
  if (KNOWN.has(ref.name)) {
    checkForm(ref);
    if (ref.call && !CALL_FORMS.has(ref.name)) {
      throw new PxlError(PxlCode.macro, `'$${ref.name}' takes no parentheses`, ref.span, [`write $${ref.name}`]);
    }
    const int = (value: bigint, unit?: 'ms'): Value => ({ kind: 'const', type: 'INT64', value, at, unit });
    switch (ref.name) {
      case '__interval':
        return { kind: 'const', type: 'INT64', value: ctx.intervalNs, semantic: 'ST_DURATION_NS', at };
      case '__interval_ms':
        return int(nsToMs(ctx.intervalNs));
      case '__from':
        return int(nsToMs(ctx.fromNs), 'ms');
      case '__to':
        return int(nsToMs(ctx.toNs), 'ms');
      case '__timeFrom':
        return { kind: 'const', type: 'TIME64NS', value: ctx.fromNs, at };
      case '__timeTo':
        return { kind: 'const', type: 'TIME64NS', value: ctx.toNs, at };
      case '__range':
        return { kind: 'const', type: 'INT64', value: ctx.toNs - ctx.fromNs, semantic: 'ST_DURATION_NS', at };
      case '__range_ms':
        return int(nsToMs(ctx.toNs - ctx.fromNs));
      case '__range_s':
        return int((ctx.toNs - ctx.fromNs) / 1_000_000_000n);
      case '__columns': {
        const items = (ctx.columns ?? []).map((c): Value => ({ kind: 'const', type: 'STRING', value: c, at }));
        return { kind: 'list', tuple: false, items, spread: true, ...(ctx.columns && ctx.columns.length > 0 ? {} : { allColumns: true }), at };
      }
    }
  }
  const v = variable(ref, ctx);
  if (v === undefined) unknown(ref, ctx);
  if (ref.call) throw new PxlError(PxlCode.variable, `variable '$${ref.name}' is not a function`, ref.span, [`write $${ref.name}`]);
  if (typeof v === 'string') return literal(v, at);
  return { kind: 'list', tuple: false, items: v.map((s) => literal(s, at)), at };
}

const INT_TEXT = /^[+-]?(0|[1-9][0-9]*)$/;
// A point or an exponent: digits alone are an integer, or text ('007' is no Python number).
const FLOAT_TEXT = /^[+-]?(([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)$/;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * A variable's value in code, as Pixie's plugin pastes it as text: a number where the text is
 * a Python number literal (`1000`, `-2.5`, `1e9`), else a string literal. A number keeps its
 * text for places only a string fits.
 */
function literal(text: string, at: Span): Value {
  if (INT_TEXT.test(text)) {
    const n = BigInt(text);
    if (n <= INT64_MAX && n >= -INT64_MAX - 1n) return { kind: 'const', type: 'INT64', value: n, text, at };
  } else if (FLOAT_TEXT.test(text) && Number.isFinite(Number(text))) {
    return { kind: 'const', type: 'FLOAT64', value: Number(text), text, at };
  }
  return { kind: 'const', type: 'STRING', value: text, at };
}

/** What a `$` reference becomes inside a string literal: Grafana's text form. */
export function macroText(ref: MacroRef, ctx: MacroContext): string {
  if (KNOWN.has(ref.name)) {
    checkForm(ref);
    const rangeNs = ctx.toNs - ctx.fromNs;
    switch (ref.name) {
      case '__interval':
        return grafanaDurationText(Number(ctx.intervalNs) / 1e6);
      case '__interval_ms':
        return nsToMs(ctx.intervalNs).toString();
      case '__from':
        return nsToMs(ctx.fromNs).toString();
      case '__to':
        return nsToMs(ctx.toNs).toString();
      case '__timeFrom':
        return new Date(Number(nsToMs(ctx.fromNs))).toISOString();
      case '__timeTo':
        return new Date(Number(nsToMs(ctx.toNs))).toISOString();
      case '__range':
        return grafanaDurationText(Number(rangeNs) / 1e6);
      case '__range_ms':
        return nsToMs(rangeNs).toString();
      case '__range_s':
        return (rangeNs / 1_000_000_000n).toString();
      case '__columns':
        return (ctx.columns ?? []).join(',');
    }
  }
  const v = variable(ref, ctx);
  if (v === undefined) unknown(ref, ctx);
  return typeof v === 'string' ? v : v.join(',');
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
