import type { Field } from '../../../schema.js';
import { PxlError } from '../../diagnostic.js';
import { exprsOf, forEachPlanNode, inputsOf, mapInputs, type Expr, type LogicalPlan, type Program } from '../../plan/logical.js';
import { forEachNode } from '../../plan/walk.js';
import { METADATA_FNS } from '../../functions/metadata.js';
import type { LookupSpec, NodeInfo, WirePlan } from '../wire/messages.js';
import { planToWire } from './encode.js';

/**
 * Splits a compiled program at its blocking operators (docs/broker.md). Every maximal leaf
 * pipeline — a source with its filters and maps — becomes a fragment the engines run: topped by
 * the first aggregate (engines send its partial states), or by a `head` (pushed down as a limit),
 * or bare (engines send rows). The broker runs the rest of the plan over virtual tables named
 * `__fragment_<id>` that hold the merged fragment outputs.
 */

/** One fragment: what the engines run, and what the broker gets back. */
export interface Fragment {
  readonly id: string;
  /** The leaf pipeline; an `agg` on top means partial aggregation. */
  readonly plan: LogicalPlan;
  readonly wire: WirePlan;
  /** The output schema of the fragment as the broker's upper plan reads it. */
  readonly schema: readonly Field[];
  /** Metadata lookups the upper plan needs on the fragment's output values. */
  readonly lookups: LookupSpec[];
  /** Ctx equality filters of the fragment: an engine whose NodeInfo rules them out is skipped. */
  readonly constraints: readonly Constraint[];
}

/** `ctx[key]` must be one of `values` for a row to pass the fragment's filters. */
interface Constraint {
  readonly key: 'node' | 'pod' | 'namespace' | 'service';
  readonly values: readonly string[];
}

/** A program split for the broker. */
export interface DistributedProgram {
  readonly fragments: readonly Fragment[];
  /** The broker's part: the original outputs with each fragment replaced by its virtual table. */
  readonly upper: Program;
}

/** The virtual table name of a fragment. */
export function fragmentTable(id: string): string {
  return `__fragment_${id}`;
}

/** Whether a plan is a source under filters and maps only: a leaf pipeline engines run whole. */
function isLeafChain(p: LogicalPlan): boolean {
  let q = p;
  while (q.kind === 'filter' || q.kind === 'map') q = q.input;
  return q.kind === 'source';
}

/**
 * Splits every output; identical fragments (a helper called twice) are run once. With
 * `partialAggregates: false` aggregates stay on the broker and engines ship their leaf rows:
 * the baseline bench/scale compares against.
 */
export function splitProgram(program: Program, opts: { partialAggregates?: boolean } = {}): DistributedProgram {
  const partial = opts.partialAggregates ?? true;
  const byKey = new Map<string, Fragment>();
  const fragments: Fragment[] = [];
  const fragment = (plan: LogicalPlan): LogicalPlan => {
    const wire = planToWire(plan);
    const key = JSON.stringify(wire);
    let f = byKey.get(key);
    if (!f) {
      f = { id: String(fragments.length), plan, wire, schema: plan.schema, lookups: [], constraints: constraintsOf(plan) };
      byKey.set(key, f);
      fragments.push(f);
    }
    return { kind: 'source', table: fragmentTable(f.id), columns: plan.schema.map((c) => c.name), startNs: null, endNs: null, schema: plan.schema };
  };
  const split = (p: LogicalPlan): LogicalPlan => {
    if (isLeafChain(p)) return fragment(p);
    if (p.kind === 'agg' && partial && isLeafChain(p.input)) return fragment(p);
    // head() is pushed down: each engine stops at n rows, the broker cuts the union to n.
    if (p.kind === 'limit' && isLeafChain(p.input)) return { ...p, input: fragment(p) };
    return mapInputs(p, split);
  };
  const upper: Program = { outputs: program.outputs.map((o) => ({ name: o.name, plan: split(o.plan) })) };
  collectLookups(upper, new Map(fragments.map((f) => [fragmentTable(f.id), f])));
  return { fragments, upper };
}

/** Where a column of an upper plan comes from: a fragment column with metadata functions applied. */
interface Lineage {
  readonly table: string;
  readonly column: string;
  readonly fns: readonly string[];
}

function lineage(p: LogicalPlan, column: string): Lineage[] | null {
  switch (p.kind) {
    case 'source':
      return [{ table: p.table, column, fns: [] }];
    case 'filter':
    case 'limit':
      return lineage(p.input, column);
    case 'map': {
      const e = p.exprs.find((x) => x.name === column)?.expr;
      return e ? exprLineage(e, p.input) : null;
    }
    case 'agg':
      return p.groups.includes(column) ? lineage(p.input, column) : null;
    case 'join': {
      const o = p.outputs.find((x) => x.name === column);
      if (!o) return null;
      return lineage(o.side === 'left' ? p.left : p.right, o.column);
    }
    case 'union': {
      const all: Lineage[] = [];
      for (const i of p.inputs) {
        const l = lineage(i, column);
        if (!l) return null;
        all.push(...l);
      }
      return all;
    }
  }
}

