import type { DataType, Field } from '../../schema.js';
import type { ColumnBatch } from '../../store/table.js';
import { PxlCode, PxlError } from '../diagnostic.js';
import type { AggState } from '../functions/aggregates/state.js';
import { createAgg } from '../functions/registry.js';
import { evalExpr, type ColumnIndex } from './expr.js';
import { checkGroups, finalizeGroups, type Groups } from './groups.js';
import { maskToSelection } from './kernels.js';
import { GroupKeyer } from './keys/chunk.js';
import type { AggExec, FilterExec, HashAggExec, HashJoinExec, LimitExec, MapExec, PhysicalPlan, ScanExec, UnionExec } from './physical.js';
import type { Runtime } from './runtime.js';
import { fromStored, storedBytes } from './stored.js';
import { concatChunks, liveRows, sliceChunk, type Chunk, type Val, type Vec } from './vec.js';

/*
 * The operators: each physical node (physical.ts) as a stream of chunks, pulled by its parent.
 * They carry out what the planner decided; they decide nothing.
 */

/**
 * Rows one merge may produce or hold on either side. A merge shown directly stops far earlier,
 * at the output's row limit (its rows stream out, and the output stops pulling); this bounds
 * a merge whose rows all feed an aggregate or another merge, where cutting them would make the
 * result silently wrong: beyond it the query fails with PXL_LIMIT.
 */
const DEFAULT_MAX_JOIN_ROWS = 10_000_000;

/** A physical operator: a stream of chunks whose columns follow the plan's schema. */
export type Operator = AsyncGenerator<Chunk, void, undefined>;

/** Runs a physical plan: the stream of its output chunks. */
export function run(plan: PhysicalPlan, rt: Runtime): Operator {
  switch (plan.kind) {
    case 'ScanExec':
      return scan(plan, rt);
    case 'FilterExec':
      return filter(plan, rt);
    case 'MapExec':
      return map(plan, rt);
    case 'HashAggExec':
    case 'FusedAggExec':
      return agg(plan, rt);
    case 'HashJoinExec':
      return join(plan, rt);
    case 'UnionExec':
      return union(plan, rt);
    case 'LimitExec':
      return limit(plan, rt);
  }
}

function indexOf(schema: readonly Field[]): ColumnIndex {
  return new Map(schema.map((f, j) => [f.name, j]));
}

function typesOf(schema: readonly Field[]): DataType[] {
  return schema.map((f) => f.type);
}

/** Rows of a batch inside [start, end), or null when the whole batch is inside. */
function timeSelection(b: ColumnBatch, start: bigint | null, end: bigint | null): Int32Array | null {
  const inside = (start === null || b.minTime >= start) && (end === null || b.maxTime < end);
  if (inside) return null;
  const t = b.columns.get('time_')!;
  const n = b.rows;
  const out = new Int32Array(n);
  let o = 0;
  if (t.kind === 'time') {
    const lo = start === null ? -Infinity : Number(start - t.base);
    const hi = end === null ? Infinity : Number(end - t.base);
    const d = t.data;
    for (let i = 0; i < n; i++) {
      const x = d[i]!;
      if (x >= lo && x < hi) out[o++] = i;
    }
  } else if (t.kind === 'big') {
    for (let i = 0; i < n; i++) {
      const x = t.data[i]!;
      if ((start === null || x >= start) && (end === null || x < end)) out[o++] = i;
    }
  }
  return out.slice(0, o);
}

