import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import { compilePattern } from '../regex.js';
import { registryEntry, type FunctionEntry, type Signature } from '../registry.js';
import type { DataType, SemanticType } from '../../schema.js';
import type { Expr, LiteralValue } from './logical.js';
import { parseDurationNs, parseTimeNs } from './time.js';
import { limitError, LIMITS } from './limits.js';
import { describeValue, type ConstType, type Value } from './values.js';

/** What folding needs to know about the query. */
export interface FoldContext {
  readonly nowNs: bigint;
}

type Const = Value & { kind: 'const' };
type Scalar = Const | (Value & { kind: 'column' });

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** A constant or column value as a plan expression; anything else is a type error. */
export function toExpr(v: Value, what: string): Expr {
  if (v.kind === 'column') return v.expr;
  if (v.kind === 'const') return literal(v);
  throw new PxlError(PxlCode.type, `${what} must be a column or a constant, got ${describeValue(v)}`, v.at);
}

function literal(c: Const): Expr {
  return c.semantic ? { kind: 'literal', type: c.type, value: c.value, semantic: c.semantic } : { kind: 'literal', type: c.type, value: c.value };
}

function typeOf(v: Scalar): DataType {
  return v.kind === 'const' ? v.type : v.expr.type;
}

function semanticOf(v: Scalar): SemanticType | undefined {
  const s = v.kind === 'const' ? v.semantic : v.expr.semantic;
  return s === 'ST_NONE' ? undefined : s;
}

/** Python truthiness for constants, used by `and`/`or`/`not` on constants. */
export function truthy(c: Const): boolean {
  switch (c.type) {
    case 'BOOLEAN':
      return c.value === true;
    case 'STRING':
      return c.value !== '';
    case 'FLOAT64':
      return c.value !== 0;
    default:
      return c.value !== 0n;
  }
}

function sigText(s: Signature): string {
  return `(${s.args.join(', ')})`;
}

function spellingOf(e: FunctionEntry): string {
  return e.kind === 'operator' ? `'${e.spelling}'` : e.spelling;
}

/**
 * Applies a registry entry to argument values: folds constants, expands multi-value variables
 * (a list on one side of `==` means any of its values), checks the types against the
 * signatures and builds the call expression.
 */
export function apply(entry: FunctionEntry, args: readonly Value[], at: Span, fold: FoldContext): Value {
  const arities = [...new Set(entry.signatures.map((s) => s.args.length))];
  if (!arities.includes(args.length)) {
    throw new PxlError(PxlCode.arity, `${spellingOf(entry)} takes ${arities.join(' or ')} argument${arities[0] === 1 && arities.length === 1 ? '' : 's'}, got ${args.length}`, at, [
      `e.g. ${entry.example}`,
    ]);
  }
  const listAt = args.findIndex((a) => a.kind === 'list');
  if (listAt >= 0 && entry.signatures.every((s) => s.ret === 'BOOLEAN') && entry.kind !== 'cast') {
    return anyOf(entry, args, listAt, at, fold);
  }
  const scalars = args.map((a, i) => {
    if (a.kind === 'const' || a.kind === 'column') return a;
    const what = entry.kind === 'operator' ? `the ${i === 0 && args.length > 1 ? 'left' : args.length > 1 ? 'right' : ''} operand of ${spellingOf(entry)}`.replace('  ', ' ') : `argument ${i + 1} of ${entry.spelling}`;
    if (a.kind === 'list') {
      throw new PxlError(PxlCode.type, `${what} cannot be a list here`, a.at, ['a list of values works with ==, != and px.contains (any of them)']);
    }
    throw new PxlError(PxlCode.type, `${what} must be a column or a constant, got ${describeValue(a)}`, a.at);
  });
  checkUnits(entry, scalars);
  if (entry.name === 'regex_match') checkRegex(scalars[0]!);

  const types = scalars.map(typeOf);
  let sig = entry.signatures.find((s) => s.args.every((t, i) => t === types[i]));
  let widened = scalars;
  if (!sig) {
    // A whole-number literal where a FLOAT64 is expected is read as a float, as Python would.
    sig = entry.signatures.find((s) =>
      s.args.every((t, i) => t === types[i] || (t === 'FLOAT64' && types[i] === 'INT64' && scalars[i]!.kind === 'const')),
    );
    if (sig) {
      const target = sig;
      widened = scalars.map((v, i) =>
        v.kind === 'const' && target.args[i] === 'FLOAT64' && v.type === 'INT64' ? { ...v, type: 'FLOAT64' as const, value: Number(v.value) } : v,
      );
    }
  }
  if (!sig) {
    const accepted = entry.signatures.map(sigText);
    const shown = accepted.length > 6 ? [...accepted.slice(0, 6), '...'] : accepted;
    throw new PxlError(PxlCode.type, `${spellingOf(entry)} does not accept ${types.length === 0 ? 'no arguments' : types.join(' and ')}`, at, [
      `accepted: ${shown.join(', ')}`,
    ]);
  }
  const semantic = resultSemantic(entry, sig, widened);
  if (entry.kind === 'cast') {
    const v = widened[0]!;
    return v.kind === 'const' ? { ...v, semantic, at } : { kind: 'column', expr: { ...v.expr, semantic: semantic ?? 'ST_NONE' }, at };
  }
  if (widened.every((v) => v.kind === 'const')) {
    const value = foldCall(entry.name, widened as Const[], sig.ret, at, fold);
    if (value !== undefined) {
      const c: Value = { kind: 'const', type: sig.ret as ConstType, value, at };
      return semantic ? { ...c, semantic } : c;
    }
  }
  const expr: Expr = {
    kind: 'call',
    fn: entry.name,
    args: widened.map((v) => (v.kind === 'const' ? literal(v) : v.expr)),
    type: sig.ret,
    ...(semantic ? { semantic } : {}),
  };
  return { kind: 'column', expr, at };
}

