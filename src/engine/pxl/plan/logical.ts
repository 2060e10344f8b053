import type { DataType, Field, SemanticType } from '../../schema.js';

/**
 * The logical plan: what the planner (pxl/plan) hands to the executor (pxl/exec). The executor
 * never sees the syntax tree; every name here is resolved and every type is checked.
 *
 * Scalar functions and operators are calls to registry entries by name (`add`, `equal`,
 * `logicalAnd`, `bin`, `upid_to_pod_name`, ...); aggregates likewise (`count`, `quantiles`, ...).
 */

export type LiteralValue = boolean | bigint | number | string;

export type Expr =
  | { readonly kind: 'column'; readonly name: string; readonly type: DataType; readonly semantic?: SemanticType }
  | { readonly kind: 'literal'; readonly type: DataType; readonly value: LiteralValue; readonly semantic?: SemanticType }
  | {
      readonly kind: 'call';
      readonly fn: string;
      readonly args: readonly Expr[];
      readonly type: DataType;
      readonly semantic?: SemanticType;
    };

/** One aggregate output column: `name = fn(args...)` over each group. */
export interface AggExpr {
  readonly name: string;
  readonly fn: string;
  readonly args: readonly Expr[];
  readonly type: DataType;
  readonly semantic?: SemanticType;
}

/** How a join output column is taken from its inputs. */
export interface JoinOutput {
  readonly side: 'left' | 'right';
  readonly column: string;
  readonly name: string;
}

export type JoinHow = 'inner' | 'left' | 'right' | 'outer';

export type LogicalPlan =
  | {
      readonly kind: 'source';
      readonly table: string;
      /** Columns to read, in output order. */
      readonly columns: readonly string[];
      /** Inclusive start / exclusive end on `time_`, wall-clock ns; null = unbounded. */
      readonly startNs: bigint | null;
      readonly endNs: bigint | null;
      readonly schema: readonly Field[];
    }
  | { readonly kind: 'filter'; readonly input: LogicalPlan; readonly predicate: Expr; readonly schema: readonly Field[] }
  | {
      readonly kind: 'map';
      readonly input: LogicalPlan;
      /** The complete output, in order: kept columns appear as column expressions. */
      readonly exprs: readonly { readonly name: string; readonly expr: Expr }[];
      readonly schema: readonly Field[];
    }
  | {
      readonly kind: 'agg';
      readonly input: LogicalPlan;
      /** Group-by column names (empty: one group over all rows). */
      readonly groups: readonly string[];
      readonly aggs: readonly AggExpr[];
      readonly schema: readonly Field[];
    }
  | {
      readonly kind: 'join';
      readonly left: LogicalPlan;
      readonly right: LogicalPlan;
      readonly how: JoinHow;
      readonly leftOn: readonly string[];
      readonly rightOn: readonly string[];
      readonly outputs: readonly JoinOutput[];
      readonly schema: readonly Field[];
    }
  | { readonly kind: 'union'; readonly inputs: readonly LogicalPlan[]; readonly schema: readonly Field[] }
  | { readonly kind: 'limit'; readonly input: LogicalPlan; readonly n: number; readonly schema: readonly Field[] };

/** A compiled script: each `px.display(df, name)` is one output, in script order. */
export interface Program {
  readonly outputs: readonly { readonly name: string; readonly plan: LogicalPlan }[];
  /** The script called `df.stream()`: it is meant to run as a stream (`stream: true`). */
  readonly stream?: boolean;
}

/*
 * One walker for every pass over plans (DataFusion's TreeNode): `inputsOf` reads a node's
 * inputs, `mapInputs` rebuilds it over new ones, `exprsOf` lists what it evaluates, and
 * `forEachPlanNode` visits each distinct node of a DAG once. Passes say what they do per node
 * and leave the walking to these.
 */

/** The inputs of a plan node, in order (none for a source). */
export function inputsOf(plan: LogicalPlan): readonly LogicalPlan[] {
  switch (plan.kind) {
    case 'source':
      return [];
    case 'join':
      return [plan.left, plan.right];
    case 'union':
      return plan.inputs;
    default:
      return [plan.input];
  }
}

/**
 * The node over `f` of each of its inputs (in `inputsOf` order); the node itself when every
 * input comes back unchanged, so a DAG's shared nodes stay shared.
 */
export function mapInputs(plan: LogicalPlan, f: (input: LogicalPlan, index: number) => LogicalPlan): LogicalPlan {
  switch (plan.kind) {
    case 'source':
      return plan;
    case 'join': {
      const left = f(plan.left, 0);
      const right = f(plan.right, 1);
      return left === plan.left && right === plan.right ? plan : { ...plan, left, right };
    }
    case 'union': {
      const inputs = plan.inputs.map(f);
      return inputs.every((x, i) => x === plan.inputs[i]) ? plan : { ...plan, inputs };
    }
    default: {
      const input = f(plan.input, 0);
      return input === plan.input ? plan : { ...plan, input };
    }
  }
}

/** The expressions a node evaluates over its input's rows: a filter's predicate, a map's columns, an agg's arguments. */
export function exprsOf(plan: LogicalPlan): readonly Expr[] {
  switch (plan.kind) {
    case 'filter':
      return [plan.predicate];
    case 'map':
      return plan.exprs.map((x) => x.expr);
    case 'agg':
      return plan.aggs.flatMap((a) => a.args);
    default:
      return [];
  }
}

/** Calls `visit` once for each distinct node under `roots` (a node several plans share is visited once), parents first. */
export function forEachPlanNode(roots: readonly LogicalPlan[], visit: (node: LogicalPlan) => void): void {
  const seen = new Set<LogicalPlan>();
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    visit(p);
    const inputs = inputsOf(p);
    for (let i = inputs.length - 1; i >= 0; i--) stack.push(inputs[i]!);
  }
}

/** The source at the bottom of a leaf pipeline (each node's first input, down to the source). */
export function leafSource(plan: LogicalPlan): Extract<LogicalPlan, { kind: 'source' }> {
  let p = plan;
  while (p.kind !== 'source') p = inputsOf(p)[0]!;
  return p;
}
