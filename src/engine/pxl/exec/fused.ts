import type { ColumnBatch } from '../../store/table.js';
import type { DataType } from '../../store/types.js';
import { PxlError } from '../diagnostic.js';
import type { Expr, LogicalPlan } from '../plan/logical.js';
import { AGGREGATE_NAMES, createAgg, type AggState } from './aggregates.js';
import { evalExpr, type ColumnIndex, type Val } from './expr.js';
import { BOOL_TEMPLATES, NUM_TEMPLATES } from './kernels.js';
import type { Operator, Runtime } from './operators.js';
import { NumKey, PairKey, StrKey } from './rowkeys.js';
import { fromStored, storedBytes } from './stored.js';
import { emptyVec, type Chunk, type Vec } from './vec.js';

/**
 * Fused aggregation: a scan, any chain of filters and maps, and a groupby-agg run as one loop per
 * batch instead of one pass per operator and expression. The chain is folded into expressions
 * over the scanned columns; numeric expressions are compiled to one JS loop body from the fixed
 * templates of kernels.ts (constants and column names are passed as values, never spliced into
 * code); expressions of a single string column (metadata lookups, comparisons with literals,
 * contains, pluck, ...) are evaluated once per dictionary entry by the ordinary evaluator and read
 * in the loop as a table indexed by the row's code. Group keys become integers in the loop
 * (dictionary codes through a per-batch table, numbers through a last-value cache); counts,
 * means and float or flag sums are kept in the loop and merged into the aggregate states at the
 * end, the other aggregates receive dense group ids and argument values through their usual
 * `update`. Several aggs over the same scan (both sides of an error-rate join) share one loop,
 * each in a block of its own. Shapes the compiler does not cover (joins below the agg, string
 * values in row arithmetic, 64-bit columns beyond 2^53, ...) are declined and run by the
 * operators; the results are the same either way, group order included.
 */

type AggPlan = Extract<LogicalPlan, { kind: 'agg' }>;
type SourcePlan = Extract<LogicalPlan, { kind: 'source' }>;

/**
 * Rows handed to one call of the compiled loop, with a deadline check and a chance to yield
 * between calls. Many short calls also let V8 optimize the loop as a whole function with full
 * type feedback, instead of entering it through on-stack replacement and deoptimizing at the
 * first path the replaced code had not seen.
 */
const SLICE = 4096;

/** Thrown while compiling a shape the fused loop does not cover; the caller falls back. */
class Decline extends Error {}

const isStr = (t: DataType): boolean => t === 'STRING' || t === 'UINT128';

const ARITH = new Set(['add', 'subtract', 'multiply', 'divide', 'modulo', 'floorDivide']);
const COMPARE = new Set(['equal', 'notEqual', 'lessThan', 'lessThanEqual', 'greaterThan', 'greaterThanEqual']);
/** Functions that may throw on a dictionary entry a filter would have removed: not hoisted. */
const THROWS_ON_DATA = new Set(['parse_duration', 'parse_time']);

/** How an expression is evaluated: a constant, per dictionary entry of one string column, or per row. */
type Cls = { readonly k: 'const' } | { readonly k: 'dict'; readonly col: string } | { readonly k: 'row' };

/** A structural key of an expression (names and strings quoted, so no two expressions share one). */
function exprKey(e: Expr): string {
  switch (e.kind) {
    case 'column':
      return `c(${JSON.stringify(e.name)})`;
    case 'literal':
      return `l(${e.type},${typeof e.value},${JSON.stringify(String(e.value))})`;
    case 'call':
      return `f(${e.fn},${e.type},${e.args.map(exprKey).join(',')})`;
  }
}

