import type { DataType } from '../../../schema.js';
import { PairKey } from './row.js';
import type { Chunk, Vec } from '../vec.js';

/**
 * Turns the group-by columns of each chunk into per-row dense integer group ids. Each key column
 * first maps its values to dense ids (strings through a per-dictionary translation, numbers
 * through a hash map with a last-value shortcut for time-ordered bins); several columns are then
 * combined pairwise through a dense table while it is small, a hash map beyond.
 */
export class GroupKeyer {
  private readonly cols: KeyColumn[];
  private readonly pairs: PairKey[] = [];
  private zeros = new Int32Array(0);
  size = 0;

  constructor(types: readonly DataType[]) {
    this.cols = types.map((t) => new KeyColumn(t));
    for (let j = 1; j < types.length; j++) this.pairs.push(new PairKey());
  }

  /**
   * Group ids of the live rows, in selection order; a new group gets the next id. The array is
   * scratch space, valid until the next call: callers fold it in before asking again.
   */
  assign(chunk: Chunk, keyCols: readonly Vec[]): Int32Array {
    const m = chunk.sel ? chunk.sel.length : chunk.n;
    if (this.cols.length === 0) {
      if (this.size === 0 && m > 0) this.size = 1;
      if (this.zeros.length < m) this.zeros = new Int32Array(m);
      return this.zeros.subarray(0, m);
    }
    const ids = keyCols.map((v, j) => this.cols[j]!.ids(v, chunk));
    let g = ids[0]!;
    for (let j = 1; j < ids.length; j++) g = this.pairs[j - 1]!.combine(g, ids[j]!);
    this.size = ids.length === 1 ? this.cols[0]!.count : this.pairs[this.pairs.length - 1]!.count;
    return g;
  }

  /** The key values of every group, one column per key: numbers, strings or booleans. */
  keyColumns(): Vec[] {
    const n = this.size;
    const k = this.cols.length;
    const perCol = this.cols.map(() => new Int32Array(n));
    // A group's column ids unwind from the pair tables: (previous combination, last column id).
    for (let g = 0; g < n; g++) {
      let p = g;
      for (let j = k - 1; j >= 1; j--) {
        const t = this.pairs[j - 1]!;
        perCol[j]![g] = t.second(p);
        p = t.first(p);
      }
      if (k > 0) perCol[0]![g] = p;
    }
    return this.cols.map((c, j) => c.values(perCol[j]!));
  }
}

class KeyColumn {
  private readonly type: DataType;
  count = 0;
  private readonly strIndex = new Map<string, number>();
  private readonly strs: string[] = [];
  private readonly numIndex = new Map<number, number>();
  private nums = new Float64Array(64);
  private readonly bigIndex = new Map<bigint, number>();
  private readonly bigs: bigint[] = [];
  private lastDict: readonly string[] | null = null;
  private lastMap = new Int32Array(0);
  private scratch = new Int32Array(0);

  constructor(type: DataType) {
    this.type = type;
  }

  ids(v: Vec, chunk: Chunk): Int32Array {
    const sel = chunk.sel;
    const m = sel ? sel.length : chunk.n;
    if (this.scratch.length < m) this.scratch = new Int32Array(Math.max(m, 16384));
    const out = this.scratch.subarray(0, m);
    switch (v.t) {
      case 'str': {
        if (v.dict !== this.lastDict) {
          this.lastDict = v.dict;
          this.lastMap = new Int32Array(v.dict.length).fill(-1);
        }
        const map = this.lastMap;
        const c = v.c;
        for (let k = 0; k < m; k++) {
          const code = c[sel ? sel[k]! : k]!;
          let id = map[code]!;
          if (id < 0) map[code] = id = this.strId(v.dict[code]!);
          out[k] = id;
        }
        return out;
      }
      case 'bool': {
        const d = v.d;
        for (let k = 0; k < m; k++) out[k] = this.numId(d[sel ? sel[k]! : k]!);
        return out;
      }
      case 'num': {
        const d = v.d;
        let last = NaN;
        let lastId = -1;
        for (let k = 0; k < m; k++) {
          const x = d[sel ? sel[k]! : k]!;
          if (x === last) {
            out[k] = lastId;
            continue;
          }
          let id = this.numIndex.get(x);
          if (id === undefined) id = this.newNum(x);
          out[k] = lastId = id;
          last = x;
        }
        return out;
      }
      case 'big': {
        for (let k = 0; k < m; k++) {
          const x = v.d[sel ? sel[k]! : k]!;
          let id = this.bigIndex.get(x);
          if (id === undefined) {
            id = this.count++;
            this.bigIndex.set(x, id);
            this.bigs.push(x);
          }
          out[k] = id;
        }
        return out;
      }
    }
  }

  private strId(s: string): number {
    let id = this.strIndex.get(s);
    if (id === undefined) {
      id = this.count++;
      this.strIndex.set(s, id);
      this.strs.push(s);
    }
    return id;
  }

  private numId(x: number): number {
    const id = this.numIndex.get(x);
    return id === undefined ? this.newNum(x) : id;
  }

  private newNum(x: number): number {
    const id = this.count++;
    this.numIndex.set(x, id);
    if (id >= this.nums.length) {
      const b = new Float64Array(this.nums.length * 2);
      b.set(this.nums);
      this.nums = b;
    }
    this.nums[id] = x;
    return id;
  }

  values(ids: Int32Array): Vec {
    const n = ids.length;
    if (this.type === 'STRING' || this.type === 'UINT128') return { t: 'str', c: ids.slice(), dict: this.strs };
    if (this.type === 'BOOLEAN') {
      const d = new Uint8Array(n);
      for (let i = 0; i < n; i++) d[i] = this.nums[ids[i]!]!;
      return { t: 'bool', d };
    }
    if (this.bigs.length > 0) {
      const d = new BigInt64Array(n);
      for (let i = 0; i < n; i++) d[i] = this.bigs[ids[i]!]!;
      return { t: 'big', d };
    }
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = this.nums[ids[i]!]!;
    return { t: 'num', d };
  }
}

