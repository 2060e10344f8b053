import type { DataType } from '../../../schema.js';
import { registryEntry } from '../../functions/registry.js';
import { LIMITS } from '../../plan/limits.js';
import type { Expr, LogicalPlan } from '../../plan/logical.js';
import { treeDepth } from '../../plan/walk.js';
import { evalExpr } from '../expr.js';
import { BOOL_TEMPLATES, NUM_TEMPLATES } from '../kernels.js';
import type { Runtime } from '../runtime.js';
import type { Chunk, Val } from '../vec.js';

/*
 * The fused loop's code generator: folds the chain under an agg into expressions over the
 * scanned columns and turns them into JS expressions over typed arrays, built only from the fixed
 * templates of kernels.ts (constants and column names reach the loop as values, never as code).
 */

/** An agg node of the logical plan. */
export type AggPlan = Extract<LogicalPlan, { kind: 'agg' }>;
/** A source node of the logical plan. */
export type SourcePlan = Extract<LogicalPlan, { kind: 'source' }>;
/** The chain under an agg folded onto its scan (see `fold`). */
export interface Folded {
  readonly src: SourcePlan;
  readonly preds: Expr[];
  readonly env: Map<string, Expr>;
}

/** Thrown while compiling a shape the fused loop does not cover; the caller falls back. */
export class Decline extends Error {}

/** Whether values of a type are dictionary-coded strings. */
export const isStr = (t: DataType): boolean => t === 'STRING' || t === 'UINT128';

const ARITH = new Set(['add', 'subtract', 'multiply', 'divide', 'modulo', 'floorDivide']);
const COMPARE = new Set(['equal', 'notEqual', 'lessThan', 'lessThanEqual', 'greaterThan', 'greaterThanEqual']);

/** How an expression is evaluated: a constant, per dictionary entry of one string column, or per row. */
type Cls = { readonly k: 'const' } | { readonly k: 'dict'; readonly col: string } | { readonly k: 'row' };

/**
 * Replaces column references by the expressions that define them one level down. Folding a
 * chain of maps shares each definition among its uses (`df.a = df.a + df.a` refers to one
 * node twice), so results are remembered per env and node: the folded expression is a DAG
 * with as many nodes as the chain's expressions, however large it would be written out.
 */
export function subst(e: Expr, env: ReadonlyMap<string, Expr>): Expr {
  let memo = substituted.get(env);
  if (!memo) {
    memo = new Map();
    substituted.set(env, memo);
  }
  return substIn(e, env, memo);
}

const substituted = new WeakMap<ReadonlyMap<string, Expr>, Map<Expr, Expr>>();

function substIn(e: Expr, env: ReadonlyMap<string, Expr>, memo: Map<Expr, Expr>): Expr {
  switch (e.kind) {
    case 'column': {
      const d = env.get(e.name);
      if (!d) throw new Decline();
      return d;
    }
    case 'literal':
      return e;
    case 'call': {
      let r = memo.get(e);
      if (!r) {
        r = { ...e, args: e.args.map((a) => substIn(a, env, memo)) };
        memo.set(e, r);
      }
      return r;
    }
  }
}

/** A per-batch table: an expression of one string column evaluated over its dictionary. */
interface DictNode {
  readonly expr: Expr;
  readonly col: string;
  /** The agg whose group key this is (strings → its StrKey `key`); key null: numbers read in the loop. */
  readonly part: number;
  readonly key: number | null;
}

/** Compiles the folded pipeline into the loop body's source and what the body reads. */
export class Compiler {
  /** Scanned columns read per row (numbers, or codes of string columns), by slot. */
  readonly slots: string[] = [];
  readonly consts: number[] = [];
  readonly dictNodes: DictNode[] = [];
  readonly body: string[] = [];
  /** Declarations before the loop: state a run of rows carries from one row to the next. */
  readonly locals: string[] = [];
  /** Statements at the top of the loop body, seen by every agg's block: codes read once per row. */
  readonly prefix: string[] = [];
  private readonly memo = new Map<string, string>();
  private readonly cls = new Map<string, Cls | null>();
  /** Structural keys: each node's key names its arguments by their keys' ids, so it stays short. */
  private readonly keys = new Map<Expr, string>();
  private readonly ids = new Map<string, number>();
  private tmp = 0;
  private readonly rt: Runtime;
  private readonly types: ReadonlyMap<string, DataType>;

