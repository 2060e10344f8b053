// What Grafana's dashboard, Explore and annotation runners do around a datasource, reduced to
// the steps the plugin sees: a panel's run replaces its previous one (SceneQueryRunner
// unsubscribes it), requests carry the panel's id, the dashboard's ad hoc filters and the app;
// annotations go through the datasource's AnnotationSupport (prepareAnnotation → prepareQuery →
// query → processEvents, as Grafana's executeAnnotationQuery); a dashboard JSON is imported by
// resolving its query variables in order, then running every panel.
import { dateTime, SupplementaryQueryType } from '@grafana/data';
import type { AdHocVariableFilter, AnnotationEvent, AnnotationQuery, DataFrame, DataQueryRequest, QueryFixAction } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';
import { lastValueFrom, of } from 'rxjs';
import type { Subscription } from 'rxjs';

import type { WispDataSource } from '../../../src/plugin/datasource.js';
import type { WispQuery } from '../../../src/plugin/types.js';
import { resolveLinks, summarise } from './panels.js';
import type { PanelResult } from './panels.js';

/** A panel as the test describes it. */
export interface PanelSpec {
  id: string;
  title: string;
  /** The panel's visualisation (`timeseries` when absent). */
  type?: string;
  targets: WispQuery[];
  /** `explore` runs it as Explore does: no panel id, the pane's requestId. */
  app?: 'dashboard' | 'explore';
  panelId?: number;
  /** Let the previous run go on (Explore re-running a pane): only the requestId anchor cancels it. */
  keepPrevious?: boolean;
  annotations?: Array<AnnotationQuery<WispQuery>>;
}

/** What a panel shows now, for the page to draw. */
export interface PanelState {
  spec: PanelSpec;
  frames: DataFrame[];
  result: PanelResult;
}

/** The dashboard JSON shapes an import reads (Grafana's, or Pixie's exported ones). */
interface DashboardJson {
  templating?: { list?: Array<{ name: string; type: string; query?: unknown; current?: { value?: unknown }; multi?: boolean; includeAll?: boolean }> };
  panels?: Array<{ id: number; title: string; type: string; targets?: WispQuery[]; panels?: DashboardJson['panels'] }>;
}

export class Runner {
  private seq = 0;
  private readonly live = new Map<string, Subscription>();
  /** The dashboard's ad hoc filters (what its ad hoc variable holds). */
  filters: AdHocVariableFilter[] = [];
  readonly panels = new Map<string, PanelState>();

  constructor(
    readonly ds: WispDataSource,
    private readonly templateSrv: TemplateSrv,
    private readonly vars: Record<string, string | string[]>,
    private readonly range: { from: number; to: number },
    private readonly changed: () => void
  ) {}

  request(targets: WispQuery[], app: string, panelId?: number): DataQueryRequest<WispQuery> {
    const r = { from: dateTime(this.range.from), to: dateTime(this.range.to) };
    this.seq += 1;
    return {
      // Unique per run, as Grafana's runners make them; Explore's is the pane's.
      requestId: app === 'explore' ? 'explore_left' : `SQR${this.seq}`,
      interval: '15s',
      intervalMs: 15_000,
      maxDataPoints: 500,
      range: { ...r, raw: r },
      scopedVars: {},
      targets,
      timezone: 'utc',
      app,
      startTime: Date.now(),
      ...(panelId !== undefined ? { panelId, dashboardUID: 'harness' } : {}),
      ...(app === 'dashboard' ? { filters: this.filters } : {}),
    };
  }

  /** Starts a run of the panel; resolves when it ends, or is cancelled by a newer run. */
  run(spec: PanelSpec): Promise<PanelResult> {
    const app = spec.app ?? 'dashboard';
    const request = this.request(spec.targets, app, app === 'dashboard' ? (spec.panelId ?? 1) : undefined);
    const seq = this.seq;
    if (!spec.keepPrevious) {
      this.live.get(spec.id)?.unsubscribe();
    }
    return new Promise<PanelResult>((resolve) => {
      let settled = false;
      const finish = async (frames: DataFrame[], errors: string[], state?: string) => {
        settled = true;
        const annotations = (await Promise.all((spec.annotations ?? []).map((a) => this.annotate(a)))).flat();
        const result: PanelResult = { seq, state, cancelled: false, errors, frames: summarise(frames), links: resolveLinks(frames, this.templateSrv), annotations };
        this.panels.set(spec.id, { spec, frames, result });
        this.changed();
        resolve(result);
      };
      const sub = this.ds.query(request).subscribe({
        next: (res) => void finish(res.data as DataFrame[], (res.errors ?? []).map((e) => e.message ?? String(e)), res.state),
        error: (e: unknown) => void finish([], [e instanceof Error ? e.message : String(e)]),
      });
      sub.add(() => {
        if (!settled) {
          resolve({ seq, cancelled: true, errors: [], frames: [], links: [], annotations: [] });
        }
      });
      this.live.set(spec.id, sub);
    });
  }

