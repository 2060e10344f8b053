/**
 * A DDSketch (Masson, Rim, Lee, VLDB 2019): logarithmic buckets give every quantile estimate a
 * relative error of at most `RELATIVE_ERROR` of the true value at that rank, and two sketches
 * merge exactly by adding bucket counts — so percentiles merge across nodes and time windows.
 */

/** Guaranteed relative accuracy of quantile estimates (1 %). */
export const RELATIVE_ERROR = 0.01;
/**
 * Buckets are built for 0.98 %: the bucket index below reads ln(v) from the float's exponent and
 * a 4096-entry table of the mantissa, off by at most 2^-13 (0.012 %) near bucket edges, which
 * keeps the total within RELATIVE_ERROR while costing a fifth of Math.log.
 */
const DESIGN_ERROR = 0.0098;
const GAMMA = (1 + DESIGN_ERROR) / (1 - DESIGN_ERROR);
/** Bucket k holds values near (GAMMA^(k-1), GAMMA^k]. */
const INV_LOG_GAMMA = 1 / Math.log(GAMMA);
/** Values below this magnitude count as zero (1 ns resolution is far finer than any latency). */
export const MIN_POSITIVE = 1e-9;

const LN_MANTISSA = Float64Array.from({ length: 4096 }, (_, k) => Math.log(1 + (k + 0.5) / 4096));
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Index of the word holding sign, exponent and the top of the mantissa. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** The bucket of a value above MIN_POSITIVE (normal doubles only, which those all are). */
export function bucketIndex(v: number): number {
  F64[0] = v;
  const hi = U32[HI]!;
  return Math.ceil((((hi >>> 20) - 1023) * Math.LN2 + LN_MANTISSA[(hi >>> 8) & 4095]!) * INV_LOG_GAMMA);
}

/** The serialisable state of a sketch: what a partial aggregate carries between nodes. */
export interface SketchState {
  /** Bucket index of `pos[0]` / `neg[0]`. */
  readonly posOffset: number;
  readonly pos: readonly number[];
  readonly negOffset: number;
  readonly neg: readonly number[];
  readonly zero: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

/** Bucket counts over one sign, in a dense array that grows at either end. */
class Store {
  counts = new Float64Array(0);
  offset = 0;

  add(index: number, c: number): void {
    if (this.counts.length === 0) {
      // ±64 buckets is a factor of 3.6 either way at 1 %: most groups never grow.
      this.counts = new Float64Array(128);
      this.offset = index - 64;
    }
    let j = index - this.offset;
    if (j < 0 || j >= this.counts.length) {
      this.extend(index);
      j = index - this.offset;
    }
    this.counts[j] += c;
  }

  private extend(index: number): void {
    const lo = Math.min(this.offset, index);
    const hi = Math.max(this.offset + this.counts.length - 1, index);
    const size = Math.max(hi - lo + 1, this.counts.length * 2);
    const next = new Float64Array(size);
    // Leave room on the side that grew, so alternating growth does not copy every time.
    const newOffset = index < this.offset ? hi - size + 1 : lo;
    next.set(this.counts, this.offset - newOffset);
    this.counts = next;
    this.offset = newOffset;
  }

  toArray(): { offset: number; counts: number[] } {
    let a = 0;
    let b = this.counts.length;
    while (a < b && this.counts[a] === 0) a++;
    while (b > a && this.counts[b - 1] === 0) b--;
    return { offset: this.offset + a, counts: Array.from(this.counts.subarray(a, b)) };
  }
}

/** A mergeable quantile sketch of FLOAT64 values. */
export class DDSketch {
  private readonly pos = new Store();
  private readonly neg = new Store();
  private zero = 0;
  count = 0;
  private min = Infinity;
  private max = -Infinity;

  /** Adds one value (NaN is ignored). */
  add(v: number): void {
    if (v !== v) return;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v > MIN_POSITIVE) this.pos.add(bucketIndex(v), 1);
    else if (v < -MIN_POSITIVE) this.neg.add(bucketIndex(-v), 1);
    else this.zero++;
  }

