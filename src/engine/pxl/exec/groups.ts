import { PxlCode, PxlError } from '../diagnostic.js';
import type { LogicalPlan } from '../plan/logical.js';
import type { AggState } from '../functions/aggregates/state.js';
import type { Runtime } from './runtime.js';
import { emptyVec, type Chunk, type Vec } from './vec.js';

/**
 * An agg's groups before its output: the key columns and one state per aggregate, group g at
 * index g of each. The fused loop and the operators both produce them, with the same groups in
 * the same order. The local executor finalizes them into the agg's output chunk; an engine
 * answering a broker sends each group's `partial(g)` instead.
 */
export interface Groups {
  readonly n: number;
  /** One column per group key, in the plan's order. */
  readonly keys: readonly Vec[];
  /** One state per aggregate, in the plan's order, each holding groups 0..n-1. */
  readonly states: readonly AggState<unknown>[];
}

/** What an aggregation node says about its output, logical or physical alike. */
export type AggShape = Pick<Extract<LogicalPlan, { kind: 'agg' }>, 'groups' | 'aggs' | 'schema'>;

/** The agg's output chunk, in the plan's column order (null: no groups); the states are released. */
export function finalizeGroups(plan: AggShape, groups: Groups): Chunk | null {
  const { n, keys, states } = groups;
  const byName = new Map<string, Vec>();
  plan.groups.forEach((g, j) => byName.set(g, keys[j]!));
  plan.aggs.forEach((a, j) => {
    if (n > 0) byName.set(a.name, states[j]!.finalize(n));
    states[j]!.release?.();
  });
  if (n === 0) return null;
  return { n, sel: null, cols: plan.schema.map((f) => byName.get(f.name) ?? emptyVec(f.type)) };
}

/**
 * Groups one aggregate may hold. Every group holds its states (2 KiB or more for quantiles)
 * until the input ends, however few of them the output then keeps: beyond it, PXL_LIMIT,
 * checked as groups are made (by the operators per chunk, by the fused loop per slice).
 */
const DEFAULT_MAX_GROUPS = 1_000_000;

/** Throws PXL_LIMIT when an aggregate holds more groups than the runtime allows. */
export function checkGroups(n: number, plan: Pick<AggShape, 'groups'>, rt: Pick<Runtime, 'maxGroups'>): void {
  const max = rt.maxGroups ?? DEFAULT_MAX_GROUPS;
  if (n <= max) return;
  const by = plan.groups.length === 0 ? '' : ` by ${plan.groups.join(', ')}`;
  throw new PxlError(PxlCode.limit, `the groupby${by} has more than ${max} groups`, undefined, [
    'group by coarser keys (px.bin with a larger interval), or filter before grouping',
  ]);
}
