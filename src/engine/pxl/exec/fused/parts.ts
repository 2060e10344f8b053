import type { Expr } from '../../plan/logical.js';
import type { AggState } from '../../functions/aggregates/state.js';
import { createAgg, registryEntry } from '../../functions/registry.js';
import { NumKey, PairKey, StrKey } from '../keys/row.js';
import { isStr, subst, type AggPlan, type Compiler, type Folded, type SourcePlan } from './compiler.js';

/*
 * The aggregations of a fused loop: each agg's block of the loop body, the state the generated
 * code reads and writes, and the per-code tallies that aggs counting rows by one string key share.
 */

/**
 * Rows handed to one call of the compiled loop, with a deadline check and a chance to yield
 * between calls. Many short calls also let V8 optimize the loop as a whole function with full
 * type feedback, instead of entering it through on-stack replacement and deoptimizing at the
 * first path the replaced code had not seen.
 */
export const SLICE = 4096;

/**
 * Flags one tally's index may carry: its table has (dictionary size) << bits entries, cleared and
 * folded once per batch, so it stays small next to the batch (at most 8 entries per code). Aggs
 * past that are keyed row by row.
 */
const MAX_TALLY_BITS = 3;

/** The loop's mutable state of one agg, shared with the generated code as `S[p]`. */
export interface LoopState {
  /** Per-group accumulators: [0] rows, then one sum per fused sum/mean. */
  acc: Float64Array[];
  readonly gids: Int32Array;
  readonly args: Float64Array[];
  readonly sk: StrKey[];
  readonly nk: NumKey[];
  readonly pk: PairKey[];
  /** Makes every accumulator hold group `g`. */
  growAcc(g: number): void;
  /** Rows the last call folded in (written into `gids`/`args`). */
  m: number;
}

/**
 * Rows counted per (dictionary code of one string column, flags), for every agg counted per code
 * on that column; shared with the generated code as `Q[q]`. Each row adds one to entry
 * `code << bits.length | flags`, where flag j is bit j: whether `bits[j]` holds for the row. One
 * add per row serves all those aggs, their filters and their flag sums: an agg's count of a code
 * is the sum of the entries whose flags include its filters' bits (see foldTally).
 */
export interface Tally {
  /** The string column whose codes index the table. */
  readonly col: string;
  /** Boolean row expressions (filters, summed flags), bit j of the index for bits[j]. */
  readonly bits: Expr[];
  /** The aggs counted here (indices of parts). */
  readonly parts: number[];
  /** This batch: rows per index; indices in order of first appearance (when tracked), how many. */
  h: Int32Array;
  order: Int32Array;
  n: number;
}

/**
 * How each aggregate is fed: in the loop (count; sum and mean where adding in row order into
 * a float64 gives exactly what the state would compute), merged in through the state's `merge`
 * at the end; or through an argument slot and the state's `update` after every slice.
 */
interface AggFeed {
  readonly state: AggState<unknown>;
  readonly fused: 'count' | 'sum' | 'mean' | null;
  /** Accumulator (fused) or argument slot (not fused). */
  readonly slot: number;
}

/** A group key: a string key (index into `sk`) or a numeric one (into `nk`). */
type KeyRef = { readonly s: number } | { readonly n: number };

/** One aggregation of a fused scan: its plan, loop state, aggregates and keys. */
export interface Part {
  readonly plan: AggPlan;
  readonly src: SourcePlan;
  readonly state: LoopState;
  readonly feeds: readonly AggFeed[];
  readonly keyOf: readonly KeyRef[];
  readonly nargs: number;
  readonly nacc: number;
  /** Counted per code: its tally (index into the tallies), else null. */
  readonly tally: number | null;
  /** Counted per code: per accumulator, the flag bits a row must have to be added to it. */
  readonly masks: readonly number[];
  /** Counted per code: filters applied per code when folding (indices of per-batch tables). */
  readonly codePreds: readonly number[];
  rows: number;
}

/**
 * Emits one agg's block of the loop body, or registers it with a tally; null when it is not
 * covered.
 */
