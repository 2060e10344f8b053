import type { ColumnBatch } from '../../../store/table.js';
import { PxlError } from '../../diagnostic.js';
import { evalExpr, type ColumnIndex } from '../expr.js';
import type { Runtime } from '../runtime.js';
import { fromStored, storedBytes } from '../stored.js';
import { checkGroups, type Groups } from '../groups.js';
import { emptyVec, type Chunk, type Val, type Vec } from '../vec.js';
import type { Compiler, SourcePlan } from './compiler.js';
import { prime, type LoopFn } from './loop.js';
import { SLICE, type Part, type Tally } from './parts.js';

/*
 * Running a compiled fused loop: each batch's columns and per-dictionary tables handed to the
 * loop slice by slice, per-code tallies folded into groups after each batch, and each agg's
 * groups and states handed back at the end.
 */

/**
 * Longest stretch of slices between two calls of the runtime's tick (its cancellation checks and
 * yields, each an await): a call per slice costs the counting loops ~5 % of their time.
 */
const TICK_MS = 2;

const identityCodes = (n: number): Int32Array => {
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) c[i] = i;
  return c;
};

/** Picks the compiled loop for a batch's array types, time range check and order tracking. */
export type LoopFor = (cols: readonly ArrayLike<number>[], ranged: boolean, ordered: boolean) => LoopFn;

