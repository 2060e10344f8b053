import type { Expr, LogicalPlan } from './logical.js';
import { columnsRead } from './walk.js';

/**
 * Column pruning: every operator keeps only the columns something above it reads, so a source
 * reads just those (a script that counts requests never touches the bodies). Plans stay
 * well-formed: each node's schema is recomputed from what it keeps.
 */
export function prune(plan: LogicalPlan): LogicalPlan {
  return pruneTo(plan, new Set(plan.schema.map((f) => f.name)));
}

function pruneTo(plan: LogicalPlan, need: ReadonlySet<string>): LogicalPlan {
  switch (plan.kind) {
    case 'source': {
      let schema = plan.schema.filter((f) => need.has(f.name));
      // Rows still have to be counted when no column is read (e.g. df.x = 1): keep one.
      if (schema.length === 0 && plan.schema.length > 0) {
        schema = [plan.schema.find((f) => f.name === 'time_') ?? plan.schema[0]!];
      }
      return { ...plan, columns: schema.map((f) => f.name), schema };
    }
    case 'filter': {
      const below = new Set(need);
      columnsRead(plan.predicate, below);
      const input = pruneTo(plan.input, below);
      return { ...plan, input, schema: input.schema };
    }
    case 'map': {
      const exprs = plan.exprs.filter((x) => need.has(x.name));
      const below = new Set<string>();
      for (const x of exprs) columnsRead(x.expr, below);
      const input = pruneTo(plan.input, below);
      const keep = new Set(exprs.map((x) => x.name));
      return { ...plan, input, exprs, schema: plan.schema.filter((f) => keep.has(f.name)) };
    }
    case 'agg': {
      // Groups define the rows, so they stay even when nothing above reads them.
      const aggs = plan.aggs.filter((a) => need.has(a.name));
      const below = new Set(plan.groups);
      for (const a of aggs) for (const arg of a.args) columnsRead(arg, below);
      const keep = new Set([...plan.groups, ...aggs.map((a) => a.name)]);
      return { ...plan, input: pruneTo(plan.input, below), aggs, schema: plan.schema.filter((f) => keep.has(f.name)) };
    }
    case 'join': {
      const outputs = plan.outputs.filter((o) => need.has(o.name));
      const left = new Set(plan.leftOn);
      const right = new Set(plan.rightOn);
      for (const o of outputs) (o.side === 'left' ? left : right).add(o.column);
      const keep = new Set(outputs.map((o) => o.name));
      return {
        ...plan,
        left: pruneTo(plan.left, left),
        right: pruneTo(plan.right, right),
        outputs,
        schema: plan.schema.filter((f) => keep.has(f.name)),
      };
    }
    case 'union': {
      // Inputs line up by position, so each is cut to exactly the same columns.
      const schema = plan.schema.filter((f) => need.has(f.name));
      const names = schema.map((f) => f.name).join();
      const inputs = plan.inputs.map((i) => {
        const p = pruneTo(i, need);
        if (p.schema.map((f) => f.name).join() === names) return p;
        const exprs = schema.map((f) => ({ name: f.name, expr: { kind: 'column', name: f.name, type: f.type, ...(f.semantic ? { semantic: f.semantic } : {}) } as Expr }));
        return { kind: 'map', input: p, exprs, schema } as LogicalPlan;
      });
      return { ...plan, inputs, schema };
    }
    case 'limit': {
      const input = pruneTo(plan.input, need);
      return { ...plan, input, schema: input.schema };
    }
  }
}
