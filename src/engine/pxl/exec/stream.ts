import type { MetadataView } from '../../meta/types.js';
import type { SeqRange } from '../../store/table.js';
import { PxlError } from '../diagnostic.js';
import { forEachPlanNode, mapInputs, type LogicalPlan, type Program } from '../plan/logical.js';
import { execute, type QueryResult } from './execute.js';
import type { ScannableTable, TableSource } from './runtime.js';

/*
 * Streaming queries (`stream: true`, PxL's `df.stream()`): a program run again and again over
 * what is new. An output of rows (sources, filters, maps, unions: each row stands alone) runs
 * over the rows appended since the last step, read by sequence number, so each row is sent
 * once; an output of aggregates grouped by `px.bin(df.time_, W)` runs over each window
 * [kW, (k+1)W) once it has closed (its end `graceNs` in the past), so each window is sent once
 * and complete. Anything else (a merge of raw rows, head(), an aggregate over all time) has no
 * meaning as a stream and is refused when the stream starts.
 */

/** A table a stream reads by sequence number: the store's `Table` satisfies it. */
interface StreamableTable extends ScannableTable {
  nextSeq(): number;
  since(seq: number, maxRows: number): SeqRange;
}

/** Where a stream's tables come from: the store satisfies it. */
export interface StreamTableSource extends TableSource {
  get(name: string): StreamableTable | undefined;
}

/** How one output streams. */
export type OutputMode = { readonly kind: 'rows' } | { readonly kind: 'windows'; readonly widthNs: bigint };

/** Where a stream stands: per table, the next row to read; per windowed output, the end of the last window sent. */
export interface StreamPosition {
  readonly seqs: Readonly<Record<string, number>>;
  readonly windows: Readonly<Record<string, bigint>>;
}

/** What one step produced. */
export interface StreamStep {
  /** Results of this step; a windowed output's with the windows it covers (fromNs null: from the script's start). */
  readonly results: readonly { readonly result: QueryResult; readonly window?: { readonly fromNs: bigint | null; readonly toNs: bigint } }[];
  /** Rows of a table the stream should have read but the store no longer held. */
  readonly missed: readonly { readonly table: string; readonly rows: number }[];
  /** Every table was read up to its newest row. */
  readonly caughtUp: boolean;
}

/** Options of a stream. */
export interface StreamOptions {
  readonly metadata: MetadataView;
  /** Rows read per table and step (default 4096): bounds one step's work and answer. */
  readonly stepRows?: number;
  /** How long after its end a window is taken as closed (default 1 s): rows reach the store after they end. */
  readonly graceNs?: bigint;
}

const DEFAULT_STEP_ROWS = 4096;
const DEFAULT_GRACE_NS = 1_000_000_000n;

function unsupported(message: string, hint: string): PxlError {
  return new PxlError('PXL_STREAM_UNSUPPORTED', message, undefined, [hint]);
}

const WINDOW_HINT = "group by a px.bin window, e.g. df.timestamp = px.bin(df.time_, px.DurationNanos(10 * 1000 * 1000 * 1000)); df.groupby(['timestamp', 'service']).agg(...)";

/** The width of the `px.bin(time_, W)` column `name` is, traced down through filters, maps and renames; null when it is not one. */
function binWidth(p: LogicalPlan, name: string): bigint | null {
  for (;;) {
    if (p.kind === 'filter') {
      p = p.input;
      continue;
    }
    if (p.kind !== 'map') return null;
    const x = p.exprs.find((e) => e.name === name);
    if (!x) return null;
    const e = x.expr;
    if (e.kind === 'column') {
      name = e.name;
      p = p.input;
      continue;
    }
    if (e.kind !== 'call' || e.fn !== 'bin') return null;
    const [t, w] = e.args;
    if (t?.kind !== 'column' || t.name !== 'time_' || w?.kind !== 'literal') return null;
    const width = BigInt(w.value as bigint | number);
    return width > 0n ? width : null;
  }
}

