import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import type { Field, TableSchema } from '../../schema.js';
import { checkPlan } from './limits.js';
import type { AggExpr, Expr, JoinHow, JoinOutput, LogicalPlan } from './logical.js';
import { didYouMean } from './suggest.js';
import { columnRefs } from './walk.js';

/**
 * Builders for the logical plan, one per DataFrame operation. Each checks its column names and
 * types against its input's schema, so every plan they return is well-formed, and its size
 * against the compiler's limits (limits.ts).
 */

/** A column name as written in the script, with where it was written. */
export interface NameAt {
  readonly name: string;
  readonly at: Span;
}

/** The field `name` of a plan's output, or PXL_UNKNOWN_COLUMN naming the closest columns. */
export function fieldOf(plan: LogicalPlan, name: string, at: Span): Field {
  const f = plan.schema.find((x) => x.name === name);
  if (f) return f;
  const names = plan.schema.map((x) => x.name);
  throw new PxlError(PxlCode.unknownColumn, `no column '${name}' in this DataFrame`, at, [
    ...didYouMean(name, names),
    `columns: ${names.join(', ')}`,
  ]);
}

/** A reference to a column of `plan`, typed from its schema. */
export function columnRef(plan: LogicalPlan, name: string, at: Span): Expr {
  const f = fieldOf(plan, name, at);
  return f.semantic ? { kind: 'column', name, type: f.type, semantic: f.semantic } : { kind: 'column', name, type: f.type };
}

/** Every column an expression reads must exist, with the same type, in the frame it is applied to. */
function checkRefs(plan: LogicalPlan, e: Expr, at: Span): void {
  for (const x of columnRefs(e)) {
    const f = plan.schema.find((c) => c.name === x.name);
    if (!f || f.type !== x.type) {
      throw new PxlError(PxlCode.unknownColumn, `column '${x.name}' is not in this DataFrame`, at, [
        'the expression was built from another DataFrame; build it from this one',
      ]);
    }
  }
}

function fieldFor(name: string, e: Expr): Field {
  return e.semantic && e.semantic !== 'ST_NONE' ? { name, type: e.type, semantic: e.semantic } : { name, type: e.type };
}

export function source(table: TableSchema, select: readonly NameAt[] | undefined, startNs: bigint | null, endNs: bigint | null): LogicalPlan & { kind: 'source' } {
  let schema: readonly Field[] = table.fields;
  if (select) {
    const seen = new Set<string>();
    schema = select.map((s) => {
      const f = table.fields.find((x) => x.name === s.name);
      if (!f) {
        const names = table.fields.map((x) => x.name);
        throw new PxlError(PxlCode.unknownColumn, `no column '${s.name}' in ${table.name}`, s.at, [...didYouMean(s.name, names), `columns: ${names.join(', ')}`]);
      }
      if (seen.has(s.name)) throw new PxlError(PxlCode.value, `column '${s.name}' selected twice`, s.at);
      seen.add(s.name);
      return f;
    });
  }
  const fields = schema.map((f) => ({ name: f.name, type: f.type, ...(f.semantic ? { semantic: f.semantic } : {}) }));
  return { kind: 'source', table: table.name, columns: fields.map((f) => f.name), startNs, endNs, schema: fields };
}

export function filter(plan: LogicalPlan, predicate: Expr, at: Span): LogicalPlan {
  if (predicate.type !== 'BOOLEAN') {
    throw new PxlError(PxlCode.type, `a filter needs a BOOLEAN condition, got ${predicate.type}`, at, [
      "compare the column, e.g. df[df.resp_status >= 400] or df[df.service != '']",
    ]);
  }
  checkRefs(plan, predicate, at);
  return checkPlan({ kind: 'filter', input: plan, predicate, schema: plan.schema }, at);
}

/** `df.name = expr`: replaces the column in place, or appends it. */
export function withColumn(plan: LogicalPlan, name: string, expr: Expr, at: Span): LogicalPlan {
  checkRefs(plan, expr, at);
  const exprs = plan.schema.map((f) => ({
    name: f.name,
    expr: f.name === name ? expr : ({ kind: 'column', name: f.name, type: f.type, ...(f.semantic ? { semantic: f.semantic } : {}) } as Expr),
  }));
  if (!plan.schema.some((f) => f.name === name)) exprs.push({ name, expr });
  return checkPlan({ kind: 'map', input: plan, exprs, schema: exprs.map((x) => fieldFor(x.name, x.expr)) }, at);
}

export function project(plan: LogicalPlan, names: readonly NameAt[], at: Span): LogicalPlan {
  const seen = new Set<string>();
  const exprs = names.map((n) => {
    if (seen.has(n.name)) throw new PxlError(PxlCode.value, `column '${n.name}' listed twice`, n.at);
    seen.add(n.name);
    return { name: n.name, expr: columnRef(plan, n.name, n.at) };
  });
  return checkPlan({ kind: 'map', input: plan, exprs, schema: exprs.map((x) => fieldFor(x.name, x.expr)) }, at);
}