/** Applies an entry by its registry name (operators and internal rewrites). */
export function applyNamed(name: string, args: readonly Value[], at: Span, fold: FoldContext): Value {
  return apply(registryEntry(name)!, args, at, fold);
}

function anyOf(entry: FunctionEntry, args: readonly Value[], listAt: number, at: Span, fold: FoldContext): Value {
  const list = args[listAt] as Value & { kind: 'list' };
  const negated = entry.name === 'notEqual';
  if (args.some((a, i) => i !== listAt && a.kind === 'list')) {
    throw new PxlError(PxlCode.type, `${spellingOf(entry)} takes at most one list`, at);
  }
  if (list.items.length === 0) return { kind: 'const', type: 'BOOLEAN', value: negated, at };
  // Combined pairwise, so a variable of n values nests log2(n) deep, not n (LIMITS.exprDepth).
  let level = list.items.map((item) => apply(entry, args.map((a, i) => (i === listAt ? item : a)), at, fold));
  while (level.length > 1) {
    const next: Value[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? applyNamed(negated ? 'logicalAnd' : 'logicalOr', [level[i]!, level[i + 1]!], at, fold) : level[i]!);
    level = next;
  }
  return level[0]!;
}

/** `$__from` is epoch ms: comparing it with `time_` (ns) would silently match everything. */
function checkUnits(entry: FunctionEntry, args: readonly Scalar[]): void {
  if (entry.kind !== 'operator') return;
  const ms = args.find((a) => a.kind === 'const' && a.unit === 'ms');
  if (ms && args.some((a) => typeOf(a) === 'TIME64NS')) {
    throw new PxlError(PxlCode.type, '$__from and $__to are epoch milliseconds, not times', ms.at, [
      'compare time_ with $__timeFrom() / $__timeTo(), or with __time_from / __time_to (ns)',
    ]);
  }
}

/** The pattern of px.regex_match must be a constant RE2 can compile (regex.ts), checked here with its span. */
function checkRegex(pattern: Scalar): void {
  if (pattern.kind !== 'const' || pattern.type !== 'STRING') {
    throw new PxlError(PxlCode.type, 'the regular expression of px.regex_match must be a constant string', pattern.at, [
      "px.regex_match('pattern', df.column)",
    ]);
  }
  const m = compilePattern(String(pattern.value));
  if (typeof m !== 'function') throw new PxlError(m.tooLarge ? PxlCode.limit : PxlCode.value, m.message, pattern.at, m.hints);
}

function resultSemantic(entry: FunctionEntry, sig: Signature, args: readonly Scalar[]): SemanticType | undefined {
  if (sig.semantic) return sig.semantic === 'ST_NONE' ? undefined : sig.semantic;
  switch (entry.semantic) {
    case 'first':
      return args[0] ? semanticOf(args[0]) : undefined;
    case 'shared': {
      // Constants are neutral (latency + 5 is still a duration); columns must all agree, so
      // pod + '-' + service, or select(c, pod, ip), mean nothing in particular.
      if (sig.ret === 'STRING' && entry.name === 'add') return undefined;
      const relevant = (entry.name === 'select' ? args.slice(1) : args).filter((a) => a.kind === 'column');
      const first = relevant[0] ? semanticOf(relevant[0]) : undefined;
      return relevant.every((a) => semanticOf(a) === first) ? first : undefined;
    }
    case 'divide': {
      const [l, r] = args.map(semanticOf);
      if (r !== 'ST_DURATION_NS' || l === 'ST_DURATION_NS') return undefined;
      return l === 'ST_BYTES' ? 'ST_THROUGHPUT_BYTES_PER_NS' : 'ST_THROUGHPUT_PER_NS';
    }
    default:
      return undefined;
  }
}

