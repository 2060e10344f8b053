import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessMetadata, parseContainerId, parseServiceUnit, parseStatStartTicks } from './process.js';
import { HostMetadata } from './host.js';
import { formatUpid } from './upid.js';

const ID = 'a'.repeat(12) + '0123456789abcdef0123456789abcdef0123456789abcdef0123';

test('container id from cgroup text: docker, containerd, cri-o, podman, none', () => {
  const cases: Array<[string, string]> = [
    [`12:memory:/docker/${ID}\n11:cpu:/docker/${ID}\n`, ID],
    [`0::/system.slice/docker-${ID}.scope\n`, ID],
    [`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e.slice/cri-containerd-${ID}.scope\n`, ID],
    [`4:pids:/kubepods/besteffort/pod7c1d8c0e-2d2a-4a4b-9b1e-0a1b2c3d4e5f/${ID}\n`, ID],
    [`0::/kubepods.slice/kubepods-pod1.slice/crio-${ID}.scope\n`, ID],
    [`0::/machine.slice/libpod-${ID}.scope/container\n`, ID],
    [`0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-${ID}.scope\n`, ''],
    ['0::/user.slice/user-1000.slice/session-3.scope\n', ''],
    ['0::/\n', ''],
    ['garbage without colons', ''],
    ['', ''],
  ];
  for (const [text, want] of cases) assert.equal(parseContainerId(text), want, text);
});

test('service unit from cgroup text: systemd units, scopes, containers, v1 systemd hierarchy, none', () => {
  const cases: Array<[string, string]> = [
    ['0::/system.slice/nginx.service\n', 'nginx'],
    ['0::/system.slice/system-getty.slice/getty@tty1.service\n', 'getty@tty1'],
    ['0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-terminal.scope\n', 'app-gnome-terminal'],
    ['0::/wisp-demo-77.slice/demo-cart.service\n', 'demo-cart'],
    ['0::/system.slice/run-r3a1.scope\n', 'run-r3a1'],
    [`0::/system.slice/docker-${ID}.scope\n`, ID.slice(0, 12)],
    [`12:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n`, ID.slice(0, 12)],
    ['12:memory:/mine\n1:name=systemd:/system.slice/sshd.service\n0::/\n', 'sshd'],
    ['4:memory:/process_api/44bff4dba75d06c2de9c7b8a2332be5d\n0::/\n', ''],
    ['0::/system.slice\n', ''],
    ['0::/\n', ''],
    ['', ''],
  ];
  for (const [text, want] of cases) assert.equal(parseServiceUnit(text), want, text);
});

test('start ticks: field 22 even when comm holds spaces and parentheses', () => {
  const stat = '4242 (we ird) (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 ';
  assert.equal(parseStatStartTicks(stat), 987654n);
  assert.equal(parseStatStartTicks('no parens'), undefined);
  assert.equal(parseStatStartTicks('1 (x) S 1'), undefined);
});

test('real /proc: a spawned child gives its comm, cmdline and start time', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await once(child, 'spawn');
    // exec has replaced the forked node only once comm reads "sleep"; wait for that.
    const m = new ProcessMetadata({ revalidateMs: 0 });
    let info = m.lookup(child.pid!);
    for (let i = 0; i < 50 && info.comm !== 'sleep'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      info = m.lookup(child.pid!);
    }
    assert.equal(info.comm, 'sleep');
    assert.equal(info.cmdline, 'sleep 30');
    assert.equal(info.pid, child.pid);
    const self = m.lookup(process.pid);
    assert.ok(info.startTicks >= self.startTicks, 'the child started after this process');
    // After it exits, the cached values stay.
    child.kill('SIGKILL');
    await once(child, 'exit');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(m.lookup(child.pid!).comm, 'sleep');
    assert.equal(new ProcessMetadata().lookup(child.pid!).comm, '', 'never seen and gone: empty');
  } finally {
    child.kill('SIGKILL');
  }
});

