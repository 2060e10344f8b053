/**
 * Engine discovery from Kubernetes: the broker watches the EndpointSlices of the engines'
 * headless Service through @kubernetes/client-node's informer, against the API-server double
 * (test/support/k8sApiServer.ts), and queries exactly the ready engines it lists — as slices
 * are added, marked not ready and deleted.
 *
 * The double serves the cluster-wide collection only; the broker reads the namespaced one
 * (`/apis/discovery.k8s.io/v1/namespaces/NS/endpointslices`, so a namespaced Role suffices).
 * A small HTTP proxy maps the namespaced path onto the cluster-wide one with
 * `fieldSelector=metadata.namespace=NS`; the double ignores labelSelector, so slices of other
 * Services do reach the broker, which must leave them out itself.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { KubernetesEngines, parseServiceRef, sliceUrls } from '../../src/engine/broker/engines.js';
import { startBroker, type RunningBroker } from '../../src/engine/cli/broker.js';
import { K8sApiServer, type KObject } from '../support/k8sApiServer.js';
import { serveShard, syntheticCluster } from './synthetic.js';

const cluster = syntheticCluster({ engines: 2, rows: 5000, seed: 3, startNs: BigInt(Date.now() - 120_000) * 1_000_000n, spanNs: 60e9 });
let api: K8sApiServer;
let proxy: http.Server;
let engines: { url: string; close(): Promise<void> }[];
let discovery: KubernetesEngines;
let broker: RunningBroker;

function endpointSlice(namespace: string, name: string, service: string, url: string, ready = true): KObject {
  const u = new URL(url);
  return {
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [u.hostname], conditions: { ready } }],
    ports: [{ name: 'api', port: Number(u.port), protocol: 'TCP' }],
  };
}

before(async () => {
  api = await K8sApiServer.start();
  proxy = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const m = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/.exec(url.pathname);
    if (m) {
      url.pathname = '/apis/discovery.k8s.io/v1/endpointslices';
      url.searchParams.set('fieldSelector', `metadata.namespace=${m[1]}`);
    }
    const up = https.request(`${api.url}${url.pathname}${url.search}`, { method: req.method, headers: { authorization: req.headers.authorization ?? '' }, ca: api.caPem }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      // A watch may stay silent for long: the client must see the headers now, as from the server.
      res.flushHeaders();
      r.pipe(res);
      // An upstream stream cut mid-flight is cut downstream too, as the client would see it.
      r.on('close', () => {
        if (!r.complete) res.destroy();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  engines = await Promise.all(cluster.shards.map((s) => serveShard(s)));
  api.apply('endpointslices', endpointSlice('wisp', 'wisp-engine-a', 'wisp-engine', engines[0]!.url));
  // Same namespace, other Service; same Service name, other namespace: neither is an engine.
  api.apply('endpointslices', endpointSlice('wisp', 'other-x', 'other', 'http://127.0.0.1:9'));
  api.apply('endpointslices', endpointSlice('elsewhere', 'wisp-engine-z', 'wisp-engine', 'http://127.0.0.1:9'));
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    // Plain HTTP to the local proxy: the client only allows it with TLS verification off.
    clusters: [{ name: 'fixture', server: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, skipTLSVerify: true }],
    users: [{ name: 'fixture', token: api.token }],
    contexts: [{ name: 'fixture', cluster: 'fixture', user: 'fixture' }],
    currentContext: 'fixture',
  });
  discovery = await KubernetesEngines.start(parseServiceRef('wisp/wisp-engine'), kc);
  broker = await startBroker({ listen: '127.0.0.1:0', engines: discovery, engineTimeoutMs: 5000 });
});

after(async () => {
  await broker?.stop();
  await Promise.all(engines.map((e) => e.close()));
  proxy.closeAllConnections();
  proxy.close();
  await api.close();
});

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function total(): Promise<{ n: number; queried: number }> {
  const res = await fetch(`${broker.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ script: "import px\ndf = px.DataFrame(table='http_events', start_time='-10m')\ndf = df.agg(n=('latency', px.count))\npx.display(df)" }),
  });
  const body = (await res.json()) as { tables: { data: string[][] }[]; stats: { engines: { queried: number } } };
  assert.equal(res.status, 200, JSON.stringify(body));
  return { n: Number(body.tables[0]!.data[0]![0]), queried: body.stats.engines.queried };
}

const rowsOf = (i: number): number => cluster.shards[i]!.store.stats()['http_events']!.rows;

test('the broker queries the ready engines of the Service as its EndpointSlices change', async () => {
  assert.deepEqual(discovery.list(), [engines[0]!.url]);
  assert.deepEqual(await total(), { n: rowsOf(0), queried: 1 });

  api.apply('endpointslices', endpointSlice('wisp', 'wisp-engine-b', 'wisp-engine', engines[1]!.url));
  await until('the second engine', () => discovery.list().length === 2);
  assert.deepEqual(await total(), { n: rowsOf(0) + rowsOf(1), queried: 2 });

  api.apply('endpointslices', endpointSlice('wisp', 'wisp-engine-a', 'wisp-engine', engines[0]!.url, false));
  await until('the first engine to turn not ready', () => discovery.list().length === 1);
  assert.deepEqual(discovery.list(), [engines[1]!.url]);
  assert.deepEqual(await total(), { n: rowsOf(1), queried: 1 });

  // A watch cut mid-flight: the informer watches again (or re-lists) and sees what changed.
  api.dropWatches();
  api.apply('endpointslices', endpointSlice('wisp', 'wisp-engine-a', 'wisp-engine', engines[0]!.url, true));
  await until('the first engine back after the watch was cut', () => discovery.list().length === 2);

  api.remove('endpointslices', 'wisp', 'wisp-engine-a');
  api.remove('endpointslices', 'wisp', 'wisp-engine-b');
  await until('no engines', () => discovery.list().length === 0);
  const res = await fetch(`${broker.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script: 'import px\npx.display(px.DataFrame(table="http_events"))' }) });
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BROKER_NO_ENGINES');
  const ready = await fetch(`${broker.url}/readyz`);
  assert.equal(ready.status, 503);
});

test('EndpointSlice addresses become engine URLs: ready endpoints, the api port, IPv6 in brackets', () => {
  const s: k8s.V1EndpointSlice = {
    addressType: 'IPv6',
    endpoints: [{ addresses: ['fd00::7'] }, { addresses: ['fd00::8'], conditions: { ready: false } }],
    ports: [
      { name: 'metrics', port: 9100 },
      { name: 'api', port: 7070 },
    ],
  };
  assert.deepEqual(sliceUrls(s), ['http://[fd00::7]:7070']);
  assert.throws(() => parseServiceRef('wisp'), /NAMESPACE\/NAME/);
});
