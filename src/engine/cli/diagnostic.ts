import type { Diagnostic } from '../pxl/diagnostic.js';

/**
 * Renders a diagnostic the way compilers do: code and message, `file:line:col`, the script line
 * with the span underlined, then hints. The CLI prints this for engine errors.
 */
export function renderDiagnostic(d: Diagnostic, script: string, file: string): string {
  const out = [`${d.severity}[${d.code}]: ${d.message}`];
  if (d.span) {
    const { line, column } = d.span.start;
    out.push(`  --> ${file}:${line}:${column}`);
    const text = script.split('\n')[line - 1];
    if (text !== undefined) {
      const endCol = d.span.end.line === line ? Math.max(d.span.end.column, column + 1) : text.length + 1;
      const gutter = String(line).length;
      out.push(`${' '.repeat(gutter)} |`);
      out.push(`${line} | ${text}`);
      out.push(`${' '.repeat(gutter)} | ${' '.repeat(column - 1)}${'^'.repeat(Math.max(1, endCol - column))}`);
    }
  }
  for (const h of d.hints) out.push(`  = hint: ${h}`);
  return out.join('\n');
}
