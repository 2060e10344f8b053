import type { MetadataView } from '../../meta/types.js';
import type { Field } from '../../schema.js';
import { PxlError, type Diagnostic } from '../diagnostic.js';
import { inputsOf, type LogicalPlan, type Program } from '../plan/logical.js';
import { run } from './operators.js';
import { explainText } from './physical.js';
import { planPhysical } from './planner.js';
import type { ExecStats, Runtime, TableSource } from './runtime.js';
import { concatChunks, sliceChunk, type Chunk, type Vec } from './vec.js';

/** Default cap on rows per output table. */
export const DEFAULT_MAX_ROWS = 100_000;
/** Default cap on (estimated) bytes per output table. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/** Longest stretch of work between yields to the event loop. */
const SLICE_MS = 20;

/** What a query runs with. */
export interface ExecContext {
  readonly metadata: MetadataView;
  /** Aborting cancels the query (QUERY_CANCELLED, or QUERY_TIMEOUT for a TimeoutError reason). */
  readonly signal?: AbortSignal;
  /** Wall-clock deadline (epoch ms); past it the query fails with QUERY_TIMEOUT. */
  readonly deadlineMs?: number;
  /** Rows per output; more are cut off with a warning. */
  readonly maxRows?: number;
  /** Estimated bytes per output; more are cut off with a warning. */
  readonly maxBytes?: number;
  /** `px.now()` in wall-clock ns; defaults to the time the query starts. */
  readonly nowNs?: bigint;
  /** Rows a merge may produce or hold on a side; beyond it, PXL_LIMIT (default DEFAULT_MAX_JOIN_ROWS). */
  readonly maxJoinRows?: number;
  /** Groups an aggregate may hold; beyond it, PXL_LIMIT (default groups.ts's DEFAULT_MAX_GROUPS). */
  readonly maxGroups?: number;
}

/** One output table, in executor columns (the API encodes them: api/encode.ts). */
interface ResultTable {
  readonly name: string;
  readonly fields: readonly Field[];
  readonly rowCount: number;
  readonly columns: readonly Vec[];
}

/** The answer to a program. */
export interface QueryResult {
  readonly tables: readonly ResultTable[];
  readonly warnings: readonly Diagnostic[];
  readonly stats: ExecStats & { readonly executeMs: number };
  /** TIME64NS values held as numbers are offsets from this (exactly: base + offset). */
  readonly timeBase: bigint;
}

/** The time base of the first source (depth first, left first) that has one. */
function firstTimeBase(plan: LogicalPlan, source: TableSource): bigint | null {
  if (plan.kind === 'source') return source.get(plan.table)?.timeBaseNs() ?? plan.startNs ?? null;
  for (const input of inputsOf(plan)) {
    const b = firstTimeBase(input, source);
    if (b !== null) return b;
  }
  return null;
}

/** The runtime of one query: its time base, its stats, and the tick that yields and cancels. */
function runtimeFor(program: Program, source: TableSource, ctx: ExecContext, stats: ExecStats): Runtime {
  let lastYield = performance.now();
  let timeBase: bigint | null = null;
  for (const o of program.outputs) timeBase ??= firstTimeBase(o.plan, source);
  const check = (): void => {
    if (ctx.signal?.aborted) {
      const reason: unknown = ctx.signal.reason;
      const timeout = reason instanceof Error && reason.name === 'TimeoutError';
      throw new PxlError(
        timeout ? 'QUERY_TIMEOUT' : 'QUERY_CANCELLED',
        timeout ? 'the query ran past its time limit' : 'the query was cancelled',
      );
    }
    if (ctx.deadlineMs !== undefined && Date.now() > ctx.deadlineMs) {
      throw new PxlError('QUERY_TIMEOUT', 'the query ran past its time limit', undefined, [
        'narrow the time range or filter earlier in the script',
      ]);
    }
  };
  check();
  return {
    source,
    stats,
    metadata: ctx.metadata,
    timeBase: timeBase ?? 0n,
    nowNs: ctx.nowNs ?? BigInt(Date.now()) * 1_000_000n,
    maxJoinRows: ctx.maxJoinRows,
    maxGroups: ctx.maxGroups,
    async tick() {
      check();
      const now = performance.now();
      if (now - lastYield >= SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
        check();
      }
    },
  };
}

/**
 * The physical plan `execute` would run, as text (`wisp query --explain`), each output headed by
 * `title` of its name; nothing is run.
 */
export function explain(program: Program, source: TableSource, ctx: ExecContext, title?: (name: string) => string): string {
  return explainText(planPhysical(program, runtimeFor(program, source, ctx, { rowsScanned: 0, bytesScanned: 0 })), title);
}

/** Plans a program (planner.ts), then runs every output; yields to the event loop every ~20 ms of work. */
export async function execute(program: Program, source: TableSource, ctx: ExecContext): Promise<QueryResult> {
  const started = performance.now();
  const stats: ExecStats = { rowsScanned: 0, bytesScanned: 0 };
  const rt = runtimeFor(program, source, ctx, stats);
  const physical = planPhysical(program, rt);
  const maxRows = ctx.maxRows ?? DEFAULT_MAX_ROWS;
  const maxBytes = ctx.maxBytes ?? DEFAULT_MAX_BYTES;
  const warnings: Diagnostic[] = [];
  const tables: ResultTable[] = [];
  for (const out of physical.outputs) {
    const chunks: Chunk[] = [];
    let rows = 0;
    let truncated = false;
    for await (const ch of run(out.plan, rt)) {
      const m = ch.sel ? ch.sel.length : ch.n;
      if (rows + m > maxRows) {
        chunks.push(sliceChunk(ch, maxRows - rows));
        rows = maxRows;
        truncated = true;
        break;
      }
      chunks.push(ch);
      rows += m;
    }
    let dense = concatChunks(
      chunks,
      out.plan.schema.map((f) => f.type),
      rt.timeBase,
    );
    const fit = rowsWithin(dense, maxBytes);
    if (fit < dense.n) {
      dense = sliceChunk(dense, fit);
      truncated = true;
    }
    if (truncated) {
      warnings.push({
        severity: 'warning',
        code: 'RESULT_TRUNCATED',
        message: `output '${out.name}' was cut off at ${dense.n} rows (limits: ${maxRows} rows, ${maxBytes} bytes)`,
        hints: ['aggregate, filter or head() the data frame before px.display'],
      });
    }
    tables.push({ name: out.name, fields: out.plan.schema, rowCount: dense.n, columns: dense.cols });
  }
  return { tables, warnings, stats: { ...stats, executeMs: performance.now() - started }, timeBase: rt.timeBase };
}

/** How many leading rows of a dense chunk fit in `maxBytes` (8 per number, string length + 2). */
function rowsWithin(c: Chunk, maxBytes: number): number {
  let fixed = 0;
  const strs: Extract<Vec, { t: 'str' }>[] = [];
  for (const v of c.cols) {
    if (v.t === 'str') strs.push(v);
    else fixed += 8;
  }
  if (strs.length === 0) return Math.min(c.n, Math.floor(maxBytes / Math.max(fixed, 1)));
  let bytes = 0;
  for (let i = 0; i < c.n; i++) {
    bytes += fixed;
    for (const v of strs) bytes += v.dict[v.c[i]!]!.length + 2;
    if (bytes > maxBytes) return i;
  }
  return c.n;
}