function shapeOf(p: LogicalPlan): OutputMode {
  switch (p.kind) {
    case 'source':
      return { kind: 'rows' };
    case 'filter':
    case 'map':
      return shapeOf(p.input);
    case 'limit':
      throw unsupported('head() has no meaning on a stream, whose rows never end', 'drop head(), or run the script without stream');
    case 'agg': {
      if (shapeOf(p.input).kind !== 'rows') throw unsupported('an aggregate over aggregates cannot stream', WINDOW_HINT);
      const widths = p.groups.map((g) => binWidth(p.input, g)).filter((w): w is bigint => w !== null);
      if (widths.length === 0) throw unsupported('an aggregate streams only when it groups by a px.bin(df.time_, ...) window', WINDOW_HINT);
      return { kind: 'windows', widthNs: widths[0]! };
    }
    case 'join':
    case 'union': {
      const shapes = (p.kind === 'join' ? [p.left, p.right] : p.inputs).map(shapeOf);
      const first = shapes[0]!;
      const same = shapes.every((s) => s.kind === first.kind && (s.kind === 'rows' || (first.kind === 'windows' && s.widthNs === first.widthNs)));
      if (!same) throw unsupported(`the inputs of a ${p.kind === 'join' ? 'merge' : 'append'} must all be rows, or all windows of one width, to stream`, WINDOW_HINT);
      if (p.kind === 'join' && first.kind === 'rows') {
        throw unsupported('a merge of raw rows cannot stream: rows arriving at different times would never meet', 'merge windowed aggregates instead, or stream the rows and merge them on the client');
      }
      return first;
    }
  }
}

/** How each output of the program streams; throws PXL_STREAM_UNSUPPORTED for an output that cannot. */
export function streamModes(program: Program): OutputMode[] {
  return program.outputs.map((o) => {
    try {
      return shapeOf(o.plan);
    } catch (e) {
      if (e instanceof PxlError) throw new PxlError(e.diagnostic.code, `output '${o.name}': ${e.diagnostic.message}`, undefined, e.diagnostic.hints);
      throw e;
    }
  });
}

/** The plan with every source's range replaced: from max(its start, `fromNs`) to `toNs` (null: unbounded). */
function withRange(plan: LogicalPlan, fromNs: bigint | null, toNs: bigint | null): LogicalPlan {
  const memo = new Map<LogicalPlan, LogicalPlan>();
  const go = (p: LogicalPlan): LogicalPlan => {
    let done = memo.get(p);
    if (!done) {
      if (p.kind === 'source') {
        const start = fromNs === null ? p.startNs : p.startNs === null || p.startNs < fromNs ? fromNs : p.startNs;
        done = { ...p, startNs: start, endNs: toNs };
      } else {
        done = mapInputs(p, go);
      }
      memo.set(p, done);
    }
    return done;
  };
  return go(plan);
}

/** The tables the plans read. */
function tablesOf(plans: readonly LogicalPlan[]): string[] {
  const names = new Set<string>();
  forEachPlanNode(plans, (p) => {
    if (p.kind === 'source') names.add(p.table);
  });
  return [...names];
}

/** A table source that scans only the given batches of each table (the rows of one step). */
function stepSource(source: StreamTableSource, ranges: ReadonlyMap<string, SeqRange>): TableSource {
  return {
    get(name) {
      const table = source.get(name);
      const range = ranges.get(name);
      if (!table || !range) return table;
      const hasTime = table.schema.fields.some((f) => f.name === 'time_' && f.type === 'TIME64NS');
      return {
        schema: table.schema,
        timeBaseNs: () => table.timeBaseNs(),
        *scan(startNs, endNs) {
          for (const b of range.batches) {
            if (hasTime && ((startNs !== null && b.maxTime < startNs) || (endNs !== null && b.minTime >= endNs))) continue;
            yield b;
          }
        },
      };
    },
  };
}