export function drop(plan: LogicalPlan, names: readonly NameAt[]): LogicalPlan {
  for (const n of names) fieldOf(plan, n.name, n.at);
  const dropped = new Set(names.map((n) => n.name));
  const kept = plan.schema.filter((f) => !dropped.has(f.name));
  return project(plan, kept.map((f) => ({ name: f.name, at: names[0]!.at })), names[0]!.at);
}

export function aggregate(plan: LogicalPlan, groups: readonly NameAt[], aggs: readonly (AggExpr & { at: Span })[], at: Span): LogicalPlan {
  const seen = new Set<string>();
  const schema: Field[] = [];
  for (const g of groups) {
    const f = fieldOf(plan, g.name, g.at);
    if (seen.has(g.name)) throw new PxlError(PxlCode.value, `column '${g.name}' grouped twice`, g.at);
    seen.add(g.name);
    schema.push(f);
  }
  const out: AggExpr[] = [];
  for (const a of aggs) {
    if (seen.has(a.name)) throw new PxlError(PxlCode.value, `output column '${a.name}' is already a group or an aggregate`, a.at);
    seen.add(a.name);
    for (const arg of a.args) checkRefs(plan, arg, a.at);
    out.push({ name: a.name, fn: a.fn, args: a.args, type: a.type, ...(a.semantic ? { semantic: a.semantic } : {}) });
    schema.push(a.semantic && a.semantic !== 'ST_NONE' ? { name: a.name, type: a.type, semantic: a.semantic } : { name: a.name, type: a.type });
  }
  return checkPlan({ kind: 'agg', input: plan, groups: groups.map((g) => g.name), aggs: out, schema }, at);
}

export function limit(plan: LogicalPlan, n: number, at: Span): LogicalPlan {
  return checkPlan({ kind: 'limit', input: plan, n, schema: plan.schema }, at);
}

/**
 * Pixie's merge: every left column, then every right column; a name on both sides takes the
 * side's suffix. Key columns are kept from both sides, as Pixie does.
 */
export function join(
  left: LogicalPlan,
  right: LogicalPlan,
  how: JoinHow,
  leftOn: readonly NameAt[],
  rightOn: readonly NameAt[],
  suffixes: readonly [string, string],
  at: Span,
): LogicalPlan {
  if (leftOn.length !== rightOn.length) {
    throw new PxlError(PxlCode.value, `left_on names ${leftOn.length} column(s) but right_on names ${rightOn.length}`, at);
  }
  leftOn.forEach((l, i) => {
    const r = rightOn[i]!;
    const lf = fieldOf(left, l.name, l.at);
    const rf = fieldOf(right, r.name, r.at);
    if (lf.type !== rf.type) {
      throw new PxlError(PxlCode.type, `cannot join ${lf.type} column '${l.name}' with ${rf.type} column '${r.name}'`, r.at);
    }
  });
  const leftNames = new Set(left.schema.map((f) => f.name));
  const rightNames = new Set(right.schema.map((f) => f.name));
  const outputs: JoinOutput[] = [];
  const schema: Field[] = [];
  const used = new Set<string>();
  const add = (side: 'left' | 'right', f: Field, clash: boolean): void => {
    const name = clash ? f.name + suffixes[side === 'left' ? 0 : 1] : f.name;
    if (used.has(name)) {
      throw new PxlError(PxlCode.value, `merge would produce two columns named '${name}'`, at, ["pass suffixes=['_x', '_y'] that differ"]);
    }
    used.add(name);
    outputs.push({ side, column: f.name, name });
    schema.push({ ...f, name });
  };
  for (const f of left.schema) add('left', f, rightNames.has(f.name));
  for (const f of right.schema) add('right', f, leftNames.has(f.name));
  return checkPlan(
    {
      kind: 'join',
      left,
      right,
      how,
      leftOn: leftOn.map((n) => n.name),
      rightOn: rightOn.map((n) => n.name),
      outputs,
      schema,
    },
    at,
  );
}

export function union(first: LogicalPlan, others: readonly { plan: LogicalPlan; at: Span }[], at: Span): LogicalPlan {
  for (const o of others) {
    const a = first.schema.map((f) => `${f.name}:${f.type}`).join(', ');
    const b = o.plan.schema.map((f) => `${f.name}:${f.type}`).join(', ');
    if (a !== b) {
      throw new PxlError(PxlCode.type, 'append needs DataFrames with the same columns and types, in the same order', o.at, [
        `this DataFrame: ${a}`,
        `appended: ${b}`,
      ]);
    }
  }
  return checkPlan({ kind: 'union', inputs: [first, ...others.map((o) => o.plan)], schema: first.schema }, at);
}
