import { PxlCode, PxlError } from '../../diagnostic.js';
import type { Val, Vec } from '../../exec/vec.js';
import { NUMERIC, type FunctionEntry } from '../entry.js';
import { rememberParsed } from '../parsed.js';
import { DDSketch, bucketIndex, MIN_POSITIVE, QUANTILE_KEYS, quantilesJson, quantileValues, value, type SketchState } from './sketch.js';
import { dense, type AggState } from './state.js';

/*
 * px.quantiles: p01 … p99 of each group from a DDSketch (sketch.ts). Its partial is the sketch's
 * buckets `{posOffset, pos, negOffset, neg, zero, count, min, max}`, merged by adding bucket
 * counts, so the sketch merged from many engines is the one a single node would build.
 */

type QuantilesPartial = SketchState;

const QUANTILE_QS = QUANTILE_KEYS.map(([, q]) => q);
const QUANTILE_SCRATCH = new Float64Array(QUANTILE_KEYS.length);

/** Slots per arena page (8 MiB). */
const PAGE = 1 << 20;

/**
 * Arena pages of released quantile states with how many leading slots they used: a query of
 * thousands of groups touches tens of MiB, and fresh pages cost page faults and push V8 towards
 * full collections of a heap that holds the whole store's dictionaries.
 */
const FREE_PAGES: { page: Float64Array; used: number }[] = [];
const MAX_FREE_PAGES = 8;

/**
 * Arena pages one px.quantiles state may hold (256 MiB): about 128,000 groups of latencies, or
 * fewer groups whose values span many orders of magnitude. Checked as pages are taken, so a
 * groupby of spread-out values fails with PXL_LIMIT instead of growing the heap without bound.
 */
const MAX_PAGES = 32;

/**
 * DDSketches of many groups in struct-of-arrays form: each group's positive buckets are a slice
 * of a shared paged arena (a bump allocator; a group that outgrows its slice moves to a bigger
 * one), so thousands of groups cost no per-group objects or buffers and the update loop touches
 * only typed arrays. Zeros are counted apart; negative values, rare for latencies, go to a
 * per-group DDSketch.
 */
class QuantilesState implements AggState<QuantilesPartial> {
  private pages: Float64Array[] = [];
  private top = PAGE;
  private page = new Int32Array(0);
  private base = new Int32Array(0);
  private off = new Int32Array(0);
  private cap = new Int32Array(0);
  private cnt = new Float64Array(0);
  private zero = new Float64Array(0);
  private mn = new Float64Array(0);
  private mx = new Float64Array(0);
  private neg: (DDSketch | undefined)[] = [];

