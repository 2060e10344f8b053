import { mapInputs, type Expr, type LogicalPlan } from './logical.js';
import { columnsRead } from './walk.js';

/**
 * Column pruning: every operator keeps only the columns something above it reads, so a source
 * reads just those (a script that counts requests never touches the bodies). Plans stay
 * well-formed: each node's schema is recomputed from what it keeps.
 */
export function prune(plan: LogicalPlan): LogicalPlan {
  return pruneTo(plan, new Set(plan.schema.map((f) => f.name)));
}

/** `plan` cut to the columns `need` names (and what computing them reads), its inputs likewise. */
function pruneTo(plan: LogicalPlan, need: ReadonlySet<string>): LogicalPlan {
  if (plan.kind === 'source') {
    let schema = plan.schema.filter((f) => need.has(f.name));
    // Rows still have to be counted when no column is read (e.g. df.x = 1): keep one.
    if (schema.length === 0 && plan.schema.length > 0) {
      schema = [plan.schema.find((f) => f.name === 'time_') ?? plan.schema[0]!];
    }
    return { ...plan, columns: schema.map((f) => f.name), schema };
  }
  const node = keep(plan, need);
  const below = inputNeeds(node, need);
  return refit(
    mapInputs(node, (input, i) => pruneTo(input, below[i]!)),
    need,
  );
}

/** The node without the outputs nothing needs: map columns, aggregates, join outputs. */
function keep(plan: LogicalPlan, need: ReadonlySet<string>): LogicalPlan {
  switch (plan.kind) {
    case 'map':
      return { ...plan, exprs: plan.exprs.filter((x) => need.has(x.name)) };
    case 'agg':
      // Groups define the rows, so they stay even when nothing above reads them.
      return { ...plan, aggs: plan.aggs.filter((a) => need.has(a.name)) };
    case 'join':
      return { ...plan, outputs: plan.outputs.filter((o) => need.has(o.name)) };
    default:
      return plan;
  }
}

/** What each input of a kept node must provide, in `inputsOf` order. */
function inputNeeds(plan: LogicalPlan, need: ReadonlySet<string>): ReadonlySet<string>[] {
  const reading = (exprs: readonly Expr[], start: Iterable<string>): Set<string> => {
    const s = new Set(start);
    for (const e of exprs) columnsRead(e, s);
    return s;
  };
  switch (plan.kind) {
    case 'source':
      return [];
    case 'filter':
      return [reading([plan.predicate], need)];
    case 'map':
      return [reading(plan.exprs.map((x) => x.expr), [])];
    case 'agg':
      return [reading(plan.aggs.flatMap((a) => a.args), plan.groups)];
    case 'join': {
      const left = new Set(plan.leftOn);
      const right = new Set(plan.rightOn);
      for (const o of plan.outputs) (o.side === 'left' ? left : right).add(o.column);
      return [left, right];
    }
    case 'union':
      return plan.inputs.map(() => need);
    case 'limit':
      return [need];
  }
}

/** The node's schema recomputed from what it keeps and what its pruned inputs give. */
function refit(plan: LogicalPlan, need: ReadonlySet<string>): LogicalPlan {
  switch (plan.kind) {
    case 'source':
      return plan;
    case 'filter':
    case 'limit':
      return { ...plan, schema: plan.input.schema };
    case 'map': {
      const kept = new Set(plan.exprs.map((x) => x.name));
      return { ...plan, schema: plan.schema.filter((f) => kept.has(f.name)) };
    }
    case 'agg': {
      const kept = new Set([...plan.groups, ...plan.aggs.map((a) => a.name)]);
      return { ...plan, schema: plan.schema.filter((f) => kept.has(f.name)) };
    }
    case 'join': {
      const kept = new Set(plan.outputs.map((o) => o.name));
      return { ...plan, schema: plan.schema.filter((f) => kept.has(f.name)) };
    }
    case 'union': {
      // Inputs line up by position, so each is cut to exactly the same columns.
      const schema = plan.schema.filter((f) => need.has(f.name));
      const names = schema.map((f) => f.name).join();
      const inputs = plan.inputs.map((p) => {
        if (p.schema.map((f) => f.name).join() === names) return p;
        const exprs = schema.map((f) => ({ name: f.name, expr: { kind: 'column', name: f.name, type: f.type, ...(f.semantic ? { semantic: f.semantic } : {}) } as Expr }));
        return { kind: 'map', input: p, exprs, schema } as LogicalPlan;
      });
      return { ...plan, inputs, schema };
    }
  }
}