async function* scan(plan: ScanExec, rt: Runtime): Operator {
  const table = rt.source.get(plan.table);
  if (!table) throw new PxlError('PXL_UNKNOWN_TABLE', `no table '${plan.table}'`);
  const hasTime = table.schema.fields.some((f) => f.name === 'time_' && f.type === 'TIME64NS');
  for (const b of table.scan(plan.startNs, plan.endNs)) {
    await rt.tick();
    const cols: Vec[] = [];
    let bytes = 0;
    for (const name of plan.columns) {
      const c = b.columns.get(name);
      if (!c) throw new PxlError('PXL_UNKNOWN_COLUMN', `no column '${name}' in ${plan.table}`);
      cols.push(fromStored(c, rt.timeBase));
      bytes += storedBytes(c);
    }
    rt.stats.rowsScanned += b.rows;
    rt.stats.bytesScanned += bytes;
    const sel = hasTime ? timeSelection(b, plan.startNs, plan.endNs) : null;
    if (sel && sel.length === 0) continue;
    // Batches go downstream in slices, so no operator works long between two yields.
    if (sel) {
      for (let o = 0; o < sel.length; o += CHUNK_ROWS) {
        if (o > 0) await rt.tick();
        yield { n: b.rows, sel: sel.subarray(o, o + CHUNK_ROWS), cols };
      }
    } else {
      for (let o = 0; o < b.rows; o += CHUNK_ROWS) {
        if (o > 0) await rt.tick();
        const m = Math.min(CHUNK_ROWS, b.rows - o);
        yield o === 0 && m === b.rows ? { n: b.rows, sel: null, cols } : { n: m, sel: null, cols: cols.map((v) => sliceVec(v, o, o + m)) };
      }
    }
  }
}

/** Rows per chunk handed downstream (a sealed batch is split into several). */
const CHUNK_ROWS = 16384;

function sliceVec(v: Vec, from: number, to: number): Vec {
  return v.t === 'str' ? { t: 'str', c: v.c.subarray(from, to), dict: v.dict } : ({ t: v.t, d: v.d.subarray(from, to) } as Vec);
}

async function* filter(plan: FilterExec, rt: Runtime): Operator {
  const cols = indexOf(plan.input.schema);
  for await (const ch of run(plan.input, rt)) {
    const p = evalExpr(plan.predicate, ch, cols, rt);
    await rt.tick();
    if (p.t === 'scalar') {
      if (p.v === true) yield ch;
      continue;
    }
    if (p.t !== 'bool') throw new PxlError('PXL_INTERNAL', 'executor: a filter predicate must be boolean');
    const sel = maskToSelection(p.d, ch.sel, ch.n);
    // Every row kept: the chunk goes on unchanged, dense chunks stay dense (no indirection).
    if (sel.length === liveRows(ch)) yield ch;
    else if (sel.length > 0) yield { n: ch.n, sel, cols: ch.cols };
  }
}

/** A constant as a column of `n` rows. */
function broadcast(v: Val, type: DataType, n: number): Vec {
  if (v.t !== 'scalar') return v;
  if (type === 'STRING' || type === 'UINT128') return { t: 'str', c: new Uint8Array(n), dict: [String(v.v)] };
  if (type === 'BOOLEAN') return { t: 'bool', d: new Uint8Array(n).fill(v.v ? 1 : 0) };
  return { t: 'num', d: new Float64Array(n).fill(Number(v.v)) };
}

async function* map(plan: MapExec, rt: Runtime): Operator {
  const cols = indexOf(plan.input.schema);
  for await (const ch of run(plan.input, rt)) {
    const out: Vec[] = [];
    for (const e of plan.exprs) {
      out.push(broadcast(evalExpr(e.expr, ch, cols, rt), e.expr.type, ch.n));
      // An expression may be thousands of terms (LIMITS.exprNodes): a chain of them must not
      // hold the event loop for the whole chunk.
      if (e.expr.kind === 'call') await rt.tick();
    }
    yield { n: ch.n, sel: ch.sel, cols: out };
  }
}

/**
 * An aggregation's groups and states, before its output: from its fused loop, or grouped here
 * (the same groups in the same order either way). The local executor finalizes them; a broker
 * fragment sends their partials instead.
 */
export async function aggGroups(plan: AggExec, rt: Runtime): Promise<Groups> {
  return plan.kind === 'FusedAggExec' ? (await plan.scan.groups())[plan.index]! : groupAndUpdate(plan, rt);
}

