import { CoreApp, CustomVariableSupport, DataSourceApi, LoadingState, SupplementaryQueryType } from '@grafana/data';
import type {
  AdHocVariableFilter,
  DataFrame,
  DataQueryError,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceGetTagKeysOptions,
  DataSourceGetTagValuesOptions,
  DataSourceInstanceSettings,
  DataSourceWithQueryModificationSupport,
  DataSourceWithSupplementaryQueriesSupport,
  DataSourceWithToggleableQueryFiltersSupport,
  MetricFindValue,
  QueryFixAction,
  ScopedVars,
  SupplementaryQueryOptions,
  TestDataSourceResponse,
  ToggleFilterAction,
} from '@grafana/data';
import { getBackendSrv, getTemplateSrv, isFetchError } from '@grafana/runtime';
import type { TemplateSrv } from '@grafana/runtime';
import { merge, Observable } from 'rxjs';

import * as adhoc from './adhoc.js';
import { annotationSupport } from './annotations.js';
import { EngineApi, EngineError, engineBaseUrl, QueryCancelled } from './api.js';
import type { HttpRequest, HttpResult, StreamOpener } from './api.js';
import { AnnotationQueryEditor } from './components/AnnotationQueryEditor.js';
import { VariableQueryEditor } from './components/VariableQueryEditor.js';
import { formatDiagnostic } from './diagnostics.js';
import { toFrames } from './frames.js';
import type { FrameOptions } from './frames.js';
import { checkHealth } from './health.js';
import { LiveAnswer } from './stream.js';
import { VOLUME_SCRIPT } from './logs.js';
import { migrateQuery, migrateVariableQuery } from './migrate.js';
import type { PixieQuery, PixieVariableQuery } from './migrate.js';
import { buildQueryRequest } from './request.js';
import { DEFAULT_QUERY } from './types.js';
import type { AdhocFilter, FunctionCall, QueryRequest, SchemaResponse, ScriptFunction, WispOptions, WispQuery, WispVariableQuery } from './types.js';
import { collectVariables } from './variables.js';

/** `queryType` of the log-volume query Explore runs beside a logs query. */
const LOG_VOLUME_QUERY = 'logsVolume';

/**
 * Grafana's data proxy as a Transport: every HTTP status resolves, only no answer rejects. The
 * request's anchor goes to BackendSrv as `requestId`, and aborting unsubscribes from the fetch,
 * which cancels the browser's request.
 */
function backendSrvTransport(req: HttpRequest): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(new QueryCancelled());
      return;
    }
    const onAbort = () => {
      subscription.unsubscribe();
      reject(new QueryCancelled());
    };
    const subscription = getBackendSrv()
      .fetch<unknown>({
        url: req.url,
        method: req.method,
        data: req.data,
        requestId: req.requestId,
        showErrorAlert: false,
        showSuccessAlert: false,
      })
      .subscribe({
        next: (res) => resolve({ status: res.status, data: res.data }),
        error: (e: unknown) => {
          if (isFetchError(e) && e.status > 0) {
            resolve({ status: e.status, data: e.data });
          } else if (isFetchError(e) && e.cancelled) {
            // BackendSrv cancelled it: a newer request with the same requestId started.
            reject(new QueryCancelled());
          } else {
            reject(e);
          }
        },
      });
    req.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The browser's own fetch to Grafana's data proxy, for streams: BackendSrv hands an answer over
 * only once it is whole. Same origin, so Grafana's session cookie goes with it; the proxy adds
 * the token, and passes the engine's chunked answer on as it comes (Go's reverse proxy flushes
 * at once when there is no Content-Length).
 */
const browserStreamOpener: StreamOpener = (url, body, signal) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });

/** The filters of the dashboard's ad hoc variables on this datasource, scenes or not. */
function dashboardFilters(request: DataQueryRequest<WispQuery>, datasourceName: string): AdHocVariableFilter[] {
  if (request.filters) {
    return request.filters;
  }
  // Dashboards before scenes hand the filters out through the template service only.
  const legacy = getTemplateSrv() as TemplateSrv & { getAdhocFilters?: (name: string) => AdHocVariableFilter[] };
  return legacy.getAdhocFilters?.(datasourceName) ?? [];
}

type TargetResult = { data: DataFrame[]; errors: DataQueryError[] };

