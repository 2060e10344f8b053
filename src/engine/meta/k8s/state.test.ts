import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, joinNames, stripRuntime } from './state.js';

const ID = 'a'.repeat(64);

test('container ids: the runtime prefix goes, anything that is not a full id is no id', () => {
  assert.equal(stripRuntime(`containerd://${ID}`), ID);
  assert.equal(stripRuntime(`docker://${ID}`), ID);
  assert.equal(stripRuntime(`cri-o://${ID}`), ID);
  for (const bad of [undefined, '', ID, 'containerd://abc', `containerd://${ID}x`, `containerd://${ID.toUpperCase()}`]) assert.equal(stripRuntime(bad), '', String(bad));
});

test('several names: one as itself, more as a sorted JSON array, none as empty', () => {
  assert.equal(joinNames([]), '');
  assert.equal(joinNames(['ns/a']), 'ns/a');
  assert.equal(joinNames(['ns/b', 'ns/a', 'ns/b']), '["ns/a","ns/b"]');
});

test('an IP freed by one pod and taken by the next maps to the new pod only', () => {
  const s = new ClusterState();
  const podA = { metadata: { uid: 'A', name: 'a', namespace: 'n' }, status: { podIP: '10.0.0.1' } };
  const podB = { metadata: { uid: 'B', name: 'b', namespace: 'n' }, status: { podIP: '10.0.0.1' } };
  s.upsertPod(podA);
  s.upsertPod(podB);
  s.deletePod(podA);
  assert.equal(s.podIdOfIp('10.0.0.1'), 'B', 'deleting the old pod leaves the new one mapped');
  s.deletePod(podB);
  assert.equal(s.podIdOfIp('10.0.0.1'), '');
});

test('init and ephemeral containers map to their pod; objects without a UID or service label are ignored', () => {
  const s = new ClusterState();
  const init = 'b'.repeat(64);
  const debug = 'c'.repeat(64);
  s.upsertPod({
    metadata: { uid: 'P', name: 'p', namespace: 'n' },
    status: { initContainerStatuses: [{ containerID: `containerd://${init}` }], ephemeralContainerStatuses: [{ containerID: `containerd://${debug}` }] },
  });
  assert.equal(s.podOfContainer(init)?.name, 'n/p');
  assert.equal(s.podOfContainer(debug)?.name, 'n/p');
  s.upsertPod({ metadata: { name: 'no-uid' } });
  s.upsertService({ metadata: { name: 'no-uid' } });
  s.upsertSlice({ metadata: { name: 'orphan', namespace: 'n' }, endpoints: [{ addresses: ['10.0.0.9'] }] });
  assert.deepEqual(s.counts(), { pods: 1, services: 0, endpointSlices: 0 });
  assert.deepEqual(s.serviceIdsOfIp('10.0.0.9'), []);
});

test('headless services have no IP; endpoint addresses still name their service', () => {
  const s = new ClusterState();
  s.upsertService({ metadata: { uid: 'S', name: 'db', namespace: 'n' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } });
  s.upsertSlice({ metadata: { name: 'db-x', namespace: 'n', labels: { 'kubernetes.io/service-name': 'db' } }, endpoints: [{ addresses: ['10.0.0.7'] }] });
  assert.deepEqual(s.serviceIdsOfIp('None'), []);
  assert.deepEqual(s.serviceIdsOfIp('10.0.0.7'), ['S']);
});

test('a pod or service recreated under the same name replaces the old UID', () => {
  const s = new ClusterState();
  s.upsertPod({ metadata: { uid: 'old', name: 'p', namespace: 'n' }, status: { podIP: '10.0.0.1' } });
  s.upsertPod({ metadata: { uid: 'new', name: 'p', namespace: 'n' }, status: { podIP: '10.0.0.2' } });
  assert.equal(s.pod('old'), undefined);
  assert.equal(s.podIdOfIp('10.0.0.1'), '');
  assert.equal(s.podIdOfName('n/p'), 'new');
  s.upsertService({ metadata: { uid: 'S1', name: 'svc', namespace: 'n' }, spec: { clusterIP: '10.96.0.1' } });
  s.upsertService({ metadata: { uid: 'S2', name: 'svc', namespace: 'n' }, spec: { clusterIP: '10.96.0.2' } });
  assert.equal(s.service('S1'), undefined);
  assert.deepEqual(s.serviceIdsOfIp('10.96.0.1'), []);
  assert.equal(s.counts().services, 1);
});

test("pod status, start time, container names and states, and owners, as Pixie's functions read them", () => {
  const s = new ClusterState();
  const web = 'd'.repeat(64);
  const sidecar = 'e'.repeat(64);
  s.upsertPod({
    metadata: {
      uid: 'P',
      name: 'web-7d9f8c6b5-x2x9q',
      namespace: 'shop',
      labels: { 'pod-template-hash': '7d9f8c6b5' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f8c6b5', uid: 'RS1' }],
    },
    status: {
      phase: 'Running',
      startTime: '2026-12-07T03:00:00Z',
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }],
      containerStatuses: [
        { containerID: `containerd://${web}`, name: 'web', state: { running: { startedAt: '2026-12-07T03:00:01Z' } } },
        { containerID: `containerd://${sidecar}`, name: 'proxy', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } } },
      ],
    },
  });
  const pod = s.localPod('P')!;
  assert.equal(pod.status, '{"phase":"Running","message":"","reason":"","ready":true}');
  assert.equal(pod.startTimeNs, BigInt(Date.parse('2026-12-07T03:00:00Z')) * 1_000_000n);
  assert.deepEqual(pod.containers.get(web), { name: 'web', status: '{"state":"Running","message":"","reason":""}' });
  assert.deepEqual(pod.containers.get(sidecar), { name: 'proxy', status: '{"state":"Waiting","message":"back-off 5m0s","reason":"CrashLoopBackOff"}' });
  assert.deepEqual(pod.replicaSet, { name: 'shop/web-7d9f8c6b5', uid: 'RS1' });
  assert.equal(pod.deployment, 'shop/web');

  // A list item's times arrive as Dates; an evicted pod is not ready and says why; a bare
  // ReplicaSet (no pod-template-hash) has no Deployment; a pod without owners has neither.
  s.upsertPod({
    metadata: { uid: 'Q', name: 'batch-1', namespace: 'shop', ownerReferences: [{ kind: 'ReplicaSet', name: 'batch', uid: 'RS2' }] },
    status: { phase: 'Failed', reason: 'Evicted', message: 'low on memory', startTime: new Date(1_700_000_000_000), conditions: [{ type: 'Ready', status: 'False' }] },
  });
  const q = s.localPod('Q')!;
  assert.equal(q.status, '{"phase":"Failed","message":"low on memory","reason":"Evicted","ready":false}');
  assert.equal(q.startTimeNs, 1_700_000_000_000_000_000n);
  assert.equal(q.deployment, '');
  s.upsertPod({ metadata: { uid: 'R', name: 'bare', namespace: 'shop' } });
  const r = s.localPod('R')!;
  assert.equal(r.status, '{"phase":"Unknown","message":"","reason":"","ready":false}');
  assert.equal(r.startTimeNs, 0n);
  assert.equal(r.replicaSet, undefined);
});