/** The operators' groupby: assigns every input row a group and updates one state per aggregate. */
async function groupAndUpdate(plan: HashAggExec, rt: Runtime): Promise<Groups> {
  const inSchema = plan.input.schema;
  const cols = indexOf(inSchema);
  const keyIdx = plan.groups.map((g) => {
    const j = cols.get(g);
    if (j === undefined) throw new PxlError('PXL_INTERNAL', `executor: no group column '${g}'`);
    return j;
  });
  const keyer = new GroupKeyer(keyIdx.map((j) => inSchema[j]!.type));
  const states: AggState<unknown>[] = plan.aggs.map((a) => createAgg(a.fn, a.args[0]?.type ?? 'INT64', a.type));
  for await (const ch of run(plan.input, rt)) {
    if (liveRows(ch) === 0) continue;
    const gids = keyer.assign(
      ch,
      keyIdx.map((j) => ch.cols[j]!),
    );
    checkGroups(keyer.size, plan, rt);
    for (let a = 0; a < states.length; a++) {
      const spec = plan.aggs[a]!;
      const arg: Val = spec.args[0] ? evalExpr(spec.args[0], ch, cols, rt) : { t: 'scalar', v: 1 };
      states[a]!.grow(keyer.size);
      states[a]!.update(gids, ch.sel, arg);
    }
    await rt.tick();
  }
  return { n: keyer.size, keys: keyer.keyColumns(), states };
}

async function* agg(plan: AggExec, rt: Runtime): Operator {
  const out = plan.kind === 'FusedAggExec' ? await plan.scan.take(plan.index) : finalizeGroups(plan, await groupAndUpdate(plan, rt));
  if (out) yield out;
}

/** Every row of a merge's input, failing once there are more than `max`. */
async function collect(op: Operator, schema: readonly Field[], rt: Runtime, max: number, tooMany: () => PxlError): Promise<Chunk> {
  const chunks: Chunk[] = [];
  let rows = 0;
  for await (const ch of op) {
    rows += liveRows(ch);
    if (rows > max) throw tooMany();
    chunks.push(ch);
    await rt.tick();
  }
  return concatChunks(chunks, typesOf(schema), rt.timeBase);
}

/** A value of row i as a join-key fragment (numbers and strings never collide: typed prefix). */
function keyPart(v: Vec, i: number): string {
  switch (v.t) {
    case 'str':
      return 's' + v.dict[v.c[i]!]!;
    case 'num':
      return 'n' + v.d[i]!;
    case 'big':
      return 'n' + v.d[i]!;
    case 'bool':
      return 'n' + v.d[i]!;
  }
}

function rowKey(cols: readonly Vec[], idx: readonly number[], i: number): string {
  if (idx.length === 1) return keyPart(cols[idx[0]!]!, i);
  let k = '';
  for (const j of idx) k += keyPart(cols[j]!, i) + '\u0000';
  return k;
}

/**
 * A hash join: builds on the right, probes with the left in order, and yields the pairs in
 * chunks as they are found (left rows in order, each with its right rows in order; then, for
 * right and outer joins, the right rows no left row matched). Nothing holds more than a chunk
 * of pairs, and the count is checked as each pair is made: a self-join on a low-cardinality
 * key shown directly stops at the output's row limit, and one feeding an aggregate fails at
 * `maxJoinRows` instead of exhausting the heap.
 */