export function compilePart(cc: Compiler, p: number, plan: AggPlan, folded: Folded, tallies: Tally[]): Part | null {
  const { src, preds, env } = folded;
  cc.newPart();
  for (const pr of preds) {
    // A constant filter keeps every row or none; `none` is left to the operators.
    if (cc.classify(pr).k === 'const' && cc.constant(pr) !== true) return null;
  }
  const counted = compilePerCode(cc, p, plan, folded, tallies);
  if (counted) return counted;

  const body = cc.body;
  const label = `P${p}`;
  body.push(`${label}: {`);
  for (const pr of preds) if (cc.classify(pr).k !== 'const') body.push(`if (${cc.emit(pr)} === 0) break ${label};`);

  // Group keys → one integer per row.
  const sk: StrKey[] = [];
  const nk: NumKey[] = [];
  const keyOf: KeyRef[] = [];
  const keyVars: string[] = [];
  for (const g of plan.groups) {
    const e = env.get(g);
    if (!e) return null;
    const c = cc.classify(e);
    const v = `g${p}_${keyVars.length}`;
    if (isStr(e.type)) {
      if (c.k !== 'dict') return null;
      const k = sk.push(new StrKey()) - 1;
      const t = cc.dictNodes.push({ expr: e, col: c.col, part: p, key: k }) - 1;
      const code = `c${cc.slot(c.col)}[i]`;
      body.push(`let ${v} = t${t}[${code}];`, `if (${v} < 0) ${v} = S${p}.sk[${k}].miss(${code});`);
      keyOf.push({ s: k });
    } else {
      const k = nk.push(new NumKey(e.type)) - 1;
      if (!cc.binKey(e, v, `nk${p}_${k}`)) body.push(`const ${v} = nk${p}_${k}.id(${cc.emit(e)});`);
      keyOf.push({ n: k });
    }
    keyVars.push(v);
  }
  const pk: PairKey[] = [];
  let gid = keyVars[0] ?? '0';
  for (let j = 1; j < keyVars.length; j++) {
    const k = pk.push(new PairKey()) - 1;
    body.push(`const q${p}_${j} = pk${p}_${k}.get(${gid}, ${keyVars[j]});`);
    gid = `q${p}_${j}`;
  }

  // Aggregates.
  const feeds: AggFeed[] = [];
  let nargs = 0;
  let nacc = 1;
  const accBody: string[] = [];
  for (const a of plan.aggs) {
    if (registryEntry(a.fn)?.agg === undefined) return null;
    const argType = a.args[0]?.type ?? 'INT64';
    const state = createAgg(a.fn, argType, a.type);
    if (a.fn === 'count') {
      feeds.push({ state, fused: 'count', slot: 0 });
      continue;
    }
    if (a.args.length > 1) return null;
    const e = a.args[0] ? subst(a.args[0], env) : ({ kind: 'literal', value: 1, type: 'INT64' } as Expr);
    if (isStr(e.type)) return null;
    // An INT64 sum stays exact beyond 2^53 through its state's carry: only sums of flags (at
    // most one per row) and float sums are kept in the loop.
    const fusable = a.fn === 'mean' || (a.fn === 'sum' && (e.type === 'BOOLEAN' || argType === 'FLOAT64' || a.type === 'FLOAT64'));
    if (fusable) {
      accBody.push(`s${p}_${nacc}[${gid}] += ${cc.emit(e)};`);
      feeds.push({ state, fused: a.fn as 'sum' | 'mean', slot: nacc++ });
      continue;
    }
    body.push(`a${p}_${nargs}[m${p}] = ${cc.emit(e)};`);
    feeds.push({ state, fused: null, slot: nargs++ });
  }
  // Rows per group are always counted: they decide nothing else, and cost one add.
  const reload = Array.from({ length: nacc }, (_, j) => `s${p}_${j} = S${p}.acc[${j}];`).join(' ');
  body.push(`if (${gid} >= s${p}_0.length) { S${p}.growAcc(${gid}); ${reload} }`, `s${p}_0[${gid}]++;`);
  body.push(...accBody);
  if (nargs > 0) body.push(`gids${p}[m${p}] = ${gid};`);
  body.push(`m${p}++;`, '}');

  return { plan, src, state: loopState(nacc, nargs, sk, nk, pk), feeds, keyOf, nargs, nacc, tally: null, masks: [], codePreds: [], rows: 0 };
}

/**
 * An agg with one string key and only counts (of rows, or of rows with a flag set), registered
 * with the tally of the key's column: the rows pay one add and no key lookup, and each batch's
 * codes are folded into groups afterwards, in order of first appearance. Integer counts do not
 * depend on the order they are added in, so the result is the same to the last bit. Filters on
 * the key's column alone (`service != ''`) hold or fail for a whole code: they are applied when
 * folding. Undefined when the agg is not of that shape, or its flags would not fit the tally.
 */
