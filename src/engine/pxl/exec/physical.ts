import type { Field } from '../../schema.js';
import { registryEntry } from '../functions/registry.js';
import type { AggExpr, Expr, JoinHow, JoinOutput } from '../plan/logical.js';
import type { FusedScan } from './fused.js';

/*
 * The physical plan: what the executor runs, one named node per operator (DataFusion's
 * ExecutionPlan). The planner (planner.ts) turns a logical plan into it once per query and makes
 * every choice there — which aggregations run as a fused loop and which share one — so that the
 * operators (operators.ts) only carry them out, and `explain` can print them.
 */

/** Reads a table's batches in a time range, the named columns in order. */
export interface ScanExec {
  readonly kind: 'ScanExec';
  readonly table: string;
  readonly columns: readonly string[];
  /** Inclusive start / exclusive end on `time_`, wall-clock ns; null = unbounded. */
  readonly startNs: bigint | null;
  readonly endNs: bigint | null;
  readonly schema: readonly Field[];
}

/** Narrows each chunk's selection to the rows where the predicate holds. */
export interface FilterExec {
  readonly kind: 'FilterExec';
  readonly input: PhysicalPlan;
  readonly predicate: Expr;
  readonly schema: readonly Field[];
}

/** Computes each output column of a chunk (kept columns are column expressions). */
export interface MapExec {
  readonly kind: 'MapExec';
  readonly input: PhysicalPlan;
  readonly exprs: readonly { readonly name: string; readonly expr: Expr }[];
  readonly schema: readonly Field[];
}

/** Groups rows a chunk at a time through a hash of the keys, one state per aggregate. */
export interface HashAggExec {
  readonly kind: 'HashAggExec';
  readonly input: PhysicalPlan;
  readonly groups: readonly string[];
  readonly aggs: readonly AggExpr[];
  readonly schema: readonly Field[];
}

/**
 * An aggregation computed by a fused loop over its scan (fused.ts): `scan` runs once for every
 * agg it holds, this one at `index`. `input` is the scan → filter/map chain folded into the loop,
 * kept for `explain`; the operators never run it.
 */
interface FusedAggExec {
  readonly kind: 'FusedAggExec';
  readonly input: PhysicalPlan;
  readonly groups: readonly string[];
  readonly aggs: readonly AggExpr[];
  readonly schema: readonly Field[];
  readonly scan: FusedScan;
  readonly index: number;
  /** Number of the scan in the printed plan (shared scans show the same number). */
  readonly scanId: number;
}

/** A hash join: builds on the right, probes with the left. */
export interface HashJoinExec {
  readonly kind: 'HashJoinExec';
  readonly left: PhysicalPlan;
  readonly right: PhysicalPlan;
  readonly how: JoinHow;
  readonly leftOn: readonly string[];
  readonly rightOn: readonly string[];
  readonly outputs: readonly JoinOutput[];
  readonly schema: readonly Field[];
}

/** Each input's rows in turn, columns lined up by name. */
export interface UnionExec {
  readonly kind: 'UnionExec';
  readonly inputs: readonly PhysicalPlan[];
  readonly schema: readonly Field[];
}

/** The first `n` rows; stops pulling its input once it has them. */
export interface LimitExec {
  readonly kind: 'LimitExec';
  readonly input: PhysicalPlan;
  readonly n: number;
  readonly schema: readonly Field[];
}

/** Every physical node. */
export type PhysicalPlan = ScanExec | FilterExec | MapExec | HashAggExec | FusedAggExec | HashJoinExec | UnionExec | LimitExec;

/** An aggregation node, fused or not. */
export type AggExec = HashAggExec | FusedAggExec;

/** A planned program: each output's physical plan, in script order. */
export interface PhysicalProgram {
  readonly outputs: readonly { readonly name: string; readonly plan: PhysicalPlan }[];
}

/** The inputs of a physical node, in order; a fused agg's folded chain included. */
export function physicalInputs(p: PhysicalPlan): readonly PhysicalPlan[] {
  switch (p.kind) {
    case 'ScanExec':
      return [];
    case 'HashJoinExec':
      return [p.left, p.right];
    case 'UnionExec':
      return p.inputs;
    default:
      return [p.input];
  }
}

/** Characters of one expression in the printed plan: a script's expressions can be thousands of terms. */
const EXPR_CHARS = 160;

