import type { DataType } from '../../schema.js';
import { PxlCode, PxlError } from '../diagnostic.js';
import type { Val } from './expr.js';
import {
  DDSketch,
  bucketIndex,
  MIN_POSITIVE,
  QUANTILE_KEYS,
  quantilesJson,
  quantileValues,
  value,
  type SketchState,
} from './sketch.js';
import { rememberParsed } from './parsed.js';
import type { Vec } from './vec.js';

/**
 * The grouped state of one aggregate over many groups (struct of arrays, indexed by group id).
 * It splits into the halves a broker needs: `partial(g)` is a JSON-safe value for one group,
 * `merge(g, p)` folds such a value in, `finalize(n)` produces the output column.
 */
export interface AggState<P> {
  /** Makes room for groups `0..n-1`. */
  grow(n: number): void;
  /** Folds live rows in: `gids[k]` is the group of the k-th live row (`sel[k]`, or k). */
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void;
  partial(g: number): P;
  merge(g: number, p: P): void;
  finalize(n: number): Vec;
  /**
   * Optional: gives the state's large buffers back for reuse by later queries. The state must
   * not be used afterwards; the executor calls it once the output column is finalized.
   */
  release?(): void;
}

/** Count partial: rows. */
export type CountPartial = number;
/** Sum partial: exact as a decimal string when it left the safe-integer range. */
export type SumPartial = number | string;
/** Mean partial. */
export interface MeanPartial {
  readonly sum: number;
  readonly count: number;
}
/** Min/max partial: null for a group that saw no value. */
export type ExtremePartial = number | null;
/** Any partial: one value of the group. */
export type AnyPartial = number | string | boolean | null;
/** Quantiles partial: the sketch's buckets. */
export type QuantilesPartial = SketchState;

/** Names of the implemented aggregates. */
export const AGGREGATE_NAMES = ['count', 'sum', 'mean', 'min', 'max', 'any', 'quantiles'] as const;

/** Creates the state of aggregate `fn` for an argument of `argType` producing `outType`. */
export function createAgg(fn: string, argType: DataType, outType: DataType): AggState<unknown> {
  switch (fn) {
    case 'count':
      return new CountState();
    case 'sum':
      return argType === 'FLOAT64' || outType === 'FLOAT64' ? new FloatSumState() : new IntSumState();
    case 'mean':
      return new MeanState();
    case 'min':
      return new ExtremeState(true, outType);
    case 'max':
      return new ExtremeState(false, outType);
    case 'any':
      return new AnyState(outType);
    case 'quantiles':
      return new QuantilesState();
    default:
      throw new PxlError('PXL_UNKNOWN_FUNCTION', `executor: no aggregate '${fn}'`);
  }
}

function growF64(a: Float64Array<ArrayBuffer>, n: number, fill = 0): Float64Array<ArrayBuffer> {
  if (a.length >= n) return a;
  let cap = Math.max(a.length * 2, 16);
  while (cap < n) cap *= 2;
  const b = new Float64Array(cap);
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}

let scratch = new Float64Array(16384);

/**
 * The argument's values of the live rows, densely in selection order, as float64 (booleans
 * 0/1, a constant repeated): a dense float64 argument as it is, anything else copied into
 * shared scratch space valid until the next call. The update loops then read one array type
 * with no selection branch; they only read it.
 */
function dense(arg: Val, sel: Int32Array | null, m: number): Float64Array {
  const d = numbers(arg);
  if (!sel && d instanceof Float64Array) return d.length === m ? d : d.subarray(0, m);
  if (scratch.length < m) scratch = new Float64Array(m);
  const out = scratch.subarray(0, m);
  if (typeof d === 'number') out.fill(d);
  else if (sel) for (let k = 0; k < m; k++) out[k] = d[sel[k]!]!;
  else for (let k = 0; k < m; k++) out[k] = d[k]!;
  return out;
}

