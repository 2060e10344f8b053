/** 1-based line and column in the script text, as editors show them. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Start inclusive, end exclusive. */
export interface Span {
  readonly start: Position;
  readonly end: Position;
}

/**
 * An error or warning about a script. The API, the CLI and the Grafana editor all render this
 * same object, so `code` is stable (e.g. `PXL_SYNTAX`, `PXL_UNKNOWN_COLUMN`) and `span` points at
 * the offending token.
 */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly span?: Span;
  readonly hints: readonly string[];
}

/** Thrown by the compiler and the executor; carries the diagnostic to report. */
export class PxlError extends Error {
  readonly diagnostic: Diagnostic;

  constructor(code: string, message: string, span?: Span, hints: readonly string[] = []) {
    super(span ? `${span.start.line}:${span.start.column}: ${message}` : message);
    this.name = 'PxlError';
    this.diagnostic = { severity: 'error', code, message, span, hints };
  }
}

/**
 * The stable diagnostic codes of the PxL compiler. Clients may branch on them, so codes are
 * only ever added.
 */
export const PxlCode = {
  syntax: 'PXL_SYNTAX',
  unknownName: 'PXL_UNKNOWN_NAME',
  unknownTable: 'PXL_UNKNOWN_TABLE',
  unknownColumn: 'PXL_UNKNOWN_COLUMN',
  unknownFunction: 'PXL_UNKNOWN_FUNCTION',
  type: 'PXL_TYPE',
  arity: 'PXL_ARITY',
  unsupported: 'PXL_UNSUPPORTED',
  macro: 'PXL_MACRO',
  variable: 'PXL_VARIABLE',
  value: 'PXL_VALUE',
  limit: 'PXL_LIMIT',
  noOutput: 'PXL_NO_OUTPUT',
  unbounded: 'PXL_UNBOUNDED',
  /** Accepted as Pixie's parser does, though Python would not (a missing comma between keyword arguments). */
  lenient: 'PXL_LENIENT',
  /** An ad hoc filter of the request whose key a table the script reads does not have. */
  adhocFilterNotApplied: 'ADHOC_FILTER_NOT_APPLIED',
} as const;
