import type { DataType } from '../../../schema.js';
import type { Diagnostic } from '../../diagnostic.js';

/**
 * The JSON forms that travel between the broker and the engines (docs/broker.md): plan
 * fragments (`POST /api/v1/partial` bodies) and the NDJSON lines engines answer with. Schemas
 * are not sent: the engine recomputes them while validating, so a fragment cannot lie about
 * its types.
 */

/** A literal: INT64/TIME64NS as `{big}` (exact), non-finite FLOAT64 as `{f}`. */
export type WireLiteral = boolean | number | string | { readonly big: string } | { readonly f: 'NaN' | 'Infinity' | '-Infinity' };

export type WireExpr =
  | { readonly kind: 'column'; readonly name: string; readonly type: DataType }
  | { readonly kind: 'literal'; readonly type: DataType; readonly value: WireLiteral }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly WireExpr[]; readonly type: DataType };

export interface WireAgg {
  readonly name: string;
  readonly fn: string;
  readonly args: readonly WireExpr[];
  readonly type: DataType;
}

/** A leaf pipeline: source, filters and maps, topped by at most one agg (partial) or limit. */
export type WirePlan =
  | { readonly kind: 'source'; readonly table: string; readonly columns: readonly string[]; readonly startNs: string | null; readonly endNs: string | null }
  | { readonly kind: 'filter'; readonly input: WirePlan; readonly predicate: WireExpr }
  | { readonly kind: 'map'; readonly input: WirePlan; readonly exprs: readonly { readonly name: string; readonly expr: WireExpr }[] }
  | { readonly kind: 'agg'; readonly input: WirePlan; readonly groups: readonly string[]; readonly aggs: readonly WireAgg[] }
  | { readonly kind: 'limit'; readonly input: WirePlan; readonly n: number };

/**
 * A metadata lookup the broker needs answered for the values of one output column: `fns` are
 * applied in order (`ip_to_pod_id` then `pod_id_to_pod_name`), each step's answers reported.
 */
export interface LookupSpec {
  readonly column: string;
  readonly fns: readonly string[];
}

/** One fragment of a `POST /api/v1/partial` request. */
export interface WireFragment {
  readonly id: string;
  readonly plan: WirePlan;
  readonly lookups: readonly LookupSpec[];
}

/** The body of `POST /api/v1/partial`. */
export interface PartialRequest {
  /** `px.now()` of the query, epoch ns as a decimal string. */
  readonly nowNs: string;
  readonly fragments: readonly WireFragment[];
}

/**
 * About how many bytes an answer line may carry: wide rows (64 KiB of headers each) would otherwise make
 * lines of hundreds of MiB, which the broker refuses past its line cap. One row always fits.
 */
export const LINE_BYTES = 1 << 20;

/** A JSON cell in the exact API encoding (docs/api.md). */
export type WireCell = string | number | boolean;

/** The NDJSON lines of a `POST /api/v1/partial` response, in order per fragment. */
export type PartialLine =
  /** Leaf rows (no aggregate in the fragment): column-major, the fragment's output columns. */
  | { readonly t: 'rows'; readonly fragment: string; readonly n: number; readonly data: readonly (readonly WireCell[])[] }
  /** Groups of a partial aggregate: key columns (the `groups` order), one partial per agg and group. */
  | { readonly t: 'groups'; readonly fragment: string; readonly n: number; readonly keys: readonly (readonly WireCell[])[]; readonly partials: readonly (readonly unknown[])[] }
  /** Answers of metadata function `fn` for the values the fragment produced. */
  | { readonly t: 'lookup'; readonly fn: string; readonly values: Readonly<Record<string, string | number>> }
  /** The last line of a complete answer. */
  | { readonly t: 'end'; readonly stats: { readonly rowsScanned: number; readonly bytesScanned: number; readonly executeMs: number }; readonly warnings: readonly Diagnostic[] }
  /** The engine failed after it started answering. */
  | { readonly t: 'error'; readonly error: Diagnostic };

/** Engine facts the broker prunes by (`GET /api/v1/node`); absent lists mean "unknown, may hold any". */
export interface NodeInfo {
  readonly node: string;
  readonly namespaces?: readonly string[];
  readonly pods?: readonly string[];
  readonly services?: readonly string[];
}
