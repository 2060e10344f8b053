import { test } from 'node:test';
import assert from 'node:assert/strict';

import { isPixieQuery, migrateQuery, migrateVariableQuery } from './migrate.js';
import type { PixieQuery } from './migrate.js';
import { distinctCtx } from './presets.js';
import type { WispQuery } from './types.js';

// Query models as Pixie's Grafana plugin saves them (pixie-io/grafana-plugin src/types.ts:
// queryType 'run-script', the script in queryBody.pxlScript, picker state in queryMeta).
const SCRIPT = `# $pixieCluster - work around to update the panel if this dashboard variable is present
import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df.timestamp = px.bin(df.time_, __interval)
px.display(df)`;

test('a Pixie run-script query loads as a Wisp query: the script untouched, Pixie\'s fields gone, the rest kept', () => {
  const pixie: PixieQuery & { clusterID: string; datasource: { type: string; uid: string } } = {
    refId: 'A',
    hide: false,
    queryType: 'run-script',
    clusterID: 'c-1',
    datasource: { type: 'wisp-ebpf-datasource', uid: 'wisp' },
    queryBody: { pxlScript: SCRIPT, clusterID: '$pixieCluster' },
  };
  assert.equal(isPixieQuery(pixie), true);
  assert.deepEqual(migrateQuery(pixie), { refId: 'A', hide: false, datasource: { type: 'wisp-ebpf-datasource', uid: 'wisp' }, script: SCRIPT });
});

test('a Wisp query, or a query without a Pixie script, is left as it is', () => {
  const wisp: WispQuery = { refId: 'B', script: 'import px', format: 'table' };
  assert.equal(migrateQuery(wisp), wisp);
  assert.equal(isPixieQuery({ refId: 'C', queryType: 'run-script' }), false);
  assert.equal(isPixieQuery({ refId: 'D', script: 'x', queryBody: { pxlScript: 'y' } }), false, 'a Wisp script wins');
});

test('Pixie\'s column picker: $__columns becomes the chosen columns, or all of them when none are chosen', () => {
  const base = `df = px.DataFrame(table='process_stats', start_time=$__from)\ndf = df[[$__columns]]\npx.display(df)`;
  const chosen = migrateQuery({
    refId: 'A',
    queryType: 'run-script',
    queryBody: { pxlScript: base },
    queryMeta: { isColDisplay: true, columnOptions: [{ label: 'pod' }, { label: 'rss' }, { label: 'vsize' }], selectedColDisplay: [{ label: 'pod' }, { label: 'rss' }] },
  });
  assert.equal(chosen.script, `df = px.DataFrame(table='process_stats', start_time=$__from)\ndf = df[['pod','rss']]\npx.display(df)`);
  const none = migrateQuery({
    refId: 'A',
    queryBody: { pxlScript: base },
    queryMeta: { isColDisplay: true, columnOptions: [{ label: 'pod' }, { label: 'rss' }], selectedColDisplay: [] },
  });
  assert.equal(none.script, `df = px.DataFrame(table='process_stats', start_time=$__from)\ndf = df[['pod','rss']]\npx.display(df)`);
});

test('Pixie\'s group-by picker: the script from its last px.display on becomes the group-by it generated', () => {
  const q = migrateQuery({
    refId: 'A',
    queryBody: { pxlScript: `df = px.DataFrame(table='http_events', start_time=__time_from)\ndf = df[[$__columns]]\npx.display(df)` },
    queryMeta: {
      isGroupBy: true,
      columnOptions: [{ label: 'req_path' }, { label: 'latency' }],
      selectedColGroupby: [{ label: 'req_path' }],
      aggData: [{ aggColumn: 'latency', aggFunction: 'mean' }],
    },
  });
  assert.equal(
    q.script,
    `df = px.DataFrame(table='http_events', start_time=__time_from)\ndf = df[['req_path','latency']]\ndf = df.groupby(['req_path']).agg(latency_mean=('latency', px.mean))\npx.display(df)`
  );
});

test('Pixie\'s variable queries: pods, services, namespaces and nodes as scripts; clusters as none', () => {
  assert.deepEqual(migrateVariableQuery({ queryType: 'get-services', queryBody: { clusterID: '$pixieCluster' } }), {
    refId: 'variable',
    script: distinctCtx('service', 'service'),
  });
  assert.equal(migrateVariableQuery({ queryType: 'get-pods' }).script, distinctCtx('pod', 'pod'));
  assert.equal(migrateVariableQuery({ queryType: 'get-namespaces' }).script, distinctCtx('namespace', 'namespace'));
  assert.equal(migrateVariableQuery({ queryType: 'get-nodes' }).script, distinctCtx('node', 'node'));
  assert.equal(migrateVariableQuery({ queryType: 'get-clusters' }).script, '');
  assert.equal(migrateVariableQuery({ queryType: 'run-script', queryBody: { pxlScript: 'import px' } }).script, 'import px');
  const wisp = { refId: 'v', script: 'import px', preset: 'nodes' };
  assert.equal(migrateVariableQuery(wisp), wisp);
});