  grow(n: number): void {
    if (this.base.length >= n) return;
    const size = Math.max(n, this.base.length * 2, 16);
    const grown = <T extends Int32Array | Float64Array>(a: T, make: (k: number) => T, fill: number): T => {
      const b = make(size);
      b.fill(fill);
      b.set(a);
      return b;
    };
    this.base = grown(this.base, (k) => new Int32Array(k), -1);
    this.page = grown(this.page, (k) => new Int32Array(k), 0);
    this.off = grown(this.off, (k) => new Int32Array(k), 0);
    this.cap = grown(this.cap, (k) => new Int32Array(k), 0);
    this.cnt = grown(this.cnt, (k) => new Float64Array(k), 0);
    this.zero = grown(this.zero, (k) => new Float64Array(k), 0);
    this.mn = grown(this.mn, (k) => new Float64Array(k), Infinity);
    this.mx = grown(this.mx, (k) => new Float64Array(k), -Infinity);
  }

  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const d = dense(arg, sel, gids.length);
    const { base, off, cap, cnt, mn, mx, page, pages } = this;
    for (let k = 0; k < gids.length; k++) {
      const g = gids[k]!;
      const v = d[k]!;
      if (v !== v) continue;
      cnt[g]++;
      if (v < mn[g]!) mn[g] = v;
      if (v > mx[g]!) mx[g] = v;
      if (v > MIN_POSITIVE) {
        const idx = bucketIndex(v);
        const j = idx - off[g]!;
        if (base[g]! >= 0 && j >= 0 && j < cap[g]!) pages[page[g]!]![base[g]! + j]++;
        else this.place(g, idx, 1);
      } else if (v < -MIN_POSITIVE) {
        (this.neg[g] ??= new DDSketch()).add(v);
      } else this.zero[g]++;
    }
  }

  /** Adds `c` to bucket `idx` of group `g`, giving the group a (larger) slice first. */
  private place(g: number, idx: number, c: number): void {
    const b = this.base[g]!;
    if (b < 0) {
      // ±128 buckets is a factor of 13 either way at 1 %: most latency groups never grow.
      this.base[g] = this.alloc(g, 256);
      this.off[g] = idx - 128;
      this.cap[g] = 256;
    } else {
      const j = idx - this.off[g]!;
      if (j < 0 || j >= this.cap[g]!) {
        const lo = Math.min(this.off[g]!, idx);
        const hi = Math.max(this.off[g]! + this.cap[g]! - 1, idx);
        const size = Math.max(hi - lo + 1, this.cap[g]! * 2);
        const old = this.pages[this.page[g]!]!.subarray(this.base[g]!, this.base[g]! + this.cap[g]!);
        const nb = this.alloc(g, size);
        // Leave the spare room on the side that grew.
        const noff = idx < this.off[g]! ? hi - size + 1 : lo;
        this.pages[this.page[g]!]!.set(old, nb + (this.off[g]! - noff));
        this.base[g] = nb;
        this.off[g] = noff;
        this.cap[g] = size;
      }
    }
    this.pages[this.page[g]!]![this.base[g]! + idx - this.off[g]!] += c;
  }

  /** A zeroed slice of `n` slots for group `g`: sets the group's page, returns the offset. */
  private alloc(g: number, n: number): number {
    if (this.top + n > PAGE || this.pages.length === 0) {
      if (this.pages.length >= MAX_PAGES) {
        throw new PxlError(PxlCode.limit, `px.quantiles needs more than ${(MAX_PAGES * PAGE * 8) >> 20} MiB for its groups`, undefined, [
          'group by fewer or coarser keys, or filter before grouping',
        ]);
      }
      const free = n <= PAGE ? FREE_PAGES.pop() : undefined;
      if (free) free.page.fill(0, 0, free.used);
      this.pages.push(free ? free.page : new Float64Array(Math.max(PAGE, n)));
      this.top = 0;
    }
    this.page[g] = this.pages.length - 1;
    const at = this.top;
    this.top += n;
    return at;
  }

  /** The bucket counts of group `g` (a view; empty when it has no positive value). */
  private slots(g: number): Float64Array {
    const b = this.base[g]!;
    return b < 0 ? new Float64Array(0) : this.pages[this.page[g]!]!.subarray(b, b + this.cap[g]!);
  }

  partial(g: number): QuantilesPartial {
    const pos: number[] = [];
    let first = 0;
    const sl = this.slots(g);
    if (sl.length > 0) {
      let lo = 0;
      let hi = sl.length;
      while (lo < hi && sl[lo] === 0) lo++;
      while (hi > lo && sl[hi - 1] === 0) hi--;
      for (let j = lo; j < hi; j++) pos.push(sl[j]!);
      first = this.off[g]! + lo;
    }
    const neg = this.neg[g]?.state();
    return {
      posOffset: first,
      pos,
      negOffset: neg?.negOffset ?? 0,
      neg: neg?.neg ?? [],
      zero: this.zero[g]!,
      count: this.cnt[g]!,
      min: this.mn[g]!,
      max: this.mx[g]!,
    };
  }

  merge(g: number, p: QuantilesPartial): void {
    for (let j = 0; j < p.pos.length; j++) if (p.pos[j]) this.place(g, p.posOffset + j, p.pos[j]!);
    if (p.neg.length > 0) {
      (this.neg[g] ??= new DDSketch()).merge({ ...p, pos: [], zero: 0 });
    }
    this.zero[g] += p.zero;
    this.cnt[g] += p.count;
    if (p.count > 0) {
      if (p.min < this.mn[g]!) this.mn[g] = p.min;
      if (p.max > this.mx[g]!) this.mx[g] = p.max;
    }
  }

  private values(g: number): Record<string, number> {
    if (this.neg[g]) {
      const s = new DDSketch();
      s.merge(this.partial(g));
      return quantileValues(s);
    }
    const total = this.cnt[g]!;
    const mn = this.mn[g]!;
    const mx = this.mx[g]!;
    const nq = QUANTILE_KEYS.length;
    // Shared scratch: a typed array per group costs more than the walk over its buckets.
    const out = QUANTILE_SCRATCH.fill(NaN);
    if (total > 0) {
      let qi = 0;
      let target = Math.floor(QUANTILE_QS[0]! * (total - 1));
      let seen = this.zero[g]!;
      while (qi < nq && seen > target) {
        out[qi++] = mn > 0 ? mn : mx < 0 ? mx : 0;
        if (qi < nq) target = Math.floor(QUANTILE_QS[qi]! * (total - 1));
      }
      const b = this.base[g]!;
      if (b >= 0) {
        const slots = this.pages[this.page[g]!]!;
        const end = b + this.cap[g]!;
        const off = this.off[g]! - b;
        for (let i = b; i < end && qi < nq; i++) {
          const c = slots[i]!;
          if (c === 0) continue;
          seen += c;
          if (seen <= target) continue;
          const v0 = value(off + i);
          const v = v0 < mn ? mn : v0 > mx ? mx : v0;
          while (qi < nq && seen > target) {
            out[qi++] = v;
            if (qi < nq) target = Math.floor(QUANTILE_QS[qi]! * (total - 1));
          }
        }
      }
      while (qi < nq) out[qi++] = mx;
    }
    const r: Record<string, number> = {};
    for (let i = 0; i < nq; i++) r[QUANTILE_KEYS[i]![0]] = out[i]!;
    return r;
  }

  release(): void {
    const last = this.pages.length - 1;
    this.pages.forEach((page, j) => {
      if (page.length === PAGE && FREE_PAGES.length < MAX_FREE_PAGES) FREE_PAGES.push({ page, used: j === last ? this.top : PAGE });
    });
    this.pages = [];
    this.top = PAGE;
    this.base.fill(-1);
  }

  finalize(n: number): Vec {
    const values = Array.from({ length: n }, (_, g) => this.values(g));
    const dict = values.map(quantilesJson);
    // pluck_float64 on this column then reads the numbers instead of re-parsing the JSON.
    rememberParsed(dict, values);
    return { t: 'str', c: Int32Array.from({ length: n }, (_, g) => g), dict };
  }
}

