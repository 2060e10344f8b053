import { CustomVariableSupport, DataSourceApi } from '@grafana/data';
import type {
  CoreApp,
  DataQueryError,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  ScopedVars,
  TestDataSourceResponse,
} from '@grafana/data';
import { getBackendSrv, getTemplateSrv, isFetchError } from '@grafana/runtime';
import { from, lastValueFrom, Observable } from 'rxjs';

import { EngineApi, EngineError, engineBaseUrl } from './api.js';
import type { HttpRequest, HttpResult } from './api.js';
import { VariableQueryEditor } from './components/VariableQueryEditor.js';
import { formatDiagnostic } from './diagnostics.js';
import { toFrames } from './frames.js';
import { checkHealth } from './health.js';
import { buildQueryRequest } from './request.js';
import { DEFAULT_QUERY } from './types.js';
import type { SchemaResponse, WispOptions, WispQuery, WispVariableQuery } from './types.js';
import { collectVariables } from './variables.js';

/** Grafana's data proxy as a Transport: every HTTP status resolves, only no answer rejects. */
async function backendSrvTransport(req: HttpRequest): Promise<HttpResult> {
  try {
    const res = await lastValueFrom(
      getBackendSrv().fetch<unknown>({
        url: req.url,
        method: req.method,
        data: req.data,
        showErrorAlert: false,
        showSuccessAlert: false,
      })
    );
    return { status: res.status, data: res.data };
  } catch (e) {
    if (isFetchError(e) && e.status > 0) {
      return { status: e.status, data: e.data };
    }
    throw e;
  }
}

/** The Wisp datasource: sends PxL scripts to the engine through the data proxy, answers frames. */
export class WispDataSource extends DataSourceApi<WispQuery, WispOptions> {
  /** The engine API behind Grafana's data proxy route. */
  readonly api: EngineApi;
  private readonly engineUrl?: string;
  private schemaPromise?: Promise<SchemaResponse>;

  constructor(settings: DataSourceInstanceSettings<WispOptions>) {
    super(settings);
    this.api = new EngineApi(engineBaseUrl(settings.url), backendSrvTransport);
    this.engineUrl = settings.jsonData.engineUrl;
    this.variables = new WispVariableSupport(this);
  }

  /** Runs every visible query; each answer becomes frames, each failure a panel error. */
  query(request: DataQueryRequest<WispQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.filter((t) => this.filterQuery(t));
    return from(
      Promise.all(targets.map((t) => this.runTarget(t, request))).then((parts) => ({
        data: parts.flatMap((p) => p.data),
        errors: parts.flatMap((p) => p.errors),
      }))
    );
  }

  private async runTarget(
    target: WispQuery,
    request: DataQueryRequest<WispQuery>
  ): Promise<Pick<DataQueryResponse, 'data'> & { errors: DataQueryError[] }> {
    const variables = { ...target.variables, ...collectVariables(getTemplateSrv(), request.scopedVars) };
    const body = buildQueryRequest(target.script, request, variables);
    try {
      const res = await this.api.query(body);
      const frames = toFrames(res, {
        refId: target.refId,
        script: target.script,
        output: target.output,
        format: target.format,
      });
      return { data: frames, errors: [] };
    } catch (e) {
      return { data: [], errors: [toQueryError(e, target.refId)] };
    }
  }

  /** Hidden and empty queries are not sent. */
  filterQuery(query: WispQuery): boolean {
    return !query.hide && typeof query.script === 'string' && query.script.trim() !== '';
  }

  /** "Save & test": reachable, token accepted, capture running, version — each reported. */
  async testDatasource(): Promise<TestDataSourceResponse> {
    const r = await checkHealth(this.api, { engineUrl: this.engineUrl });
    return { status: r.status, message: r.message, details: r.details };
  }

  /** The engine's schema for completion, fetched once per datasource instance. */
  getSchema(): Promise<SchemaResponse> {
    if (!this.schemaPromise) {
      this.schemaPromise = this.api.schema().catch((e: unknown) => {
        this.schemaPromise = undefined;
        throw e;
      });
    }
    return this.schemaPromise;
  }

  /**
   * Grafana calls this when a panel's queries leave their dashboard (to Explore, say). The
   * script stays as written; the variables' current values travel with the query instead.
   */
  interpolateVariablesInQueries(queries: WispQuery[], scopedVars: ScopedVars): WispQuery[] {
    const variables = collectVariables(getTemplateSrv(), scopedVars);
    return queries.map((q) => ({ ...q, variables: { ...q.variables, ...variables } }));
  }

  /** Query history and Explore show the script itself. */
  getQueryDisplayText(query: WispQuery): string {
    return query.output ? `${query.output}: ${query.script}` : query.script;
  }

  getDefaultQuery(_app: CoreApp): Partial<WispQuery> {
    return DEFAULT_QUERY;
  }
}

/** Query variables: a script whose first column lists the values. */
class WispVariableSupport extends CustomVariableSupport<WispDataSource, WispVariableQuery, WispQuery, WispOptions> {
  editor = VariableQueryEditor;

  constructor(private readonly ds: WispDataSource) {
    super();
  }

  query(request: DataQueryRequest<WispVariableQuery>): Observable<DataQueryResponse> {
    const targets: WispQuery[] = request.targets.map((t) => ({ ...t, format: 'table' }));
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
