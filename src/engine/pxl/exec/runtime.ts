import type { MetadataView } from '../../meta/types.js';
import type { TableSchema } from '../../schema.js';
import type { ColumnBatch } from '../../store/table.js';

/*
 * What a query runs against and with: the tables it scans and the per-query state every
 * operator shares. A leaf of the executor: the planner, the operators, the fused loop and the
 * expression evaluator all import it, and it imports none of them.
 */

/** A table the executor can scan: the store's `Table` satisfies it. */
export interface ScannableTable {
  readonly schema: TableSchema;
  scan(startNs: bigint | null, endNs: bigint | null): Iterable<ColumnBatch>;
  timeBaseNs(): bigint | null;
}

/** Where tables come from: the store's `Store` satisfies it. */
export interface TableSource {
  get(name: string): ScannableTable | undefined;
}

/** Counters a query accumulates. */
export interface ExecStats {
  rowsScanned: number;
  bytesScanned: number;
}

/** What expression evaluation needs besides the chunk. */
export interface EvalEnv {
  /** TIME64NS values held as numbers are offsets from this (exactly: base + offset). */
  readonly timeBase: bigint;
  readonly metadata: MetadataView;
  /** `px.now()`: wall-clock ns fixed for the whole query. */
  readonly nowNs: bigint;
}

/** Per-query state shared by the operators. */
export interface Runtime extends EvalEnv {
  readonly source: TableSource;
  readonly stats: ExecStats;
  /** Yields to the event loop when the time slice is used up; throws when cancelled. */
  tick(): Promise<void>;
  /** Rows a merge may produce, or hold on either side (default DEFAULT_MAX_JOIN_ROWS). */
  readonly maxJoinRows?: number;
  /** Groups an aggregate may hold (default groups.ts's DEFAULT_MAX_GROUPS). */
  readonly maxGroups?: number;
}