/** Scans the batches once for all the parts; each part's groups. The stats count `uses[p]` scans for part p. */
export async function scan(
  rt: Runtime,
  src: SourcePlan,
  columns: readonly string[],
  batches: readonly ColumnBatch[],
  hasTime: boolean,
  cc: Compiler,
  parts: readonly Part[],
  tallies: readonly Tally[],
  loopFor: LoopFor,
  uses: readonly number[],
): Promise<Groups[]> {
  const index: ColumnIndex = new Map(columns.map((c, j) => [c, j]));
  const placeholder = emptyVec('INT64');
  const S = parts.map((p) => p.state);
  // Expressions of the per-dictionary tables (two aggs keyed alike evaluate theirs once a batch).
  const exprKeys = cc.dictNodes.map((d) => cc.key(d.expr));
  let ticked = performance.now();
  for (const b of batches) {
    await rt.tick();
    ticked = performance.now();
    // Counted as the separate scans would count them.
    parts.forEach((part, p) => {
      let bytes = 0;
      for (const name of part.src.columns) bytes += storedBytes(b.columns.get(name)!);
      rt.stats.rowsScanned += b.rows * uses[p]!;
      rt.stats.bytesScanned += bytes * uses[p]!;
    });
    let lo = -Infinity;
    let hi = Infinity;
    let ranged = false;
    const t = b.columns.get('time_');
    if (hasTime && t?.kind === 'time') {
      const inside = (src.startNs === null || b.minTime >= src.startNs) && (src.endNs === null || b.maxTime < src.endNs);
      if (!inside) {
        ranged = true;
        if (src.startNs !== null) lo = Number(src.startNs - t.base);
        if (src.endNs !== null) hi = Number(src.endNs - t.base);
      }
    }
    const vecs = new Map<string, Vec>();
    const vecOf = (name: string): Vec => {
      let v = vecs.get(name);
      if (!v) {
        v = fromStored(b.columns.get(name)!, rt.timeBase);
        vecs.set(name, v);
      }
      return v;
    };
    const C: ArrayLike<number>[] = cc.slots.map((name) => {
      const v = vecOf(name);
      return v.t === 'str' ? v.c : (v.d as ArrayLike<number>);
    });
    C.push(ranged && t?.kind === 'time' ? t.data : new Float64Array(0));
    // Per-dictionary tables: each string column's dictionary as a chunk of its own.
    const dictChunks = new Map<string, Chunk>();
    const evaluated = new Map<string, Val>();
    const T: ArrayLike<number>[] = cc.dictNodes.map((d, j) => {
      let ch = dictChunks.get(d.col);
      const v = vecOf(d.col) as Extract<Vec, { t: 'str' }>;
      if (!ch) {
        const cols: Vec[] = columns.map(() => placeholder);
        cols[index.get(d.col)!] = { t: 'str', c: identityCodes(v.dict.length), dict: v.dict };
        ch = { n: v.dict.length, sel: null, cols };
        dictChunks.set(d.col, ch);
      }
      let r = evaluated.get(exprKeys[j]!);
      if (r === undefined) {
        r = evalExpr(d.expr, ch, index, rt);
        evaluated.set(exprKeys[j]!, r);
      }
      const n = ch.n;
      if (d.key !== null) {
        let derived: readonly string[];
        if (r.t === 'scalar') derived = Array.from({ length: n }, () => String(r.v));
        else if (r.t !== 'str') throw new PxlError('PXL_INTERNAL', `executor: a string group key evaluated to ${r.t}`);
        else if (r.c === (ch.cols[index.get(d.col)!] as Extract<Vec, { t: 'str' }>).c) derived = r.dict;
        else derived = Array.from({ length: n }, (_, k) => r.dict[r.c[k]!]!);
        return S[d.part]!.sk[d.key]!.setBatch(derived);
      }
      const out = new Float64Array(n);
      if (r.t === 'scalar') out.fill(typeof r.v === 'boolean' ? (r.v ? 1 : 0) : Number(r.v));
      else if (r.t === 'num' || r.t === 'bool') for (let k = 0; k < n; k++) out[k] = r.d[k]!;
      else if (r.t === 'big') for (let k = 0; k < n; k++) out[k] = Number(r.d[k]!);
      else out.fill(NaN);
      return out;
    });
    // Order of first appearance decides only the ids of new groups: when every code of the batch
    // already has its group in every tallied agg, the loop need not track it.
    let ordered = false;
    for (const tally of tallies) {
      const size = (vecOf(tally.col) as Extract<Vec, { t: 'str' }>).dict.length << tally.bits.length;
      // Integers: a batch holds far fewer than 2^31 rows, and integer adds are the cheapest.
      if (tally.h.length < size) {
        tally.h = new Int32Array(size);
        tally.order = new Int32Array(size);
      } else tally.h.fill(0, 0, size);
      tally.n = 0;
      for (const p of tally.parts) if (mayAddGroups(parts[p]!, T)) ordered = true;
    }
    const loop = loopFor(C, ranged, ordered);
    prime(loop, () => loop(C, T, cc.consts, S, tallies, 0, 0, lo, hi));
    for (let from = 0; from < b.rows; from += SLICE) {
      if (from > 0 && performance.now() - ticked >= TICK_MS) {
        await rt.tick();
        ticked = performance.now();
      }
      loop(C, T, cc.consts, S, tallies, from, Math.min(from + SLICE, b.rows), lo, hi);
      for (const part of parts) {
        const m = part.state.m;
        if (m === 0) continue;
        part.rows += m;
        const n = groupCount(part);
        checkGroups(n, part.plan, rt);
        if (part.nargs === 0) continue;
        const gids = part.state.gids.subarray(0, m);
        for (const f of part.feeds) {
          if (f.fused) continue;
          f.state.grow(n);
          f.state.update(gids, null, { t: 'num', d: part.state.args[f.slot]!.subarray(0, m) });
        }
      }
    }
    for (const tally of tallies) {
      foldTally(tally, parts, T, ordered);
      for (const p of tally.parts) checkGroups(groupCount(parts[p]!), parts[p]!.plan, rt);
    }
  }
  // Merging, then finalizing or encoding, many groups takes a while: a query past its deadline
  // stops before it.
  await rt.tick();
  return parts.map(groupsOf);
}

/**
 * Whether a batch may add groups to a part counted per code: whether any of its codes passes
 * the part's filters on the key column and is no group yet (the known ones are recorded).
 */
function mayAddGroups(part: Part, T: readonly ArrayLike<number>[]): boolean {
  const key = part.state.sk[0]!;
  key.resolveKnown();
  const table = key.table;
  next: for (let x = 0; x < table.length; x++) {
    if (table[x]! >= 0) continue;
    for (const t of part.codePreds) if (T[t]![x] === 0) continue next;
    return true;
  }
  return false;
}