  /** Takes every panel off the page (between the test's scenes). */
  clear(): void {
    for (const sub of this.live.values()) sub.unsubscribe();
    this.live.clear();
    this.panels.clear();
    this.filters = [];
    this.changed();
  }

  /** Grafana's "filter for value" on a dashboard table cell: the filter joins the dashboard's, every panel runs again. */
  async addFilter(key: string, value: string, out: boolean): Promise<void> {
    this.filters = [...this.filters, { key, operator: out ? '!=' : '=', value }];
    await Promise.all([...this.panels.values()].filter((p) => (p.spec.app ?? 'dashboard') === 'dashboard').map((p) => this.run(p.spec)));
  }

  /** Explore's "filter for value": the datasource rewrites the pane's query, which runs again. */
  modify(id: string, action: QueryFixAction): Promise<PanelResult> {
    const state = this.panels.get(id);
    if (!state) {
      throw new Error(`no panel ${id}`);
    }
    const targets = state.spec.targets.map((t) => this.ds.modifyQuery(t, action));
    return this.run({ ...state.spec, targets });
  }

  /** Explore's log volume for a pane: the datasource's supplementary request, drawn as its own panel. */
  async logVolume(spec: PanelSpec): Promise<PanelResult | undefined> {
    const request = this.ds.getSupplementaryRequest(SupplementaryQueryType.LogsVolume, this.request(spec.targets, 'explore'));
    if (!request) {
      return undefined;
    }
    return this.run({ id: `${spec.id}-volume`, title: `${spec.title}: log volume`, app: 'explore', targets: request.targets });
  }

  /** One annotation query, as Grafana's executeAnnotationQuery runs it. */
  async annotate(json: AnnotationQuery<WispQuery>): Promise<AnnotationEvent[]> {
    const support = this.ds.annotations!;
    const anno = support.prepareAnnotation!(json);
    const query = support.prepareQuery!(anno);
    if (!query) {
      return [];
    }
    const res = await lastValueFrom(this.ds.query(this.request([{ ...query, refId: 'Anno' }], 'dashboard')));
    if (res.errors?.length) {
      throw new Error(`annotation ${json.name}: ${res.errors.map((e) => e.message).join('; ')}`);
    }
    const events = await lastValueFrom(support.processEvents?.(anno, res.data as DataFrame[]) ?? of([]));
    return events ?? [];
  }

  /** A query variable's values: the first string field of its first frame, as Grafana lists them. */
  async variableValues(query: unknown): Promise<string[]> {
    const support = this.ds.variables as unknown as { query(r: DataQueryRequest<WispQuery>): ReturnType<WispDataSource['query']> };
    const target = { refId: 'variable', ...(typeof query === 'string' ? { script: query } : (query as object)) } as WispQuery;
    const res = await lastValueFrom(support.query(this.request([target], 'dashboard')));
    if (res.errors?.length) {
      throw new Error(res.errors.map((e) => e.message).join('; '));
    }
    const field = (res.data as DataFrame[])[0]?.fields.find((f) => f.type === 'string');
    return Array.from((field?.values ?? []) as string[]);
  }

  /**
   * Imports a dashboard as Grafana does once its datasource inputs point at this datasource:
   * query variables resolved in order (multi-value ones on All, others on their first value),
   * text and custom ones at their saved value, then every panel run with its saved targets.
   */
  async importDashboard(json: DashboardJson): Promise<Array<{ title: string; result: PanelResult }>> {
    for (const v of json.templating?.list ?? []) {
      if (v.type === 'query') {
        const values = await this.variableValues(v.query);
        this.vars[v.name] = v.multi || v.includeAll ? values : (values[0] ?? '');
      } else if (v.type === 'textbox' || v.type === 'custom' || v.type === 'constant') {
        this.vars[v.name] = String(v.current?.value ?? v.query ?? '');
      }
    }
    const panels = (json.panels ?? []).flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
    return Promise.all(
      panels.map(async (p) => ({
        title: p.title,
        result: await this.run({ id: `dash-${p.id}`, title: p.title, type: p.type, panelId: p.id, targets: (p.targets ?? []).map((t, i) => ({ ...t, refId: t.refId ?? String.fromCharCode(65 + i) })) }),
      }))
    );
  }
}
