/**
 * The Kubernetes informers against the API-server double (test/support/k8sApiServer.ts; no real
 * API server runs here): first list, add/update/delete, a dropped watch, bookmarks, 410 Gone →
 * relist, the API down then up, and a rejected token. Each test checks the lookups the PxL
 * functions call, and the fixture's request log for how the client behaved on the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { K8sApiServer, type Resource } from '../support/k8sApiServer.js';
import { KubernetesMetadata } from '../../src/engine/meta/k8s/metadata.js';
import { ProcessMetadata } from '../../src/engine/meta/process.js';
import { containerId, detail, live, pod, service, slice, waitFor, watching } from './helpers.js';

const NODE = 'node-a';

async function withApi(fn: (api: K8sApiServer) => Promise<void>): Promise<void> {
  const api = await K8sApiServer.start();
  try {
    await fn(api);
  } finally {
    await api.close();
  }
}

async function withView(api: K8sApiServer, fn: (md: KubernetesMetadata) => Promise<void>, view = watching(api, NODE)): Promise<void> {
  try {
    await fn(view);
  } finally {
    await view.close();
  }
}

function lists(api: K8sApiServer, resource: Resource): number {
  return api.requests.filter((r) => r.resource === resource && !r.watch).length;
}

test('first list: this node\'s pods, all services and slices; lookups by IP, UID and name', () =>
  withApi(async (api) => {
    const a = api.apply('pods', pod({ namespace: 'shop', name: 'web-1', node: NODE, ip: '10.1.0.5', container: containerId() }));
    const b = api.apply('pods', pod({ namespace: 'shop', name: 'web-2', node: 'node-b', ip: '10.1.1.7', container: containerId() }));
    const h = api.apply('pods', pod({ namespace: 'kube-system', name: 'proxy', node: NODE, ip: '192.168.0.10', hostNetwork: true, container: containerId() }));
    const web = api.apply('services', service('shop', 'web', '10.96.0.10'));
    api.apply('endpointslices', slice('shop', 'web', [
      { name: 'web-1', uid: a.metadata.uid!, ip: '10.1.0.5', node: NODE },
      { name: 'web-2', uid: b.metadata.uid!, ip: '10.1.1.7', node: 'node-b' },
    ]));
    await withView(api, async (md) => {
      await waitFor('informers live', () => live(md), 10_000, () => detail(md));
      assert.deepEqual(md.state.counts(), { pods: 2, services: 1, endpointSlices: 1 }, 'the pod of node-b is not listed');
      assert.equal(md.ipToPodId('10.1.0.5'), a.metadata.uid);
      assert.equal(md.podIdToPodName(a.metadata.uid!), 'shop/web-1');
      assert.equal(md.podIdToNamespace(a.metadata.uid!), 'shop');
      assert.equal(md.podIdToNodeName(a.metadata.uid!), NODE);
      assert.equal(md.podNameToPodIp('shop/web-1'), '10.1.0.5');
      assert.equal(md.podNameToPodId('shop/web-1'), a.metadata.uid);
      // Another node's pod is known through the endpoint slice's targetRef.
      assert.equal(md.ipToPodId('10.1.1.7'), b.metadata.uid);
      assert.equal(md.podIdToPodName(b.metadata.uid!), 'shop/web-2');
      assert.equal(md.podIdToNodeName(b.metadata.uid!), '');
      // A host-network pod's IP is the node's: it must not claim the node's traffic.
      assert.equal(md.ipToPodId('192.168.0.10'), '');
      assert.equal(md.podIdToPodName(h.metadata.uid!), 'kube-system/proxy');
      assert.equal(md.ipToServiceId('10.96.0.10'), web.metadata.uid, 'cluster IP');
      assert.equal(md.ipToServiceId('10.1.0.5'), web.metadata.uid, 'endpoint address');
      assert.equal(md.serviceIdToServiceName(web.metadata.uid!), 'shop/web');
      assert.equal(md.serviceNameToServiceId('shop/web'), web.metadata.uid);
      assert.equal(md.podIdToServiceName(a.metadata.uid!), 'shop/web');
      assert.equal(md.podIdToServiceId(a.metadata.uid!), web.metadata.uid);
      for (const unknown of ['10.9.9.9', '', 'not an ip']) {
        assert.equal(md.ipToPodId(unknown), '');
        assert.equal(md.ipToServiceId(unknown), '');
      }
      assert.equal(md.podIdToPodName(randomUUID()), '');

      const podList = api.requests.find((r) => r.resource === 'pods' && !r.watch);
      assert.equal(podList?.query['fieldSelector'], `spec.nodeName=${NODE}`);
      const podWatch = api.requests.find((r) => r.resource === 'pods' && r.watch);
      assert.equal(podWatch?.query['fieldSelector'], `spec.nodeName=${NODE}`);
      assert.equal(podWatch?.query['allowWatchBookmarks'], 'true');
      assert.match(podWatch?.query['resourceVersion'] ?? '', /^\d+$/, 'the watch starts where the list ended');
      const [check] = md.checks();
      assert.equal(check?.name, 'kubernetes');
      assert.equal(check?.advisory, true);
      assert.match(check!.detail, new RegExp(`^watching ${api.url.replace(/\./g, '\\.')} .*2 pods on node ${NODE}, 1 services, 1 endpoint slices`));
    });
  }));

test('adds, updates and deletes reach the lookups; a pod in two services has both', () =>
  withApi(async (api) => {
    await withView(api, async (md) => {
      await waitFor('informers live', () => live(md), 10_000, () => detail(md));
      const c = api.apply('pods', pod({ namespace: 'shop', name: 'cart-1', node: NODE, ip: '10.1.0.8', container: containerId() }));
      const uid = c.metadata.uid!;
      await waitFor('the added pod', () => md.ipToPodId('10.1.0.8') === uid);

      api.apply('pods', pod({ namespace: 'shop', name: 'cart-1', node: NODE, ip: '10.1.0.9', container: containerId(), uid }));
      await waitFor('the moved IP', () => md.ipToPodId('10.1.0.9') === uid);
      assert.equal(md.ipToPodId('10.1.0.8'), '', 'the old IP is forgotten');

      const cart = api.apply('services', service('shop', 'cart', '10.96.0.20'));
      const api2 = api.apply('services', service('shop', 'api', '10.96.0.21'));
      const first = api.apply('endpointslices', slice('shop', 'cart', [{ name: 'cart-1', uid, ip: '10.1.0.9' }]));
      const second = api.apply('endpointslices', slice('shop', 'api', [{ name: 'cart-1', uid, ip: '10.1.0.9' }]));
      await waitFor('two services', () => md.podIdToServiceName(uid) === '["shop/api","shop/cart"]', 10_000, () => md.podIdToServiceName(uid));
      assert.equal(md.podIdToServiceId(uid), JSON.stringify([cart.metadata.uid, api2.metadata.uid].sort()));

      api.remove('endpointslices', 'shop', second.metadata.name);
      await waitFor('one service again', () => md.podIdToServiceName(uid) === 'shop/cart', 10_000, () => md.podIdToServiceName(uid));
      api.remove('services', 'shop', 'cart');
      await waitFor('the deleted service', () => md.serviceIdToServiceName(cart.metadata.uid!) === '');
      assert.equal(md.ipToServiceId('10.96.0.20'), '');

      // A pending pod is scheduled here: it enters the node's selection (an ADDED event).
      const p = api.apply('pods', pod({ namespace: 'shop', name: 'late', node: '', container: '' }));
      api.apply('pods', pod({ namespace: 'shop', name: 'late', node: NODE, ip: '10.1.0.30', container: containerId(), uid: p.metadata.uid! }));
      await waitFor('the scheduled pod', () => md.ipToPodId('10.1.0.30') === p.metadata.uid);

      // A finished pod's IP is released (and may be reused): it no longer maps.
      api.apply('pods', pod({ namespace: 'shop', name: 'late', node: NODE, ip: '10.1.0.30', container: containerId(), uid: p.metadata.uid!, phase: 'Succeeded' }));
      await waitFor('the finished pod to release its IP', () => md.ipToPodId('10.1.0.30') === '');

      api.remove('pods', 'shop', 'cart-1');
      await waitFor('the deleted pod', () => md.podIdToNodeName(uid) === '', 10_000, () => md.podIdToNodeName(uid));
      // The endpoint slice still names it (as until the endpoints controller catches up)...
      assert.equal(md.podIdToPodName(uid), 'shop/cart-1');
      assert.equal(md.ipToPodId('10.1.0.9'), uid);
      // ...and once the slice drops it, nothing does.
      api.apply('endpointslices', { ...first, endpoints: [] });
      await waitFor('the pod gone from the slice', () => md.podIdToPodName(uid) === '', 10_000, () => md.podIdToPodName(uid));
      assert.equal(md.ipToPodId('10.1.0.9'), '');
    });
  }));

test('a watch dropped mid-stream resumes from its last version, without relisting', () =>
  withApi(async (api) => {
    await withView(api, async (md) => {
      await waitFor('informers live', () => live(md), 10_000, () => detail(md));
      const before = lists(api, 'pods');
      const watchesBefore = api.requests.filter((r) => r.resource === 'pods' && r.watch).length;
      api.dropWatches();
      const x = api.apply('pods', pod({ namespace: 'shop', name: 'x', node: NODE, ip: '10.1.0.40', container: containerId() }));
      await waitFor('the pod added around the drop', () => md.ipToPodId('10.1.0.40') === x.metadata.uid);
      const resumed = api.requests.filter((r) => r.resource === 'pods' && r.watch).slice(watchesBefore);
      assert.ok(resumed.length >= 1, 'a new watch was opened');
      assert.match(resumed[0]!.query['resourceVersion'] ?? '', /^\d+$/, 'resumed from a version, not from scratch');
      assert.equal(lists(api, 'pods'), before, 'no relist');
      assert.ok(api.requests.every((r) => !r.gone));
    });
  }));

test('bookmarks advance the resume version: history compacted after one needs no relist', () =>
  withApi(async (api) => {
    api.apply('pods', pod({ namespace: 'shop', name: 'a', node: NODE, ip: '10.1.0.50', container: containerId() }));
    await withView(api, async (md) => {
      await waitFor('informers live', () => live(md), 10_000, () => detail(md));
      // Other kinds move the revision on; the pod watch has seen nothing newer than its list.
      api.apply('services', service('shop', 'b', '10.96.0.50'));
      const podsVersion = (): string => md.informerStatus().find((s) => s.resource === 'pods')!.version;
      assert.notEqual(podsVersion(), api.currentVersion);
      api.bookmark();
      await waitFor('the bookmark to reach the pod informer', () => podsVersion() === api.currentVersion, 10_000, podsVersion);
      const before = lists(api, 'pods');
      api.compact();
      api.dropWatches();
      const c = api.apply('pods', pod({ namespace: 'shop', name: 'c', node: NODE, ip: '10.1.0.51', container: containerId() }));
      await waitFor('the pod added after compaction', () => md.ipToPodId('10.1.0.51') === c.metadata.uid);
      assert.equal(lists(api, 'pods'), before, 'resumed from the bookmark, no relist');
      assert.ok(!api.requests.some((r) => r.resource === 'pods' && r.gone), 'no 410 for pods');
    });
  }));

test('410 Gone on a resumed watch: the informer relists and keeps watching', () =>
  withApi(async (api) => {
    api.apply('pods', pod({ namespace: 'shop', name: 'a', node: NODE, ip: '10.1.0.60', container: containerId() }));
    await withView(api, async (md) => {
      await waitFor('informers live', () => live(md), 10_000, () => detail(md));
      api.apply('services', service('shop', 'b', '10.96.0.60'));
      const before = lists(api, 'pods');
      api.compact();
      api.dropWatches();
      await waitFor('a 410 for the pod watch and a relist', () => api.requests.some((r) => r.resource === 'pods' && r.gone) && lists(api, 'pods') > before);
      const goneAt = api.requests.findIndex((r) => r.resource === 'pods' && r.gone);
      const relist = api.requests.findIndex((r, i) => i > goneAt && r.resource === 'pods' && !r.watch);
      assert.ok(relist > goneAt, 'the relist follows the 410');
      assert.equal(api.requests[relist]!.query['fieldSelector'], `spec.nodeName=${NODE}`);
      const d = api.apply('pods', pod({ namespace: 'shop', name: 'd', node: NODE, ip: '10.1.0.61', container: containerId() }));
      await waitFor('a pod added after the relist', () => md.ipToPodId('10.1.0.61') === d.metadata.uid);
      assert.ok(md.ipToPodId('10.1.0.60') !== '', 'the listed pod is still known');
      await waitFor('informers live again', () => live(md), 10_000, () => detail(md));
    });
  }));

test('API down then up: lookups keep the last state, the check says why, and the informers catch up', () =>
  withApi(async (api) => {
    const a = api.apply('pods', pod({ namespace: 'shop', name: 'a', node: NODE, ip: '10.1.0.70', container: containerId() }));
    await withView(api, async (md) => {
      await waitFor('informers live', () => live(md), 10_000, () => detail(md));
      await api.down();
      await waitFor('the check to fail', () => !live(md), 10_000, () => detail(md));
      await waitFor('connection refused in the check', () => /ECONNREFUSED/.test(detail(md)), 10_000, () => detail(md));
      const down = md.checks()[0]!;
      assert.match(down.detail, /retry \d+ in \d/, down.detail);
      assert.equal(md.ipToPodId('10.1.0.70'), a.metadata.uid, 'the last known state still answers');
      // While down: a pod goes, another comes, and the history the client would resume from is gone.
      api.remove('pods', 'shop', 'a');
      const b = api.apply('pods', pod({ namespace: 'shop', name: 'b', node: NODE, ip: '10.1.0.71', container: containerId() }));
      api.compact();
      await new Promise((r) => setTimeout(r, 300));
      await api.up();
      await waitFor('recovery', () => live(md) && md.ipToPodId('10.1.0.71') === b.metadata.uid, 10_000, () => detail(md));
      await waitFor('the pod deleted while down to be gone', () => md.ipToPodId('10.1.0.70') === '');
      assert.equal(md.podIdToPodName(a.metadata.uid!), '');
      assert.match(md.checks()[0]!.detail, /^watching /);
    });
  }));

test('a rejected token: 401 in the check, retried, capture-side lookups empty', () =>
  withApi(async (api) => {
    api.apply('pods', pod({ namespace: 'shop', name: 'a', node: NODE, ip: '10.1.0.80', container: containerId() }));
    const view = KubernetesMetadata.configure({
      mode: { kubeconfig: api.writeKubeconfig(randomUUID()) },
      nodeName: NODE,
      informers: { initialBackoffMs: 100, maxBackoffMs: 400 },
    })(new ProcessMetadata());
    await withView(api, async (md) => {
      await waitFor('a 401 in the check', () => /401 Unauthorized/.test(detail(md)), 10_000, () => detail(md));
      assert.equal(md.checks()[0]!.ok, false);
      assert.equal(md.ipToPodId('10.1.0.80'), '');
      const attempts = api.requests.filter((r) => r.status === 401).length;
      await waitFor('retries', () => api.requests.filter((r) => r.status === 401).length > attempts);
    }, view);
  }));

test('stopped while a list is in flight: no watch is opened afterwards', () =>
  withApi(async (api) => {
    api.listDelayMs = 300;
    const md = watching(api, NODE);
    await waitFor('the three lists to be asked', () => api.received === 3);
    assert.equal(api.requests.length, 0, 'none answered yet');
    await md.close();
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(api.requests.filter((r) => !r.watch).length, 3, 'the three lists were answered');
    assert.equal(api.requests.filter((r) => r.watch).length, 0, 'no watch after stop');
    assert.equal(api.openWatches(), 0);
  }));

test('configuration errors name what is missing', () => {
  assert.throws(
    () => KubernetesMetadata.configure({ mode: { kubeconfig: '/nonexistent/kubeconfig' }, nodeName: NODE }),
    /kubeconfig \/nonexistent\/kubeconfig does not exist/,
  );
});
