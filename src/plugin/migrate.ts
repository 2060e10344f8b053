import type { DataQuery } from '@grafana/data';

import { distinctCtx } from './presets.js';
import type { WispQuery, WispVariableQuery } from './types.js';

/**
 * Queries saved by Pixie's Grafana plugin (pixie-io/grafana-plugin), loaded as Wisp queries, so
 * a Pixie dashboard switched to this datasource opens with its scripts in place. The script is
 * kept as written: Wisp runs Pixie's PxL and macros (`__time_from`, `__time_to`, `__interval`;
 * `$__from`/`$__to` as start_time=/end_time=, `$__interval` in ns) itself. Only Pixie's
 * editor-made parts are written out once, as Pixie's plugin wrote them before sending: the
 * `$__columns` macro of its column picker and the group-by of its group-by picker.
 */

/** A column option of Pixie's pickers. */
interface PixieOption {
  label?: string;
}

/** The query model Pixie's plugin saves in panel targets. */
export interface PixieQuery extends DataQuery {
  queryType?: string;
  queryBody?: { pxlScript?: string; clusterID?: string };
  queryMeta?: {
    isColDisplay?: boolean;
    isGroupBy?: boolean;
    columnOptions?: PixieOption[];
    selectedColDisplay?: PixieOption[];
    selectedColGroupby?: PixieOption[];
    aggData?: Array<{ aggColumn: string; aggFunction: string }>;
  };
}

/** Pixie's variable queries: a query type listing clusters, pods, services, namespaces or nodes. */
export interface PixieVariableQuery {
  queryType?: string;
  queryBody?: { clusterID?: string; pxlScript?: string };
}

const RUN_SCRIPT = 'run-script';

/** A panel query of Pixie's plugin: its script lives in `queryBody.pxlScript`. */
export function isPixieQuery(q: unknown): q is PixieQuery {
  if (typeof q !== 'object' || q === null || typeof (q as { script?: unknown }).script === 'string') {
    return false;
  }
  const body = (q as PixieQuery).queryBody;
  return typeof body === 'object' && body !== null && typeof body.pxlScript === 'string';
}

const quoted = (opts: PixieOption[] | undefined) => (opts ?? []).map((o) => `'${o.label ?? ''}'`).join(',');

/** Pixie's `$__columns`: the columns chosen in its picker, or all of them when none are. */
function columnsMacro(meta: NonNullable<PixieQuery['queryMeta']>): string {
  return quoted(meta.isColDisplay && meta.selectedColDisplay?.length ? meta.selectedColDisplay : meta.columnOptions);
}

/** Pixie's group-by picker: the script from its last px.display on becomes a group-by and agg. */
function groupByTail(meta: NonNullable<PixieQuery['queryMeta']>): string {
  const groups = meta.selectedColGroupby ?? [];
  if (groups.length === 0) {
    return 'px.display(df)';
  }
  const aggs = (meta.aggData ?? []).map((a) => `${a.aggColumn}_${a.aggFunction}=('${a.aggColumn}', px.${a.aggFunction})`);
  return `df = df.groupby([${quoted(groups)}]).agg(${aggs.join(', ')})\npx.display(df)`;
}

/** A Pixie panel query as a Wisp query; Wisp queries come back as they are. */
export function migrateQuery(q: WispQuery | PixieQuery): WispQuery {
  if (!isPixieQuery(q)) {
    return q as WispQuery;
  }
  // Pixie's own fields go; refId, hide, datasource and the rest of DataQuery stay.
  const { queryType: _type, queryBody, queryMeta, clusterID: _cluster, queryScript: _picked, ...kept } = q as PixieQuery & {
    clusterID?: unknown;
    queryScript?: unknown;
  };
  let script = queryBody?.pxlScript ?? '';
  if (queryMeta?.isColDisplay || queryMeta?.isGroupBy) {
    script = script.replace('$__columns', columnsMacro(queryMeta));
  }
  if (queryMeta?.isGroupBy && queryMeta.selectedColGroupby?.length && script.includes('px.display')) {
    script = script.slice(0, script.lastIndexOf('px.display')) + groupByTail(queryMeta);
  }
  return { ...kept, script };
}

/** What each of Pixie's variable query types lists, as a Wisp script (undefined: clusters). */
const VARIABLE_SCRIPTS: Record<string, string | undefined> = {
  'get-namespaces': distinctCtx('namespace', 'namespace'),
  'get-services': distinctCtx('service', 'service'),
  'get-pods': distinctCtx('pod', 'pod'),
  'get-nodes': distinctCtx('node', 'node'),
  // Wisp has no clusters to list: the datasource's engine or broker is the whole of it.
  'get-clusters': undefined,
};

/** A Pixie variable query as a Wisp one; `script` is empty for `get-clusters` (no values). */
export function migrateVariableQuery(q: WispVariableQuery | PixieVariableQuery): WispVariableQuery {
  if (typeof (q as WispVariableQuery).script === 'string') {
    return q as WispVariableQuery;
  }
  const p = q as PixieVariableQuery & { refId?: string };
  const type = p.queryType ?? RUN_SCRIPT;
  const script = type === RUN_SCRIPT ? (p.queryBody?.pxlScript ?? '') : (VARIABLE_SCRIPTS[type] ?? '');
  return { refId: p.refId ?? 'variable', script };
}
