/**
 * Exchanges the engine knows happened but has no row for, by the second they went missing:
 * shed by the kernel under overload (whole connections; 5xx kept) or lost to dropped data
 * (a full ring buffer, a gap mid-message). A query over a time range is told how many went
 * missing in it, so a rate computed from the rows that are there is not read as the truth.
 */
import type { Diagnostic } from '../pxl/diagnostic.js';

/** Missing exchanges in a time range, by cause. */
export interface Missing {
  readonly shed: number;
  readonly lost: number;
}

/** Per-second counts of missing exchanges over the last `seconds` seconds, in fixed memory. */
export class LossLog {
  private readonly second: Float64Array;
  private readonly shed: Float64Array;
  private readonly lost: Float64Array;

  constructor(private readonly seconds = 86_400) {
    this.second = new Float64Array(seconds).fill(-1);
    this.shed = new Float64Array(seconds);
    this.lost = new Float64Array(seconds);
  }

  /** Adds what went missing by `nowNs` (wall-clock ns). */
  record(nowNs: bigint, shed: number, lost: number): void {
    if (shed <= 0 && lost <= 0) return;
    const s = Number(nowNs / 1_000_000_000n);
    const i = s % this.seconds;
    if (this.second[i] !== s) {
      this.second[i] = s;
      this.shed[i] = 0;
      this.lost[i] = 0;
    }
    this.shed[i] += Math.max(0, shed);
    this.lost[i] += Math.max(0, lost);
  }

  /** What went missing in [startNs, endNs) (null: unbounded), as far back as the log reaches. */
  between(startNs: bigint | null, endNs: bigint | null, nowNs: bigint): Missing {
    const now = Number(nowNs / 1_000_000_000n);
    const from = Math.max(now - this.seconds + 1, startNs === null ? -Infinity : Number(startNs / 1_000_000_000n));
    const to = Math.min(now, endNs === null ? Infinity : Number((endNs - 1n) / 1_000_000_000n));
    let shed = 0;
    let lost = 0;
    for (let s = from; s <= to; s++) {
      const i = s % this.seconds;
      if (this.second[i] !== s) continue;
      shed += this.shed[i]!;
      lost += this.lost[i]!;
    }
    return { shed, lost };
  }
}

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
