import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { HTTP_EVENTS_SCHEMA } from '../http/schema.js';
import type { Row } from '../schema.js';
import { LookupMetadata } from '../pxl/distributed/broker/metadata.js';
import { Store } from '../store/store.js';
import { RedMetrics, routeOf } from './red.js';

test('routes: identifiers become {id}, names stay, the query string goes', () => {
  assert.equal(routeOf('/items/123?x=1'), '/items/{id}');
  assert.equal(routeOf('/users/3f2b9c1e-5a4d-4e8f-9b7a-1c2d3e4f5a6b/orders/9'), '/users/{id}/orders/{id}');
  assert.equal(routeOf('/blobs/deadbeefdeadbeef01'), '/blobs/{id}');
  assert.equal(routeOf('/api/v1/query'), '/api/v1/query');
  assert.equal(routeOf('/session/abcdefghij0123456789xyz'), '/session/{id}');
  assert.equal(routeOf('/?q=1'), '/');
  assert.equal(routeOf(''), '/');
});

async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, want]) => String((x.labels as Record<string, unknown>)[k]) === want));
  return v?.value;
}

test('server rows are counted once per label set, client rows not at all, and label sets stop at the cap', async () => {
  const store = new Store();
  const table = store.create(HTTP_EVENTS_SCHEMA);
  const registry = new Registry();
  const red = new RedMetrics(registry, table, new LookupMetadata(), 3);
  const row = (path: string, status: number, role = 2): Row => ({ time_: 1n, trace_role: role, comm: 'api', req_method: 'GET', req_path: path, resp_status: status, latency: 2_000_000 });
  table.append([row('/items/1', 200), row('/items/2', 500), row('/items/3', 200, 1), row('/health', 200)]);
  const labels = { service: 'api', method: 'GET', route: '/items/{id}' };
  assert.equal(await sample(registry, 'wisp_http_server_requests_total', labels), 2);
  assert.equal(await sample(registry, 'wisp_http_server_errors_total', labels), 1);
  assert.equal(await sample(registry, 'wisp_http_server_errors_total', { route: '/health' }), 0);
  // A second scrape reads nothing twice.
  assert.equal(await sample(registry, 'wisp_http_server_requests_total', labels), 2);
  table.append([row('/a', 200), row('/b', 200), row('/c', 200), row('/items/4', 200)]);
  red.catchUp();
  assert.equal(await sample(registry, 'wisp_http_server_requests_total', { route: '/a' }), 1);
  assert.equal(await sample(registry, 'wisp_http_server_requests_total', { route: '/b' }), undefined);
  assert.equal(await sample(registry, 'wisp_http_server_requests_total', { route: '{overflow}' }), 2);
  assert.equal(await sample(registry, 'wisp_http_server_overflow_total'), 2);
  assert.equal(await sample(registry, 'wisp_http_server_requests_total', labels), 3);
});