function checkInt(v: bigint, at: Span): bigint {
  if (v < INT64_MIN || v > INT64_MAX) throw new PxlError(PxlCode.value, 'integer overflow: the result does not fit in INT64', at);
  return v;
}

function num(c: Const): number {
  return typeof c.value === 'bigint' ? Number(c.value) : (c.value as number);
}

function compare(a: Const, b: Const): number {
  if (typeof a.value === 'bigint' && typeof b.value === 'bigint') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (typeof a.value === 'string' && typeof b.value === 'string') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (typeof a.value === 'boolean') return Number(a.value) - Number(b.value);
  const x = num(a);
  const y = num(b);
  return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
}

/** Evaluates a call on constants; undefined where only the executor can (metadata, JSON). */
function foldCall(name: string, a: readonly Const[], ret: DataType, at: Span, ctx: FoldContext): LiteralValue | undefined {
  const x = a[0];
  const y = a[1];
  const bothInt = x !== undefined && y !== undefined && typeof x.value === 'bigint' && typeof y.value === 'bigint';
  switch (name) {
    case 'add':
      if (ret === 'STRING') {
        const text = String(x!.value) + String(y!.value);
        if (text.length > LIMITS.stringChars) throw limitError(`'+' would build a string longer than ${LIMITS.stringChars} characters`, at, ['a string built from itself (s = s + s) doubles with every line']);
        return text;
      }
      return bothInt ? checkInt((x!.value as bigint) + (y!.value as bigint), at) : num(x!) + num(y!);
    case 'subtract':
      return bothInt ? checkInt((x!.value as bigint) - (y!.value as bigint), at) : num(x!) - num(y!);
    case 'multiply':
      return bothInt ? checkInt((x!.value as bigint) * (y!.value as bigint), at) : num(x!) * num(y!);
    case 'divide':
      if (num(y!) === 0) throw new PxlError(PxlCode.value, 'division by zero', at);
      return num(x!) / num(y!);
    case 'modulo':
    case 'floorDivide': {
      if (num(y!) === 0) throw new PxlError(PxlCode.value, name === 'modulo' ? 'modulo by zero' : 'division by zero', at);
      if (!bothInt) return Math.floor(num(x!) / num(y!));
      const p = x!.value as bigint;
      const q = y!.value as bigint;
      if (name === 'modulo') return p % q;
      const d = p / q;
      return (p % q !== 0n && (p < 0n) !== (q < 0n)) ? d - 1n : d;
    }
    case 'negate':
      return typeof x!.value === 'bigint' ? checkInt(-x!.value, at) : -num(x!);
    case 'equal':
      return compare(x!, y!) === 0;
    case 'notEqual':
      return compare(x!, y!) !== 0;
    case 'lessThan':
      return compare(x!, y!) < 0;
    case 'lessThanEqual':
      return compare(x!, y!) <= 0;
    case 'greaterThan':
      return compare(x!, y!) > 0;
    case 'greaterThanEqual':
      return compare(x!, y!) >= 0;
    case 'logicalAnd':
      return x!.value === true && y!.value === true;
    case 'logicalOr':
      return x!.value === true || y!.value === true;
    case 'logicalNot':
      return x!.value !== true;
    case 'bin': {
      const p = x!.value as bigint;
      const q = y!.value as bigint;
      if (q <= 0n) throw new PxlError(PxlCode.value, 'px.bin needs a positive bin size', y!.at);
      return p - (((p % q) + q) % q);
    }
    case 'floor':
      return typeof x!.value === 'bigint' ? x!.value : Math.floor(num(x!));
    case 'select':
      return x!.value === true ? y!.value : a[2]!.value;
    case 'contains':
      return String(x!.value).includes(String(y!.value));
    case 'now':
      return ctx.nowNs;
    case 'parse_duration': {
      const d = parseDurationNs(String(x!.value));
      if (d === undefined) throw durationError(x!);
      return d;
    }
    case 'parse_time': {
      const t = parseTimeNs(String(x!.value), ctx.nowNs);
      if (t === undefined) throw timeError(x!);
      return t;
    }
    default:
      return undefined;
  }
}

/** The error for a string that should have been a duration. */
function durationError(c: Value): PxlError {
  return new PxlError(PxlCode.value, `'${c.kind === 'const' ? String(c.value) : '?'}' is not a duration`, c.at, [
    "write a number and a unit: '5m', '-30s', '1h30m', '250ms' (units ns, us, ms, s, m, h, d)",
  ]);
}

/** The error for a string that should have been a time. */
export function timeError(c: Value): PxlError {
  return new PxlError(PxlCode.value, `'${c.kind === 'const' ? String(c.value) : '?'}' is not a time`, c.at, [
    "write a time relative to now ('-5m'), 'now', an RFC 3339 time, or pass __time_from / $__timeFrom()",
  ]);
}