async function* join(plan: HashJoinExec, rt: Runtime): Operator {
  const max = rt.maxJoinRows ?? DEFAULT_MAX_JOIN_ROWS;
  const what = `merge(left_on=[${plan.leftOn.join(', ')}], right_on=[${plan.rightOn.join(', ')}])`;
  const tooMany = (part: string) => (): PxlError =>
    new PxlError(PxlCode.limit, `${what} ${part} more than ${max} rows`, undefined, [
      'filter or aggregate both sides before merging, or merge on more keys',
      'a merge shown directly is cut at the output row limit instead; one that feeds a groupby or another merge must stay within this bound',
    ]);
  const left = await collect(run(plan.left, rt), plan.left.schema, rt, max, tooMany('has a left input of'));
  const right = await collect(run(plan.right, rt), plan.right.schema, rt, max, tooMany('has a right input of'));
  const li = indexOf(plan.left.schema);
  const ri = indexOf(plan.right.schema);
  const lk = plan.leftOn.map((c) => li.get(c)!);
  const rk = plan.rightOn.map((c) => ri.get(c)!);
  // Build on the right; each key lists its right rows in order.
  const table = new Map<string, number[]>();
  for (let i = 0; i < right.n; i++) {
    const k = rowKey(right.cols, rk, i);
    const list = table.get(k);
    if (list) list.push(i);
    else table.set(k, [i]);
    if ((i & 4095) === 4095) await rt.tick();
  }
  const sources = plan.outputs.map((o) => {
    const idx = o.side === 'left' ? li.get(o.column) : ri.get(o.column);
    if (idx === undefined) throw new PxlError('PXL_INTERNAL', `executor: join input has no column '${o.column}'`);
    return { left: o.side === 'left', col: (o.side === 'left' ? left : right).cols[idx]! };
  });
  const keepLeft = plan.how === 'left' || plan.how === 'outer';
  const keepRight = plan.how === 'right' || plan.how === 'outer';
  const rightHit = new Uint8Array(right.n);
  const overflow = tooMany('produces');
  let produced = 0;
  let lOut: number[] = [];
  let rOut: number[] = [];
  const pair = (l: number, r: number): boolean => {
    if (++produced > max) throw overflow();
    lOut.push(l);
    rOut.push(r);
    return lOut.length === CHUNK_ROWS;
  };
  const flush = (): Chunk => {
    const ch: Chunk = { n: lOut.length, sel: null, cols: sources.map((s) => gather(s.col, s.left ? lOut : rOut)) };
    lOut = [];
    rOut = [];
    return ch;
  };
  for (let i = 0; i < left.n; i++) {
    const list = table.get(rowKey(left.cols, lk, i));
    if (list) {
      for (const r of list) {
        rightHit[r] = 1;
        if (pair(i, r)) {
          yield flush();
          await rt.tick();
        }
      }
    } else if (keepLeft && pair(i, -1)) {
      yield flush();
      await rt.tick();
    }
    if ((i & 4095) === 4095) await rt.tick();
  }
  if (keepRight) {
    for (let r = 0; r < right.n; r++) {
      if (!rightHit[r] && pair(-1, r)) {
        yield flush();
        await rt.tick();
      }
    }
  }
  if (lOut.length > 0) yield flush();
}

/**
 * Rows `rows[k]` of a dense column; -1 (no partner in an outer join) gives the type's zero
 * value ('' / 0 / false), as Pixie fills them: there are no nulls.
 */
function gather(v: Vec, rows: readonly number[]): Vec {
  const n = rows.length;
  switch (v.t) {
    case 'str': {
      const dict = [...v.dict, ''];
      const empty = dict.length - 1;
      const c = new Int32Array(n);
      for (let k = 0; k < n; k++) {
        const r = rows[k]!;
        c[k] = r >= 0 ? v.c[r]! : empty;
      }
      return { t: 'str', c, dict };
    }
    case 'bool': {
      const d = new Uint8Array(n);
      for (let k = 0; k < n; k++) {
        const r = rows[k]!;
        d[k] = r >= 0 ? v.d[r]! : 0;
      }
      return { t: 'bool', d };
    }
    case 'big': {
      const d = new BigInt64Array(n);
      for (let k = 0; k < n; k++) {
        const r = rows[k]!;
        d[k] = r >= 0 ? v.d[r]! : 0n;
      }
      return { t: 'big', d };
    }
    case 'num': {
      const d = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const r = rows[k]!;
        d[k] = r >= 0 ? v.d[r]! : 0;
      }
      return { t: 'num', d };
    }
  }
}

async function* union(plan: UnionExec, rt: Runtime): Operator {
  for (const input of plan.inputs) {
    const idx = indexOf(input.schema);
    const order = plan.schema.map((f) => {
      const j = idx.get(f.name);
      if (j === undefined) throw new PxlError('PXL_INTERNAL', `executor: union input lacks column '${f.name}'`);
      return j;
    });
    for await (const ch of run(input, rt)) yield { n: ch.n, sel: ch.sel, cols: order.map((j) => ch.cols[j]!) };
  }
}

async function* limit(plan: LimitExec, rt: Runtime): Operator {
  let left = plan.n;
  if (left <= 0) return;
  // Returning closes the input generators, so the scan below stops early.
  for await (const ch of run(plan.input, rt)) {
    const m = liveRows(ch);
    if (m >= left) {
      yield sliceChunk(ch, left);
      return;
    }
    left -= m;
    yield ch;
  }
}

