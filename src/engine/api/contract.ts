import type { LanguageSchema } from '../pxl/compile.js';
import type { Diagnostic } from '../pxl/diagnostic.js';
import type { AdhocFilter, AdhocFilterReport } from '../pxl/plan/adhoc.js';
import type { ScriptFunction } from '../pxl/plan/invoke.js';
import type { DataType, SemanticType } from '../schema.js';

/**
 * JSON shapes of the engine API (docs/api.md). The broker serves the same shapes; the plugin
 * keeps its own copy of them and depends on docs/api.md only.
 */

export interface QueryRequest {
  readonly script: string;
  readonly range?: { readonly from: number; readonly to: number };
  readonly intervalMs?: number;
  readonly maxDataPoints?: number;
  readonly variables?: Readonly<Record<string, string | readonly string[]>>;
  /** Grafana's ad hoc filters: applied to the script's DataFrame sources, never to its text. */
  readonly adhocFilters?: readonly AdhocFilter[];
  /** True: answer with the physical plan the script would run (ExplainResponse); nothing runs. */
  readonly explain?: boolean;
  /**
   * Run this function of the script with these arguments (text, read as each parameter's type)
   * instead of reading its `px.display` calls; the function's result is the output, named after it.
   */
  readonly function?: { readonly name: string; readonly args?: Readonly<Record<string, string>> };
  /** The editor's column picker: what `$__columns` stands for (absent: every column). */
  readonly columns?: readonly string[];
  /** True: answer with an NDJSON stream of StreamLine, stored rows first, then new ones as they come. */
  readonly stream?: boolean;
  /** With `stream`: resume after the batch that carried this cursor. */
  readonly cursor?: string;
}

/** `POST /api/v1/functions`: the functions a script defines, for the editor to offer. */
export interface FunctionsResponse {
  readonly functions: readonly ScriptFunction[];
}

/** A JSON cell: INT64/TIME64NS as decimal strings, FLOAT64 numbers or "NaN"/"±Infinity". */
export type Cell = string | number | boolean;

/** One output table, column-major (`data[i]` holds the values of `columns[i]`), cells as in docs/api.md. */
export interface ResultTable {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: DataType; readonly semantic: SemanticType }[];
  readonly rowCount: number;
  readonly data: readonly (readonly Cell[])[];
}

interface QueryStats {
  readonly compileMs: number;
  readonly executeMs: number;
  readonly rowsScanned: number;
  readonly bytesScanned: number;
  /** Broker only: engines asked, skipped by metadata pruning, and failed or cut at the timeout. */
  readonly engines?: { readonly queried: number; readonly pruned: number; readonly failed: number };
  /** Broker only: response bytes received from the engines. */
  readonly bytesReceived?: number;
}

/** What an engine says about itself to a broker (`GET /api/v1/node`): docs/api.md, docs/broker.md. */
export type { NodeInfo } from '../pxl/distributed/wire/messages.js';

export interface QueryResponse {
  readonly tables: readonly ResultTable[];
  readonly stats: QueryStats;
  readonly warnings: readonly Diagnostic[];
  /** The request's ad hoc filters, each with the tables it narrowed; only when it sent some. */
  readonly adhocFilters?: readonly AdhocFilterReport[];
}

/** `POST /api/v1/query` with `explain: true`: the physical plan as text, one node a line. */
export interface ExplainResponse {
  readonly plan: string;
  readonly warnings: readonly Diagnostic[];
}

export interface ErrorResponse {
  readonly error: Diagnostic;
}

interface ReadyCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReadyResponse {
  readonly ready: boolean;
  readonly version: string;
  readonly checks: readonly ReadyCheck[];
  readonly capture: { readonly running: boolean; readonly events: number; readonly drops: Readonly<Record<string, number>> };
  readonly tables: Readonly<Record<string, { readonly rows: number; readonly bytes: number; readonly droppedRows: number }>>;
}

/** `GET /api/v1/schema`: the tables, then the language as the compiler describes it. */
export interface SchemaResponse extends LanguageSchema {
  readonly tables: readonly {
    readonly name: string;
    readonly doc: string;
    readonly columns: readonly { readonly name: string; readonly type: DataType; readonly semantic: SemanticType; readonly doc: string }[];
  }[];
}

/** A table of a stream batch; a windowed output's also says which windows it closes (`from` null: from the script's start). */
export interface StreamTable extends ResultTable {
  readonly window?: { readonly from: string | null; readonly to: string };
}

/** One line of a streamed answer (`stream: true`, docs/api.md "Streaming"). */
export type StreamLine =
  | {
      readonly t: 'start';
      readonly outputs: readonly { readonly name: string; readonly mode: 'rows' | 'windows'; readonly windowNs?: string }[];
      readonly cursor: string;
      readonly warnings: readonly Diagnostic[];
    }
  | { readonly t: 'batch'; readonly tables: readonly StreamTable[]; readonly cursor: string }
  | { readonly t: 'live'; readonly cursor: string }
  | { readonly t: 'heartbeat'; readonly cursor: string }
  | { readonly t: 'warning'; readonly warning: Diagnostic; readonly rows?: number }
  | { readonly t: 'error'; readonly error: Diagnostic };
