import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig, parseKubernetesMode } from './config.js';

test('--kubernetes values: auto, in-cluster, else a kubeconfig path; empty is an error', () => {
  assert.equal(parseKubernetesMode('auto'), 'auto');
  assert.equal(parseKubernetesMode('in-cluster'), 'in-cluster');
  assert.deepEqual(parseKubernetesMode('/etc/kube/config'), { kubeconfig: '/etc/kube/config' });
  assert.throws(() => parseKubernetesMode(''), /wants auto, in-cluster or a kubeconfig path/);
});

test('in-cluster: missing environment or service-account files are named', () => {
  const root = mkdtempSync(join(tmpdir(), 'wisp-sa-'));
  try {
    assert.throws(() => loadKubeConfig('in-cluster', { env: {}, root }), /KUBERNETES_SERVICE_HOST\/PORT are not set/);
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    assert.throws(() => loadKubeConfig('in-cluster', { env, root }), /serviceaccount\/token is missing/);
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'token');
    assert.throws(() => loadKubeConfig('in-cluster', { env, root }), /serviceaccount\/ca\.crt is missing/);
    writeFileSync(join(sa, 'ca.crt'), 'not checked until connecting');
    assert.equal(loadKubeConfig('in-cluster', { env, root }).getCurrentCluster()?.server, 'https://10.96.0.1:443');
    assert.equal(loadKubeConfig('auto', { env: { ...env, KUBERNETES_SERVICE_HOST: 'fd00::1' }, root }).getCurrentCluster()?.server, 'https://[fd00::1]:443', 'auto in a pod is in-cluster');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('kubeconfig files: auto takes $KUBECONFIG; a missing or empty file is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-kubeconfig-'));
  try {
    const file = join(dir, 'config');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: c',
      'clusters: [{name: k, cluster: {server: "https://10.0.0.1:6443"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: c, context: {cluster: k, user: u}}]', '',
    ].join('\n'));
    assert.equal(loadKubeConfig('auto', { env: { KUBECONFIG: `${join(dir, 'absent')}:${file}` } }).getCurrentCluster()?.server, 'https://10.0.0.1:6443');
    assert.equal(loadKubeConfig({ kubeconfig: file }).getCurrentCluster()?.server, 'https://10.0.0.1:6443');
    assert.throws(() => loadKubeConfig({ kubeconfig: join(dir, 'absent') }), /kubeconfig .*absent does not exist/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, 'apiVersion: v1\nkind: Config\n');
    assert.throws(() => loadKubeConfig({ kubeconfig: empty }), /has no current context with a cluster/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
