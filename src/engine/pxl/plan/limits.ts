import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import { inputsOf, type Expr, type LogicalPlan } from './logical.js';
import { treeDepth, treeSize } from './walk.js';

/**
 * The compiler's bounds (docs/pxl.md, "Limits"). A script is run at compile time, and reusing a
 * value (`a = a + a`) or a DataFrame (`df = df.append(df)`) doubles what it stands for with
 * each line; these bounds are checked where each value and DataFrame is built, so no script can
 * make the compiler, the broker or the executor do more than a known amount of work, and the
 * error points at the expression or call that crossed the bound.
 */
export const LIMITS = {
  /**
   * Nodes of one expression written out as a tree: what the executor evaluates for each batch
   * and what the broker sends to engines. A dashboard variable of 2,000 values compared with
   * `==` is 8,000.
   */
  exprNodes: 10_000,
  /**
   * Nodes from an expression's root down to its deepest leaf, however it was built (`a = a + 1`
   * per line nests once per line): evaluating it recurses this deep.
   */
  exprDepth: 1_000,
  /**
   * Operators, columns and expression nodes of a query's plans, counted as they run: a
   * DataFrame used twice (both sides of a merge) counts twice, because it runs twice.
   */
  planSize: 100_000,
  /** Operators from an output down to its deepest source. */
  planDepth: 1_000,
  /**
   * Statements and expressions run at compile time; a function's body counts again at each
   * call. A dashboard script runs a few thousand.
   */
  steps: 1_000_000,
  /**
   * Wall-clock bound on a compile, parsing included (ms; CompileOptions.compileMs overrides).
   * The bounds above keep real scripts far below it (docs/pxl.md gives measured worst cases);
   * it is the backstop that keeps a compile from holding the engine's event loop, which also
   * serves /healthz and drains capture.
   */
  compileMs: 500,
  /** Calls of `def` functions, each inlined where it is called. */
  calls: 5_000,
  /** `def` calls inside `def` calls. */
  callDepth: 64,
  /** Syntactic nesting of one expression (`a + b + c ...` nests once per operator). */
  nesting: 400,
  /** Characters of a string built with `+`, at compile time or per value when run (1 MiB). */
  stringChars: 1 << 20,
} as const;

/** The PXL_LIMIT error: which bound, where it was crossed, and what to do instead. */
export function limitError(message: string, at: Span | undefined, hints: readonly string[]): PxlError {
  return new PxlError(PxlCode.limit, message, at, hints);
}

/** Throws PXL_LIMIT when the expression, written out, is larger or deeper than the bounds. */
export function checkExpr(e: Expr, at: Span): void {
  if (treeDepth(e) > LIMITS.exprDepth) {
    throw limitError(`this expression nests more than ${LIMITS.exprDepth} operations deep`, at, [
      'a value extended on every line (a = a + 1) nests once per line',
      'compute it in steps as columns (df.x = ..., then df.y = df.x ...)',
    ]);
  }
  if (treeSize(e) <= LIMITS.exprNodes) return;
  throw limitError(`this expression is too large: more than ${LIMITS.exprNodes} terms when written out`, at, [
    'a value built from itself (a = a + a) doubles with every line',
    'compute it in steps as columns (df.x = ..., then df.y = df.x ...), or simplify it',
  ]);
}

interface Measure {
  readonly size: number;
  readonly depth: number;
}

const measures = new WeakMap<LogicalPlan, Measure>();

/** What one node adds to the plan's size, without its inputs. */
function ownSize(p: LogicalPlan): number {
  switch (p.kind) {
    case 'source':
      return 1 + p.columns.length;
    case 'filter':
      return 1 + treeSize(p.predicate);
    case 'map': {
      let n = 1;
      for (const x of p.exprs) n += treeSize(x.expr);
      return n;
    }
    case 'agg': {
      let n = 1 + p.groups.length;
      for (const a of p.aggs) for (const x of a.args) n += 1 + treeSize(x);
      return n;
    }
    case 'join':
      return 1 + p.outputs.length + p.leftOn.length + p.rightOn.length;
    case 'union':
      return 1 + p.inputs.length;
    case 'limit':
      return 1;
  }
}

/**
 * Size and depth of a plan as it runs (a shared input counted once per use), remembered per
 * node: measuring a node built on measured inputs costs only that node.
 */
function measure(p: LogicalPlan): Measure {
  const known = measures.get(p);
  if (known) return known;
  let size = ownSize(p);
  let depth = 0;
  for (const input of inputsOf(p)) {
    const m = measure(input);
    size += m.size;
    depth = Math.max(depth, m.depth);
  }
  const m = { size, depth: depth + 1 };
  measures.set(p, m);
  return m;
}

/** The size of a plan as it runs (see LIMITS.planSize). */
export function planSize(p: LogicalPlan): number {
  return measure(p).size;
}

/** Returns `p`, or throws PXL_LIMIT when it is larger or deeper than the bounds. */
export function checkPlan(p: LogicalPlan, at: Span): LogicalPlan {
  const m = measure(p);
  if (m.depth > LIMITS.planDepth) {
    throw limitError(`this DataFrame is built from more than ${LIMITS.planDepth} operations in a row`, at, [
      'each filter, column assignment and projection adds one; group or project earlier, or split the script',
    ]);
  }
  if (m.size > LIMITS.planSize) throw planSizeError(at);
  return p;
}

/** PXL_LIMIT for a plan, or the outputs of a script together, beyond LIMITS.planSize. */
export function planSizeError(at: Span): PxlError {
  return limitError(`the query is too large: more than ${LIMITS.planSize} operations, columns and expression terms`, at, [
    'a DataFrame used in several places counts once per use (df.append(df) doubles it)',
    'each df.x = ... carries every column of the DataFrame along; drop or project columns early',
  ]);
}