/**
 * One streaming query over a store: each `step` sends what is new since the last one. It
 * starts at `resume` when given (a client's cursor), else with every stored row the script
 * selects and every window closed so far.
 */
export class StreamQuery {
  readonly modes: readonly OutputMode[];
  private readonly seqs = new Map<string, number>();
  private readonly windows = new Map<string, bigint>();
  private readonly rowsProgram: Program;
  private readonly rowTables: readonly string[];
  private readonly windowOutputs: readonly { readonly name: string; readonly plan: LogicalPlan; readonly widthNs: bigint }[];
  private readonly stepRows: number;
  private readonly graceNs: bigint;

  constructor(
    program: Program,
    private readonly source: StreamTableSource,
    private readonly options: StreamOptions,
    resume?: StreamPosition,
  ) {
    this.modes = streamModes(program);
    const rows = program.outputs.filter((_, i) => this.modes[i]!.kind === 'rows');
    // A row's time is when its response completed; a live row is new whatever its time, so
    // only the script's start bounds the rows.
    this.rowsProgram = { outputs: rows.map((o) => ({ name: o.name, plan: withRange(o.plan, null, null) })) };
    this.rowTables = tablesOf(rows.map((o) => o.plan));
    this.windowOutputs = program.outputs.flatMap((o, i) => {
      const m = this.modes[i]!;
      return m.kind === 'windows' ? [{ name: o.name, plan: o.plan, widthNs: m.widthNs }] : [];
    });
    this.stepRows = options.stepRows ?? DEFAULT_STEP_ROWS;
    this.graceNs = options.graceNs ?? DEFAULT_GRACE_NS;
    if (resume) {
      for (const t of this.rowTables) if (resume.seqs[t] !== undefined) this.seqs.set(t, resume.seqs[t]!);
      for (const o of this.windowOutputs) if (resume.windows[o.name] !== undefined) this.windows.set(o.name, resume.windows[o.name]!);
    }
  }

  /** Where the stream stands after the last step: a cursor resumes from here. */
  position(): StreamPosition {
    return { seqs: Object.fromEntries(this.seqs), windows: Object.fromEntries(this.windows) };
  }

  /** Reads what is new (at most `stepRows` rows per table) and every window closed by `nowNs`. */
  async step(nowNs: bigint, signal: AbortSignal): Promise<StreamStep> {
    const results: { result: QueryResult; window?: { fromNs: bigint | null; toNs: bigint } }[] = [];
    const missed: { table: string; rows: number }[] = [];
    let caughtUp = true;
    const ranges = new Map<string, SeqRange>();
    for (const name of this.rowTables) {
      const table = this.source.get(name);
      if (!table) continue;
      const at = this.seqs.get(name);
      const r = table.since(at ?? 0, this.stepRows);
      if (at !== undefined && r.from > at) missed.push({ table: name, rows: r.from - at });
      this.seqs.set(name, r.to);
      if (r.to < table.nextSeq()) caughtUp = false;
      if (r.to > r.from) ranges.set(name, r);
    }
    if (ranges.size > 0) {
      results.push({ result: await execute(this.rowsProgram, stepSource(this.source, ranges), { metadata: this.options.metadata, signal, nowNs }) });
    }
    for (const o of this.windowOutputs) {
      const closed = ((nowNs - this.graceNs) / o.widthNs) * o.widthNs;
      const from = this.windows.get(o.name) ?? null;
      if (from !== null && closed <= from) continue;
      const program = { outputs: [{ name: o.name, plan: withRange(o.plan, from, closed) }] };
      const result = await execute(program, this.source, { metadata: this.options.metadata, signal, nowNs });
      this.windows.set(o.name, closed);
      results.push({ result, window: { fromNs: from, toNs: closed } });
    }
    return { results, missed, caughtUp };
  }
}
