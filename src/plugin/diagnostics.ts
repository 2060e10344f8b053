import type { ApiDiagnostic, ApiSpan } from './types.js';

// The panel error is plain text (DataQueryError.message), yet the editor must put a marker where
// the engine pointed, so the span travels inside the message in one fixed, parseable form.
const SPAN_PATTERN = /\bat (\d+):(\d+)-(\d+):(\d+): /;

/** Renders a diagnostic as one line: `CODE at 3:8-3:14: message (hint; hint)`. */
export function formatDiagnostic(d: ApiDiagnostic): string {
  const where = d.span
    ? ` at ${d.span.start.line}:${d.span.start.column}-${d.span.end.line}:${d.span.end.column}`
    : '';
  const hints = d.hints && d.hints.length > 0 ? ` (${d.hints.join('; ')})` : '';
  return `${d.code}${where}: ${d.message}${hints}`;
}

/** The span a message made by formatDiagnostic carries, if any. */
export function spanFromMessage(message: string): ApiSpan | undefined {
  const m = SPAN_PATTERN.exec(message);
  if (!m) {
    return undefined;
  }
  const [line, column, endLine, endColumn] = m.slice(1).map(Number);
  return { start: { line, column }, end: { line: endLine, column: endColumn } };
}