/** The numbers of an argument (booleans as 0/1, scalars broadcast by the callers). */
function numbers(arg: Val): Float64Array | Int32Array | Uint8Array | number {
  if (arg.t === 'scalar') return typeof arg.v === 'boolean' ? (arg.v ? 1 : 0) : Number(arg.v);
  if (arg.t === 'num' || arg.t === 'bool') return arg.d;
  if (arg.t === 'big') return Float64Array.from(arg.d, Number);
  throw new PxlError('PXL_BAD_ARGUMENT', 'this aggregate needs a numeric column, not a string');
}

class CountState implements AggState<CountPartial> {
  private c = new Float64Array(0);
  grow(n: number): void {
    this.c = growF64(this.c, n);
  }
  update(gids: Int32Array): void {
    const c = this.c;
    for (let k = 0; k < gids.length; k++) c[gids[k]!]++;
  }
  partial(g: number): CountPartial {
    return this.c[g]!;
  }
  merge(g: number, p: CountPartial): void {
    this.c[g] += p;
  }
  finalize(n: number): Vec {
    return { t: 'num', d: this.c.slice(0, n) };
  }
}

class FloatSumState implements AggState<SumPartial> {
  private s = new Float64Array(0);
  grow(n: number): void {
    this.s = growF64(this.s, n);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const s = this.s;
    const x = dense(arg, sel, gids.length);
    for (let k = 0; k < gids.length; k++) s[gids[k]!] += x[k]!;
  }
  partial(g: number): SumPartial {
    return this.s[g]!;
  }
  merge(g: number, p: SumPartial): void {
    this.s[g] += Number(p);
  }
  finalize(n: number): Vec {
    return { t: 'num', d: this.s.slice(0, n) };
  }
}

/** Beyond this magnitude a running sum is moved into the group's bigint carry. */
const CARRY = 2 ** 51;

/** INT64 sum, exact at any size: a float64 running sum plus a bigint carry per group. */
class IntSumState implements AggState<SumPartial> {
  private s = new Float64Array(0);
  private carry = new Map<number, bigint>();
  grow(n: number): void {
    this.s = growF64(this.s, n);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const s = this.s;
    if (arg.t === 'big') {
      for (let k = 0; k < gids.length; k++) this.addBig(gids[k]!, arg.d[sel ? sel[k]! : k]!);
      return;
    }
    const d = dense(arg, sel, gids.length);
    for (let k = 0; k < gids.length; k++) {
      const g = gids[k]!;
      const v = d[k]!;
      const x = s[g]! + v;
      if (x < CARRY && x > -CARRY && v < CARRY && v > -CARRY) s[g] = x;
      else this.addBig(g, BigInt(v));
    }
  }
  private addBig(g: number, v: bigint): void {
    const x = this.s[g]!;
    this.s[g] = 0;
    this.carry.set(g, (this.carry.get(g) ?? 0n) + BigInt(x) + v);
  }
  private exact(g: number): bigint | number {
    const c = this.carry.get(g);
    return c === undefined ? this.s[g]! : c + BigInt(this.s[g]!);
  }
  partial(g: number): SumPartial {
    const v = this.exact(g);
    return typeof v === 'bigint' ? v.toString() : v;
  }
  merge(g: number, p: SumPartial): void {
    if (typeof p === 'string') this.addBig(g, BigInt(p));
    else if (p < CARRY && p > -CARRY) this.update(Int32Array.of(g), null, { t: 'scalar', v: p });
    else this.addBig(g, BigInt(p));
  }
  finalize(n: number): Vec {
    if (this.carry.size === 0) return { t: 'num', d: this.s.slice(0, n) };
    const d = new BigInt64Array(n);
    for (let g = 0; g < n; g++) d[g] = BigInt.asIntN(64, BigInt(this.exact(g)));
    return { t: 'big', d };
  }
}