function compilePerCode(cc: Compiler, p: number, plan: AggPlan, folded: Folded, tallies: Tally[]): Part | undefined {
  const { src, preds, env } = folded;
  const key = plan.groups.length === 1 ? env.get(plan.groups[0]!) : undefined;
  if (key === undefined || !isStr(key.type)) return undefined;
  const keyCls = cc.classify(key);
  if (keyCls.k !== 'dict') return undefined;
  const col = keyCls.col;
  if (!plan.aggs.every((a) => a.fn === 'count' || ((a.fn === 'sum' || a.fn === 'mean') && a.args.length === 1 && subst(a.args[0]!, env).type === 'BOOLEAN'))) return undefined;

  const tally = tallies.find((t) => t.col === col);
  const bits = tally ? [...tally.bits] : [];
  const bitOf = (e: Expr): number => {
    const k = cc.key(e);
    let j = bits.findIndex((b) => cc.key(b) === k);
    if (j < 0) j = bits.push(e) - 1;
    return 1 << j;
  };
  let need = 0;
  const codePreds: Expr[] = [];
  for (const pr of preds) {
    const c = cc.classify(pr);
    if (c.k === 'const') continue;
    if (c.k === 'dict' && c.col === col) codePreds.push(pr);
    // A bit must be 0 or 1, as booleans are in the loop.
    else if (pr.type !== 'BOOLEAN') return undefined;
    else need |= bitOf(pr);
  }
  const feeds: AggFeed[] = [];
  const masks = [need];
  // A sum and a mean of one flag (errors and error rate) share their accumulator.
  const slotOf = new Map<string, number>();
  for (const a of plan.aggs) {
    const state = createAgg(a.fn, a.args[0]?.type ?? 'INT64', a.type);
    if (a.fn === 'count') {
      feeds.push({ state, fused: 'count', slot: 0 });
      continue;
    }
    const arg = subst(a.args[0]!, env);
    let slot = slotOf.get(cc.key(arg));
    if (slot === undefined) {
      slot = masks.push(need | bitOf(arg)) - 1;
      slotOf.set(cc.key(arg), slot);
    }
    feeds.push({ state, fused: a.fn as 'sum' | 'mean', slot });
  }
  if (bits.length > MAX_TALLY_BITS) return undefined;

  let q = tally ? tallies.indexOf(tally) : -1;
  if (q < 0) q = tallies.push({ col, bits: [], parts: [], h: new Int32Array(0), order: new Int32Array(0), n: 0 }) - 1;
  const t = tallies[q]!;
  t.bits.splice(0, t.bits.length, ...bits);
  t.parts.push(p);
  cc.dictNodes.push({ expr: key, col, part: p, key: 0 });
  const predTables = codePreds.map((pr) => cc.dictNodes.push({ expr: pr, col, part: p, key: null }) - 1);
  return { plan, src, state: loopState(masks.length, 0, [new StrKey()], [], []), feeds, keyOf: [{ s: 0 }], nargs: 0, nacc: masks.length, tally: q, masks, codePreds: predTables, rows: 0 };
}

/**
 * Ends the loop body with each tally's index of the row (`Y<q>`): its code, then one bit per flag.
 * The flags are computed for every row, outside the aggs' blocks (none of them can throw: the
 * fused expressions are arithmetic, comparisons and per-dictionary tables).
 */
export function finishTallies(cc: Compiler, tallies: readonly Tally[]): void {
  tallies.forEach((t, q) => {
    cc.newPart();
    const x = cc.codeOf(t.col);
    const flags = t.bits.map((b, j) => (j === 0 ? cc.emit(b) : `(${cc.emit(b)} << ${j})`));
    cc.body.push(`const Y${q} = ${flags.length === 0 ? x : `(${x} << ${t.bits.length}) | ${flags.join(' | ')}`};`);
  });
}

function loopState(nacc: number, nargs: number, sk: StrKey[], nk: NumKey[], pk: PairKey[]): LoopState {
  return {
    acc: Array.from({ length: nacc }, () => new Float64Array(64)),
    gids: new Int32Array(SLICE),
    args: Array.from({ length: nargs }, () => new Float64Array(SLICE)),
    sk,
    nk,
    pk,
    m: 0,
    growAcc(g: number): void {
      let cap = this.acc[0]!.length * 2;
      while (cap <= g) cap *= 2;
      this.acc = this.acc.map((a) => {
        const b = new Float64Array(cap);
        b.set(a);
        return b;
      });
    },
  };
}