/** The lineage of a column reference or a chain of metadata calls on one. */
function exprLineage(e: Expr, input: LogicalPlan): Lineage[] | null {
  if (e.kind === 'column') return lineage(input, e.name);
  if (e.kind === 'call' && METADATA_FNS.has(e.fn) && e.args.length === 1) {
    const inner = exprLineage(e.args[0]!, input);
    return inner && inner.map((l) => ({ ...l, fns: [...l.fns, e.fn] }));
  }
  return null;
}

function metadataCalls(e: Expr, out: Expr[]): void {
  forEachNode(e, (x) => {
    if (x.kind === 'call' && METADATA_FNS.has(x.fn)) out.push(x);
  });
}

/** Records, on each fragment, the metadata lookups the broker-side plan will ask for. */
function collectLookups(upper: Program, byTable: ReadonlyMap<string, Fragment>): void {
  forEachPlanNode(
    upper.outputs.map((o) => o.plan),
    (p) => {
      if (p.kind !== 'filter' && p.kind !== 'map' && p.kind !== 'agg') return;
      const calls: Expr[] = [];
      for (const e of exprsOf(p)) metadataCalls(e, calls);
      for (const c of calls) {
        const ls = exprLineage(c, p.input);
        if (!ls) {
          const fn = (c as Extract<Expr, { kind: 'call' }>).fn;
          throw new PxlError('BROKER_UNSUPPORTED', `px.${fn} runs after an aggregate on a value computed there; the broker cannot look it up on the engines`, undefined, [
            `call px.${fn} (or df.ctx[...]) before the first groupby, or on a group-by column`,
          ]);
        }
        for (const l of ls) {
          const f = byTable.get(l.table)!;
          if (!f.lookups.some((x) => x.column === l.column && x.fns.join() === l.fns.join())) f.lookups.push({ column: l.column, fns: l.fns });
        }
      }
    },
  );
}

const CTX_FN: Readonly<Record<string, Constraint['key']>> = {
  upid_to_node_name: 'node',
  upid_to_pod_name: 'pod',
  upid_to_namespace: 'namespace',
  upid_to_service_name: 'service',
};

/** The ctx key a column of a leaf chain holds, when it is `df.ctx[key]` of the source's upid. */
function ctxKeyOf(p: LogicalPlan, e: Expr): Constraint['key'] | null {
  if (e.kind === 'call' && e.args.length === 1 && CTX_FN[e.fn] && e.args[0]!.kind === 'column' && sourceColumn(p, e.args[0]!.name) === 'upid') return CTX_FN[e.fn]!;
  if (e.kind === 'column') {
    let q = p;
    while (q.kind === 'filter') q = q.input;
    if (q.kind === 'map') return ctxKeyOf(q.input, q.exprs.find((m) => m.name === e.name)!.expr);
  }
  return null;
}

/** The source column a leaf-chain column passes through unchanged from, if any. */
function sourceColumn(p: LogicalPlan, name: string): string | null {
  let q = p;
  while (q.kind === 'filter' || q.kind === 'map') {
    if (q.kind === 'map') {
      const x = q.exprs.find((m) => m.name === name)?.expr;
      if (!x || x.kind !== 'column') return null;
      name = x.name;
    }
    q = q.input;
  }
  return q.kind === 'source' ? name : null;
}

/** `ctx[key] == 'v'` (either side), or an `or` of such on one key: the allowed values. */
function equalities(p: LogicalPlan, e: Expr): Constraint | null {
  if (e.kind !== 'call') return null;
  if (e.fn === 'equal' && e.args.length === 2) {
    const [a, b] = e.args as [Expr, Expr];
    const [col, lit] = a.kind === 'literal' ? [b, a] : [a, b];
    if (lit.kind !== 'literal' || typeof lit.value !== 'string') return null;
    const key = ctxKeyOf(p, col);
    return key ? { key, values: [lit.value] } : null;
  }
  if (e.fn === 'logicalOr') {
    const l = equalities(p, e.args[0]!);
    const r = equalities(p, e.args[1]!);
    return l && r && l.key === r.key ? { key: l.key, values: [...l.values, ...r.values] } : null;
  }
  return null;
}

/** The terms of a chain of `and`s, each distinct one once. */
function conjuncts(e: Expr, out: Expr[]): void {
  const seen = new Set<Expr>();
  const stack = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if (x.kind === 'call' && x.fn === 'logicalAnd') stack.push(...[...x.args].reverse());
    else out.push(x);
  }
}

function constraintsOf(plan: LogicalPlan): Constraint[] {
  const out: Constraint[] = [];
  for (let q = plan; q.kind !== 'source'; q = inputsOf(q)[0]!) {
    if (q.kind !== 'filter') continue;
    const cs: Expr[] = [];
    conjuncts(q.predicate, cs);
    for (const c of cs) {
      const k = equalities(q.input, c);
      if (k) out.push(k);
    }
  }
  return out;
}

/** Whether an engine may hold rows that pass a fragment's ctx filters. */
export function engineMayMatch(info: NodeInfo | undefined, f: Fragment): boolean {
  if (!info) return true;
  for (const c of f.constraints) {
    const held = c.key === 'node' ? (info.node === '' ? undefined : [info.node]) : c.key === 'pod' ? info.pods : c.key === 'namespace' ? info.namespaces : info.services;
    if (held !== undefined && !c.values.some((v) => held.includes(v))) return false;
  }
  return true;
}