  /** The estimate of quantile `q` in [0, 1]; NaN when empty. */
  quantile(q: number): number {
    return this.quantiles([q])[0]!;
  }

  /**
   * Estimates of several quantiles (ascending) in one pass over the buckets: the value of the
   * bucket holding rank floor(q * (count - 1)), clamped to the exact min and max.
   */
  quantiles(qs: readonly number[]): number[] {
    const out: number[] = new Array(qs.length).fill(NaN);
    if (this.count === 0) return out;
    let qi = 0;
    let seen = 0;
    const target = (): number => Math.floor(qs[qi]! * (this.count - 1));
    // Negative buckets from the most negative value up, then zero, then positive; a bucket's
    // value is computed only when a quantile lands in it.
    const nc = this.neg.counts;
    for (let j = nc.length - 1; j >= 0 && qi < qs.length; j--) {
      if (nc[j] === 0) continue;
      seen += nc[j]!;
      if (seen <= target()) continue;
      const v = this.clamp(-value(j + this.neg.offset));
      while (qi < qs.length && seen > target()) out[qi++] = v;
    }
    seen += this.zero;
    while (qi < qs.length && this.zero > 0 && seen > target()) out[qi++] = this.clamp(0);
    const pc = this.pos.counts;
    for (let j = 0; j < pc.length && qi < qs.length; j++) {
      if (pc[j] === 0) continue;
      seen += pc[j]!;
      if (seen <= target()) continue;
      const v = this.clamp(value(j + this.pos.offset));
      while (qi < qs.length && seen > target()) out[qi++] = v;
    }
    while (qi < qs.length) out[qi++] = this.max;
    return out;
  }

  private clamp(v: number): number {
    return v < this.min ? this.min : v > this.max ? this.max : v;
  }

  /** Adds another sketch's counts into this one. */
  merge(s: SketchState): void {
    for (let j = 0; j < s.pos.length; j++) if (s.pos[j]) this.pos.add(s.posOffset + j, s.pos[j]!);
    for (let j = 0; j < s.neg.length; j++) if (s.neg[j]) this.neg.add(s.negOffset + j, s.neg[j]!);
    this.zero += s.zero;
    this.count += s.count;
    if (s.count > 0) {
      if (s.min < this.min) this.min = s.min;
      if (s.max > this.max) this.max = s.max;
    }
  }

  /** The serialisable state (JSON-safe apart from ±Infinity of an empty sketch's min/max). */
  state(): SketchState {
    const p = this.pos.toArray();
    const n = this.neg.toArray();
    return {
      posOffset: p.offset,
      pos: p.counts,
      negOffset: n.offset,
      neg: n.counts,
      zero: this.zero,
      count: this.count,
      min: this.min,
      max: this.max,
    };
  }
}

/** The representative value of bucket `k`: within RELATIVE_ERROR of every value in it. */
export function value(k: number): number {
  return (2 * Math.pow(GAMMA, k)) / (GAMMA + 1);
}

/** Pixie's quantile keys and the quantiles they stand for. */
export const QUANTILE_KEYS: readonly (readonly [string, number])[] = [
  ['p01', 0.01],
  ['p10', 0.1],
  ['p25', 0.25],
  ['p50', 0.5],
  ['p75', 0.75],
  ['p90', 0.9],
  ['p99', 0.99],
];

const QS = QUANTILE_KEYS.map((k) => k[1]);

/** The Pixie quantile keys of a sketch with their estimates. */
export function quantileValues(s: DDSketch): Record<string, number> {
  const vs = s.quantiles(QS);
  const out: Record<string, number> = {};
  QUANTILE_KEYS.forEach(([key], i) => (out[key] = vs[i]!));
  return out;
}

/** Pixie's output form: `{"p01":…,"p10":…,"p25":…,"p50":…,"p75":…,"p90":…,"p99":…}`. */
export function quantilesJson(values: Record<string, number>): string {
  let out = '{';
  let first = true;
  for (const [key] of QUANTILE_KEYS) {
    const v = values[key]!;
    out += `${first ? '' : ','}"${key}":${Number.isFinite(v) ? v : 'null'}`;
    first = false;
  }
  return out + '}';
}
