import type { MetadataView } from '../../../meta/types.js';
import { PxlError, type Diagnostic } from '../../diagnostic.js';
import { DEFAULT_MAX_BYTES } from '../../exec/execute.js';
import { aggGroups, run } from '../../exec/operators.js';
import { planAgg, planPhysical, type PlanOptions } from '../../exec/planner.js';
import type { ExecStats, Runtime, TableSource } from '../../exec/runtime.js';
import { liveRows } from '../../exec/vec.js';
import { leafSource, type LogicalPlan } from '../../plan/logical.js';
import { encodeVec } from '../wire/cells.js';
import { answerLookups } from './lookups.js';
import { encodePartial } from '../../functions/registry.js';
import type { CheckedFragment, CheckedRequest } from './check.js';
import { LINE_BYTES, type PartialLine, type WireCell } from '../wire/messages.js';

/**
 * The engine's half of a distributed query: runs checked fragments over the local store and
 * yields the NDJSON lines of `POST /api/v1/partial`. Rows stream out chunk by chunk as the scan
 * produces them; a partial aggregate is sent once its input is exhausted, in slices of groups.
 * Aggregates group as local queries do: in the fused loop where it covers the fragment.
 */

/** What a partial request runs with. */
export interface FragmentContext {
  readonly metadata: MetadataView;
  readonly signal: AbortSignal;
  /** Rows per rows-fragment; more are cut off with a warning. */
  readonly maxRows: number;
  /** About how many bytes of rows a rows-fragment sends (default: the query result cap); then cut off with a warning. */
  readonly maxBytes?: number;
  /** Aggregates grouped by the operators only, never the fused loop: the reference tests compare the loop with. */
  readonly unfused?: boolean;
}

/** Groups or rows per NDJSON line: big enough to amortise JSON, small enough to stream. */
const LINE_ROWS = 4096;
const SLICE_MS = 20;

/** A cheap estimate of a value's JSON size (escapes aside): enough to size lines. */
function jsonBytes(v: unknown): number {
  if (typeof v === 'string') return v.length + 3;
  if (Array.isArray(v)) {
    let n = 2;
    for (const x of v) n += jsonBytes(x) + 1;
    return n;
  }
  if (typeof v === 'object' && v !== null) {
    let n = 2;
    for (const k in v) n += k.length + 4 + jsonBytes((v as Record<string, unknown>)[k]);
    return n;
  }
  return 12;
}

/**
 * Cuts `m` rows of column-major cells into runs of about LINE_BYTES: yields each run's row
 * count, columns (the arrays themselves when one run holds them all) and estimated bytes.
 */
function* byBytes(columns: readonly (readonly unknown[])[], m: number): Generator<[number, unknown[][], number]> {
  let start = 0;
  let bytes = 0;
  const run = (a: number, b: number): [number, unknown[][], number] => [b - a, columns.map((c) => (a === 0 && b === m ? (c as unknown[]) : c.slice(a, b))), bytes];
  for (let k = 0; k < m; k++) {
    let row = 0;
    for (const c of columns) row += jsonBytes(c[k]) + 1;
    if (k > start && bytes + row > LINE_BYTES) {
      yield run(start, k);
      start = k;
      bytes = 0;
    }
    bytes += row;
  }
  if (start < m) yield run(start, m);
}

function runtime(req: CheckedRequest, source: TableSource, ctx: FragmentContext, stats: ExecStats): Runtime {
  const first = leafSource(req.fragments[0]!.plan);
  let lastYield = performance.now();
  const check = (): void => {
    if (ctx.signal.aborted) {
      const r: unknown = ctx.signal.reason;
      throw r instanceof PxlError ? r : new PxlError('QUERY_CANCELLED', 'the partial query was cancelled');
    }
  };
  return {
    source,
    stats,
    metadata: ctx.metadata,
    timeBase: source.get(first.table)?.timeBaseNs() ?? first.startNs ?? 0n,
    nowNs: req.nowNs,
    async tick() {
      check();
      if (performance.now() - lastYield >= SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
        check();
      }
    },
  };
}

/** Runs every fragment of a checked request; the last line is `end` or `error`. */
export async function* runPartial(req: CheckedRequest, source: TableSource, ctx: FragmentContext): AsyncGenerator<PartialLine> {
  const started = performance.now();
  const stats: ExecStats = { rowsScanned: 0, bytesScanned: 0 };
  const warnings: Diagnostic[] = [];
  try {
    const rt = runtime(req, source, ctx, stats);
    for (const f of req.fragments) {
      const lookups = new Map<string, Map<string, string | number>>();
      const options = { fused: !ctx.unfused };
      if (f.plan.kind === 'agg') yield* partialAgg(f, f.plan, rt, options, lookups);
      else yield* rows(f, rt, options, ctx.maxRows, ctx.maxBytes ?? DEFAULT_MAX_BYTES, warnings, lookups);
      for (const [fn, table] of lookups) yield { t: 'lookup', fn, values: Object.fromEntries(table) };
    }
    yield { t: 'end', stats: { ...stats, executeMs: performance.now() - started }, warnings };
  } catch (e) {
    if (!(e instanceof PxlError)) throw e;
    yield { t: 'error', error: e.diagnostic };
  }
}

