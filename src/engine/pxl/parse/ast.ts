import type { Diagnostic, Span } from '../diagnostic.js';
import type { MacroRef, StringPart } from './token.js';

/** The syntax tree of the Python subset PxL is written in. Every node carries its span. */

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '//';
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface Keyword {
  readonly name: string;
  readonly nameSpan: Span;
  readonly value: Expr;
}

export type Expr =
  | { readonly kind: 'name'; readonly id: string; readonly span: Span }
  | { readonly kind: 'int'; readonly value: bigint; readonly span: Span }
  | { readonly kind: 'float'; readonly value: number; readonly span: Span }
  | { readonly kind: 'str'; readonly parts: readonly StringPart[]; readonly span: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'none'; readonly span: Span }
  | { readonly kind: 'macro'; readonly ref: MacroRef; readonly span: Span }
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'tuple'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'dict'; readonly keys: readonly Expr[]; readonly values: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly opSpan: Span; readonly span: Span }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: Expr; readonly right: Expr; readonly opSpan: Span; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: '-' | '+' | 'not'; readonly operand: Expr; readonly span: Span }
  | { readonly kind: 'bool_op'; readonly op: 'and' | 'or'; readonly left: Expr; readonly right: Expr; readonly opSpan: Span; readonly span: Span }
  | { readonly kind: 'call'; readonly func: Expr; readonly args: readonly Expr[]; readonly keywords: readonly Keyword[]; readonly span: Span }
  | { readonly kind: 'attribute'; readonly value: Expr; readonly attr: string; readonly attrSpan: Span; readonly span: Span }
  | { readonly kind: 'subscript'; readonly value: Expr; readonly index: Expr; readonly span: Span };

export interface Param {
  readonly name: string;
  readonly span: Span;
  readonly default?: Expr;
  /** Kept only to be checked for known names; PxL values carry their own types. */
  readonly annotation?: Expr;
}

export type Stmt =
  | { readonly kind: 'import'; readonly module: string; readonly span: Span }
  | { readonly kind: 'assign'; readonly target: Expr; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'expr'; readonly value: Expr; readonly span: Span }
  | {
      readonly kind: 'def';
      readonly name: string;
      readonly nameSpan: Span;
      readonly params: readonly Param[];
      readonly body: readonly Stmt[];
      readonly span: Span;
    }
  | { readonly kind: 'return'; readonly value?: Expr; readonly span: Span }
  | { readonly kind: 'pass'; readonly span: Span };

export interface Module {
  readonly body: readonly Stmt[];
  /** What Pixie's parser accepts but Python would not (PXL_LENIENT): the script runs, its author learns. */
  readonly warnings: readonly Diagnostic[];
}
