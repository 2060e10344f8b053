import type { LogicalPlan, Program } from '../plan/logical.js';
import { fusedAggs } from './fused.js';
import type { Runtime } from './operators.js';
import type { Chunk } from './vec.js';

type AggPlan = Extract<LogicalPlan, { kind: 'agg' }>;

/** Aggs computed in one scan, run on the first demand of any of them. */
interface Group {
  readonly run: () => Promise<(Chunk | null)[]>;
  result: Promise<(Chunk | null)[]> | null;
}

interface Slot {
  readonly group: Group;
  readonly index: number;
  /** Times the plan tree still holds this agg. */
  uses: number;
}

/**
 * The aggs of a program that read the same table over the same time range straight through
 * filters and maps — the two sides of an error-rate join, the outputs of one dashboard script —
 * computed by one fused scan instead of one scan each. The scan runs when the first of them is
 * pulled; each result is handed to the operator that pulls it and dropped once every place the
 * plan holds that agg has taken it. Aggs the fused loop does not cover are left out, and run by
 * the operators as before; results are the same either way.
 */
export class SharedScans {
  private readonly slots = new Map<AggPlan, Slot>();

  constructor(program: Program, rt: Runtime) {
    const uses = new Map<AggPlan, number>();
    for (const o of program.outputs) countAggs(o.plan, uses);
    const bySource = new Map<string, AggPlan[]>();
    for (const a of uses.keys()) {
      const src = sourceUnder(a);
      if (src === null) continue;
      const key = JSON.stringify([src.table, String(src.startNs), String(src.endNs)]);
      const list = bySource.get(key);
      if (list) list.push(a);
      else bySource.set(key, [a]);
    }
    for (const candidates of bySource.values()) {
      if (candidates.length < 2) continue;
      let aggs = candidates;
      let run = fusedAggs(aggs, rt, aggs.map((a) => uses.get(a)!));
      if (run === null) {
        // Only aggs the loop covers on their own can share it.
        aggs = candidates.filter((a) => fusedAggs([a], rt) !== null);
        if (aggs.length >= 2) run = fusedAggs(aggs, rt, aggs.map((a) => uses.get(a)!));
      }
      if (run === null) continue;
      const group: Group = { run, result: null };
      aggs.forEach((a, index) => this.slots.set(a, { group, index, uses: uses.get(a)! }));
    }
  }

  /** The output chunk of `plan` from its shared scan (null: no groups), or undefined when it has none. */
  async take(plan: AggPlan): Promise<Chunk | null | undefined> {
    const slot = this.slots.get(plan);
    if (slot === undefined) return undefined;
    if (--slot.uses === 0) this.slots.delete(plan);
    slot.group.result ??= slot.group.run();
    return (await slot.group.result)[slot.index]!;
  }
}

/** Counts every place each agg appears in the plan tree (a DAG: the same node may appear twice). */
function countAggs(plan: LogicalPlan, uses: Map<AggPlan, number>): void {
  switch (plan.kind) {
    case 'source':
      return;
    case 'join':
      countAggs(plan.left, uses);
      countAggs(plan.right, uses);
      return;
    case 'union':
      for (const p of plan.inputs) countAggs(p, uses);
      return;
    case 'agg':
      uses.set(plan, (uses.get(plan) ?? 0) + 1);
      countAggs(plan.input, uses);
      return;
    default:
      countAggs(plan.input, uses);
  }
}

/** The source an agg reads through filters and maps only, or null. */
function sourceUnder(a: AggPlan): Extract<LogicalPlan, { kind: 'source' }> | null {
  let p = a.input;
  while (p.kind === 'map' || p.kind === 'filter') p = p.input;
  return p.kind === 'source' ? p : null;
}
