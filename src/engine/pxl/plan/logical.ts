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
}

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
