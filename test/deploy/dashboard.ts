/**
 * The provisioned dashboards ("HTTP overview", "Network") and datasource as the deploy tests read them, and
 * Grafana's way of filling variables: in dashboard order, each variable's script run with the
 * values of the ones before it, "All" sent as the list of every value (what the plugin's
 * collectVariables gets from Grafana for a multi-value variable with includeAll).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

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
