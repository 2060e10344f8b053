import type { Missing } from '../http/loss.js';
import type { Diagnostic } from '../pxl/diagnostic.js';

/** The warning a query over a range with missing exchanges carries, or undefined. */
export function missingWarning(m: Missing): Diagnostic | undefined {
  const n = m.shed + m.lost;
  if (n === 0) return undefined;
  return {
    severity: 'warning',
    code: 'CAPTURE_INCOMPLETE',
    message: `${n} HTTP exchange${n === 1 ? '' : 's'} in this time range ${n === 1 ? 'was' : 'were'} not captured ` +
      `(${m.shed} shed under overload, ${m.lost} lost to dropped data): counts and rates from these rows are low by that much`,
    hints: m.shed > 0 ? ['shedding drops whole connections by hash and keeps 5xx exchanges; see docs/capture.md "Overload"'] : [],
  };
}
