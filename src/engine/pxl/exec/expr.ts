import type { DataType } from '../../schema.js';
import { PxlError } from '../diagnostic.js';
import { registryEntry } from '../functions/registry.js';
import type { Expr } from '../plan/logical.js';
import { forEachNode } from '../plan/walk.js';
import type { EvalEnv } from './runtime.js';
import type { Chunk, Scalar, Val } from './vec.js';

/*
 * The expression evaluator: column-at-a-time over a chunk's live rows. Each call is evaluated by
 * its registry entry (functions/); this file only walks the expression and shares its nodes.
 */

/** Resolves column names of the chunk's schema to positions. */
export type ColumnIndex = ReadonlyMap<string, number>;

/**
 * An evaluation in progress: the query's env, and the values of shared nodes (see `sharedUses`)
 * computed and not yet read by all their parents, with how many reads remain.
 */
interface Scoped extends EvalEnv {
  readonly shared: ReadonlyMap<Expr, number>;
  readonly held: Map<Expr, { v: Val; left: number }>;
}

const sharing = new WeakMap<Expr, ReadonlyMap<Expr, number>>();

/**
 * The call nodes of `root` that several parents read (`a = a + a` makes each node the two
 * arguments of the next), with how many reads each gets; remembered per root. Every function
 * reads each of its arguments exactly once.
 */
function sharedUses(root: Expr): ReadonlyMap<Expr, number> {
  let uses = sharing.get(root);
  if (!uses) {
    const reads = new Map<Expr, number>();
    forEachNode(root, (x) => {
      if (x.kind === 'call') for (const a of x.args) if (a.kind === 'call') reads.set(a, (reads.get(a) ?? 0) + 1);
    });
    const shared = new Map<Expr, number>();
    for (const [x, n] of reads) if (n > 1) shared.set(x, n);
    uses = shared;
    sharing.set(root, uses);
  }
  return uses;
}

/**
 * Evaluates an expression column-at-a-time over the live rows of a chunk. A node that several
 * parents read is computed once per chunk and held only until its last parent has read it, so
 * the work is the number of distinct nodes, not the size of the expression written out.
 */
export function evalExpr(e: Expr, chunk: Chunk, cols: ColumnIndex, env: EvalEnv): Val {
  return ev(e, chunk, cols, { timeBase: env.timeBase, metadata: env.metadata, nowNs: env.nowNs, shared: sharedUses(e), held: new Map() });
}

function ev(e: Expr, chunk: Chunk, cols: ColumnIndex, env: Scoped): Val {
  switch (e.kind) {
    case 'column': {
      const j = cols.get(e.name);
      if (j === undefined) throw new PxlError('PXL_INTERNAL', `executor: no column '${e.name}' in the input`);
      return chunk.cols[j]!;
    }
    case 'literal':
      return literal(e.value, e.type, env.timeBase);
    case 'call': {
      const held = env.held.get(e);
      if (held) {
        if (--held.left === 0) env.held.delete(e);
        return held.v;
      }
      const impl = registryEntry(e.fn)?.eval;
      if (!impl) throw new PxlError('PXL_UNKNOWN_FUNCTION', `executor: no implementation of '${e.fn}'`);
      const v = impl({ args: e.args, type: e.type, chunk, env, value: (x) => ev(x, chunk, cols, env) });
      const reads = env.shared.get(e);
      if (reads !== undefined) env.held.set(e, { v, left: reads - 1 });
      return v;
    }
  }
}

function literal(value: boolean | bigint | number | string, type: DataType, timeBase: bigint): Scalar {
  if (type === 'TIME64NS') {
    const abs = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
    return { t: 'scalar', v: Number(abs - timeBase) };
  }
  if (typeof value === 'bigint') return { t: 'scalar', v: Number(value) };
  return { t: 'scalar', v: value };
}
