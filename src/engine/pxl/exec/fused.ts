import type { DataType } from '../../schema.js';
import { finalizeGroups, type Groups } from './groups.js';
import type { Runtime } from './runtime.js';
import { Compiler, Decline, fold, type AggPlan } from './fused/compiler.js';
import { buildLoop, type LoopFn } from './fused/loop.js';
import { compilePart, finishTallies, type Part, type Tally } from './fused/parts.js';
import { scan, type LoopFor } from './fused/scan.js';
import type { Chunk } from './vec.js';

/**
 * Fused aggregation: a scan, any chain of filters and maps, and a groupby-agg run as one loop per
 * batch instead of one pass per operator and expression. The chain is folded into expressions
 * over the scanned columns; numeric expressions are compiled to one JS loop body from the fixed
 * templates of kernels.ts (constants and column names are passed as values, never spliced into
 * code); expressions of a single string column (metadata lookups, comparisons with literals,
 * contains, pluck, ...) are evaluated once per dictionary entry by the ordinary evaluator and read
 * in the loop as a table indexed by the row's code. Group keys become integers in the loop
 * (dictionary codes through a per-batch table, numbers through a last-value cache); counts,
 * means and float or flag sums are kept in the loop and merged into the aggregate states at the
 * end, the other aggregates receive dense group ids and argument values through their usual
 * `update`. Aggs that only count rows by one string key share a tally per key column: one add
 * per row, indexed by the row's code and its filter and flag bits. Several aggs over the same
 * scan (both sides of an error-rate join) share one loop. Shapes the compiler does not cover
 * (joins below the agg, string values in row arithmetic, 64-bit columns beyond 2^53, ...) are
 * declined and run by the operators; the results are the same either way, group order included.
 * The loop hands back each agg's groups and complete states (groups.ts): the executor finalizes
 * them, an engine answering a broker sends their partial states. Which aggs are fused, and which
 * share a loop, the physical planner decides once per query (planner.ts).
 *
 * fused/compiler.ts generates the expressions, fused/parts.ts each agg's part of the loop,
 * fused/loop.ts the loop function and its cache, fused/scan.ts runs it over the batches.
 */

/**
 * Aggs over one scan (same table and time range) compiled into one fused loop: the loop runs
 * once, on the first demand of any of them, and hands each agg its result — the two sides of an
 * error-rate join, the outputs of one dashboard script, or one agg the plan holds in several
 * places. The physical planner makes them (planner.ts); FusedAggExec nodes read them.
 */
export class FusedScan {
  private groupsOnce: Promise<Groups[]> | null = null;
  private chunksOnce: Promise<(Chunk | null)[]> | null = null;

  constructor(
    /** The aggs, in the order of their parts in the loop. */
    readonly plans: readonly AggPlan[],
    private readonly run: () => Promise<Groups[]>,
  ) {}

  /** The output chunk of agg `j` (null: no groups), finalized once for every place that reads it. */
  async take(j: number): Promise<Chunk | null> {
    this.chunksOnce ??= this.groups().then((gs) => gs.map((g, k) => finalizeGroups(this.plans[k]!, g)));
    return (await this.chunksOnce)[j]!;
  }

  /** Every agg's groups and complete states, before their output (a broker fragment sends their partials). */
  groups(): Promise<Groups[]> {
    this.groupsOnce ??= this.run();
    return this.groupsOnce;
  }
}

/**
 * The fused loop over `plans` (each a source → filter/map* → agg over the same scan), or null
 * when any of them is not covered (the planner then leaves it to the operators). Declining never
 * has side effects. `uses[j]`: how many places the plan holds agg j, each of which the stats
 * count as a scan of its own, as the operators would run them (default 1).
 */
export function fuseAggs(plans: readonly AggPlan[], rt: Runtime, uses?: readonly number[]): FusedScan | null {
  const run = compileOrDecline(plans, rt, uses ?? plans.map(() => 1));
  return run && new FusedScan(plans, run);
}

function compileOrDecline(plans: readonly AggPlan[], rt: Runtime, uses: readonly number[]): (() => Promise<Groups[]>) | null {
  try {
    return compile(plans, rt, uses);
  } catch (e) {
    if (e instanceof Decline) return null;
    throw e;
  }
}

function compile(plans: readonly AggPlan[], rt: Runtime, uses: readonly number[]): (() => Promise<Groups[]>) | null {
  const folded = plans.map(fold);
  if (folded.some((f) => f === null)) return null;
  const first = folded[0]!.src;
  for (const f of folded) {
    if (f!.src.table !== first.table || f!.src.startNs !== first.startNs || f!.src.endNs !== first.endNs) return null;
  }
  const table = rt.source.get(first.table);
  if (!table) return null;
  const types = new Map<string, DataType>();
  for (const f of folded) for (const x of f!.src.schema) types.set(x.name, x.type);
  const cc = new Compiler(rt, types);
  const parts: Part[] = [];
  const tallies: Tally[] = [];
  for (let p = 0; p < plans.length; p++) {
    const part = compilePart(cc, p, plans[p]!, folded[p]!, tallies);
    if (!part) return null;
    parts.push(part);
  }
  finishTallies(cc, tallies);

  // The scan: every batch the range may touch, taken now so the check below sees what runs.
  const hasTime = table.schema.fields.some((f) => f.name === 'time_' && f.type === 'TIME64NS');
  const batches = [...table.scan(first.startNs, first.endNs)];
  for (const b of batches) {
    for (const name of types.keys()) if (!b.columns.has(name)) return null;
    if (hasTime && b.columns.get('time_')?.kind !== 'time') return null;
    for (const name of cc.slots) if (b.columns.get(name)!.kind === 'big') return null;
  }
  const loops = new Map<string, LoopFn>();
  const loopFor: LoopFor = (cols, ranged, ordered) => {
    // One compiled loop per combination of array types keeps every load monomorphic.
    const sig = `${ranged ? 1 : 0}${ordered ? 1 : 0}|${cols.map((c) => c.constructor.name).join(',')}`;
    let f = loops.get(sig);
    if (!f) {
      f = buildLoop(cc, parts, tallies, ranged, ordered, sig);
      loops.set(sig, f);
    }
    return f;
  };
  return () => scan(rt, first, [...types.keys()], batches, hasTime, cc, parts, tallies, loopFor, uses);
}
