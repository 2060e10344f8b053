import type { MetadataView } from '../../meta/types.js';
import type { DataType, SemanticType } from '../../schema.js';
import type { Span } from '../diagnostic.js';
import type { EvalEnv } from '../exec/runtime.js';
import type { Chunk, Val } from '../exec/vec.js';
import type { Expr, LiteralValue } from '../plan/logical.js';
import type { AggState } from './aggregates/state.js';

/*
 * What a registry entry holds: everything about one PxL function in one place — how scripts
 * spell it, its signatures and docs, its vectorized implementation, its constant folding, and
 * for an aggregate its grouped state with the partial/merge halves a broker needs. Each family
 * of functions (arithmetic.ts, logic.ts, time.ts, strings.ts, metadata.ts, casts.ts,
 * aggregates/) fills these in; registry.ts lists them all.
 */

/**
 * `operator`s are written as symbols; `cast` entries (px.DurationNanos, px.Percent) only change
 * a value's semantic type: the planner folds them into the argument's `semantic`, so they never
 * appear in a plan.
 */
type FunctionKind = 'scalar' | 'operator' | 'aggregate' | 'cast';

/** One accepted list of argument types and the result it gives. */
export interface Signature {
  readonly args: readonly DataType[];
  /** After `args`, any number of further arguments of this type (px.script_reference's key/value pairs). */
  readonly rest?: DataType;
  readonly ret: DataType;
  /** Fixed semantic type of the result; otherwise the entry's `semantic` rule decides. */
  readonly semantic?: SemanticType;
}

/** A scalar call being evaluated over a chunk. */
export interface ScalarCall {
  readonly args: readonly Expr[];
  /** The call's result type. */
  readonly type: DataType;
  readonly chunk: Chunk;
  readonly env: EvalEnv;
  /** The value of an expression over the chunk (a sub-expression several parents read is computed once). */
  value(e: Expr): Val;
}

/** A constant argument of a call being folded at compile time. */
export interface FoldArg {
  readonly type: DataType;
  readonly value: LiteralValue;
  readonly at: Span;
}

/** An argument of a call being checked at compile time: its type, its value when constant, its span. */
export interface CheckArg {
  readonly type: DataType;
  /** Present when the argument is a constant. */
  readonly value?: LiteralValue;
  readonly at: Span;
}

/** What folding needs to know about the query. */
export interface FoldContext {
  readonly nowNs: bigint;
}

/** An aggregate's implementation: its grouped state, and that state's partials on the wire. */
export interface AggregateImpl {
  /** A grouped state for an argument of `argType` producing `outType`. */
  create(argType: DataType, outType: DataType): AggState<unknown>;
  /** A partial (`AggState.partial`) as exact JSON; TIME64NS values absolute, from the engine's `base`. */
  encode(p: unknown, argType: DataType, base: bigint): unknown;
  /** The inverse of `encode` on the broker, offsets from its own `base`; malformed values decode to the neutral element. */
  decode(v: unknown, argType: DataType, base: bigint): unknown;
}

/** One PxL function, operator, cast or aggregate, whole. */
export interface FunctionEntry {
  /** Stable name used in plans and on the wire. */
  readonly name: string;
  /** How scripts spell it (`px.bin`), or the operator symbol for operators. */
  readonly spelling: string;
  readonly kind: FunctionKind;
  readonly signatures: readonly Signature[];
  readonly doc: string;
  readonly example: string;
  /**
   * How the result's semantic type follows from the arguments' when the signature fixes none:
   * `first` keeps the first argument's, `shared` keeps one all non-plain arguments agree on.
   */
  readonly semantic?: 'first' | 'shared' | 'divide';
  /** Scalars and operators: the vectorized implementation. */
  readonly eval?: (call: ScalarCall) => Val;
  /** The value on constants at compile time; undefined (or absent) where only the executor can say (metadata, JSON). */
  readonly fold?: (args: readonly FoldArg[], ret: DataType, at: Span, ctx: FoldContext) => LiteralValue | undefined;
  /**
   * Checks a call at compile time, once its signature matched, throwing PxlError at the argument
   * at fault (a regular expression that must be a constant RE2 compiles).
   */
  readonly check?: (args: readonly CheckArg[]) => void;
  /**
   * Parameter names, for the functions Pixie lets scripts call with keyword arguments
   * (px.script_reference(label=, script=, args=)); the others take positional arguments only.
   */
  readonly params?: readonly string[];
  /**
   * The parameter that takes a dict literal with string keys (`{'pod': df.pod}`), passed on as
   * key, value, key, value… after the other arguments (Signature.rest); absent means `{}`.
   */
  readonly dictParam?: string;
  /** Fails on some values (a bad duration): evaluated only on the rows filters keep, never ahead of them. */
  readonly throwsOnData?: boolean;
  /** Metadata lookups: the answer for one value, on the node that holds it (the broker routes these to engines). */
  readonly lookup?: (md: MetadataView, s: string) => string | number;
  /** Aggregates. */
  readonly agg?: AggregateImpl;
  /** Aggregates whose partial results from several nodes or windows merge exactly. */
  readonly mergeable?: boolean;
}

/** Types of numbers. */
export const NUMERIC: readonly DataType[] = ['INT64', 'FLOAT64'];
/** Every type. */
export const ALL_TYPES: readonly DataType[] = ['BOOLEAN', 'INT64', 'FLOAT64', 'STRING', 'TIME64NS', 'UINT128'];

/** Numeric pairs with Pixie's promotion: any FLOAT64 side makes the result FLOAT64. */
export function numericPairs(intRet: DataType = 'INT64'): Signature[] {
  return [
    { args: ['INT64', 'INT64'], ret: intRet },
    { args: ['INT64', 'FLOAT64'], ret: 'FLOAT64' },
    { args: ['FLOAT64', 'INT64'], ret: 'FLOAT64' },
    { args: ['FLOAT64', 'FLOAT64'], ret: 'FLOAT64' },
  ];
}
