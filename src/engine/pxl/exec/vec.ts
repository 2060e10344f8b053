import type { Codes } from '../../store/column.js';
import type { DataType } from '../../schema.js';

/** Numbers as the executor holds them: FLOAT64, exact INT64, and TIME64NS offsets. */
export type NumData = Float64Array | Int32Array;

/**
 * A column of a chunk, `n` physical rows long. INT64 is exact in `num` (safe integers) or `big`;
 * TIME64NS in `num` is an offset from the query's `timeBase` (see ExecContext), in `big` absolute.
 * Strings are codes into a dictionary that may be shared by many chunks.
 */
export type Vec =
  | { readonly t: 'num'; readonly d: NumData }
  | { readonly t: 'big'; readonly d: BigInt64Array }
  | { readonly t: 'str'; readonly c: Codes; readonly dict: readonly string[] }
  | { readonly t: 'bool'; readonly d: Uint8Array };

/**
 * A batch of rows flowing between operators. `sel` lists the live physical rows in order
 * (a filter narrows it instead of copying columns); null means all `n` rows are live.
 */
export interface Chunk {
  readonly n: number;
  readonly sel: Int32Array | null;
  readonly cols: readonly Vec[];
}

/** A constant operand; TIME64NS constants are offsets from the query's time base, like columns. */
export interface Scalar {
  readonly t: 'scalar';
  readonly v: number | string | boolean;
}

/** The value of an expression over a chunk: a column of `chunk.n` rows or one constant. */
export type Val = Vec | Scalar;

/** Live rows of a chunk. */
export function liveRows(c: Chunk): number {
  return c.sel ? c.sel.length : c.n;
}

/** An empty column of a type. */
export function emptyVec(type: DataType): Vec {
  switch (type) {
    case 'STRING':
    case 'UINT128':
      return { t: 'str', c: new Int32Array(0), dict: [] };
    case 'BOOLEAN':
      return { t: 'bool', d: new Uint8Array(0) };
    default:
      return { t: 'num', d: new Float64Array(0) };
  }
}

/** Reads one value of a numeric-like column as a JS number (lossy only for huge `big`). */
function numAt(v: Vec, i: number): number {
  switch (v.t) {
    case 'num':
      return v.d[i]!;
    case 'big':
      return Number(v.d[i]!);
    case 'bool':
      return v.d[i]!;
    case 'str':
      return NaN;
  }
}

/** Converts a column to numbers over all its rows (copying only when it is not `num`). */
export function toNum(v: Vec, n: number, timeBase: bigint, isTime: boolean): NumData {
  if (v.t === 'num') return v.d;
  const out = new Float64Array(n);
  if (v.t === 'big') {
    const base = isTime ? timeBase : 0n;
    for (let i = 0; i < n; i++) out[i] = Number(v.d[i]! - base);
  } else if (v.t === 'bool') {
    for (let i = 0; i < n; i++) out[i] = v.d[i]!;
  } else {
    out.fill(NaN);
  }
  return out;
}

/**
 * Gathers the live rows of many chunks into one dense chunk (no selection). String columns
 * get one dictionary for the whole result: each distinct string once, codes remapped.
 */
export function concatChunks(chunks: readonly Chunk[], types: readonly DataType[], timeBase: bigint): Chunk {
  let total = 0;
  for (const c of chunks) total += liveRows(c);
  const cols: Vec[] = [];
  for (let j = 0; j < types.length; j++) {
    const type = types[j]!;
    if (type === 'STRING' || type === 'UINT128') cols.push(concatStr(chunks, j, total));
    else if (type === 'BOOLEAN') cols.push(concatBool(chunks, j, total));
    else cols.push(concatNum(chunks, j, total, type === 'TIME64NS' ? timeBase : 0n));
  }
  return { n: total, sel: null, cols };
}

function concatStr(chunks: readonly Chunk[], j: number, total: number): Vec {
  const dict: string[] = [];
  const index = new Map<string, number>();
  const out = new Int32Array(total);
  let o = 0;
  let lastDict: readonly string[] | null = null;
  let remap = new Int32Array(0);
  for (const ch of chunks) {
    const v = ch.cols[j]! as Extract<Vec, { t: 'str' }>;
    if (v.dict !== lastDict) {
      lastDict = v.dict;
      remap = new Int32Array(v.dict.length).fill(-1);
    }
    const sel = ch.sel;
    const m = sel ? sel.length : ch.n;
    for (let k = 0; k < m; k++) {
      const code = v.c[sel ? sel[k]! : k]!;
      let g = remap[code]!;
      if (g < 0) {
        const s = v.dict[code]!;
        let e = index.get(s);
        if (e === undefined) {
          e = dict.length;
          dict.push(s);
          index.set(s, e);
        }
        remap[code] = g = e;
      }
      out[o++] = g;
    }
  }
  return { t: 'str', c: out, dict };
}

function concatBool(chunks: readonly Chunk[], j: number, total: number): Vec {
  const out = new Uint8Array(total);
  let o = 0;
  for (const ch of chunks) {
    const v = ch.cols[j]! as Extract<Vec, { t: 'bool' }>;
    const sel = ch.sel;
    if (!sel) {
      out.set(v.d.subarray(0, ch.n), o);
      o += ch.n;
    } else for (let k = 0; k < sel.length; k++) out[o++] = v.d[sel[k]!]!;
  }
  return { t: 'bool', d: out };
}

function concatNum(chunks: readonly Chunk[], j: number, total: number, base: bigint): Vec {
  const anyBig = chunks.some((c) => c.cols[j]!.t === 'big');
  if (anyBig) {
    const out = new BigInt64Array(total);
    let o = 0;
    for (const ch of chunks) {
      const v = ch.cols[j]!;
      const sel = ch.sel;
      const m = sel ? sel.length : ch.n;
      for (let k = 0; k < m; k++) {
        const i = sel ? sel[k]! : k;
        out[o++] = v.t === 'big' ? v.d[i]! : base + BigInt(numAt(v, i));
      }
    }
    return { t: 'big', d: out };
  }
  const out = new Float64Array(total);
  let o = 0;
  for (const ch of chunks) {
    const v = ch.cols[j]! as Extract<Vec, { t: 'num' }>;
    const sel = ch.sel;
    if (!sel) {
      out.set(v.d.subarray(0, ch.n), o);
      o += ch.n;
    } else {
      const d = v.d;
      for (let k = 0; k < sel.length; k++) out[o++] = d[sel[k]!]!;
    }
  }
  return { t: 'num', d: out };
}

/** The first `m` rows of a dense chunk. */
export function sliceChunk(c: Chunk, m: number): Chunk {
  if (c.sel) return { n: c.n, sel: c.sel.subarray(0, m), cols: c.cols };
  return {
    n: m,
    sel: null,
    cols: c.cols.map((v): Vec => (v.t === 'str' ? { t: 'str', c: v.c.subarray(0, m), dict: v.dict } : ({ t: v.t, d: v.d.subarray(0, m) } as Vec))),
  };
}