/** An expression as text, cut at about `EXPR_CHARS` (shared nodes are written out, so it must stop early). */
function exprText(e: Expr): string {
  let left = EXPR_CHARS;
  const text = (x: Expr): string => {
    if (left <= 0) return '…';
    let s: string;
    switch (x.kind) {
      case 'column':
        s = x.name;
        break;
      case 'literal':
        s = typeof x.value === 'string' ? JSON.stringify(x.value) : String(x.value);
        break;
      case 'call': {
        const entry = registryEntry(x.fn);
        left -= x.fn.length + 2;
        if (entry?.kind === 'operator' && x.args.length === 2) return `(${text(x.args[0]!)} ${entry.spelling} ${text(x.args[1]!)})`;
        if (entry?.kind === 'operator' && x.args.length === 1) return `${entry.spelling === 'not' ? 'not ' : entry.spelling}${text(x.args[0]!)}`;
        return `${entry?.spelling ?? x.fn}(${x.args.map(text).join(', ')})`;
      }
    }
    left -= s.length;
    return s;
  };
  return text(e);
}

function nsText(ns: bigint | null): string {
  if (ns === null) return 'unbounded';
  const ms = ns / 1_000_000n;
  const sub = ns % 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  return sub === 0n ? iso : `${iso.slice(0, -1)}${sub.toString().padStart(6, '0')}Z`;
}

function aggText(a: AggExpr): string {
  return `${a.name}=${registryEntry(a.fn)?.spelling ?? a.fn}(${a.args.map(exprText).join(', ')})`;
}

/** One line describing a node (without its inputs). */
function nodeLine(p: PhysicalPlan, scanAggs: ReadonlyMap<number, number>): string {
  switch (p.kind) {
    case 'ScanExec':
      return `ScanExec ${p.table} [${p.columns.join(', ')}] time_ from ${nsText(p.startNs)} to ${nsText(p.endNs)}`;
    case 'FilterExec':
      return `FilterExec ${exprText(p.predicate)}`;
    case 'MapExec':
      return `MapExec [${p.exprs.map((x) => (x.expr.kind === 'column' && x.expr.name === x.name ? x.name : `${x.name}=${exprText(x.expr)}`)).join(', ')}]`;
    case 'HashAggExec':
      return `HashAggExec by [${p.groups.join(', ')}] ${p.aggs.map(aggText).join(', ')}`.trimEnd();
    case 'FusedAggExec': {
      const shared = scanAggs.get(p.scanId) ?? 1;
      const loop = shared > 1 ? `fused loop #${p.scanId}, shared by ${shared} aggregations` : `fused loop #${p.scanId}`;
      return `FusedAggExec by [${p.groups.join(', ')}] ${p.aggs.map(aggText).join(', ')} (${loop})`.replace('  ', ' ');
    }
    case 'HashJoinExec':
      return `HashJoinExec ${p.how} on [${p.leftOn.join(', ')}] = [${p.rightOn.join(', ')}]`;
    case 'UnionExec':
      return `UnionExec of ${p.inputs.length}`;
    case 'LimitExec':
      return `LimitExec ${p.n}`;
  }
}

/**
 * The plan as indented text, one node a line, inputs below their node; nodes a fused loop
 * folds in are marked as such. Each output is headed by `title` of its name. What
 * `wisp query --explain` prints.
 */
export function explainText(program: PhysicalProgram, title: (name: string) => string = (name) => `output '${name}':`): string {
  const scanAggs = new Map<number, number>();
  const seen = new Set<PhysicalPlan>();
  const count = (p: PhysicalPlan): void => {
    if (seen.has(p)) return;
    seen.add(p);
    if (p.kind === 'FusedAggExec') scanAggs.set(p.scanId, p.scan.plans.length);
    for (const i of physicalInputs(p)) count(i);
  };
  for (const o of program.outputs) count(o.plan);
  const lines: string[] = [];
  const print = (p: PhysicalPlan, depth: number, folded: boolean): void => {
    lines.push(`${'  '.repeat(depth)}${nodeLine(p, scanAggs)}${folded ? '  [folded into the loop]' : ''}`);
    for (const i of physicalInputs(p)) print(i, depth + 1, folded || p.kind === 'FusedAggExec');
  };
  for (const o of program.outputs) {
    lines.push(title(o.name));
    print(o.plan, 1, false);
  }
  return lines.join('\n');
}
