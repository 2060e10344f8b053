/**
 * pid → container id → pod, for the cgroup layouts kubelets produce: containerd and cri-o with
 * the systemd driver on cgroup v2, docker with the systemd driver and containerd with the
 * cgroupfs driver on cgroup v1. Processes are described in a procfs-shaped temp dir (the
 * ProcessMetadata reads any procfs root, as it does /host/proc in a container); pods come from
 * the API-server double, so the whole lookup path of `df.ctx['pod']` runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessMetadata } from '../../src/engine/meta/process.js';
import { formatUpid } from '../../src/engine/meta/upid.js';
import { K8sApiServer } from '../support/k8sApiServer.js';
import { containerId, live, detail, pod, service, slice, waitFor, watching } from './helpers.js';

const NODE = 'node-cg';

interface Case {
  readonly what: string;
  readonly runtime: string;
  /** /proc/PID/cgroup text for a container id and a pod UID. */
  readonly cgroup: (id: string, podUid: string) => string;
}

const V1_OTHERS = ['11:devices:/', '10:freezer:/', '4:memory:/', '1:name=systemd:/'];

const CASES: readonly Case[] = [
  {
    what: 'containerd, systemd driver, cgroup v2',
    runtime: 'containerd',
    cgroup: (id, uid) => `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope\n`,
  },
  {
    what: 'cri-o, systemd driver, cgroup v2',
    runtime: 'cri-o',
    cgroup: (id, uid) => `0::/kubepods.slice/kubepods-pod${uid.replace(/-/g, '_')}.slice/crio-${id}.scope\n`,
  },
  {
    // An engine in its own cgroup namespace (a DaemonSet pod on cgroup v2) sees other pods' paths relative to its own.
    what: 'containerd, systemd driver, cgroup v2, seen from another cgroup namespace',
    runtime: 'containerd',
    cgroup: (id, uid) => `0::/../../kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope\n`,
  },
  {
    what: 'docker, systemd driver, cgroup v1',
    runtime: 'docker',
    cgroup: (id, uid) =>
      [`12:pids:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice/docker-${id}.scope`, ...V1_OTHERS].join('\n') + '\n',
  },
  {
    what: 'containerd, cgroupfs driver, cgroup v1',
    runtime: 'containerd',
    cgroup: (id, uid) => [...V1_OTHERS.slice(0, 2), `4:memory:/kubepods/burstable/pod${uid}/${id}`, `3:cpu,cpuacct:/kubepods/burstable/pod${uid}/${id}`].join('\n') + '\n',
  },
];

/** Writes /proc/PID/{stat,comm,cmdline,cgroup} under `root`. */
function fakeProcess(root: string, pid: number, startTicks: number, cgroup: string): string {
  const dir = join(root, String(pid));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stat'), `${pid} (server) S ${Array(18).fill('0').join(' ')} ${startTicks} 0 0\n`);
  writeFileSync(join(dir, 'comm'), 'server\n');
  writeFileSync(join(dir, 'cmdline'), ['server', '--port', '8080', ''].join('\0'));
  writeFileSync(join(dir, 'cgroup'), cgroup);
  return formatUpid({ asid: 7, pid, startTicks: BigInt(startTicks) });
}

test('pid → container id → pod for each kubelet cgroup layout; host processes and conmon stay unmapped', async () => {
  const root = mkdtempSync(join(tmpdir(), 'wisp-fake-proc-'));
  const api = await K8sApiServer.start();
  const md = watching(api, NODE, new ProcessMetadata({ procRoot: root }));
  try {
    const expected: { upid: string; pod: string; namespace: string; uid: string; what: string }[] = [];
    CASES.forEach((c, i) => {
      const id = containerId();
      const created = api.apply('pods', pod({ namespace: `ns${i}`, name: `p${i}`, node: NODE, ip: `10.2.0.${i + 1}`, container: id, runtime: c.runtime }));
      const upid = fakeProcess(root, 1000 + i, 5000 + i, c.cgroup(id, created.metadata.uid!));
      expected.push({ upid, pod: `ns${i}/p${i}`, namespace: `ns${i}`, uid: created.metadata.uid!, what: c.what });
    });
    api.apply('services', service('ns0', 'front', '10.96.1.1'));
    api.apply('endpointslices', slice('ns0', 'front', [{ name: 'p0', uid: expected[0]!.uid, ip: '10.2.0.1' }]));
    const conmonId = containerId();
    api.apply('pods', pod({ namespace: 'ns9', name: 'conmon', node: NODE, ip: '10.2.0.9', container: conmonId, runtime: 'cri-o' }));
    const conmon = fakeProcess(root, 2000, 1, `0::/kubepods.slice/kubepods-podx.slice/crio-conmon-${conmonId}.scope\n`);
    const host = fakeProcess(root, 2001, 2, '0::/system.slice/sshd.service\n');

    await waitFor(`informers live with ${CASES.length + 1} pods`, () => live(md) && md.state.counts().pods === CASES.length + 1, 10_000, () => detail(md));
    for (const e of expected) {
      assert.equal(md.upidToPodName(e.upid), e.pod, e.what);
      assert.equal(md.upidToPodId(e.upid), e.uid, e.what);
      assert.equal(md.upidToNamespace(e.upid), e.namespace, e.what);
      assert.equal(md.upidToNodeName(e.upid), NODE, e.what);
      assert.equal(md.upidToCmdline(e.upid), 'server --port 8080', e.what);
    }
    assert.equal(md.upidToServiceName(expected[0]!.upid), 'ns0/front');
    assert.equal(md.upidToServiceName(expected[1]!.upid), '', 'a pod in no service');
    for (const [what, upid] of [['conmon', conmon], ['host process', host]] as const) {
      assert.equal(md.upidToPodName(upid), '', what);
      assert.equal(md.upidToNamespace(upid), '', what);
      assert.equal(md.upidToNodeName(upid), NODE, `${what}: still on this node`);
    }
    // A UPID whose start time no longer matches the pid is another process: no pod.
    assert.equal(md.upidToPodName(formatUpid({ asid: 7, pid: 1000, startTicks: 1n })), '');
    assert.equal(md.upidToPodName('not-a-upid'), '');
    assert.equal(md.upidToNodeName('not-a-upid'), '');
  } finally {
    await md.close();
    await api.close();
    rmSync(root, { recursive: true, force: true });
  }
});
