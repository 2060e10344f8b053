import { inputsOf, type LogicalPlan, type Program } from '../plan/logical.js';
import { fuseAggs, type FusedScan } from './fused.js';
import type { AggExec, PhysicalPlan, PhysicalProgram } from './physical.js';
import type { Runtime } from './runtime.js';

type AggPlan = Extract<LogicalPlan, { kind: 'agg' }>;

/** How to plan. */
export interface PlanOptions {
  /**
   * False: every aggregation runs through the operators, never a fused loop — the reference the
   * loop is tested against (default true).
   */
  readonly fused?: boolean;
}

/**
 * The physical planner: turns a program's logical plans into physical ones, once per query and
 * before anything runs, against the runtime's tables and time base (the fused loop's code
 * depends on both). It decides here, and only here:
 * - which aggregations run as a fused loop: a source → filter/map* → agg chain the loop's
 *   compiler covers (fused.ts); the others group through the operators (HashAggExec);
 * - which fused aggregations share one loop: all those that read the same table over the same
 *   time range (the two sides of an error-rate join, the outputs of one dashboard script), and
 *   an agg the plan holds in several places, which then runs once.
 * Results are the same whatever it decides, group order included. A logical node the plan
 * holds in several places becomes one physical node.
 */
export function planPhysical(program: Program, rt: Runtime, options: PlanOptions = {}): PhysicalProgram {
  const roots = program.outputs.map((o) => o.plan);
  const fused = options.fused === false ? new Map<AggPlan, Fusion>() : fusions(roots, rt);
  const memo = new Map<LogicalPlan, PhysicalPlan>();
  const plan = (p: LogicalPlan): PhysicalPlan => {
    let done = memo.get(p);
    if (!done) {
      done = physicalNode(p, plan, fused);
      memo.set(p, done);
    }
    return done;
  };
  return { outputs: program.outputs.map((o) => ({ name: o.name, plan: plan(o.plan) })) };
}

/** The physical aggregation at the top of a broker fragment, which the engine sends as partial states. */
export function planAgg(plan: AggPlan, rt: Runtime, options: PlanOptions = {}): AggExec {
  const top = planPhysical({ outputs: [{ name: '', plan }] }, rt, options).outputs[0]!.plan;
  if (top.kind !== 'HashAggExec' && top.kind !== 'FusedAggExec') throw new Error('planAgg: not an aggregation');
  return top;
}

/** Where a fused agg's result comes from: its loop, and its part there. */
interface Fusion {
  readonly scan: FusedScan;
  readonly index: number;
  readonly id: number;
}

function physicalNode(p: LogicalPlan, plan: (p: LogicalPlan) => PhysicalPlan, fused: ReadonlyMap<AggPlan, Fusion>): PhysicalPlan {
  switch (p.kind) {
    case 'source':
      return { kind: 'ScanExec', table: p.table, columns: p.columns, startNs: p.startNs, endNs: p.endNs, schema: p.schema };
    case 'filter':
      return { kind: 'FilterExec', input: plan(p.input), predicate: p.predicate, schema: p.schema };
    case 'map':
      return { kind: 'MapExec', input: plan(p.input), exprs: p.exprs, schema: p.schema };
    case 'agg': {
      const f = fused.get(p);
      const node = { input: plan(p.input), groups: p.groups, aggs: p.aggs, schema: p.schema };
      return f ? { kind: 'FusedAggExec', ...node, scan: f.scan, index: f.index, scanId: f.id } : { kind: 'HashAggExec', ...node };
    }
    case 'join':
      return { kind: 'HashJoinExec', left: plan(p.left), right: plan(p.right), how: p.how, leftOn: p.leftOn, rightOn: p.rightOn, outputs: p.outputs, schema: p.schema };
    case 'union':
      return { kind: 'UnionExec', inputs: p.inputs.map(plan), schema: p.schema };
    case 'limit':
      return { kind: 'LimitExec', input: plan(p.input), n: p.n, schema: p.schema };
  }
}

/**
 * The fused loops of a program: its aggs grouped by the scan under them (table and time range),
 * each group compiled into one loop where the compiler covers all of it, else its covered aggs
 * into one loop without the others.
 */
function fusions(roots: readonly LogicalPlan[], rt: Runtime): Map<AggPlan, Fusion> {
  const uses = new Map<AggPlan, number>();
  const count = (p: LogicalPlan): void => {
    if (p.kind === 'agg') uses.set(p, (uses.get(p) ?? 0) + 1);
    for (const i of inputsOf(p)) count(i);
  };
  for (const r of roots) count(r);
  const byScan = new Map<string, AggPlan[]>();
  for (const a of uses.keys()) {
    const src = sourceUnder(a);
    if (src === null) continue;
    const key = JSON.stringify([src.table, String(src.startNs), String(src.endNs)]);
    const list = byScan.get(key);
    if (list) list.push(a);
    else byScan.set(key, [a]);
  }
  const out = new Map<AggPlan, Fusion>();
  const usesOf = (aggs: readonly AggPlan[]): number[] => aggs.map((a) => uses.get(a)!);
  let loops = 0;
  const assign = (aggs: readonly AggPlan[], scan: FusedScan): void => {
    const id = ++loops;
    aggs.forEach((a, index) => out.set(a, { scan, index, id }));
  };
  for (const candidates of byScan.values()) {
    const all = fuseAggs(candidates, rt, usesOf(candidates));
    if (all) {
      assign(candidates, all);
      continue;
    }
    if (candidates.length === 1) continue;
    // Only aggs the loop covers on their own can share it; each alone when even they cannot.
    const alone = candidates.flatMap((a) => {
      const scan = fuseAggs([a], rt, usesOf([a]));
      return scan ? [{ a, scan }] : [];
    });
    const covered = alone.map((x) => x.a);
    const shared = covered.length > 1 ? fuseAggs(covered, rt, usesOf(covered)) : null;
    if (shared) assign(covered, shared);
    else for (const x of alone) assign([x.a], x.scan);
  }
  return out;
}

/** The source an agg reads through filters and maps only, or null. */
function sourceUnder(a: AggPlan): Extract<LogicalPlan, { kind: 'source' }> | null {
  let p = a.input;
  while (p.kind === 'map' || p.kind === 'filter') p = p.input;
  return p.kind === 'source' ? p : null;
}
