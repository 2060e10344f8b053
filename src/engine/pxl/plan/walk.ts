import type { Expr } from './logical.js';

/**
 * Walks over expressions that share sub-expressions. `a = a + a` builds a node whose two
 * arguments are one object, so ten such lines make 11 nodes that written out as a tree have
 * 2047: a pass that recursed into every argument would do the written-out work, doubling with
 * each line. Every walk here visits each distinct node once, so it costs the nodes built.
 */

type Call = Extract<Expr, { kind: 'call' }>;
/** A column reference. */
export type ColumnRef = Extract<Expr, { kind: 'column' }>;

/**
 * A value computed bottom-up for every node, remembered per node: asking again, or for a node
 * built on top, costs only the new nodes. Post-order with an explicit stack, so a chain of
 * thousands of nodes cannot exhaust the call stack before a limit on it can be reported.
 */
function foldUp<T>(e: Expr, memo: WeakMap<Expr, T>, leaf: (e: Exclude<Expr, Call>) => T, combine: (e: Call, args: readonly T[]) => T): T {
  if (e.kind !== 'call') return leaf(e);
  const known = memo.get(e);
  if (known !== undefined) return known;
  // Usually every argument is a leaf or already known (each value is measured as it is built).
  const direct: T[] = [];
  for (const a of e.args) {
    const v = a.kind === 'call' ? memo.get(a) : leaf(a);
    if (v === undefined) break;
    direct.push(v);
  }
  if (direct.length === e.args.length) {
    const v = combine(e, direct);
    memo.set(e, v);
    return v;
  }
  const stack: Call[] = [e];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (memo.has(top)) {
      stack.pop();
      continue;
    }
    const args: T[] = [];
    for (const a of top.args) {
      if (a.kind !== 'call') args.push(leaf(a));
      else if (memo.has(a)) args.push(memo.get(a)!);
      else stack.push(a);
    }
    if (args.length === top.args.length) {
      memo.set(top, combine(top, args));
      stack.pop();
    }
  }
  return memo.get(e)!;
}

const sizes = new WeakMap<Expr, number>();

/**
 * Nodes of `e` written out as a tree: the work of evaluating it (the executor evaluates each
 * argument where it appears) and the size of its wire form. A number, never a bigint: beyond
 * 2^1024 it is Infinity, which still compares as larger than any limit.
 */
export function treeSize(e: Expr): number {
  return foldUp(
    e,
    sizes,
    () => 1,
    (_, args) => args.reduce((n, a) => n + a, 1),
  );
}

const depths = new WeakMap<Expr, number>();

/** Nodes on the longest path from `e` down to a leaf: how deep evaluating it recurses. */
export function treeDepth(e: Expr): number {
  return foldUp(
    e,
    depths,
    () => 1,
    (_, args) => 1 + Math.max(...args),
  );
}

const refs = new WeakMap<Expr, readonly ColumnRef[]>();
const NO_REFS: readonly ColumnRef[] = [];

/** The distinct columns (by name and type) `e` reads, in the order a left-to-right walk meets them. */
export function columnRefs(e: Expr): readonly ColumnRef[] {
  return foldUp(
    e,
    refs,
    (x) => (x.kind === 'column' ? [x] : NO_REFS),
    (_, args) => {
      const nonEmpty = args.filter((a) => a.length > 0);
      if (nonEmpty.length <= 1) return nonEmpty[0] ?? NO_REFS;
      const seen = new Map<string, ColumnRef>();
      for (const a of nonEmpty) for (const c of a) if (!seen.has(`${c.name}\0${c.type}`)) seen.set(`${c.name}\0${c.type}`, c);
      return [...seen.values()];
    },
  );
}

/** Adds the names of the columns `e` reads to `into`. */
export function columnsRead(e: Expr, into: Set<string>): void {
  for (const c of columnRefs(e)) into.add(c.name);
}

/** Calls `visit` once for each distinct node of `e` (a shared argument is visited once), parents first. */
export function forEachNode(e: Expr, visit: (node: Expr) => void): void {
  const seen = new Set<Expr>();
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    visit(x);
    if (x.kind === 'call') for (let i = x.args.length - 1; i >= 0; i--) stack.push(x.args[i]!);
  }
}