class MeanState implements AggState<MeanPartial> {
  private s = new Float64Array(0);
  private c = new Float64Array(0);
  grow(n: number): void {
    this.s = growF64(this.s, n);
    this.c = growF64(this.c, n);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const s = this.s;
    const c = this.c;
    const d = dense(arg, sel, gids.length);
    for (let k = 0; k < gids.length; k++) {
      const g = gids[k]!;
      s[g] += d[k]!;
      c[g]++;
    }
  }
  partial(g: number): MeanPartial {
    return { sum: this.s[g]!, count: this.c[g]! };
  }
  merge(g: number, p: MeanPartial): void {
    this.s[g] += p.sum;
    this.c[g] += p.count;
  }
  finalize(n: number): Vec {
    const d = new Float64Array(n);
    for (let g = 0; g < n; g++) d[g] = this.s[g]! / this.c[g]!;
    return { t: 'num', d };
  }
}

class ExtremeState implements AggState<ExtremePartial> {
  private v = new Float64Array(0);
  private readonly isMin: boolean;
  private readonly outType: DataType;
  constructor(isMin: boolean, outType: DataType) {
    this.isMin = isMin;
    this.outType = outType;
  }
  grow(n: number): void {
    this.v = growF64(this.v, n, this.isMin ? Infinity : -Infinity);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const v = this.v;
    const d = dense(arg, sel, gids.length);
    if (this.isMin) {
      for (let k = 0; k < gids.length; k++) {
        const g = gids[k]!;
        if (d[k]! < v[g]!) v[g] = d[k]!;
      }
    } else {
      for (let k = 0; k < gids.length; k++) {
        const g = gids[k]!;
        if (d[k]! > v[g]!) v[g] = d[k]!;
      }
    }
  }
  partial(g: number): ExtremePartial {
    const x = this.v[g]!;
    return Number.isFinite(x) ? x : null;
  }
  merge(g: number, p: ExtremePartial): void {
    if (p === null) return;
    if (this.isMin ? p < this.v[g]! : p > this.v[g]!) this.v[g] = p;
  }
  finalize(n: number): Vec {
    const d = this.v.slice(0, n);
    if (this.outType === 'BOOLEAN') return { t: 'bool', d: Uint8Array.from(d) };
    return { t: 'num', d };
  }
}

class AnyState implements AggState<AnyPartial> {
  private has = new Uint8Array(0);
  private nums = new Float64Array(0);
  private strs: string[] = [];
  private readonly outType: DataType;
  constructor(outType: DataType) {
    this.outType = outType;
  }
  grow(n: number): void {
    if (this.has.length >= n) return;
    const h = new Uint8Array(Math.max(n, this.has.length * 2));
    h.set(this.has);
    this.has = h;
    this.nums = growF64(this.nums, h.length);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const has = this.has;
    for (let k = 0; k < gids.length; k++) {
      const g = gids[k]!;
      if (has[g]) continue;
      has[g] = 1;
      const i = sel ? sel[k]! : k;
      if (arg.t === 'str') this.strs[g] = arg.dict[arg.c[i]!]!;
      else if (arg.t === 'scalar') {
        if (typeof arg.v === 'string') this.strs[g] = arg.v;
        else this.nums[g] = typeof arg.v === 'boolean' ? (arg.v ? 1 : 0) : arg.v;
      } else this.nums[g] = arg.t === 'big' ? Number(arg.d[i]!) : arg.d[i]!;
    }
  }
  partial(g: number): AnyPartial {
    if (!this.has[g]) return null;
    if (this.outType === 'STRING' || this.outType === 'UINT128') return this.strs[g]!;
    if (this.outType === 'BOOLEAN') return this.nums[g] === 1;
    return this.nums[g]!;
  }
  merge(g: number, p: AnyPartial): void {
    if (p === null || this.has[g]) return;
    this.has[g] = 1;
    if (typeof p === 'string') this.strs[g] = p;
    else this.nums[g] = typeof p === 'boolean' ? (p ? 1 : 0) : p;
  }
  finalize(n: number): Vec {
    if (this.outType === 'STRING' || this.outType === 'UINT128') {
      const dict = Array.from({ length: n }, (_, g) => this.strs[g] ?? '');
      return { t: 'str', c: Int32Array.from({ length: n }, (_, g) => g), dict };
    }
    if (this.outType === 'BOOLEAN') return { t: 'bool', d: Uint8Array.from(this.nums.subarray(0, n)) };
    return { t: 'num', d: this.nums.slice(0, n) };
  }
}

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
