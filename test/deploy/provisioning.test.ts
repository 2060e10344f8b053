/**
 * provisioning/: the datasource and dashboard files parse, point at the plugin id and the
 * datasource uid, set exactly the settings the plugin's data-proxy route reads, and every panel's
 * and variable's script compiles against the engine's schema with the dashboard's variables in
 * every shape Grafana sends them. (dashboard-live.test.ts runs them on captured traffic.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { compile, type CompileOptions } from '../../src/engine/pxl/compile.js';
import { PxlError } from '../../src/engine/pxl/diagnostic.js';
import { httpCatalog as catalog } from '../../src/testkit/pxl-scripts/scripts.js';
import { loadDashboard, loadDatasources, loadPluginJson, queryVariables, root, type DsRef, type Variables } from './dashboard.js';

const dashboard = loadDashboard();
const plugin = loadPluginJson();
const { datasources } = loadDatasources();

const t0 = 1_795_000_000_000_000_000n;
function options(variables: Variables): CompileOptions {
  return { fromNs: t0, toNs: t0 + 900_000_000_000n, intervalNs: 15_000_000_000n, nowNs: t0 + 900_000_000_000n, maxDataPoints: 1000, variables };
}

function compileOrExplain(script: string, variables: Variables, what: string) {
  try {
    return compile(script, options(variables), catalog);
  } catch (e) {
    if (e instanceof PxlError) {
      const d = e.diagnostic;
      assert.fail(`${what}: ${d.code} at ${d.span?.start.line}:${d.span?.start.column}: ${d.message} ${(d.hints ?? []).join('; ')}`);
    }
    throw e;
  }
}

test('the datasource: plugin id, fixed uid, and exactly the settings the plugin route reads', () => {
  assert.equal(datasources.length, 1);
  const ds = datasources[0]!;
  assert.equal(ds.type, plugin.id);
  assert.equal(ds.uid, 'wisp');
  assert.equal(ds.access, 'proxy', "the token is injected by Grafana's data proxy");
  // The route templates name the jsonData and secureJsonData keys Grafana fills them from.
  const route = plugin.routes.find((r) => r.path === 'engine')!;
  const templates = [route.url, ...route.headers.map((h) => h.content)].join(' ');
  const jsonKeys = [...templates.matchAll(/\.JsonData\.(\w+)/g)].map((m) => m[1]);
  const secureKeys = [...templates.matchAll(/\.SecureJsonData\.(\w+)/g)].map((m) => m[1]);
  assert.deepEqual(Object.keys(ds.jsonData).sort(), jsonKeys.sort());
  assert.deepEqual(Object.keys(ds.secureJsonData).sort(), secureKeys.sort());
  assert.equal(ds.jsonData['engineUrl'], '$WISP_URL');
  // The token is read from a file where compose and Kubernetes mount it (docs/deploy.md), so it
  // is never in an environment and a missing file fails provisioning instead of sending no token.
  assert.equal(ds.secureJsonData['token'], '$__file{/run/wisp/broker-token/token}');
});

test('the dashboard provider loads the folder Grafana mounts provisioning/dashboards at', () => {
  const provider = parse(readFileSync(join(root, 'provisioning/dashboards/wisp.yaml'), 'utf8')) as {
    providers: { type: string; options: { path: string } }[];
  };
  assert.equal(provider.providers.length, 1);
  assert.equal(provider.providers[0]!.type, 'file');
  assert.equal(provider.providers[0]!.options.path, '/etc/grafana/provisioning/dashboards');
});

test('the dashboard: current schema, every panel and variable on the Wisp datasource its datasource variable picks, the panels the overview needs', async () => {
  const { defaultDashboard } = await import('@grafana/schema');
  assert.equal(dashboard.schemaVersion, defaultDashboard.schemaVersion, 'the schema version Grafana 13.2 writes');
  assert.equal(dashboard.uid, 'wisp-http-overview');
  // No datasource uid is written in: a datasource variable lists the Wisp datasources (Grafana
  // picks the default one, or the first), so the file works provisioned, imported from the
  // plugin's includes, or next to a datasource of another uid.
  const [dsVar] = dashboard.templating.list;
  assert.deepEqual(dsVar, { name: 'datasource', label: 'Datasource', type: 'datasource', query: plugin.id, current: {}, options: [], regex: '', refresh: 1, includeAll: false, multi: false, hide: 0, skipUrlSync: false });
  assert.doesNotMatch(JSON.stringify(dashboard), new RegExp(`"uid":\\s*"${datasources[0]!.uid}"`));
  const ref: DsRef = { type: plugin.id, uid: '${datasource}' };
  for (const p of dashboard.panels) {
    assert.deepEqual(p.datasource, ref, p.title);
    assert.ok(p.targets.length > 0, p.title);
    for (const t of p.targets) assert.deepEqual(t.datasource, ref, `${p.title} ${t.refId}`);
  }
  for (const v of queryVariables(dashboard)) {
    assert.deepEqual(v.datasource, ref, v.name);
    assert.ok(v.includeAll && v.multi, `${v.name} is multi-value with All`);
    assert.deepEqual(v.current.value, ['$__all']);
  }
  assert.deepEqual(dashboard.templating.list.map((v) => `${v.name}:${v.type}`), ['datasource:datasource', 'namespace:query', 'service:query']);
  assert.deepEqual(
    dashboard.panels.map((p) => p.type),
    ['timeseries', 'timeseries', 'timeseries', 'nodeGraph', 'table', 'table'],
  );
  assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids are unique');
  // No two panels overlap on Grafana's 24-column grid.
  const cells = new Set<string>();
  for (const p of dashboard.panels) {
    assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, p.title);
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
  }
});

// The shapes Grafana sends: All over no options (a plain host has no namespace), All over
// several values, one value each, and several chosen values.
const SHAPES: Variables[] = [
  { namespace: [], service: ['demo-frontend', 'demo-cart'] },
  { namespace: ['default', 'shop'], service: ['default/frontend', 'shop/cart'] },
  { namespace: 'default', service: 'default/frontend' },
  { namespace: [], service: [] },
];

test('every panel script compiles against the engine schema, with each shape of the variables', () => {
  for (const p of dashboard.panels) {
    for (const t of p.targets) {
      for (const vars of SHAPES) {
        const { program, warnings } = compileOrExplain(t.script, vars, `${p.title} with ${JSON.stringify(vars)}`);
        assert.deepEqual(warnings, [], p.title);
        const names = program.outputs.map((o) => o.name);
        if (p.type === 'nodeGraph') assert.deepEqual([...names].sort(), ['edges', 'nodes'], p.title);
        else assert.equal(names.length, 1, p.title);
        if (t.output) assert.ok(names.includes(t.output), `${p.title} shows output ${t.output}`);
      }
    }
  }
});

test('each variable compiles with only the variables defined before it (Grafana resolves them in order)', () => {
  const before: Variables = {};
  for (const v of queryVariables(dashboard)) {
    const { program } = compileOrExplain(v.query.script, before, `variable ${v.name}`);
    assert.equal(program.outputs.length, 1, v.name);
    before[v.name] = [];
  }
  // And a panel that used a variable the dashboard does not define would not compile.
  const panel = dashboard.panels[0]!.targets[0]!.script;
  assert.throws(() => compile(panel, options({ namespace: [] }), catalog), (e: unknown) => e instanceof PxlError && e.diagnostic.code === 'PXL_VARIABLE');
});