/** The Wisp datasource: sends PxL scripts to the engine through the data proxy, answers frames. */
export class WispDataSource
  extends DataSourceApi<WispQuery, WispOptions>
  implements
    DataSourceWithSupplementaryQueriesSupport<WispQuery>,
    DataSourceWithQueryModificationSupport<WispQuery>,
    DataSourceWithToggleableQueryFiltersSupport<WispQuery>
{
  /** The engine API behind Grafana's data proxy route. */
  readonly api: EngineApi;
  private readonly engineUrl?: string;
  private schemaPromise?: Promise<SchemaResponse>;

  constructor(settings: DataSourceInstanceSettings<WispOptions>) {
    super(settings);
    this.api = new EngineApi(engineBaseUrl(settings.url), backendSrvTransport, browserStreamOpener);
    this.engineUrl = settings.jsonData.engineUrl;
    this.variables = new WispVariableSupport(this);
    this.annotations = { ...annotationSupport, QueryEditor: AnnotationQueryEditor };
  }

  /**
   * Runs every visible query; each answer becomes frames, each failure a panel error.
   * Unsubscribing (Grafana does when a newer run of the panel starts) cancels the requests.
   * Queries with "Stream" on keep answering (see streamTarget), each under its own key.
   */
  query(request: DataQueryRequest<WispQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.map((t) => migrateQuery(t as WispQuery | PixieQuery)).filter((t) => this.filterQuery(t));
    const streamed = targets.filter((t) => t.stream);
    if (streamed.length === 0) {
      return this.runTargets(targets, request);
    }
    const once = targets.filter((t) => !t.stream);
    return merge(...(once.length > 0 ? [this.runTargets(once, request)] : []), ...streamed.map((t) => this.streamTarget(t, request)));
  }

  private runTargets(targets: WispQuery[], request: DataQueryRequest<WispQuery>): Observable<DataQueryResponse> {
    return new Observable<DataQueryResponse>((subscriber) => {
      const abort = new AbortController();
      Promise.all(targets.map((t) => this.runTarget(t, request, abort.signal))).then(
        (parts) => {
          if (abort.signal.aborted) {
            return;
          }
          subscriber.next({
            data: parts.flatMap((p) => p.data),
            errors: parts.flatMap((p) => p.errors),
            state: LoadingState.Done,
          });
          subscriber.complete();
        },
        (e: unknown) => subscriber.error(e)
      );
      return () => abort.abort();
    });
  }

  /**
   * The BackendSrv anchor of a target: the same for every run of one panel query (or one
   * Explore pane's query), so a run cancels the one it supersedes.
   */
  private requestIdOf(request: DataQueryRequest<WispQuery>, target: WispQuery): string {
    const where = request.panelId !== undefined ? `${request.dashboardUID ?? ''}_panel${request.panelId}` : request.requestId;
    return `wisp_${where}_${target.refId}`;
  }

  /** The request body of a target: the script as written, range, interval, variables, filters, picks. */
  private bodyOf(target: WispQuery, request: DataQueryRequest<WispQuery>): QueryRequest {
    const variables = { ...target.variables, ...collectVariables(getTemplateSrv(), request.scopedVars) };
    const filters: AdhocFilter[] = [...adhoc.toAdhocFilters(dashboardFilters(request, this.name)), ...(target.adhocFilters ?? [])];
    const call = target.function ? interpolateCall(target.function, getTemplateSrv(), request.scopedVars) : undefined;
    return buildQueryRequest(target.script, request, variables, filters, { function: call, columns: target.columns });
  }

  private frameOptions(target: WispQuery, request: DataQueryRequest<WispQuery>): FrameOptions {
    return {
      refId: target.refId,
      script: target.script,
      output: target.output,
      format: target.format,
      explore: request.app === CoreApp.Explore,
      logVolume: target.queryType === LOG_VOLUME_QUERY,
    };
  }

  private async runTarget(target: WispQuery, request: DataQueryRequest<WispQuery>, signal: AbortSignal): Promise<TargetResult> {
    try {
      const res = await this.api.query(this.bodyOf(target, request), { requestId: this.requestIdOf(request, target), signal });
      return { data: toFrames(res, this.frameOptions(target, request)), errors: [] };
    } catch (e) {
      if (e instanceof QueryCancelled) {
        return { data: [], errors: [] };
      }
      return { data: [], errors: [toQueryError(e, target.refId)] };
    }
  }

  /**
   * A query with "Stream" on: the engine's stored rows first, then rows as they are captured and
   * windows as they close, each change a `LoadingState.Streaming` answer holding the newest 1000
   * rows per output (STREAM_MAX_ROWS, stream.ts) and the newest warnings as notices. A dropped
   * connection is opened again with the last cursor (a notice says so). Unsubscribing — the panel closed, its
   * query or time range changed — aborts the HTTP stream, and the engine's stream with it.
   */
  private streamTarget(target: WispQuery, request: DataQueryRequest<WispQuery>): Observable<DataQueryResponse> {
    return new Observable<DataQueryResponse>((subscriber) => {
      const abort = new AbortController();
      const key = `wisp-stream-${target.refId}`;
      const opts = this.frameOptions(target, request);
      const answer = new LiveAnswer();
      const run = async () => {
        for await (const event of this.api.stream(this.bodyOf(target, request), abort.signal)) {
          if (answer.apply(event)) {
            subscriber.next({ key, data: answer.frames(opts), state: LoadingState.Streaming });
          }
        }
      };
      run().then(
        () => subscriber.complete(),
        (e: unknown) => {
          if (!abort.signal.aborted) {
            subscriber.next({ key, data: [], errors: [toQueryError(e, target.refId)], state: LoadingState.Error });
            subscriber.complete();
          }
        }
      );
      return () => abort.abort();
    });
  }

  /** Hidden and empty queries are not sent. */
  filterQuery(query: WispQuery): boolean {
    const q = migrateQuery(query as WispQuery | PixieQuery);
    return !q.hide && typeof q.script === 'string' && q.script.trim() !== '';
  }

  /** "Save & test": reachable, token accepted, capture running, version — each reported. */
  async testDatasource(): Promise<TestDataSourceResponse> {
    const r = await checkHealth(this.api, { engineUrl: this.engineUrl });
    return { status: r.status, message: r.message, details: r.details };
  }

  /** The engine's schema for completion and filter keys, fetched once per datasource instance. */
  getSchema(): Promise<SchemaResponse> {
    if (!this.schemaPromise) {
      this.schemaPromise = this.api.schema().catch((e: unknown) => {
        this.schemaPromise = undefined;
        throw e;
      });
    }
    return this.schemaPromise;
  }

  /** The functions a script defines (the editor's function picker). */
  getFunctions(script: string): Promise<ScriptFunction[]> {
    return this.api.functions(script);
  }

  /** Ad hoc filter keys: table columns and df.ctx keys from the schema. */
  async getTagKeys(_options?: DataSourceGetTagKeysOptions<WispQuery>): Promise<MetricFindValue[]> {
    return adhoc.tagKeys(await this.getSchema());
  }

  /** A key's distinct values over the range, narrowed by the other filters (one small group-by). */
  async getTagValues(options: DataSourceGetTagValuesOptions<WispQuery>): Promise<MetricFindValue[]> {
    const script = adhoc.tagValuesScript(options.key, await this.getSchema());
    if (!script) {
      return [];
    }
    const range = options.timeRange ? { from: options.timeRange.from.valueOf(), to: options.timeRange.to.valueOf() } : undefined;
    const others = adhoc.toAdhocFilters((options.filters ?? []).filter((f) => f.key !== options.key));
    const res = await this.api.query({ script, ...(range ? { range } : {}), ...(others.length > 0 ? { adhocFilters: others } : {}) });
    return adhoc.sortedValues(res.tables[0]?.data[0] ?? []);
  }

  /** Explore's "filter for value" / "filter out value": the query's own filters, never its text. */
  modifyQuery(query: WispQuery, action: QueryFixAction): WispQuery {
    return adhoc.modifyQuery(migrateQuery(query as WispQuery | PixieQuery), action);
  }

  getSupportedQueryModifications(): string[] {
    return adhoc.QUERY_MODIFICATIONS;
  }

  toggleQueryFilter(query: WispQuery, filter: ToggleFilterAction): WispQuery {
    return adhoc.toggleQueryFilter(migrateQuery(query as WispQuery | PixieQuery), filter);
  }

  queryHasFilter(query: WispQuery, filter: { key: string; value: string }): boolean {
    return adhoc.queryHasFilter(query, filter);
  }

  getSupportedSupplementaryQueryTypes(): SupplementaryQueryType[] {
    return [SupplementaryQueryType.LogsVolume];
  }

  /**
   * The log volume of a logs query (format Logs, or Auto for a script with no aggregate): the
   * requests per interval by status class, with the query's own ad hoc filters.
   */
  getSupplementaryQuery(options: SupplementaryQueryOptions, query: WispQuery): WispQuery | undefined {
    const q = migrateQuery(query as WispQuery | PixieQuery);
    const logs = q.format === 'logs' || ((q.format ?? 'auto') === 'auto' && !q.script.includes('.agg('));
    if (options.type !== SupplementaryQueryType.LogsVolume || !logs || q.hide) {
      return undefined;
    }
    return {
      refId: `log-volume-${q.refId}`,
      script: VOLUME_SCRIPT,
      queryType: LOG_VOLUME_QUERY,
      ...(q.adhocFilters ? { adhocFilters: q.adhocFilters } : {}),
      ...(q.variables ? { variables: q.variables } : {}),
    };
  }

  getSupplementaryRequest(type: SupplementaryQueryType, request: DataQueryRequest<WispQuery>): DataQueryRequest<WispQuery> | undefined {
    const targets = request.targets.flatMap((t) => this.getSupplementaryQuery({ type } as SupplementaryQueryOptions, t) ?? []);
    return targets.length > 0 ? { ...request, targets, requestId: `${request.requestId}_${type}` } : undefined;
  }

  /**
   * Grafana calls this when a panel's queries leave their dashboard (to Explore, say). The
   * script stays as written; the variables' current values and the dashboard's ad hoc filters
   * travel with the query instead, and a picked function's arguments take their values.
   */
  interpolateVariablesInQueries(queries: WispQuery[], scopedVars: ScopedVars, filters?: AdHocVariableFilter[]): WispQuery[] {
    const variables = collectVariables(getTemplateSrv(), scopedVars);
    const carried = adhoc.toAdhocFilters((filters ?? []).filter(adhoc.isApplicable));
    return queries.map((query) => {
      const q = migrateQuery(query as WispQuery | PixieQuery);
      const own = q.adhocFilters ?? [];
      return {
        ...q,
        variables: { ...q.variables, ...variables },
        ...(carried.length > 0 || own.length > 0 ? { adhocFilters: [...own, ...carried] } : {}),
        ...(q.function ? { function: interpolateCall(q.function, getTemplateSrv(), scopedVars) } : {}),
      };
    });
  }

  /** Query history and Explore show the script itself. */
  getQueryDisplayText(query: WispQuery): string {
    const q = migrateQuery(query as WispQuery | PixieQuery);
    return q.output ? `${q.output}: ${q.script}` : q.script;
  }

  getDefaultQuery(_app: CoreApp): Partial<WispQuery> {
    return DEFAULT_QUERY;
  }
}

