import { test } from 'node:test';
import assert from 'node:assert/strict';

import { EngineApi, EngineError, engineBaseUrl } from './api.js';
import { startDataProxy } from '../testkit/plugin/dataProxy.js';
import { startFixtureEngine } from '../testkit/plugin/fixtureEngine.js';
import { nodeTransport } from '../testkit/plugin/nodeTransport.js';

test('the engine is reached through the data-proxy route path of the datasource', () => {
  assert.equal(engineBaseUrl('/api/datasources/proxy/uid/abc'), '/api/datasources/proxy/uid/abc/engine');
  assert.equal(engineBaseUrl('/grafana/api/datasources/proxy/uid/abc/'), '/grafana/api/datasources/proxy/uid/abc/engine');
  assert.throws(() => engineBaseUrl(undefined), /no proxy URL/);
});

test('queries go through the proxy, which adds the token; errors keep the engine diagnostic', async (t) => {
  const engine = await startFixtureEngine({ token: 's3cret' });
  const proxy = await startDataProxy();
  t.after(() => Promise.all([engine.close(), proxy.close()]));
  proxy.datasources.set('ds1', { engineUrl: engine.url, token: 's3cret' });
  const api = new EngineApi(engineBaseUrl(proxy.url + proxy.instanceUrl('ds1')), nodeTransport);

  const res = await api.query({ script: 'import px', range: { from: 1, to: 2 } });
  assert.equal(res.tables[0].name, 'throughput_by_service');
  assert.deepEqual(engine.queries, [{ script: 'import px', range: { from: 1, to: 2 } }]);
  assert.deepEqual(engine.authHeaders, ['Bearer s3cret']);

  const err = await api.query({ script: 'import px\ndf.x = df.latncy' }).catch((e: unknown) => e);
  assert.ok(err instanceof EngineError);
  assert.equal(err.status, 400);
  assert.deepEqual(err.diagnostic?.span, { start: { line: 2, column: 11 }, end: { line: 2, column: 17 } });

  proxy.datasources.set('ds1', { engineUrl: engine.url, token: 'wrong' });
  const denied = await api.schema().catch((e: unknown) => e);
  assert.ok(denied instanceof EngineError);
  assert.equal(denied.status, 401);
  assert.equal(denied.message, 'missing or wrong bearer token');
});

test('a non-JSON failure is reported with its status', async (t) => {
  const engine = await startFixtureEngine({ answer: () => ({ status: 504, body: 'gateway timeout' }) });
  t.after(() => engine.close());
  const api = new EngineApi(engine.url, nodeTransport);
  await assert.rejects(api.query({ script: 'x' }), /engine answered HTTP 504: gateway timeout/);
});
