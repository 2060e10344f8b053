// The harness page: plays Grafana's frontend around the built plugin. It shares Grafana's
// modules with dist/module.js through an AMD define(), backs getBackendSrv() with real fetches
// to the same-origin data-proxy stand-in, renders the plugin's ConfigEditor and QueryEditor,
// runs "Save & test" and queries, and draws the frames it gets back.
import * as emotionCss from '@emotion/css';
import * as grafanaData from '@grafana/data';
import { dateTime, LoadingState } from '@grafana/data';
import type {
  CustomVariableSupport,
  DataFrame,
  DataQueryError,
  DataQueryRequest,
  DataSourceInstanceSettings,
  DataSourcePlugin,
  DataSourceSettings,
  PanelData,
  TestDataSourceResponse,
} from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as React from 'react';
import { useRef, useState } from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as monaco from 'monaco-editor';
import * as rxjs from 'rxjs';
import { lastValueFrom } from 'rxjs';

import type { WispDataSource } from '../../../src/plugin/datasource.js';
import type { WispOptions, WispQuery, WispSecureJsonData, WispVariableQuery } from '../../../src/plugin/types.js';
import { loadAmdModule } from './amd.js';
import { harnessBackendSrv } from './backendSrv.js';
import type { FetchLog } from './backendSrv.js';
import { PanelView } from './panels.js';
import type { PanelResult } from './panels.js';
import { seriesOf, TimeSeriesPlot } from './plot.js';
import type { DrawnSeries } from './plot.js';
import { Runner } from './runner.js';
import type { PanelSpec } from './runner.js';
import { harnessTemplateSrv } from './templateSrv.js';

type WispPlugin = DataSourcePlugin<WispDataSource, WispQuery, WispOptions, WispSecureJsonData>;

/** State the browser test reads back. */
interface HarnessState {
  ready: boolean;
  loadError?: string;
  health?: TestDataSourceResponse;
  series: DrawnSeries[];
  frames: Array<{ name?: string; refId?: string; fields: string[]; meta?: unknown }>;
  errors: DataQueryError[];
  queries: number;
  /** Markers the plugin set in Monaco (the same Monaco instance @grafana/ui renders). */
  markers(): Array<{ owner: string; line: number; column: number; endColumn: number; message: string }>;
  /** Runs a query variable through the datasource's variable support; the values Grafana would list. */
  variableValues?(script: string): Promise<string[]>;
  /** What a panel query becomes when Grafana moves it to Explore. */
  toExplore?(script: string): WispQuery;
  /** Runs a panel request with these targets; resolves to the number of frames. */
  runTargets?(targets: WispQuery[]): Promise<number>;
  /** Every fetch the plugin started, and those cancelled before their answer. */
  fetches: FetchLog;
  /** The panels, Explore panes and annotations the page runs as Grafana would (runner.ts). */
  runner?: Runner;
  /** Starts a panel run; resolves when it ends or a newer run of the panel cancels it. */
  panel?(spec: PanelSpec): Promise<PanelResult>;
  /** Sets dashboard variables (what a dashboard's variable pickers hold). */
  setVariables(vars: Record<string, string | string[]>): void;
  /**
   * Puts `text` in the query editor as it is and focuses it (typed or inserted keys would be
   * auto-indented by Monaco after each ':' line, doubling a script's own indentation).
   */
  setQueryText(text: string): void;
  /** The query in the plugin's annotation editor. */
  annotationQuery: WispQuery;
  /** Where a test keeps the result of a run it did not wait for. */
  superseded?: PanelResult;
}

declare global {
  interface Window {
    __wisp: HarnessState;
  }
}

const UID = 'wisp-harness';
const params = new URLSearchParams(location.search);
const to = Number(params.get('to') ?? Date.now());
const from = Number(params.get('from') ?? to - 5 * 60_000);
const templateVars: Record<string, string | string[]> = { ns: ['default', 'kube-system'], namespace: 'default' };
const templateSrv = harnessTemplateSrv(templateVars, { from, to });

window.__wisp = {
  ready: false,
  series: [],
  frames: [],
  errors: [],
  queries: 0,
  fetches: { started: [], cancelled: [] },
  annotationQuery: { refId: 'Anno', script: '' },
  setVariables: (vars) => Object.assign(templateVars, vars),
  setQueryText: (text) => {
    const editor = monaco.editor.getEditors().find((e) => e.getContainerDomNode().closest('#query'));
    if (!editor) {
      throw new Error('no query editor on the page');
    }
    editor.setValue(text);
    editor.focus();
  },
  markers: () =>
    monaco.editor.getModelMarkers({}).map((m) => ({
      owner: m.owner,
      line: m.startLineNumber,
      column: m.startColumn,
      endColumn: m.endColumn,
      message: m.message,
    })),
};
// Monaco's workers come from this server (built from node_modules), never from a CDN.
window.MonacoEnvironment = { getWorkerUrl: () => '/harness/editor.worker.js' };

