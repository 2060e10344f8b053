/**
 * The provisioned dashboards ("HTTP overview", "Network") and datasource as the deploy tests read them, and
 * Grafana's way of filling variables: in dashboard order, each variable's script run with the
 * values of the ones before it, "All" sent as the list of every value (what the plugin's
 * collectVariables gets from Grafana for a multi-value variable with includeAll).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { QueryResponse, ResultTable } from '../../src/engine/api/contract.js';

/** The repository root (compiled tests live in out/test/deploy). */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

/** A datasource reference as dashboards write it. */
export interface DsRef {
  type: string;
  uid: string;
}

/** One panel query: the plugin's WispQuery (src/plugin/types.ts). */
interface Target {
  refId: string;
  datasource: DsRef;
  script: string;
  output?: string;
  format?: 'auto' | 'table';
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: DsRef;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
  options?: { sortBy?: { displayName: string; desc: boolean }[] };
  fieldConfig: { defaults: { unit?: string; displayName?: string } };
}

/** A query variable: a script run through the plugin. */
export interface Variable {
  name: string;
  type: 'query';
  datasource: DsRef;
  query: { refId: string; script: string };
  includeAll: boolean;
  multi: boolean;
  current: { value: string[] };
}

/** The datasource variable the panels name their datasource by (`${datasource}`). */
interface DatasourceVariable {
  name: string;
  type: 'datasource';
  /** The plugin id whose datasources it lists. */
  query: string;
  current: Record<string, never>;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: (Variable | DatasourceVariable)[] };
}

/** The dashboard's query variables, in order (the datasource variable resolves to no values). */
export function queryVariables(dashboard: Dashboard): Variable[] {
  return dashboard.templating.list.filter((v): v is Variable => v.type === 'query');
}

/** A provisioned dashboard: provisioning/dashboards/http-overview.json unless told. */
export function loadDashboard(file = 'http-overview.json'): Dashboard {
  return JSON.parse(readFileSync(join(root, 'provisioning/dashboards', file), 'utf8')) as Dashboard;
}

/** provisioning/datasources/wisp.yaml. */
export function loadDatasources(): {
  apiVersion: number;
  datasources: { name: string; uid: string; type: string; access: string; jsonData: Record<string, string>; secureJsonData: Record<string, string> }[];
} {
  return parse(readFileSync(join(root, 'provisioning/datasources/wisp.yaml'), 'utf8'));
}

/** src/plugin/plugin.json. */
export function loadPluginJson(): { id: string; routes: { path: string; url: string; headers: { name: string; content: string }[] }[] } {
  return JSON.parse(readFileSync(join(root, 'src/plugin/plugin.json'), 'utf8'));
}

/** Variable values as the plugin sends them in a request's `variables`. */
export type Variables = Record<string, string | string[]>;

/**
 * Fills the dashboard's variables the way Grafana does on load with every variable on "All":
 * `runScript(script, earlier)` answers the values a variable's script lists (its first column).
 */
export async function resolveVariables(
  dashboard: Dashboard,
  runScript: (script: string, variables: Variables) => Promise<string[]>,
): Promise<Variables> {
  const values: Variables = {};
  for (const v of queryVariables(dashboard)) {
    values[v.name] = await runScript(v.query.script, { ...values });
  }
  return values;
}

/**
 * Runs a panel's script on the engine at `url` over `range` with Grafana's interval, as the
 * plugin sends it; the answer must be a 200 with no warnings.
 */
export async function queryPanel(
  url: string,
  body: { script: string; range: { from: number; to: number }; intervalMs: number; variables: Variables },
  token?: string,
): Promise<QueryResponse> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ ...body, maxDataPoints: 1000 }),
  });
  const answer = (await res.json()) as QueryResponse;
  assert.equal(res.status, 200, JSON.stringify(answer));
  assert.deepEqual(answer.warnings, [], 'no warnings');
  return answer;
}

/** A table's rows as objects; 64-bit values arrive as decimal strings and stay strings. */
export function rows(t: ResultTable): Record<string, string | number | boolean | null>[] {
  return Array.from({ length: t.rowCount }, (_, i) => Object.fromEntries(t.columns.map((c, k) => [c.name, t.data[k]![i]!])));
}

/** The output of that name; fails naming the ones there are. */
export function output(res: QueryResponse, name: string): ResultTable {
  const t = res.tables.find((x) => x.name === name);
  assert.ok(t, `no output ${name} in ${res.tables.map((x) => x.name).join(', ')}`);
  return t;
}

/** The dashboard's panel of that title. */
export function panelOf(dashboard: Dashboard, title: string): Panel {
  const p = dashboard.panels.find((x) => x.title === title);
  assert.ok(p, `no panel ${title}`);
  return p;
}