  constructor(rt: Runtime, types: ReadonlyMap<string, DataType>) {
    this.rt = rt;
    this.types = types;
  }

  /**
   * A structural key of an expression: equal for expressions that compute the same thing
   * (names and strings quoted, so no two different ones share a key), computed once per node.
   */
  key(e: Expr): string {
    const known = this.keys.get(e);
    if (known !== undefined) return known;
    let text: string;
    switch (e.kind) {
      case 'column':
        text = `c(${JSON.stringify(e.name)})`;
        break;
      case 'literal':
        text = `l(${e.type},${typeof e.value},${JSON.stringify(String(e.value))})`;
        break;
      case 'call':
        text = `f(${e.fn},${e.type},${e.args.map((a) => this.key(a)).join(',')})`;
        break;
    }
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(text, id);
    }
    const k = `#${id}`;
    this.keys.set(e, k);
    return k;
  }

  /** The row's code of string column `col`, read once for all the aggs of the loop. */
  codeOf(col: string): string {
    const x = `x${this.slot(col)}`;
    if (!this.prefix.some((l) => l.startsWith(`const ${x} =`))) this.prefix.push(`const ${x} = c${this.slot(col)}[i];`);
    return x;
  }

  /** Starts the code of another aggregation: its values live in a block of their own. */
  newPart(): void {
    this.memo.clear();
  }

  slot(name: string): number {
    let j = this.slots.indexOf(name);
    if (j < 0) j = this.slots.push(name) - 1;
    return j;
  }

  konst(v: number): string {
    this.consts.push(v);
    return `k${this.consts.length - 1}`;
  }

  private fresh(js: string): string {
    const v = `v${this.tmp++}`;
    this.body.push(`const ${v} = ${js};`);
    return v;
  }

  classify(e: Expr): Cls {
    const key = this.key(e);
    let c = this.cls.get(key);
    if (c === undefined) {
      c = this.classifyNew(e);
      this.cls.set(key, c);
    }
    if (c === null) throw new Decline();
    return c;
  }

  private classifyNew(e: Expr): Cls | null {
    switch (e.kind) {
      case 'column': {
        const t = this.types.get(e.name);
        if (t === undefined) return null;
        return isStr(t) ? { k: 'dict', col: e.name } : { k: 'row' };
      }
      case 'literal':
        return { k: 'const' };
      case 'call': {
        const args = e.args.map((a) => this.classify(a));
        if (args.every((a) => a.k === 'const')) return { k: 'const' };
        // A function that may fail on a dictionary entry a filter would have removed is not hoisted.
        if (registryEntry(e.fn)?.throwsOnData) return null;
        const cols = new Set<string>();
        let row = false;
        for (const a of args) {
          if (a.k === 'dict') cols.add(a.col);
          if (a.k === 'row') row = true;
        }
        if (!row && cols.size === 1) return { k: 'dict', col: [...cols][0]! };
        // A row-wise value: strings cannot be computed per row here.
        if (isStr(e.type)) return null;
        return { k: 'row' };
      }
    }
  }

  /** The constant value of a constant expression, as the ordinary evaluator computes it. */
  constant(e: Expr): number | string | boolean {
    const chunk: Chunk = { n: 1, sel: null, cols: [] };
    let v: Val;
    try {
      v = evalExpr(e, chunk, new Map(), this.rt);
    } catch {
      throw new Decline();
    }
    if (v.t !== 'scalar') throw new Decline();
    return v.v;
  }

  private numConst(e: Expr): number {
    const v = this.constant(e);
    if (typeof v === 'string') throw new Decline();
    return typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }

  /** JS expression for the number (booleans 0/1) an expression has at row `i`. */
  emit(e: Expr): string {
    const key = this.key(e);
    const done = this.memo.get(key);
    if (done !== undefined) return done;
    const c = this.classify(e);
    let js: string;
    if (c.k === 'const') js = this.konst(this.numConst(e));
    else if (c.k === 'dict') {
      if (isStr(e.type)) throw new Decline();
      const t = this.dictNodes.push({ expr: e, col: c.col, part: -1, key: null }) - 1;
      js = this.fresh(`t${t}[c${this.slot(c.col)}[i]]`);
    } else js = this.fresh(this.rowCall(e));
    this.memo.set(key, js);
    return js;
  }

  private rowCall(e: Expr): string {
    if (e.kind === 'column') return `c${this.slot(e.name)}[i]`;
    if (e.kind !== 'call') throw new Decline();
    const a = e.args;
    const tb = this.rt.timeBase;
    if (ARITH.has(e.fn)) {
      const [ea, eb] = a as [Expr, Expr];
      let kop = e.fn;
      if (e.type === 'INT64' && kop === 'divide') kop = 'intDivide';
      if (e.type === 'INT64' && kop === 'modulo') kop = ea.type === 'TIME64NS' ? 'timeModulo' : 'intModulo';
      if (kop === 'floorDivide') kop = e.type === 'INT64' ? 'intFloorDivide' : 'floorDivide';
      let y2 = '0';
      if (kop === 'timeModulo') {
        const y = this.classify(eb).k === 'const' ? this.numConst(eb) : NaN;
        if (y > 0) y2 = this.konst(Number(tb % BigInt(Math.trunc(y))));
        else kop = 'intModulo';
      }
      let js = template(NUM_TEMPLATES[kop]!, this.emit(ea), this.emit(eb), y2);
      // Two times added: each carries the base once, so the sum is one base short.
      if (e.fn === 'add' && ea.type === 'TIME64NS' && eb.type === 'TIME64NS') js = `(${js}) + ${this.konst(Number(tb))}`;
      return js;
    }
    if (COMPARE.has(e.fn)) {
      const [ea, eb] = a as [Expr, Expr];
      if (isStr(ea.type) || isStr(eb.type)) throw new Decline();
      return `(${template(BOOL_TEMPLATES[e.fn]!, this.timeAligned(ea, eb.type), this.timeAligned(eb, ea.type), '0')}) ? 1 : 0`;
    }
    switch (e.fn) {
      case 'logicalAnd':
      case 'logicalOr':
        return `(${template(BOOL_TEMPLATES[e.fn]!, this.emit(a[0]!), this.emit(a[1]!), '0')}) ? 1 : 0`;
      case 'logicalNot':
        return `${this.emit(a[0]!)} === 0 ? 1 : 0`;
      case 'negate':
        return `-${this.emit(a[0]!)}`;
      case 'floor':
        return `Math.floor(${this.emit(a[0]!)})`;
      case 'bin': {
        const [ex, es] = a as [Expr, Expr];
        if (this.classify(es).k !== 'const') throw new Decline();
        const size = this.numConst(es);
        // A bad size is reported by the operators' evaluator, with its message.
        if (!(size > 0)) throw new Decline();
        // Offsets are from the time base; bins are aligned on absolute time.
        const shift = ex.type === 'TIME64NS' ? Number(tb % BigInt(Math.trunc(size))) : 0;
        return template(NUM_TEMPLATES['floorTo']!, this.emit(ex), this.konst(size), this.konst(shift));
      }
      case 'select': {
        const [ec, ea, eb] = a as [Expr, Expr, Expr];
        if (this.classify(ec).k === 'const') return this.constant(ec) ? this.emit(ea) : this.emit(eb);
        return `${this.emit(ec)} !== 0 ? ${this.emit(ea)} : ${this.emit(eb)}`;
      }
      default:
        throw new Decline();
    }
  }

  /**
   * Declares `v` as the key id of `bin(x, size)` over an integer column, reusing the last row's
   * id while x stays inside that row's bin [b, b + size): rows come in time order, so most rows
   * skip the division and the lookup. Exact, as the division itself is for integers below 2^53.
   * False when `e` is not such a bin.
   */
  binKey(e: Expr, v: string, keys: string): boolean {
    if (e.kind !== 'call' || e.fn !== 'bin') return false;
    const [ex, es] = e.args as [Expr, Expr];
    if ((ex.type !== 'TIME64NS' && ex.type !== 'INT64') || this.classify(ex).k !== 'row' || this.classify(es).k !== 'const') return false;
    const size = this.numConst(es);
    if (!(size > 0) || !Number.isInteger(size)) return false;
    const shift = ex.type === 'TIME64NS' ? Number(this.rt.timeBase % BigInt(size)) : 0;
    const x = this.emit(ex);
    const k = this.konst(size);
    this.locals.push(`let ${v}lo = 1, ${v}hi = 0, ${v}id = -1;`);
    const b = template(NUM_TEMPLATES['floorTo']!, x, k, this.konst(shift));
    this.body.push(
      `if (!(${x} >= ${v}lo && ${x} < ${v}hi)) { ${v}lo = ${b}; ${v}hi = ${v}lo + ${k}; ${v}id = ${keys}.id(${v}lo); }`,
      `const ${v} = ${v}id;`,
    );
    return true;
  }

  /** A comparison operand: INT64/FLOAT64 compared with a time is absolute ns, rebased like times. */
  private timeAligned(e: Expr, other: DataType): string {
    if (other !== 'TIME64NS' || e.type === 'TIME64NS' || (e.type !== 'INT64' && e.type !== 'FLOAT64')) return this.emit(e);
    if (e.kind === 'literal') {
      const abs = typeof e.value === 'bigint' ? e.value : BigInt(Math.trunc(Number(e.value)));
      return this.konst(Number(abs - this.rt.timeBase));
    }
    if (this.classify(e).k === 'const') return this.konst(this.numConst(e) - Number(this.rt.timeBase));
    return `(${this.emit(e)} - ${this.konst(Number(this.rt.timeBase))})`;
  }
}

