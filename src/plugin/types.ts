import type { DataQuery, DataSourceJsonData } from '@grafana/data';

/** One panel query: a PxL script and, when it displays several tables, the one to show. */
export interface WispQuery extends DataQuery {
  script: string;
  /** Name given to `px.display(df, name)`; empty shows every output. */
  output?: string;
  /** Id of the preset the script came from, kept so the picker can show it. */
  preset?: string;
  /**
   * `table` keeps outputs as tables even when they have `time_` and label columns; `logs` turns
   * raw rows (a `time_` column, not a time series) into log lines. `auto` does that in Explore.
   */
  format?: QueryFormat;
  /**
   * Variable values captured when a panel's query is opened in Explore, where the dashboard's
   * variables no longer exist; variables of the current context take precedence.
   */
  variables?: Record<string, string | string[]>;
  /**
   * Filters of this query alone ("filter for value" on a log line or a table cell in Explore),
   * sent with the dashboard's ad hoc filters in the request's `adhocFilters`.
   */
  adhocFilters?: AdhocFilter[];
  /**
   * Run this function of the script with these arguments (Pixie's script libraries) instead of
   * its `px.display` calls. Argument values may hold dashboard variables.
   */
  function?: FunctionCall;
  /** The column picker: what `$__columns` in the script stands for (empty: every column). */
  columns?: string[];
  /**
   * Run as a stream (`stream: true`): the panel keeps updating with rows as they are captured
   * and windows as they close (src/plugin/README.md, "Stream").
   */
  stream?: boolean;
}

/** A function of the script and its arguments as text (the engine reads each as its parameter's type). */
export interface FunctionCall {
  name: string;
  args: Record<string, string>;
}

/** How a query's outputs become frames (src/plugin/README.md, "Frames"). */
export type QueryFormat = 'auto' | 'table' | 'logs';

/** A dashboard-variable query: a script whose first column lists the values. */
export interface WispVariableQuery extends DataQuery {
  script: string;
  preset?: string;
}

/** Non-secret datasource settings (jsonData). The route in plugin.json reads `engineUrl`. */
export interface WispOptions extends DataSourceJsonData {
  engineUrl?: string;
}

/** Secret settings; Grafana keeps them server-side and the route injects them. */
export interface WispSecureJsonData {
  token?: string;
}

/** The script a new query starts with. */
export const DEFAULT_SCRIPT = `import px

df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby('timestamp').agg(requests=('latency', px.count))
df.time_ = df.timestamp
px.display(df[['time_', 'requests']], 'requests')
`;

/** Defaults Grafana merges into a new query. */
export const DEFAULT_QUERY: Partial<WispQuery> = { script: DEFAULT_SCRIPT };

// ---- the engine API (docs/api.md), as the plugin sees it ----

/** Column types the engine reports. */
type ColumnType = 'BOOLEAN' | 'INT64' | 'UINT128' | 'FLOAT64' | 'STRING' | 'TIME64NS';

/** One column's header in a result table. */
export interface ApiColumn {
  name: string;
  type: ColumnType;
  semantic?: string;
}

/** A cell as encoded on the wire: 64-bit integers and times as decimal strings. */
export type ApiValue = string | number | boolean | null;

/** One `px.display` output, column-major. */
export interface ApiTable {
  name: string;
  columns: ApiColumn[];
  rowCount: number;
  data: ApiValue[][];
}

/** 1-based, end exclusive. */
export interface ApiSpan {
  start: { line: number; column: number };
  end: { line: number; column: number };
}

/** An error or warning about a script. */
export interface ApiDiagnostic {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  span?: ApiSpan;
  hints?: string[];
}

/** Operators of Grafana's ad hoc filters the engine applies; `=|` / `!=|` take `values`. */
export const ADHOC_OPERATORS = ['=', '!=', '<', '>', '<=', '>=', '=~', '!~', '=|', '!=|'] as const;

/** One ad hoc filter as `adhocFilters` of the query request carries it. */
export interface AdhocFilter {
  key: string;
  operator: (typeof ADHOC_OPERATORS)[number];
  value?: string;
  values?: string[];
}

/** Body of `POST /api/v1/query`. */
export interface QueryRequest {
  script: string;
  range?: { from: number; to: number };
  intervalMs?: number;
  maxDataPoints?: number;
  variables?: Record<string, string | string[]>;
  adhocFilters?: AdhocFilter[];
  function?: FunctionCall;
  columns?: string[];
  stream?: boolean;
  cursor?: string;
}

/** One function a script defines, as `POST /api/v1/functions` lists it. */
export interface ScriptFunction {
  name: string;
  /** First line of its docstring. */
  doc: string;
  /** `type` as annotated (`str`, `px.Service`) or read from the default; no `default`: required. */
  params: Array<{ name: string; type: string; default?: string }>;
}

/** The engine's accounting of one query; the broker adds `engines` and `bytesReceived`. */
export interface QueryStats {
  compileMs?: number;
  executeMs?: number;
  rowsScanned?: number;
  bytesScanned?: number;
  engines?: { queried: number; pruned: number; failed: number };
  bytesReceived?: number;
}

/** Successful answer of `POST /api/v1/query`. */
export interface QueryResponse {
  tables: ApiTable[];
  stats?: QueryStats;
  warnings?: ApiDiagnostic[];
  /** The request's ad hoc filters, each with the tables whose DataFrames it narrowed. */
  adhocFilters?: Array<AdhocFilter & { appliedTo: string[] }>;
}

/** A table of a stream batch; a windowed output's says which windows it closes. */
interface StreamTable extends ApiTable {
  window?: { from: string | null; to: string };
}

/** One line of a streamed answer (docs/api.md, "Streaming"). */
export type StreamLine =
  | { t: 'start'; outputs: Array<{ name: string; mode: 'rows' | 'windows'; windowNs?: string }>; cursor: string; warnings: ApiDiagnostic[] }
  | { t: 'batch'; tables: StreamTable[]; cursor: string }
  | { t: 'live'; cursor: string }
  | { t: 'heartbeat'; cursor: string }
  | { t: 'warning'; warning: ApiDiagnostic; rows?: number }
  | { t: 'error'; error: ApiDiagnostic };

/** `GET /api/v1/schema`: what the editor completes. */
export interface SchemaResponse {
  tables: Array<{ name: string; doc?: string; columns: Array<ApiColumn & { doc?: string }> }>;
  functions: Array<{
    name: string;
    kind?: string;
    signatures?: Array<{ args: string[]; ret: string }>;
    doc?: string;
  }>;
  macros: Array<{ name: string; doc?: string }>;
  ctx: string[];
}

/** `GET /readyz`. */
export interface ReadyzResponse {
  ready: boolean;
  version?: string;
  checks?: Array<{ name: string; ok: boolean; detail?: string }>;
  capture?: { running: boolean; events: number; drops?: Record<string, number> };
  tables?: Record<string, { rows: number; bytes: number; droppedRows?: number }>;
}
