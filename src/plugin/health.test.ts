import { test } from 'node:test';
import assert from 'node:assert/strict';

import { EngineApi, engineBaseUrl } from './api.js';
import { checkHealth } from './health.js';
import type { HealthReport } from './health.js';
import { startDataProxy } from '../testkit/plugin/dataProxy.js';
import { FIXTURE_READY, startFixtureEngine } from '../testkit/plugin/fixtureEngine.js';
import type { FixtureOptions } from '../testkit/plugin/fixtureEngine.js';
import { nodeTransport } from '../testkit/plugin/nodeTransport.js';

// Each outcome of "Save & test", through the data-proxy stand-in to a fixture engine.
async function saveAndTest(fixture: FixtureOptions | 'down', token: string | undefined): Promise<HealthReport> {
  const proxy = await startDataProxy();
  const engine = fixture === 'down' ? undefined : await startFixtureEngine(fixture);
  try {
    // A port that was just listening and is now closed: nothing answers there.
    const closed = await startFixtureEngine();
    await closed.close();
    const engineUrl = engine?.url ?? closed.url;
    proxy.datasources.set('ds', { engineUrl, token });
    const api = new EngineApi(engineBaseUrl(proxy.url + proxy.instanceUrl('ds')), nodeTransport);
    return await checkHealth(api, { engineUrl });
  } finally {
    await Promise.all([engine?.close(), proxy.close()]);
  }
}

const summary = (r: HealthReport) => r.checks.map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.name}`).join(', ');

test('all good: reachable, token accepted, capture running with its event count, version', async () => {
  const r = await saveAndTest({ token: 't' }, 't');
  assert.equal(r.status, 'success', r.message);
  assert.equal(summary(r), 'ok engine, ok token, ok capture, ok version');
  assert.match(r.message, /^engine 0\.1\.0-fixture reachable at http:\/\/127\.0\.0\.1:\d+; token accepted; capture running: 56789 events captured, 1234 held in http_events; drops: ringbuf_full 3$/);
});

test('engine down: the proxy cannot reach it and the dependent checks say they were not run', async () => {
  const r = await saveAndTest('down', 't');
  assert.equal(r.status, 'error');
  assert.equal(summary(r), 'FAIL engine, FAIL token, FAIL capture, FAIL version');
  assert.match(r.message, /^Failed: engine: not reachable at http:\/\/127\.0\.0\.1:\d+: Grafana's data proxy could not reach it \(HTTP 502\)$/);
  assert.match(r.details.verboseMessage, /✗ token: not checked: the engine is not reachable/);
});

test('something else answers at the URL', async () => {
  const r = await saveAndTest({ ready: '<html>nginx</html>' }, undefined);
  assert.equal(summary(r), 'FAIL engine, FAIL token, FAIL capture, FAIL version');
  assert.match(r.message, /GET \/readyz answered HTTP 200 with a body that is not a Wisp engine's/);
});

test('wrong or missing token: 401 from the schema endpoint', async () => {
  for (const token of ['wrong', undefined]) {
    const r = await saveAndTest({ token: 't' }, token);
    assert.equal(summary(r), 'ok engine, FAIL token, ok capture, ok version');
    assert.equal(r.message, 'Failed: token: the engine rejected the request: token missing or wrong (HTTP 401)');
  }
});

test('capture not running: readyz 503 and its failed checks are quoted', async () => {
  const r = await saveAndTest(
    {
      ready: {
        ...FIXTURE_READY,
        ready: false,
        checks: [{ name: 'capture', ok: false, detail: 'tracefs not mounted at /sys/kernel/tracing' }],
        capture: { running: false, events: 0 },
      },
    },
    undefined
  );
  assert.equal(summary(r), 'ok engine, ok token, FAIL capture, ok version');
  assert.equal(r.message, 'Failed: capture: not running (capture: tracefs not mounted at /sys/kernel/tracing)');
});

test('no version reported, and a schema endpoint that fails otherwise', async () => {
  const { version: _drop, ...noVersion } = FIXTURE_READY;
  const r = await saveAndTest({ ready: noVersion, schemaStatus: 500 }, undefined);
  assert.equal(summary(r), 'ok engine, FAIL token, ok capture, FAIL version');
  assert.equal(
    r.message,
    'Failed: token: GET /api/v1/schema failed: HTTP 500; version: the engine did not report its version'
  );
});

test('no engine URL set', async () => {
  const api = new EngineApi('/api/datasources/proxy/uid/x/engine', nodeTransport);
  const r = await checkHealth(api, { engineUrl: '' });
  assert.equal(r.message, 'Failed: engine: no engine URL is set');
});
