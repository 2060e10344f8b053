import type { DataType } from '../../../schema.js';
import type { Vec } from '../vec.js';

/*
 * Group keys one row at a time, for the fused aggregation loop (fused.ts): each call returns the
 * key's dense id, new ids in order of first appearance among the rows folded in. (chunk.ts does
 * the same a chunk at a time, for the operators and the broker's merge.)
 */

/** A string-valued expression of one column used as a group key: codes map lazily to key ids. */
export class StrKey {
  count = 0;
  private readonly index = new Map<string, number>();
  readonly strs: string[] = [];
  /** This batch: code → key id (-1 not yet seen) and code → key string. */
  table = new Int32Array(0);
  derived: readonly string[] = [];

  /** Starts a batch whose code k stands for `derived[k]`; returns its code → id table (all -1). */
  setBatch(derived: readonly string[]): Int32Array {
    this.derived = derived;
    this.table = new Int32Array(derived.length).fill(-1);
    return this.table;
  }

  /** Records in this batch's table the ids of the codes whose strings are groups already. */
  resolveKnown(): void {
    for (let k = 0; k < this.derived.length; k++) {
      const id = this.index.get(this.derived[k]!);
      if (id !== undefined) this.table[k] = id;
    }
  }

  /** The id of a code not yet in this batch's table (recorded there). */
  miss(code: number): number {
    const s = this.derived[code]!;
    let id = this.index.get(s);
    if (id === undefined) {
      id = this.count++;
      this.index.set(s, id);
      this.strs.push(s);
    }
    this.table[code] = id;
    return id;
  }

  /** The key column of groups whose key ids are `ids`. */
  values(ids: Int32Array): Vec {
    return { t: 'str', c: ids, dict: this.strs };
  }
}

/** A numeric (or boolean) group key: a hash map with a shortcut for runs of one value (time bins). */
export class NumKey {
  count = 0;
  private last = NaN;
  private lastId = -1;
  private readonly index = new Map<number, number>();
  private nums = new Float64Array(64);
  private readonly isBool: boolean;

  constructor(type: DataType) {
    this.isBool = type === 'BOOLEAN';
  }

  /** The id of value `x`. */
  id(x: number): number {
    if (x === this.last) return this.lastId;
    return this.lookup(x);
  }

  private lookup(x: number): number {
    let id = this.index.get(x);
    if (id === undefined) {
      id = this.count++;
      this.index.set(x, id);
      if (id >= this.nums.length) {
        const b = new Float64Array(this.nums.length * 2);
        b.set(this.nums);
        this.nums = b;
      }
      this.nums[id] = x;
    }
    this.last = x;
    this.lastId = id;
    return id;
  }

  /** The key column of groups whose key ids are `ids`. */
  values(ids: Int32Array): Vec {
    const n = ids.length;
    if (this.isBool) {
      const d = new Uint8Array(n);
      for (let i = 0; i < n; i++) d[i] = this.nums[ids[i]!]!;
      return { t: 'bool', d };
    }
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = this.nums[ids[i]!]!;
    return { t: 'num', d };
  }
}

/** Dense-table size limit (entries) before pairs move to a hash map. */
const DENSE_LIMIT = 1 << 22;

/** Maps (a, b) id pairs to dense ids in order of first appearance. */
export class PairKey {
  count = 0;
  private capA = 0;
  private capB = 0;
  private dense = new Int32Array(0);
  private map: Map<number, number> | null = null;
  private pa = new Int32Array(64);
  private pb = new Int32Array(64);
  private scratch = new Int32Array(0);

  /** The id of pair (a, b). */
  get(a: number, b: number): number {
    if (a < this.capA && b < this.capB) {
      const g = this.dense[a * this.capB + b]!;
      if (g >= 0) return g;
    }
    return this.slow(a, b);
  }

  /** The ids of the pairs (a[k], b[k]): a scratch array, valid until the next call. */
  combine(a: Int32Array, b: Int32Array): Int32Array {
    const m = a.length;
    if (this.scratch.length < m) this.scratch = new Int32Array(Math.max(m, 16384));
    const out = this.scratch.subarray(0, m);
    for (let k = 0; k < m; k++) out[k] = this.get(a[k]!, b[k]!);
    return out;
  }

  /** The first id of pair `g`. */
  first(g: number): number {
    return this.pa[g]!;
  }

  /** The second id of pair `g`. */
  second(g: number): number {
    return this.pb[g]!;
  }

  private slow(a: number, b: number): number {
    if (this.map === null && (a >= this.capA || b >= this.capB)) this.regrow(a, b);
    if (this.map !== null) {
      const key = a * 2147483648 + b;
      let g = this.map.get(key);
      if (g === undefined) {
        g = this.add(a, b);
        this.map.set(key, g);
      }
      return g;
    }
    const g = this.add(a, b);
    this.dense[a * this.capB + b] = g;
    return g;
  }

  private add(a: number, b: number): number {
    const g = this.count++;
    if (g >= this.pa.length) {
      const na = new Int32Array(this.pa.length * 2);
      na.set(this.pa);
      this.pa = na;
      const nb = new Int32Array(this.pb.length * 2);
      nb.set(this.pb);
      this.pb = nb;
    }
    this.pa[g] = a;
    this.pb[g] = b;
    return g;
  }

  private regrow(a: number, b: number): void {
    let capA = Math.max(this.capA, 16);
    let capB = Math.max(this.capB, 16);
    while (capA <= a) capA *= 2;
    while (capB <= b) capB *= 2;
    if (capA * capB > DENSE_LIMIT) {
      this.map = new Map();
      for (let g = 0; g < this.count; g++) this.map.set(this.pa[g]! * 2147483648 + this.pb[g]!, g);
      this.dense = new Int32Array(0);
      this.capA = this.capB = 0;
      return;
    }
    const t = new Int32Array(capA * capB).fill(-1);
    for (let g = 0; g < this.count; g++) t[this.pa[g]! * capB + this.pb[g]!] = g;
    this.dense = t;
    this.capA = capA;
    this.capB = capB;
  }
}
