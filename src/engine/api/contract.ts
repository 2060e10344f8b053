import type { LanguageSchema } from '../pxl/compile.js';
import type { Diagnostic } from '../pxl/diagnostic.js';
import type { DataType, SemanticType } from '../store/types.js';

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
}

/** One column's values as JSON: INT64/TIME64NS decimal strings, FLOAT64 numbers or "NaN"/"±Infinity". */
export type JsonColumn = readonly (string | number | boolean | null)[];

export interface ResultColumn {
  readonly name: string;
  readonly type: DataType;
  readonly semantic: SemanticType;
}

export interface ResultTable {
  readonly name: string;
  readonly columns: readonly ResultColumn[];
  readonly rowCount: number;
  readonly data: readonly JsonColumn[];
}

export interface QueryStats {
  readonly compileMs: number;
  readonly executeMs: number;
  readonly rowsScanned: number;
  readonly bytesScanned: number;
}

export interface QueryResponse {
  readonly tables: readonly ResultTable[];
  readonly stats: QueryStats;
  readonly warnings: readonly Diagnostic[];
}

export interface ErrorResponse {
  readonly error: Diagnostic;
}

export interface ReadyCheck {
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