/** A kernel template with its operands substituted (whole identifiers only). */
function template(tpl: string, x: string, y: string, y2: string): string {
  return tpl.replace(/\b(y2|x|y)\b/g, (m) => (m === 'x' ? x : m === 'y' ? y : y2));
}

/** The chain under an agg, folded onto the scan: source, predicates, and each column's expression. */
export function fold(plan: AggPlan): Folded | null {
  const chain: LogicalPlan[] = [];
  let p = plan.input;
  while (p.kind === 'map' || p.kind === 'filter') {
    chain.push(p);
    p = p.input;
  }
  if (p.kind !== 'source') return null;
  const src = p;
  let env = new Map<string, Expr>(src.schema.map((f) => [f.name, { kind: 'column', name: f.name, type: f.type, semantic: f.semantic }]));
  const preds: Expr[] = [];
  for (let j = chain.length - 1; j >= 0; j--) {
    const op = chain[j]!;
    if (op.kind === 'filter') preds.push(subst(op.predicate, env));
    else if (op.kind === 'map') {
      const next = new Map<string, Expr>();
      for (const x of op.exprs) next.set(x.name, subst(x.expr, env));
      env = next;
    }
  }
  // Each map nests its expressions into the next: a long chain folds deeper than any one
  // expression may be (LIMITS.exprDepth), and the compiler recurses that deep. The operators
  // run such a chain a level at a time instead.
  for (const e of [...preds, ...env.values()]) if (treeDepth(e) > LIMITS.exprDepth) return null;
  return { src, preds, env };
}