grafanaRuntime.setBackendSrv(harnessBackendSrv(window.__wisp.fetches));
grafanaRuntime.setTemplateSrv(templateSrv);

function instanceSettings(options: DataSourceSettings<WispOptions, WispSecureJsonData>): DataSourceInstanceSettings<WispOptions> {
  return {
    id: options.id,
    uid: options.uid,
    type: options.type,
    name: options.name,
    meta: { id: 'wisp-ebpf-datasource' } as DataSourceInstanceSettings['meta'],
    readOnly: false,
    jsonData: options.jsonData,
    access: 'proxy',
    url: `/api/datasources/proxy/uid/${options.uid}`,
  };
}

/** A DataQueryRequest as a dashboard panel makes one: the page's range, a 15 s interval. */
function makeRequest<Q extends WispQuery | WispVariableQuery>(targets: Q[]): DataQueryRequest<Q> {
  const range = { from: dateTime(from), to: dateTime(to), raw: { from: dateTime(from), to: dateTime(to) } };
  return {
    requestId: `harness-${window.__wisp.queries}`,
    interval: '15s',
    intervalMs: 15_000,
    maxDataPoints: 500,
    range,
    scopedVars: {},
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: Date.now(),
  };
}

const theme = grafanaData.createTheme({ colors: { mode: 'dark' } });