test('cache: bounded, and a changed start time (pid reuse) reloads everything', () => {
  const root = mkdtempSync(join(tmpdir(), 'wisp-proc-'));
  try {
    const fake = (pid: number, comm: string, start: number) => {
      mkdirSync(join(root, String(pid)), { recursive: true });
      writeFileSync(join(root, String(pid), 'stat'), `${pid} (${comm}) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${start} 0 0`);
      writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
      writeFileSync(join(root, String(pid), 'cmdline'), `${comm}\0--flag\0`);
      writeFileSync(join(root, String(pid), 'cgroup'), `0::/system.slice/docker-${ID}.scope\n`);
    };
    fake(10, 'first', 100);
    const m = new ProcessMetadata({ procRoot: root, maxEntries: 2, revalidateMs: 0 });
    assert.deepEqual(m.lookup(10), { pid: 10, comm: 'first', cmdline: 'first --flag', containerId: ID, service: ID.slice(0, 12), startTicks: 100n });
    fake(10, 'second', 200);
    assert.equal(m.lookup(10).comm, 'second');
    fake(11, 'b', 1);
    fake(12, 'c', 1);
    m.lookup(11);
    m.lookup(12);
    assert.equal(m.size, 2);
    const cached = new ProcessMetadata({ procRoot: root, revalidateMs: 60_000 });
    cached.lookup(11);
    fake(11, 'changed', 5);
    assert.equal(cached.lookup(11).comm, 'b', 'trusted until revalidateMs passes');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('host metadata view: process keys and the service unit filled, other Kubernetes keys empty', () => {
  const processes = new ProcessMetadata();
  const self = processes.lookup(process.pid);
  const view = new HostMetadata({ processes, hostname: 'node-a' });
  const upid = formatUpid({ asid: 0, pid: process.pid, startTicks: self.startTicks });
  assert.equal(view.upidToPid(upid), process.pid);
  assert.match(view.upidToCmdline(upid), /node/);
  assert.equal(view.upidToContainerId(upid), self.containerId);
  assert.equal(view.upidToHostname(upid), 'node-a');
  assert.equal(view.upidToServiceName(upid), self.service);
  for (const v of [view.upidToPodName(), view.upidToPodId(), view.upidToNamespace(),
    view.upidToServiceId(), view.upidToNodeName(), view.ipToPodId(), view.ipToServiceId(), view.podIdToPodName(),
    view.podIdToNamespace(), view.podNameToPodIp(), view.serviceIdToServiceName()]) assert.equal(v, '');
  // A UPID whose start time is not the pid's current one names a process that is gone.
  const stale = formatUpid({ asid: 0, pid: process.pid, startTicks: self.startTicks + 1n });
  assert.equal(view.upidToCmdline(stale), '');
  assert.equal(view.upidToPid('not-a-upid'), 0);
  assert.equal(new HostMetadata().upidToHostname(upid).length > 0, true);
});

test('remembered /proc files stand in for a process that is gone, and never for another one', () => {
  const root = mkdtempSync(join(tmpdir(), 'wisp-proc-'));
  try {
    const m = new ProcessMetadata({ procRoot: root, revalidateMs: 0 });
    const cid = 'c'.repeat(64);
    m.remember(21, 77n, { comm: 'curl\n', cmdline: 'curl\0-s\0http://x/\0', cgroup: `0::/kubepods/besteffort/pod1/${cid}\n` });
    assert.deepEqual(m.lookup(21), { pid: 21, comm: 'curl', cmdline: 'curl -s http://x/', containerId: cid, service: cid.slice(0, 12), startTicks: 77n }, 'the process is gone from procRoot');
    m.remember(22, 5n, { comm: '', cmdline: '', cgroup: '' });
    assert.equal(m.lookup(22).comm, '', 'empty files say nothing');
    m.remember(21, 77n, { comm: 'other\n', cmdline: '', cgroup: '' });
    assert.equal(m.lookup(21).comm, 'curl', 'the same process already known wins');
    m.remember(21, 78n, { comm: 'next\n', cmdline: '', cgroup: '' });
    assert.equal(m.lookup(21).comm, 'next', 'a new process on the pid replaces the old one');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