/** Replaces column references by the expressions that define them one level down. */
function subst(e: Expr, env: ReadonlyMap<string, Expr>): Expr {
  switch (e.kind) {
    case 'column': {
      const d = env.get(e.name);
      if (!d) throw new Decline();
      return d;
    }
    case 'literal':
      return e;
    case 'call':
      return { ...e, args: e.args.map((a) => subst(a, env)) };
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

/** The loop's mutable state, shared with the generated code as `S`. */
interface LoopState {
  /** Per-group accumulators kept in the loop: [0] rows, then one sum per fused sum/mean. */
  acc: Float64Array[];
  readonly gids: Int32Array;
  readonly args: Float64Array[];
  readonly sk: StrKey[];
  readonly nk: NumKey[];
  readonly pk: PairKey[];
  /** Makes every accumulator hold group `g`. */
  growAcc(g: number): void;
  /** Rows the last call folded in (written into `gids`/`args`). */
  m: number;
  /** Counted per code: this batch's per-code accumulators, codes in order of first appearance, how many. */
  h: Int32Array[];
  order: Int32Array;
  n: number;
}

type LoopFn = (C: readonly ArrayLike<number>[], T: readonly ArrayLike<number>[], K: readonly number[], S: readonly LoopState[], from: number, to: number, lo: number, hi: number) => void;

/** Compiles the folded pipeline into the loop body's source and what the body reads. */
class Compiler {
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
  private tmp = 0;
  private readonly rt: Runtime;
  private readonly types: ReadonlyMap<string, DataType>;

  constructor(rt: Runtime, types: ReadonlyMap<string, DataType>) {
    this.rt = rt;
    this.types = types;
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
    const key = exprKey(e);
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
        if (THROWS_ON_DATA.has(e.fn)) return null;
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
    const key = exprKey(e);
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
function fold(plan: AggPlan): { src: SourcePlan; preds: Expr[]; env: Map<string, Expr> } | null {
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
  return { src, preds, env };
}

/**
 * How each aggregate is fed: in the loop (count; sum and mean where adding in row order into
 * a float64 gives exactly what the state would compute), merged in through the state's `merge`
 * at the end; or through an argument slot and the state's `update` after every slice.
 */
interface AggFeed {
  readonly state: AggState<unknown>;
  readonly fused: 'count' | 'sum' | 'mean' | null;
  /** Accumulator (fused) or argument slot (not fused). */
  readonly slot: number;
}

type KeyRef = { readonly s: number } | { readonly n: number };

/** One aggregation of a fused scan: its plan, loop state, aggregates and keys. */
interface Part {
  readonly plan: AggPlan;
  readonly src: SourcePlan;
  readonly state: LoopState;
  readonly feeds: readonly AggFeed[];
  readonly keyOf: readonly KeyRef[];
  readonly nargs: number;
  readonly nacc: number;
  readonly perCode: boolean;
  /** Counted per code: filters applied per code when folding (indices of per-batch tables). */
  readonly codePreds: readonly number[];
  rows: number;
}

/**
 * The fused operator for an agg over source → filter/map*, or null when the shape is not covered
 * (the caller then runs the operators). Declining never has side effects.
 */
export function fusedAgg(plan: AggPlan, rt: Runtime): Operator | null {
  const run = fusedAggs([plan], rt);
  if (!run) return null;
  return (async function* (): Operator {
    const [out] = await run();
    if (out) yield out;
  })();
}

/**
 * Several aggs over the same scan (same table and time range; e.g. the two sides of an error-rate
 * join) computed in one pass: a function producing each agg's output chunk (null: no groups),
 * or null when any of them is not covered.
 */
export function fusedAggs(plans: readonly AggPlan[], rt: Runtime): (() => Promise<(Chunk | null)[]>) | null {
  try {
    return compile(plans, rt);
  } catch (e) {
    if (e instanceof Decline) return null;
    throw e;
  }
}

function compile(plans: readonly AggPlan[], rt: Runtime): (() => Promise<(Chunk | null)[]>) | null {
  const folded = plans.map(fold);
  if (folded.some((f) => f === null)) return null;
  const first = folded[0]!.src;
  for (const f of folded) {
    if (f!.src.table !== first.table || f!.src.startNs !== first.startNs || f!.src.endNs !== first.endNs) return null;
  }
  const table = rt.source.get(first.table);
  if (!table) return null;
  const types = new Map<string, DataType>();
  for (const f of folded) for (const x of f!.src.schema) types.set(x.name, x.type);
  const cc = new Compiler(rt, types);
  const parts: Part[] = [];
  for (let p = 0; p < plans.length; p++) {
    const part = compilePart(cc, p, plans[p]!, folded[p]!);
    if (!part) return null;
    parts.push(part);
  }

  // The scan: every batch the range may touch, taken now so the check below sees what runs.
  const hasTime = table.schema.fields.some((f) => f.name === 'time_' && f.type === 'TIME64NS');
  const batches = [...table.scan(first.startNs, first.endNs)];
  for (const b of batches) {
    for (const name of types.keys()) if (!b.columns.has(name)) return null;
    if (hasTime && b.columns.get('time_')?.kind !== 'time') return null;
    for (const name of cc.slots) if (b.columns.get(name)!.kind === 'big') return null;
  }
  const loops = new Map<string, LoopFn>();
  const loopFor = (cols: readonly ArrayLike<number>[], ranged: boolean): LoopFn => {
    // One compiled loop per combination of array types keeps every load monomorphic.
    const sig = `${ranged ? 1 : 0}|${cols.map((c) => c.constructor.name).join(',')}`;
    let f = loops.get(sig);
    if (!f) {
      f = buildLoop(cc, parts, ranged, sig);
      loops.set(sig, f);
    }
    return f;
  };
  return () => scan(rt, first, [...types.keys()], batches, hasTime, cc, parts, loopFor);
}

/** Emits one agg's block of the loop body; null when it is not covered. */
function compilePart(cc: Compiler, p: number, plan: AggPlan, folded: { src: SourcePlan; preds: Expr[]; env: Map<string, Expr> }): Part | null {
  const { src, preds, env } = folded;
  const body = cc.body;
  cc.newPart();
  const label = `P${p}`;
  body.push(`${label}: {`);

  // One string key and only counts (of rows, or of rows with a flag set): the loop counts per
  // dictionary code and each batch's codes are folded into groups afterwards, in order of first
  // appearance, so the rows pay no key lookup. Integer counts do not depend on the order they are
  // added in, so the result is the same to the last bit. Filters on the key's column alone
  // (`service != ''`) then hold or fail for a whole code: they are applied when folding.
  const key0 = plan.groups.length === 1 ? env.get(plan.groups[0]!) : undefined;
  const keyCls = key0 !== undefined && isStr(key0.type) ? cc.classify(key0) : null;
  const perCode =
    keyCls !== null &&
    keyCls.k === 'dict' &&
    plan.aggs.every((a) => a.fn === 'count' || ((a.fn === 'sum' || a.fn === 'mean') && a.args.length === 1 && subst(a.args[0]!, env).type === 'BOOLEAN'));
  const codePreds: number[] = [];
  for (const pr of preds) {
    const c = cc.classify(pr);
    if (c.k === 'const') {
      // A constant filter keeps every row or none; `none` is left to the operators.
      if (cc.constant(pr) !== true) return null;
      continue;
    }
    if (perCode && c.k === 'dict' && c.col === (keyCls as { col: string }).col) {
      codePreds.push(cc.dictNodes.push({ expr: pr, col: c.col, part: p, key: null }) - 1);
      continue;
    }
    body.push(`if (${cc.emit(pr)} === 0) break ${label};`);
  }
  if (perCode) return compilePerCode(cc, p, plan, key0!, env, src, codePreds);

  // Group keys → one integer per row.
  const sk: StrKey[] = [];
  const nk: NumKey[] = [];
  const keyOf: KeyRef[] = [];
  const keyVars: string[] = [];
  for (const g of plan.groups) {
    const e = env.get(g);
    if (!e) return null;
    const c = cc.classify(e);
    const v = `g${p}_${keyVars.length}`;
    if (isStr(e.type)) {
      if (c.k !== 'dict') return null;
      const k = sk.push(new StrKey()) - 1;
      const t = cc.dictNodes.push({ expr: e, col: c.col, part: p, key: k }) - 1;
      const code = `c${cc.slot(c.col)}[i]`;
      body.push(`let ${v} = t${t}[${code}];`, `if (${v} < 0) ${v} = S${p}.sk[${k}].miss(${code});`);
      keyOf.push({ s: k });
    } else {
      const k = nk.push(new NumKey(e.type)) - 1;
      if (!cc.binKey(e, v, `nk${p}_${k}`)) body.push(`const ${v} = nk${p}_${k}.id(${cc.emit(e)});`);
      keyOf.push({ n: k });
    }
    keyVars.push(v);
  }
  const pk: PairKey[] = [];
  let gid = keyVars[0] ?? '0';
  for (let j = 1; j < keyVars.length; j++) {
    const k = pk.push(new PairKey()) - 1;
    body.push(`const q${p}_${j} = pk${p}_${k}.get(${gid}, ${keyVars[j]});`);
    gid = `q${p}_${j}`;
  }

  // Aggregates.
  const feeds: AggFeed[] = [];
  let nargs = 0;
  let nacc = 1;
  const accBody: string[] = [];
  for (const a of plan.aggs) {
    if (!(AGGREGATE_NAMES as readonly string[]).includes(a.fn)) return null;
    const argType = a.args[0]?.type ?? 'INT64';
    const state = createAgg(a.fn, argType, a.type);
    if (a.fn === 'count') {
      feeds.push({ state, fused: 'count', slot: 0 });
      continue;
    }
    if (a.args.length > 1) return null;
    const e = a.args[0] ? subst(a.args[0], env) : ({ kind: 'literal', value: 1, type: 'INT64' } as Expr);
    if (isStr(e.type)) return null;
    // An INT64 sum stays exact beyond 2^53 through its state's carry: only sums of flags (at
    // most one per row) and float sums are kept in the loop.
    const fusable = a.fn === 'mean' || (a.fn === 'sum' && (e.type === 'BOOLEAN' || argType === 'FLOAT64' || a.type === 'FLOAT64'));
    if (fusable) {
      accBody.push(`s${p}_${nacc}[${gid}] += ${cc.emit(e)};`);
      feeds.push({ state, fused: a.fn as 'sum' | 'mean', slot: nacc++ });
      continue;
    }
    body.push(`a${p}_${nargs}[m${p}] = ${cc.emit(e)};`);
    feeds.push({ state, fused: null, slot: nargs++ });
  }
  // Rows per group are always counted: they decide nothing else, and cost one add.
  const reload = Array.from({ length: nacc }, (_, j) => `s${p}_${j} = S${p}.acc[${j}];`).join(' ');
  body.push(`if (${gid} >= s${p}_0.length) { S${p}.growAcc(${gid}); ${reload} }`, `s${p}_0[${gid}]++;`);
  body.push(...accBody);
  if (nargs > 0) body.push(`gids${p}[m${p}] = ${gid};`);
  body.push(`m${p}++;`, '}');

  return { plan, src, state: loopState(nacc, nargs, sk, nk, pk), feeds, keyOf, nargs, nacc, perCode: false, codePreds: [], rows: 0 };
}

/** The block of an agg counted per dictionary code of its one string key (see compilePart). */
function compilePerCode(cc: Compiler, p: number, plan: AggPlan, key: Expr, env: ReadonlyMap<string, Expr>, src: SourcePlan, codePreds: readonly number[]): Part {
  const body = cc.body;
  const col = (cc.classify(key) as { col: string }).col;
  const sk = [new StrKey()];
  cc.dictNodes.push({ expr: key, col, part: p, key: 0 });
  const x = cc.codeOf(col);
  body.push(`if (h${p}_0[${x}]++ === 0) o${p}[n${p}++] = ${x};`);
  const feeds: AggFeed[] = [];
  // A sum and a mean of one flag (errors and error rate) share their accumulator.
  const slotOf = new Map<string, number>();
  for (const a of plan.aggs) {
    const state = createAgg(a.fn, a.args[0]?.type ?? 'INT64', a.type);
    if (a.fn === 'count') {
      feeds.push({ state, fused: 'count', slot: 0 });
      continue;
    }
    const arg = subst(a.args[0]!, env);
    let slot = slotOf.get(exprKey(arg));
    if (slot === undefined) {
      slot = slotOf.size + 1;
      slotOf.set(exprKey(arg), slot);
      body.push(`h${p}_${slot}[${x}] += ${cc.emit(arg)};`);
    }
    feeds.push({ state, fused: a.fn as 'sum' | 'mean', slot });
  }
  body.push('}');
  const nacc = slotOf.size + 1;
  return { plan, src, state: loopState(nacc, 0, sk, [], []), feeds, keyOf: [{ s: 0 }], nargs: 0, nacc, perCode: true, codePreds, rows: 0 };
}

function loopState(nacc: number, nargs: number, sk: StrKey[], nk: NumKey[], pk: PairKey[]): LoopState {
  return {
    acc: Array.from({ length: nacc }, () => new Float64Array(64)),
    gids: new Int32Array(SLICE),
    args: Array.from({ length: nargs }, () => new Float64Array(SLICE)),
    sk,
    nk,
    pk,
    m: 0,
    h: [],
    order: new Int32Array(0),
    n: 0,
    growAcc(g: number): void {
      let cap = this.acc[0]!.length * 2;
      while (cap <= g) cap *= 2;
      this.acc = this.acc.map((a) => {
        const b = new Float64Array(cap);
        b.set(a);
        return b;
      });
    },
  };
}

/** Folds a batch's per-code counts into the groups, codes in order of first appearance. */
function foldCodes(part: Part, T: readonly ArrayLike<number>[]): void {
  const S = part.state;
  const key = S.sk[0]!;
  const table = key.table;
  next: for (let k = 0; k < S.n; k++) {
    const code = S.order[k]!;
    for (const t of part.codePreds) if (T[t]![code] === 0) continue next;
    let g = table[code]!;
    if (g < 0) g = key.miss(code);
    if (g >= S.acc[0]!.length) S.growAcc(g);
    for (let j = 0; j < S.acc.length; j++) S.acc[j]![g] += S.h[j]![code]!;
  }
  S.n = 0;
}

function buildLoop(cc: Compiler, parts: readonly Part[], ranged: boolean, sig: string): LoopFn {
  // The array types are part of the text, so each combination gets a function of its own.
  const head: string[] = ["'use strict';", `// ${sig}`];
  cc.slots.forEach((_, j) => head.push(`const c${j} = C[${j}];`));
  cc.dictNodes.forEach((_, j) => head.push(`const t${j} = T[${j}];`));
  cc.consts.forEach((_, j) => head.push(`const k${j} = K[${j}];`));
  parts.forEach((part, p) => {
    head.push(`const S${p} = S[${p}];`, `const gids${p} = S${p}.gids;`, `let m${p} = 0;`);
    part.state.nk.forEach((_, j) => head.push(`const nk${p}_${j} = S${p}.nk[${j}];`));
    part.state.pk.forEach((_, j) => head.push(`const pk${p}_${j} = S${p}.pk[${j}];`));
    for (let j = 0; j < part.nargs; j++) head.push(`const a${p}_${j} = S${p}.args[${j}];`);
    if (part.perCode) {
      head.push(`const o${p} = S${p}.order;`, `let n${p} = S${p}.n;`);
      for (let j = 0; j < part.nacc; j++) head.push(`const h${p}_${j} = S${p}.h[${j}];`);
    } else for (let j = 0; j < part.nacc; j++) head.push(`let s${p}_${j} = S${p}.acc[${j}];`);
  });
  head.push(...cc.locals, 'const tc = C[C.length - 1];');
  const loop = [
    'for (let i = from; i < to; i++) {',
    ...(ranged ? ['const tt = tc[i];', 'if (!(tt >= lo && tt < hi)) continue;'] : []),
    ...cc.prefix,
    ...cc.body,
    '}',
    ...parts.map((part, p) => (part.perCode ? `S${p}.n = n${p};` : `S${p}.m = m${p};`)),
  ];
  const text = [...head, ...loop].join('\n');
  let f = LOOPS.get(text);
  if (f) {
    // Most recently used last, so the oldest is evicted first.
    LOOPS.delete(text);
    LOOPS.set(text, f);
    return f;
  }
  // Built only from the templates above and kernels.ts; script text reaches the loop as values
  // in K and T. Named, so that profiles show where fused time goes.
  f = new Function(`return function fusedLoop(C, T, K, S, from, to, lo, hi) {\n${text}\n};`)() as LoopFn;
  LOOPS.set(text, f);
  if (LOOPS.size > MAX_LOOPS) LOOPS.delete(LOOPS.keys().next().value!);
  return f;
}

/**
 * Compiled loops by source text, shared by queries: a dashboard re-runs the same scripts, and a
 * loop the JIT has already optimized is fast from its first row instead of after a warm-up.
 */
const LOOPS = new Map<string, LoopFn>();
const MAX_LOOPS = 128;
const PRIMED = new WeakSet<LoopFn>();

const identityCodes = (n: number): Int32Array => {
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) c[i] = i;
  return c;
};

async function scan(
  rt: Runtime,
  src: SourcePlan,
  columns: readonly string[],
  batches: readonly ColumnBatch[],
  hasTime: boolean,
  cc: Compiler,
  parts: readonly Part[],
  loopFor: (cols: readonly ArrayLike<number>[], ranged: boolean) => LoopFn,
): Promise<(Chunk | null)[]> {
  const index: ColumnIndex = new Map(columns.map((c, j) => [c, j]));
  const placeholder = emptyVec('INT64');
  const S = parts.map((p) => p.state);
  for (const b of batches) {
    await rt.tick();
    // Counted as the separate scans would count them.
    for (const part of parts) {
      let bytes = 0;
      for (const name of part.src.columns) bytes += storedBytes(b.columns.get(name)!);
      rt.stats.rowsScanned += b.rows;
      rt.stats.bytesScanned += bytes;
    }
    let lo = -Infinity;
    let hi = Infinity;
    let ranged = false;
    const t = b.columns.get('time_');
    if (hasTime && t?.kind === 'time') {
      const inside = (src.startNs === null || b.minTime >= src.startNs) && (src.endNs === null || b.maxTime < src.endNs);
      if (!inside) {
        ranged = true;
        if (src.startNs !== null) lo = Number(src.startNs - t.base);
        if (src.endNs !== null) hi = Number(src.endNs - t.base);
      }
    }
    const vecs = new Map<string, Vec>();
    const vecOf = (name: string): Vec => {
      let v = vecs.get(name);
      if (!v) {
        v = fromStored(b.columns.get(name)!, rt.timeBase);
        vecs.set(name, v);
      }
      return v;
    };
    const C: ArrayLike<number>[] = cc.slots.map((name) => {
      const v = vecOf(name);
      return v.t === 'str' ? v.c : (v.d as ArrayLike<number>);
    });
    C.push(ranged && t?.kind === 'time' ? t.data : new Float64Array(0));
    // Per-dictionary tables: each string column's dictionary as a chunk of its own.
    const dictChunks = new Map<string, Chunk>();
    const T: ArrayLike<number>[] = cc.dictNodes.map((d) => {
      let ch = dictChunks.get(d.col);
      const v = vecOf(d.col) as Extract<Vec, { t: 'str' }>;
      if (!ch) {
        const cols: Vec[] = columns.map(() => placeholder);
        cols[index.get(d.col)!] = { t: 'str', c: identityCodes(v.dict.length), dict: v.dict };
        ch = { n: v.dict.length, sel: null, cols };
        dictChunks.set(d.col, ch);
      }
      const r = evalExpr(d.expr, ch, index, rt);
      const n = ch.n;
      if (d.key !== null) {
        let derived: readonly string[];
        if (r.t === 'scalar') derived = Array.from({ length: n }, () => String(r.v));
        else if (r.t !== 'str') throw new PxlError('PXL_INTERNAL', `executor: a string group key evaluated to ${r.t}`);
        else if (r.c === (ch.cols[index.get(d.col)!] as Extract<Vec, { t: 'str' }>).c) derived = r.dict;
        else derived = Array.from({ length: n }, (_, k) => r.dict[r.c[k]!]!);
        return S[d.part]!.sk[d.key]!.setBatch(derived);
      }
      const out = new Float64Array(n);
      if (r.t === 'scalar') out.fill(typeof r.v === 'boolean' ? (r.v ? 1 : 0) : Number(r.v));
      else if (r.t === 'num' || r.t === 'bool') for (let k = 0; k < n; k++) out[k] = r.d[k]!;
      else if (r.t === 'big') for (let k = 0; k < n; k++) out[k] = Number(r.d[k]!);
      else out.fill(NaN);
      return out;
    });
    for (const part of parts) {
      if (!part.perCode) continue;
      const codes = part.state.sk[0]!.table.length;
      // Integers: a batch holds far fewer than 2^31 rows, and integer adds are the cheapest.
      part.state.h = Array.from({ length: part.nacc }, () => new Int32Array(codes));
      part.state.order = new Int32Array(codes);
    }
    const loop = loopFor(C, ranged);
    if (!PRIMED.has(loop)) {
      // An empty first run records type feedback for the stores after the loop, which a run
      // entered through on-stack replacement would otherwise deoptimize at on every exit.
      loop(C, T, cc.consts, S, 0, 0, lo, hi);
      PRIMED.add(loop);
    }
    for (let from = 0; from < b.rows; from += SLICE) {
      if (from > 0) await rt.tick();
      loop(C, T, cc.consts, S, from, Math.min(from + SLICE, b.rows), lo, hi);
      for (const part of parts) {
        const m = part.state.m;
        if (m === 0) continue;
        part.rows += m;
        if (part.nargs === 0) continue;
        const n = groupCount(part);
        const gids = part.state.gids.subarray(0, m);
        for (const f of part.feeds) {
          if (f.fused) continue;
          f.state.grow(n);
          f.state.update(gids, null, { t: 'num', d: part.state.args[f.slot]!.subarray(0, m) });
        }
      }
    }
    for (const part of parts) if (part.perCode) foldCodes(part, T);
  }
  // Finalizing many groups takes a while: a query past its deadline stops before it.
  await rt.tick();
  return parts.map(output);
}

/** The agg's output chunk: its key columns and finalized aggregates, in the plan's order. */
function output(part: Part): Chunk | null {
  const S = part.state;
  const n = groupCount(part);
  if (n === 0) return null;
  const byName = new Map<string, Vec>();
  keyColumns(part, n).forEach((v, j) => byName.set(part.plan.groups[j]!, v));
  part.plan.aggs.forEach((a, j) => {
    const f = part.feeds[j]!;
    f.state.grow(n);
    const rowsOf = S.acc[0]!;
    const sums = S.acc[f.slot]!;
    if (f.fused === 'count') for (let g = 0; g < n; g++) f.state.merge(g, rowsOf[g]!);
    else if (f.fused === 'sum') for (let g = 0; g < n; g++) f.state.merge(g, sums[g]!);
    else if (f.fused === 'mean') for (let g = 0; g < n; g++) f.state.merge(g, { sum: sums[g]!, count: rowsOf[g]! });
    byName.set(a.name, f.state.finalize(n));
    f.state.release?.();
  });
  return { n, sel: null, cols: part.plan.schema.map((f) => byName.get(f.name) ?? emptyVec(f.type)) };
}

function groupCount(part: Part): number {
  const { keyOf, state: S } = part;
  if (keyOf.length === 0) return part.rows > 0 ? 1 : 0;
  if (keyOf.length === 1) {
    const k = keyOf[0]!;
    return 's' in k ? S.sk[k.s]!.count : S.nk[k.n]!.count;
  }
  return S.pk[S.pk.length - 1]!.count;
}

/** The key values of every group, one column per key (pairs unwind to their parts). */
function keyColumns(part: Part, n: number): Vec[] {
  const { keyOf, state: S } = part;
  const k = keyOf.length;
  const perKey = keyOf.map(() => new Int32Array(n));
  for (let g = 0; g < n; g++) {
    let p = g;
    for (let j = k - 1; j >= 1; j--) {
      const t = S.pk[j - 1]!;
      perKey[j]![g] = t.second(p);
      p = t.first(p);
    }
    if (k > 0) perKey[0]![g] = p;
  }
  return keyOf.map((key, j) => ('s' in key ? S.sk[key.s]!.values(perKey[j]!) : S.nk[key.n]!.values(perKey[j]!)));
}