function App({ plugin }: { plugin: WispPlugin }) {
  const [options, setOptions] = useState<DataSourceSettings<WispOptions, WispSecureJsonData>>({
    id: 1,
    uid: UID,
    orgId: 1,
    name: 'Wisp',
    type: 'wisp-ebpf-datasource',
    typeName: 'Wisp',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: true,
    jsonData: {},
    secureJsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
  });
  const [ds, setDs] = useState<WispDataSource>();
  const [health, setHealth] = useState<TestDataSourceResponse>();
  const [query, setQuery] = useState<WispQuery>({ refId: 'A', script: '' });
  const [data, setData] = useState<PanelData>();
  const [runner, setRunner] = useState<Runner>();
  const [annotationQuery, setAnnotationQuery] = useState<WispQuery>(window.__wisp.annotationQuery);
  const [, setPanelsDrawn] = useState(0);
  const latestQuery = useRef(query);
  const ConfigEditor = plugin.components.ConfigEditor;
  const QueryEditor = plugin.components.QueryEditor;
  if (!ConfigEditor || !QueryEditor) {
    throw new Error('the plugin has no ConfigEditor or QueryEditor');
  }

  const saveAndTest = async () => {
    // Saving goes to the "server", which keeps the token; the browser keeps only its presence.
    const res = await fetch(`/api/datasources/uid/${UID}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonData: options.jsonData, secureJsonData: options.secureJsonData, secureJsonFields: options.secureJsonFields }),
    });
    const saved = (await res.json()) as { secureJsonFields: Record<string, boolean> };
    const next = { ...options, secureJsonFields: saved.secureJsonFields, secureJsonData: {} };
    setOptions(next);
    const instance = new plugin.DataSourceClass(instanceSettings(next));
    setDs(instance);
    window.__wisp.toExplore = (script: string) => instance.interpolateVariablesInQueries([{ refId: 'A', script }], {})[0];
    window.__wisp.runTargets = async (targets: WispQuery[]) => (await lastValueFrom(instance.query(makeRequest(targets)))).data.length;
    window.__wisp.variableValues = async (script: string) => {
      const support = instance.variables as CustomVariableSupport<WispDataSource, WispVariableQuery>;
      const res = await lastValueFrom(support.query(makeRequest([{ refId: 'variable', script }])));
      // Grafana lists a variable's values from the first string field of the first frame.
      const field = (res.data as DataFrame[])[0]?.fields.find((f) => f.type === 'string');
      if (res.errors?.length) {
        throw new Error(res.errors.map((e) => e.message).join('; '));
      }
      return Array.from((field?.values ?? []) as string[]);
    };
    const r = new Runner(instance, templateSrv, templateVars, { from, to }, () => setPanelsDrawn((n) => n + 1));
    setRunner(r);
    window.__wisp.runner = r;
    window.__wisp.panel = (spec: PanelSpec) => r.run(spec);
    const result = await instance.testDatasource();
    window.__wisp.health = result;
    setHealth(result);
  };

  const runQuery = async () => {
    if (!ds) {
      return;
    }
    const request = makeRequest([latestQuery.current]);
    const range = request.range;
    setData({ state: LoadingState.Loading, series: [], timeRange: range });
    const res = await lastValueFrom(ds.query(request));
    const frames = res.data as DataFrame[];
    const errors = res.errors ?? [];
    window.__wisp.queries += 1;
    window.__wisp.series = seriesOf(frames);
    window.__wisp.errors = errors;
    window.__wisp.frames = frames.map((f) => ({ name: f.name, refId: f.refId, fields: f.fields.map((x) => x.name), meta: f.meta }));
    setData({ state: errors.length > 0 ? LoadingState.Error : LoadingState.Done, series: frames, errors, timeRange: range });
  };

  const onQueryChange = (q: WispQuery) => {
    latestQuery.current = q;
    setQuery(q);
  };

  return (
    <grafanaUi.ThemeContext.Provider value={theme}>
      <grafanaUi.GlobalStyles />
      <section id="config">
        <h2>Datasource settings (plugin ConfigEditor)</h2>
        <ConfigEditor options={options} onOptionsChange={setOptions} />
        <grafanaUi.Button id="save-test" onClick={() => void saveAndTest()}>
          Save &amp; test
        </grafanaUi.Button>
        {health && (
          <div id="health" data-status={health.status}>
            <pre>{health.message}</pre>
            <pre>{health.details?.verboseMessage}</pre>
          </div>
        )}
      </section>
      {ds && (
        <section id="query">
          <h2>Query (plugin QueryEditor)</h2>
          <QueryEditor datasource={ds} query={query} onChange={onQueryChange} onRunQuery={() => void runQuery()} data={data} />
        </section>
      )}
      {data && (
        <section id="result">
          <h2>Result: {data.series.map((f) => f.name).join(', ') || 'no frames'}</h2>
          {(data.errors ?? []).map((e, i) => (
            <pre key={i} className="query-error" style={{ color: '#f2495c' }}>
              {e.message}
            </pre>
          ))}
          <TimeSeriesPlot series={seriesOf(data.series)} />
        </section>
      )}
      {ds?.annotations?.QueryEditor && (
        <section id="annotation-editor">
          <h2>Annotation query (plugin annotations.QueryEditor)</h2>
          <ds.annotations.QueryEditor
            datasource={ds}
            query={annotationQuery}
            onRunQuery={() => undefined}
            onChange={(q: WispQuery) => {
              window.__wisp.annotationQuery = q;
              setAnnotationQuery(q);
            }}
          />
        </section>
      )}
      {runner && runner.panels.size > 0 && (
        <section id="panels">
          {runner.filters.length > 0 && (
            <div id="adhoc-filters" style={{ marginBottom: 8 }}>
              Filters:{' '}
              {runner.filters.map((f, i) => (
                <span key={i} className="adhoc-filter" style={{ background: '#2b2d36', padding: '2px 6px', marginRight: 6, borderRadius: 3 }}>
                  {f.key} {f.operator} {f.value}
                </span>
              ))}
            </div>
          )}
          {[...runner.panels.entries()].map(([id, p]) => (
            <PanelView
              key={id}
              id={id}
              title={p.spec.title}
              type={p.spec.type}
              frames={p.frames}
              errors={p.result.errors}
              links={p.result.links}
              annotations={p.result.annotations}
              range={{ from, to }}
              onFilter={(key, value, out) => void runner.addFilter(key, value, out)}
            />
          ))}
        </section>
      )}
    </grafanaUi.ThemeContext.Provider>
  );
}

async function main() {
  const root = createRoot(document.getElementById('root') as HTMLElement);
  try {
    const mod = await loadAmdModule('/dist/module.js', {
      '@grafana/data': grafanaData,
      '@grafana/ui': grafanaUi,
      '@grafana/runtime': grafanaRuntime,
      '@emotion/css': emotionCss,
      react: React,
      'react-dom': ReactDOM,
      rxjs,
    });
    const plugin = mod.plugin as WispPlugin;
    root.render(<App plugin={plugin} />);
    window.__wisp.ready = true;
  } catch (e) {
    window.__wisp.loadError = e instanceof Error ? e.message : String(e);
    root.render(<pre id="load-error">{window.__wisp.loadError}</pre>);
  }
}

void main();
