import type { Span } from '../diagnostic.js';

/**
 * A `$` reference to a Grafana macro or a dashboard variable, in code or inside a string
 * literal. `name` is without `$`, braces and parentheses (`__timeFrom`, `service`).
 */
export interface MacroRef {
  readonly name: string;
  /** Written as `$__timeFrom()`: the call form Grafana uses for its time functions. */
  readonly call: boolean;
  readonly span: Span;
}

/** A string literal is text with `$` references left in place, so they expand per use. */
export type StringPart = { readonly text: string } | { readonly ref: MacroRef };

export type Token =
  | { readonly kind: 'name'; readonly text: string; readonly span: Span }
  | { readonly kind: 'int'; readonly text: string; readonly value: bigint; readonly span: Span }
  | { readonly kind: 'float'; readonly text: string; readonly value: number; readonly span: Span }
  | { readonly kind: 'string'; readonly text: string; readonly parts: readonly StringPart[]; readonly span: Span }
  | { readonly kind: 'macro'; readonly text: string; readonly ref: MacroRef; readonly span: Span }
  | { readonly kind: 'op'; readonly text: string; readonly span: Span }
  | { readonly kind: 'newline' | 'indent' | 'dedent' | 'eof'; readonly text: string; readonly span: Span };

/** Python keywords: PxL uses some, and the rest must never be taken for names. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in',
  'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);