/** Distinct string values of one output column, fed to the lookups of a fragment. */
class LookupValues {
  private readonly values = new Map<string, Set<string>>();
  constructor(private readonly f: CheckedFragment) {
    for (const l of f.lookups) this.values.set(l.column, new Set());
  }
  get active(): boolean {
    return this.values.size > 0;
  }
  add(column: string, cells: readonly unknown[]): void {
    const s = this.values.get(column);
    if (s) for (const c of cells) s.add(String(c));
  }
  answer(md: MetadataView, into: Map<string, Map<string, string | number>>): void {
    for (const l of this.f.lookups) answerLookups(md, l.fns, this.values.get(l.column)!, into);
  }
}

async function* rows(f: CheckedFragment, rt: Runtime, options: PlanOptions, maxRows: number, maxBytes: number, warnings: Diagnostic[], lookups: Map<string, Map<string, string | number>>): AsyncGenerator<PartialLine> {
  const schema = f.plan.schema;
  const wanted = new LookupValues(f);
  let sent = 0;
  let bytes = 0;
  // Rows of a fragment travel whole to the broker, which keeps them: bounded in count and in
  // bytes (wide rows, 64 KiB of headers each, would otherwise make 100 000 rows gigabytes).
  const full = (): boolean => sent >= maxRows || bytes >= maxBytes;
  const plan = planPhysical({ outputs: [{ name: f.id, plan: f.plan }] }, rt, options).outputs[0]!.plan;
  for await (const ch of run(plan, rt)) {
    const live = liveRows(ch);
    for (let o = 0; o < live && !full(); o += LINE_ROWS) {
      const m = Math.min(LINE_ROWS, live - o, maxRows - sent);
      const sel = ch.sel ? ch.sel.subarray(o, o + m) : Int32Array.from({ length: m }, (_, k) => o + k);
      const data = schema.map((c, j) => encodeVec(ch.cols[j]!, c.type, sel, m, rt.timeBase));
      for (const [n, part, size] of byBytes(data, m)) {
        if (full()) break;
        if (wanted.active) schema.forEach((c, j) => wanted.add(c.name, part[j]!));
        sent += n;
        bytes += size;
        yield { t: 'rows', fragment: f.id, n, data: part as WireCell[][] };
      }
    }
    if (full()) {
      warnings.push({
        severity: 'warning',
        code: 'RESULT_TRUNCATED',
        message: `fragment ${f.id} was cut off at ${sent} rows on this engine (limits: ${maxRows} rows, ${maxBytes} bytes)`,
        hints: ['aggregate, filter or head() the data frame before px.display'],
      });
      break;
    }
  }
  wanted.answer(rt.metadata, lookups);
}

async function* partialAgg(f: CheckedFragment, plan: Extract<LogicalPlan, { kind: 'agg' }>, rt: Runtime, options: PlanOptions, lookups: Map<string, Map<string, string | number>>): AsyncGenerator<PartialLine> {
  const { n, keys, states } = await aggGroups(planAgg(plan, rt, options), rt);
  try {
    if (n === 0) return;
    const keyTypes = plan.groups.map((g) => plan.input.schema.find((c) => c.name === g)!.type);
    const argTypes = plan.aggs.map((a) => a.args[0]?.type ?? 'INT64');
    const wanted = new LookupValues(f);
    for (let o = 0; o < n; o += LINE_ROWS) {
      const m = Math.min(LINE_ROWS, n - o);
      const sel = Int32Array.from({ length: m }, (_, k) => o + k);
      const keyCells = keys.map((v, j) => encodeVec(v, keyTypes[j]!, sel, m, rt.timeBase));
      if (wanted.active) plan.groups.forEach((g, j) => wanted.add(g, keyCells[j]!));
      const partials = states.map((s, a) => {
        const out = new Array<unknown>(m);
        for (let k = 0; k < m; k++) out[k] = encodePartial(plan.aggs[a]!.fn, argTypes[a]!, s.partial(o + k), rt.timeBase);
        return out;
      });
      for (const [n, part] of byBytes([...keyCells, ...partials], m)) {
        yield { t: 'groups', fragment: f.id, n, keys: part.slice(0, keyCells.length) as WireCell[][], partials: part.slice(keyCells.length) };
      }
      await rt.tick();
    }
    wanted.answer(rt.metadata, lookups);
  } finally {
    // Also when the request is aborted mid-answer: quantile arenas go back for later queries.
    for (const s of states) s.release?.();
  }
}