/** Rows of the tally entries of code base `base` whose flags include `mask`. */
function rowsWith(h: Int32Array, base: number, bits: number, mask: number): number {
  let s = 0;
  for (let f = 0; f < 1 << bits; f++) if ((f & mask) === mask) s += h[base | f]!;
  return s;
}

/**
 * Folds a batch's tally into the groups of each agg counted there: codes in order of first
 * appearance among the agg's rows when tracked (new groups get their ids in that order), else
 * in code order (every group exists already, and integer adds commute).
 */
function foldTally(tally: Tally, parts: readonly Part[], T: readonly ArrayLike<number>[], ordered: boolean): void {
  const bits = tally.bits.length;
  const h = tally.h;
  for (const p of tally.parts) {
    const part = parts[p]!;
    const S = part.state;
    const key = S.sk[0]!;
    const table = key.table;
    const need = part.masks[0]!;
    const add = (x: number): void => {
      for (const t of part.codePreds) if (T[t]![x] === 0) return;
      const base = x << bits;
      const rows = rowsWith(h, base, bits, need);
      if (rows === 0) return;
      let g = table[x]!;
      if (g < 0) g = key.miss(x);
      if (g >= S.acc[0]!.length) S.growAcc(g);
      S.acc[0]![g] += rows;
      for (let j = 1; j < part.masks.length; j++) S.acc[j]![g] += rowsWith(h, base, bits, part.masks[j]!);
    };
    if (ordered) {
      const done = new Uint8Array(table.length);
      for (let k = 0; k < tally.n; k++) {
        const y = tally.order[k]!;
        const x = y >> bits;
        if ((y & need) !== need || done[x] === 1) continue;
        done[x] = 1;
        add(x);
      }
    } else for (let x = 0; x < table.length; x++) add(x);
  }
}

/**
 * The agg's groups: their key columns, and its states with what the loop kept in its own arrays
 * (rows per group, fused sums and means) merged in, so that each state is complete, for its
 * partials as for its output.
 */
function groupsOf(part: Part): Groups {
  const S = part.state;
  const n = groupCount(part);
  const rowsOf = S.acc[0]!;
  const states = part.feeds.map((f) => {
    f.state.grow(n);
    const sums = S.acc[f.slot]!;
    if (f.fused === 'count') for (let g = 0; g < n; g++) f.state.merge(g, rowsOf[g]!);
    else if (f.fused === 'sum') for (let g = 0; g < n; g++) f.state.merge(g, sums[g]!);
    else if (f.fused === 'mean') for (let g = 0; g < n; g++) f.state.merge(g, { sum: sums[g]!, count: rowsOf[g]! });
    return f.state;
  });
  return { n, keys: keyColumns(part, n), states };
}

function groupCount(part: Part): number {
  const { keyOf, state: S } = part;
  if (keyOf.length === 0) return part.rows > 0 ? 1 : 0;
  if (keyOf.length === 1) {
    const k = keyOf[0]!;
    return 's' in k ? S.sk[k.s]!.count : S.nk[k.n]!.count;
  }
  return S.pk[S.pk.length - 1]!.count;
}

/** The key values of every group, one column per key (pairs unwind to their parts). */
function keyColumns(part: Part, n: number): Vec[] {
  const { keyOf, state: S } = part;
  const k = keyOf.length;
  const perKey = keyOf.map(() => new Int32Array(n));
  for (let g = 0; g < n; g++) {
    let p = g;
    for (let j = k - 1; j >= 1; j--) {
      const t = S.pk[j - 1]!;
      perKey[j]![g] = t.second(p);
      p = t.first(p);
    }
    if (k > 0) perKey[0]![g] = p;
  }
  return keyOf.map((key, j) => ('s' in key ? S.sk[key.s]!.values(perKey[j]!) : S.nk[key.n]!.values(perKey[j]!)));
}
