/**
 * Exchanges the engine knows happened but has no row for, by the second they went missing:
 * shed by the kernel under overload (whole connections; 5xx kept) or lost to dropped data
 * (a full ring buffer, a gap mid-message). A query over a time range is told how many went
 * missing in it, so a rate computed from the rows that are there is not read as the truth.
 */

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