/** Query variables: a script whose first column lists the values (Pixie's variable queries too). */
class WispVariableSupport extends CustomVariableSupport<WispDataSource, WispVariableQuery, WispQuery, WispOptions> {
  editor = VariableQueryEditor;

  constructor(private readonly ds: WispDataSource) {
    super();
  }

  query(request: DataQueryRequest<WispVariableQuery>): Observable<DataQueryResponse> {
    const targets: WispQuery[] = request.targets.map((t) => ({
      ...migrateVariableQuery(t as WispVariableQuery | PixieVariableQuery),
      refId: t.refId,
      format: 'table',
    }));
    return this.ds.query({ ...request, targets });
  }
}

function toQueryError(e: unknown, refId: string): DataQueryError {
  if (e instanceof EngineError) {
    return {
      refId,
      status: e.status,
      message: e.diagnostic ? formatDiagnostic(e.diagnostic) : e.message,
    };
  }
  return { refId, message: e instanceof Error ? e.message : String(e) };
}

/** A picked function's arguments with dashboard variables replaced: `$service` → its value as text. */
function interpolateCall(call: FunctionCall, templateSrv: Pick<TemplateSrv, 'replace'>, scopedVars: ScopedVars): FunctionCall {
  return { name: call.name, args: Object.fromEntries(Object.entries(call.args).map(([k, v]) => [k, templateSrv.replace(v, scopedVars)])) };
}