function nums(v: unknown): number[] {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'number' && x >= 0 ? x : 0)) : [];
}

function int(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) ? v : 0;
}

/** px.quantiles. */
export const QUANTILES: FunctionEntry = {
  name: 'quantiles',
  spelling: 'px.quantiles',
  kind: 'aggregate',
  signatures: NUMERIC.map((t) => ({ args: [t], ret: 'STRING' as const, semantic: 'ST_QUANTILES' as const })),
  doc: 'Percentiles p01, p10, p25, p50, p75, p90, p99 as a JSON object; read one with px.pluck_float64.',
  example: "latency_quantiles=('latency', px.quantiles)",
  mergeable: true,
  agg: {
    create: () => new QuantilesState(),
    encode: (p) => {
      const q = p as QuantilesPartial;
      return { ...q, min: q.count > 0 ? q.min : null, max: q.count > 0 ? q.max : null };
    },
    decode: (v): QuantilesPartial => {
      const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
      const count = typeof o['count'] === 'number' ? o['count'] : 0;
      return {
        posOffset: int(o['posOffset']),
        pos: nums(o['pos']),
        negOffset: int(o['negOffset']),
        neg: nums(o['neg']),
        zero: typeof o['zero'] === 'number' ? o['zero'] : 0,
        count,
        min: typeof o['min'] === 'number' ? o['min'] : Infinity,
        max: typeof o['max'] === 'number' ? o['max'] : -Infinity,
      };
    },
  },
};
