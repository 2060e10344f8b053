import type { Span } from '../diagnostic.js';
import type { Stmt } from '../parse/ast.js';
import type { FunctionEntry } from '../functions/entry.js';
import type { DataType, SemanticType } from '../../schema.js';
import type { Expr, LiteralValue, LogicalPlan } from './logical.js';

/**
 * What a PxL expression evaluates to while the script is checked. Scripts run at compile time
 * over these values: constants fold, functions inline, and DataFrames accumulate a logical plan.
 * `at` is where the value was written, for error spans.
 */

export type ConstType = Exclude<DataType, 'UINT128'>;

/** A DataFrame object; `df.x = ...` replaces its plan in place, as Python mutates the object. */
interface Frame {
  plan: LogicalPlan;
}

export type FunctionDef = Stmt & { kind: 'def' };

export type Value =
  | {
      readonly kind: 'const';
      readonly type: ConstType;
      readonly value: LiteralValue;
      readonly semantic?: SemanticType;
      /** `$__from`/`$__to` are epoch ms; remembered so start_time= can take them as times. */
      readonly unit?: 'ms';
      /**
       * A dashboard variable's text that reads as a number and became one (`head($max)`); where
       * only a string fits (`df.service == $svc`), the text is used instead.
       */
      readonly text?: string;
      readonly at: Span;
    }
  | { readonly kind: 'none'; readonly at: Span }
  | {
      readonly kind: 'list';
      readonly items: readonly Value[];
      readonly tuple: boolean;
      readonly at: Span;
      /** `$__columns`: its names are spliced into the list literal it stands in (Pixie's plugin pastes them as text). */
      readonly spread?: true;
      /** `$__columns` with no column picked: a projection by it keeps every column. */
      readonly allColumns?: true;
    }
  /** A row-wise expression over a DataFrame's columns. */
  | { readonly kind: 'column'; readonly expr: Expr; readonly at: Span }
  | { readonly kind: 'frame'; readonly frame: Frame; readonly at: Span }
  | { readonly kind: 'groupby'; readonly plan: LogicalPlan; readonly groups: readonly string[]; readonly at: Span }
  | { readonly kind: 'ctx'; readonly frame: Frame; readonly at: Span }
  | { readonly kind: 'module'; readonly at: Span }
  | { readonly kind: 'builtin'; readonly entry: FunctionEntry; readonly at: Span }
  | { readonly kind: 'special'; readonly name: 'DataFrame' | 'display'; readonly at: Span }
  | { readonly kind: 'function'; readonly def: FunctionDef; readonly defaults: ReadonlyMap<string, Value>; readonly at: Span }
  | { readonly kind: 'method'; readonly self: Value; readonly name: string; readonly at: Span };

/** A constant a string is expected as: a STRING, or a dashboard variable whose text read as a number. */
export function isText(v: Value): v is Value & { kind: 'const' } {
  return v.kind === 'const' && (v.type === 'STRING' || v.text !== undefined);
}

/** The text of a constant that `isText`. */
export function textOf(v: Value & { kind: 'const' }): string {
  return v.text ?? String(v.value);
}

/** How values are named in messages: "a DataFrame", "the constant 'abc'". */
export function describeValue(v: Value): string {
  switch (v.kind) {
    case 'const':
      return v.type === 'STRING' ? `the string '${String(v.value)}'` : `the ${v.type} constant ${String(v.value)}`;
    case 'none':
      return 'None';
    case 'list':
      return v.tuple ? 'a tuple' : 'a list';
    case 'column':
      return `a ${v.expr.type} column expression`;
    case 'frame':
      return 'a DataFrame';
    case 'groupby':
      return 'a grouped DataFrame';
    case 'ctx':
      return 'df.ctx';
    case 'module':
      return "the module 'px'";
    case 'builtin':
      return `the function ${v.entry.spelling}`;
    case 'special':
      return `px.${v.name}`;
    case 'function':
      return `the function '${v.def.name}'`;
    case 'method':
      return `the method '${v.name}'`;
  }
}
