/*
 * The engine's shared vocabulary, on the ground floor: column types, fields, table schemas and
 * rows, spoken by the HTTP stage that produces rows, the store that keeps them, the PxL planner
 * and executor that read them and the API that describes them. It imports nothing.
 */

/**
 * A column's storage type. Names follow Pixie's `DataType` enum so that `/api/v1/schema` and
 * result tables read the same as Pixie's.
 */
export type DataType = 'BOOLEAN' | 'INT64' | 'FLOAT64' | 'STRING' | 'TIME64NS' | 'UINT128';

/**
 * What a value means, beyond its storage type. Grafana units are derived from it
 * (ST_DURATION_NS → "ns", ST_PERCENT → "percentunit", ST_BYTES → "bytes").
 */
export type SemanticType =
  | 'ST_NONE'
  | 'ST_DURATION_NS'
  | 'ST_PERCENT'
  | 'ST_BYTES'
  | 'ST_THROUGHPUT_PER_NS'
  | 'ST_THROUGHPUT_BYTES_PER_NS'
  | 'ST_QUANTILES'
  | 'ST_UPID'
  | 'ST_POD_NAME'
  | 'ST_SERVICE_NAME'
  | 'ST_NAMESPACE_NAME'
  | 'ST_NODE_NAME'
  | 'ST_IP_ADDRESS'
  | 'ST_PORT'
  | 'ST_HTTP_REQ_METHOD'
  | 'ST_HTTP_RESP_STATUS'
  | 'ST_HTTP_RESP_MESSAGE'
  | 'ST_CONTAINER_NAME'
  | 'ST_POD_STATUS'
  | 'ST_CONTAINER_STATUS'
  | 'ST_SCRIPT_REFERENCE';

/** One column of a table schema. */
export interface Field {
  readonly name: string;
  readonly type: DataType;
  readonly semantic?: SemanticType;
  readonly doc?: string;
}

/** A named table with its columns; `time_` (TIME64NS) is the ordering column when present. */
export interface TableSchema {
  readonly name: string;
  readonly fields: readonly Field[];
  readonly doc?: string;
}

/**
 * One row as produced by a producer (the HTTP stitcher) and appended to a table.
 * TIME64NS and INT64 values are bigint or number (numbers must be safe integers); UINT128 and
 * STRING are strings; BOOLEAN is boolean.
 */
export type RowValue = bigint | number | string | boolean;
export type Row = Readonly<Record<string, RowValue>>;

/**
 * Rows of one column as a producer (the HTTP stage) hands them to a table at once, the columnar
 * counterpart of Row: numbers as a typed array, TIME64NS as a bigint base plus exact offsets,
 * strings as codes into the batch's own table of distinct strings. INT64 values must be safe
 * integers.
 */
export type ColumnInput =
  | { readonly kind: 'time'; readonly base: bigint; readonly data: Float64Array }
  | { readonly kind: 'f64'; readonly data: Float64Array }
  | { readonly kind: 'bool'; readonly data: Uint8Array }
  | { readonly kind: 'dict'; readonly codes: Uint32Array; readonly dict: readonly string[] };
