import type { AggExpr, Expr, LiteralValue, LogicalPlan } from '../../plan/logical.js';
import type { WireAgg, WireExpr, WireLiteral, WirePlan } from '../wire/messages.js';

/*
 * The broker's side of the wire: a fragment's logical plan in the JSON form engines are sent
 * (engine/check.ts reads it back, trusting nothing). Semantic types and schemas stay on the
 * broker.
 */

function literalToWire(v: LiteralValue): WireLiteral {
  if (typeof v === 'bigint') return { big: v.toString() };
  if (typeof v === 'number' && !Number.isFinite(v)) return { f: v !== v ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity' };
  return v;
}

/** The wire form of a checked expression (semantic types stay on the broker). */
function exprToWire(e: Expr): WireExpr {
  switch (e.kind) {
    case 'column':
      return { kind: 'column', name: e.name, type: e.type };
    case 'literal':
      return { kind: 'literal', type: e.type, value: literalToWire(e.value) };
    case 'call':
      return { kind: 'call', fn: e.fn, args: e.args.map(exprToWire), type: e.type };
  }
}

function aggToWire(a: AggExpr): WireAgg {
  return { name: a.name, fn: a.fn, args: a.args.map(exprToWire), type: a.type };
}

/** The wire form of a leaf pipeline; throws for nodes that never leave the broker. */
export function planToWire(p: LogicalPlan): WirePlan {
  switch (p.kind) {
    case 'source':
      return { kind: 'source', table: p.table, columns: p.columns, startNs: p.startNs?.toString() ?? null, endNs: p.endNs?.toString() ?? null };
    case 'filter':
      return { kind: 'filter', input: planToWire(p.input), predicate: exprToWire(p.predicate) };
    case 'map':
      return { kind: 'map', input: planToWire(p.input), exprs: p.exprs.map((e) => ({ name: e.name, expr: exprToWire(e.expr) })) };
    case 'agg':
      return { kind: 'agg', input: planToWire(p.input), groups: p.groups, aggs: p.aggs.map(aggToWire) };
    case 'limit':
      return { kind: 'limit', input: planToWire(p.input), n: p.n };
    default:
      throw new Error(`a ${p.kind} node runs on the broker, never on an engine`);
  }
}

