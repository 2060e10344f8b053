/**
 * `--kubernetes in-cluster` against the API-server double: the service-account token and CA
 * files a pod gets (laid out under a temp root), the API address from the environment the
 * kubelet sets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../src/engine/meta/k8s/config.js';
import { Informers } from '../../src/engine/meta/k8s/informers.js';
import { ClusterState } from '../../src/engine/meta/k8s/state.js';
import { K8sApiServer } from '../support/k8sApiServer.js';
import { containerId, pod, waitFor } from './helpers.js';

test('in-cluster: the service-account token and CA reach the API; the pod list is this node\'s', async () => {
  const api = await K8sApiServer.start();
  const root = mkdtempSync(join(tmpdir(), 'wisp-pod-root-'));
  const state = new ClusterState();
  let informers: Informers | undefined;
  try {
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    // As the kubelet writes them: the token without a trailing newline, the cluster CA in PEM.
    writeFileSync(join(sa, 'token'), api.token);
    writeFileSync(join(sa, 'ca.crt'), api.caPem);
    writeFileSync(join(sa, 'namespace'), 'wisp');
    const a = api.apply('pods', pod({ namespace: 'shop', name: 'a', node: 'node-1', ip: '10.3.0.1', container: containerId() }));
    api.apply('pods', pod({ namespace: 'shop', name: 'b', node: 'node-2', ip: '10.3.0.2', container: containerId() }));
    const kc = loadKubeConfig('in-cluster', { env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(api.url).port }, root });
    informers = new Informers(kc, 'node-1', state, { initialBackoffMs: 100, maxBackoffMs: 400 });
    informers.start();
    await waitFor('informers live', () => informers!.status().every((s) => s.state === 'live'), 10_000, () => JSON.stringify(informers!.status()));
    assert.equal(state.podIdOfIp('10.3.0.1'), a.metadata.uid);
    assert.equal(state.podIdOfIp('10.3.0.2'), '', 'node-2\'s pod is not listed');
    assert.ok(api.requests.every((r) => r.status !== 401), 'every request carried the token');
  } finally {
    await informers?.stop();
    await api.close();
    rmSync(root, { recursive: true, force: true });
  }
});
