import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import type { FoldContext, FunctionEntry, Signature } from '../functions/entry.js';
import { registryEntry } from '../functions/registry.js';
import type { DataType, SemanticType } from '../../schema.js';
import type { Expr } from './logical.js';
import { describeValue, type ConstType, type Value } from './values.js';

type Const = Value & { kind: 'const' };
type Scalar = Const | (Value & { kind: 'column' });

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
  return `(${[...s.args, ...(s.rest ? [`${s.rest}...`] : [])].join(', ')})`;
}

/** Whether a signature takes `n` arguments. */
function takes(s: Signature, n: number): boolean {
  return s.rest !== undefined ? n >= s.args.length : n === s.args.length;
}

/** The type a signature wants at argument `i`. */
function argType(s: Signature, i: number): DataType | undefined {
  return i < s.args.length ? s.args[i] : s.rest;
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
  if (!entry.signatures.some((s) => takes(s, args.length))) {
    const arities = [...new Set(entry.signatures.map((s) => (s.rest ? `${s.args.length} or more` : String(s.args.length))))];
    throw new PxlError(PxlCode.arity, `${spellingOf(entry)} takes ${arities.join(' or ')} argument${arities[0] === '1' && arities.length === 1 ? '' : 's'}, got ${args.length}`, at, [
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

  const types = scalars.map(typeOf);
  const fitting = entry.signatures.filter((s) => takes(s, types.length));
  let sig = fitting.find((s) => types.every((t, i) => t === argType(s, i)));
  let widened = scalars;
  if (!sig) {
    // A whole-number literal where a FLOAT64 is expected is read as a float, as Python would.
    sig = fitting.find((s) =>
      types.every((t, i) => t === argType(s, i) || (argType(s, i) === 'FLOAT64' && t === 'INT64' && scalars[i]!.kind === 'const')),
    );
    if (sig) {
      const target = sig;
      widened = scalars.map((v, i) =>
        v.kind === 'const' && argType(target, i) === 'FLOAT64' && v.type === 'INT64' ? { ...v, type: 'FLOAT64' as const, value: Number(v.value) } : v,
      );
    }
  }
  if (!sig && scalars.some((v) => v.kind === 'const' && v.type !== 'STRING' && v.text !== undefined)) {
    // A variable that read as a number where only its text fits: `df.service == $svc`, svc='123'.
    return apply(entry, args.map((v) => (v.kind === 'const' && v.text !== undefined ? { kind: 'const', type: 'STRING', value: v.text, at: v.at } : v)), at, fold);
  }
  if (!sig) {
    const accepted = entry.signatures.map(sigText);
    const shown = accepted.length > 6 ? [...accepted.slice(0, 6), '...'] : accepted;
    throw new PxlError(PxlCode.type, `${spellingOf(entry)} does not accept ${types.length === 0 ? 'no arguments' : types.join(' and ')}`, at, [
      `accepted: ${shown.join(', ')}`,
    ]);
  }
  entry.check?.(widened.map((v) => (v.kind === 'const' ? { type: v.type, value: v.value, at: v.at } : { type: v.expr.type, at: v.at })));
  const semantic = resultSemantic(entry, sig, widened);
  if (entry.kind === 'cast') {
    const v = widened[0]!;
    return v.kind === 'const' ? { ...v, semantic, at } : { kind: 'column', expr: { ...v.expr, semantic: semantic ?? 'ST_NONE' }, at };
  }
  if (widened.every((v) => v.kind === 'const')) {
    const value = entry.fold?.(widened as Const[], sig.ret, at, fold);
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
