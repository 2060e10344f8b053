/**
 * End to end with real eBPF: two processes of this test are made to look like pods (each moved
 * into a cgroup laid out as a kubelet would, one containerd/systemd style, one cgroupfs style),
 * the API-server double describes them as pods on the engine's node with loopback pod IPs, plus a
 * Service and EndpointSlice for the server; the engine watches the double through a kubeconfig.
 * Real HTTP between them must come back from a PxL query with `df.ctx[...]` filled and the `px.`
 * IP lookups naming the peer pod and service. Then the API goes down: capture and /readyz stay
 * up (the kubernetes check says why), and the check recovers when the API returns.
 * Needs root (BPF, cgroupfs), as the whole suite does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { startEngine, type RunningEngine } from '../../src/engine/cli/engine.js';
import type { QueryResponse, ReadyResponse } from '../../src/engine/api/contract.js';
import { waitForLine } from '../support/peers.js';
import { K8sApiServer } from '../support/k8sApiServer.js';
import { pod, service, slice } from './helpers.js';

const NODE = `wisp-e2e-node-${randomUUID().slice(0, 8)}`;

/** The cgroup v2 mount: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones. */
function cgroup2Root(): string {
  for (const dir of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) if (existsSync(join(dir, 'cgroup.procs')) && existsSync(join(dir, 'cgroup.controllers'))) return dir;
  throw new Error('no cgroup v2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified: this test moves processes into kubelet-like cgroups');
}

/** A process started inside `cgroup` (its pid written to cgroup.procs before exec). */
function spawnIn(cgroup: string, script: string, args: readonly string[]): ChildProcess {
  return spawn('sh', ['-c', `echo $$ > '${cgroup}/cgroup.procs' && exec "$0" "$@"`, process.execPath, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

const SERVER = `
const http = require('node:http');
const s = http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello from the pod'); });
s.listen(0, process.argv[1], () => console.log('port ' + s.address().port));`;

const CLIENT = `
const http = require('node:http');
const [ip, port, local, prefix, n] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
(async () => {
  for (let i = 0; i < Number(n); i++) {
    await new Promise((resolve, reject) => {
      const req = http.request({ host: ip, port: Number(port), localAddress: local, path: prefix + i, agent }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end();
    });
  }
  console.log('done');
  agent.destroy();
})().catch((e) => { console.error(e.message); process.exit(1); });`;

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

async function query(engine: RunningEngine, script: string): Promise<Record<string, string[]>> {
  const res = await fetch(`${engine.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const table = (JSON.parse(text) as QueryResponse).tables[0]!;
  return Object.fromEntries(table.columns.map((c, i) => [c.name, (table.data[i] as unknown[]).map((v) => String(v))]));
}

async function ready(engine: RunningEngine): Promise<ReadyResponse> {
  return (await (await fetch(`${engine.url}/readyz`)).json()) as ReadyResponse;
}

test('pods described by the API server come back in df.ctx and the px IP lookups, and survive the API going away', async () => {
  const root = join(cgroup2Root(), `wisp-k8s-e2e-${randomUUID().slice(0, 8)}`);
  const serverUid = randomUUID();
  const clientUid = randomUUID();
  const serverCid = randomBytes(32).toString('hex');
  const clientCid = randomBytes(32).toString('hex');
  // Kubelet layouts under a private root (as with kubelet --cgroup-root): systemd driver + containerd, and cgroupfs.
  const serverCg = join(root, 'kubepods.slice', 'kubepods-besteffort.slice', `kubepods-besteffort-pod${serverUid.replace(/-/g, '_')}.slice`, `cri-containerd-${serverCid}.scope`);
  const clientCg = join(root, 'kubepods', 'besteffort', `pod${clientUid}`, clientCid);
  const octet = 2 + Math.floor(Math.random() * 120);
  const serverIp = `127.0.0.${octet}`;
  const clientIp = `127.0.0.${octet + 120}`;
  const clusterIp = `127.0.1.${octet}`;
  const prefix = `/k8s-e2e-${randomUUID().slice(0, 8)}/`;

  const api = await K8sApiServer.start();
  const children: ChildProcess[] = [];
  let engine: RunningEngine | undefined;
  try {
    mkdirSync(serverCg, { recursive: true });
    mkdirSync(clientCg, { recursive: true });
    const server = spawnIn(serverCg, SERVER, [serverIp]);
    children.push(server);
    const port = Number((await waitForLine(server, /^port (\d+)$/))[1]);

    api.apply('pods', pod({ namespace: 'shop', name: 'frontend-7d9c', node: NODE, ip: serverIp, container: serverCid, uid: serverUid }));
    api.apply('pods', pod({ namespace: 'load', name: 'loadgen-1', node: NODE, ip: clientIp, container: clientCid, uid: clientUid }));
    const svc = api.apply('services', service('shop', 'frontend', clusterIp));
    api.apply('endpointslices', slice('shop', 'frontend', [{ name: 'frontend-7d9c', uid: serverUid, ip: serverIp, node: NODE }]));

    engine = await startEngine({ listen: '127.0.0.1:0', kubernetes: api.writeKubeconfig(), nodeName: NODE });
    const e = engine;
    let readyz = await ready(e);
    const deadline = Date.now() + 15_000;
    while (!readyz.checks.find((c) => c.name === 'kubernetes')?.ok) {
      assert.ok(Date.now() < deadline, `kubernetes check not ok: ${JSON.stringify(readyz.checks)}`);
      await new Promise((r) => setTimeout(r, 100));
      readyz = await ready(e);
    }
    assert.equal(readyz.ready, true);
    assert.match(readyz.checks.find((c) => c.name === 'kubernetes')!.detail, new RegExp(`2 pods on node ${NODE}, 1 services, 1 endpoint slices`));
    // The node a broker prunes `ctx['node']` filters by.
    assert.deepEqual(await (await fetch(`${e.url}/api/v1/node`)).json(), { node: NODE });

    const send = async (n: number, tag: string): Promise<void> => {
      const client = spawnIn(clientCg, CLIENT, [serverIp, String(port), clientIp, `${prefix}${tag}/`, String(n)]);
      children.push(client);
      await waitForLine(client, /^done$/, 15_000);
      await exited(client);
    };
    await send(10, 'up');

    const script = (tag: string): string => `import px
df = px.DataFrame(table='http_events', start_time='-5m')
df = df[px.contains(df.req_path, '${prefix}${tag}/')]
df.pod = df.ctx['pod']
df.service = df.ctx['service']
df.namespace = df.ctx['namespace']
df.node = df.ctx['node']
df.container = df.ctx['container']
df.peer_pod_id = px.ip_to_pod_id(df.remote_addr)
df.peer_pod = px.pod_id_to_pod_name(df.peer_pod_id)
df.peer_namespace = px.pod_id_to_namespace(df.peer_pod_id)
df.peer_service_id = px.ip_to_service_id(df.remote_addr)
df.peer_service = px.service_id_to_service_name(df.peer_service_id)
df.peer_pod_service = px.pod_id_to_service_name(df.peer_pod_id)
df = df[['trace_role', 'remote_addr', 'pod', 'service', 'namespace', 'node', 'container', 'peer_pod_id', 'peer_pod', 'peer_namespace', 'peer_service_id', 'peer_service', 'peer_pod_service']]
px.display(df, 'rows')`;
    const rowsOf = async (tag: string): Promise<{ server: Record<string, string>[]; client: Record<string, string>[] }> => {
      let cols: Record<string, string[]> = {};
      const split = (): { server: Record<string, string>[]; client: Record<string, string>[] } => {
        const rows = (cols['trace_role'] ?? []).map((_, i) => Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, v[i]!])));
        return { server: rows.filter((r) => r['trace_role'] === '2'), client: rows.filter((r) => r['trace_role'] === '1') };
      };
      const until = Date.now() + 15_000;
      for (;;) {
        cols = await query(e, script(tag));
        const s = split();
        if (s.server.length >= 10 && s.client.length >= 10) return s;
        assert.ok(Date.now() < until, `10 server and 10 client rows for ${prefix}${tag}/; got ${s.server.length} and ${s.client.length}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    const check = (rows: { server: Record<string, string>[]; client: Record<string, string>[] }, when: string): void => {
      for (const r of rows.server) {
        assert.deepEqual(
          { pod: r['pod'], service: r['service'], namespace: r['namespace'], node: r['node'], container: r['container'], remote_addr: r['remote_addr'] },
          { pod: 'shop/frontend-7d9c', service: 'shop/frontend', namespace: 'shop', node: NODE, container: serverCid, remote_addr: clientIp },
          `${when}: server side`,
        );
        assert.deepEqual(
          { id: r['peer_pod_id'], pod: r['peer_pod'], ns: r['peer_namespace'], svc: r['peer_service'] },
          { id: clientUid, pod: 'load/loadgen-1', ns: 'load', svc: '' },
          `${when}: the server's peer is the load generator pod, in no service`,
        );
      }
      for (const r of rows.client) {
        assert.deepEqual(
          { pod: r['pod'], service: r['service'], namespace: r['namespace'], node: r['node'], container: r['container'], remote_addr: r['remote_addr'] },
          { pod: 'load/loadgen-1', service: '', namespace: 'load', node: NODE, container: clientCid, remote_addr: serverIp },
          `${when}: client side`,
        );
        assert.deepEqual(
          { id: r['peer_pod_id'], pod: r['peer_pod'], ns: r['peer_namespace'], sid: r['peer_service_id'], svc: r['peer_service'], podSvc: r['peer_pod_service'] },
          { id: serverUid, pod: 'shop/frontend-7d9c', ns: 'shop', sid: svc.metadata.uid, svc: 'shop/frontend', podSvc: 'shop/frontend' },
          `${when}: the client's peer is the frontend pod of service shop/frontend`,
        );
      }
    };
    check(await rowsOf('up'), 'API up');

    // The API goes away: capture goes on, /readyz stays ready and says why metadata may be stale.
    await api.down();
    const downUntil = Date.now() + 15_000;
    for (;;) {
      readyz = await ready(e);
      const k = readyz.checks.find((c) => c.name === 'kubernetes')!;
      if (!k.ok && /ECONNREFUSED/.test(k.detail)) break;
      assert.ok(Date.now() < downUntil, `kubernetes check while the API is down: ${k.detail}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(readyz.ready, true, 'an unreachable API does not make the engine unready');
    assert.equal(readyz.checks.find((c) => c.name === 'capture')?.ok, true);
    await send(10, 'down');
    check(await rowsOf('down'), 'API down (last known state)');

    await api.up();
    const upUntil = Date.now() + 30_000;
    while (!(await ready(e)).checks.find((c) => c.name === 'kubernetes')?.ok) {
      assert.ok(Date.now() < upUntil, 'the kubernetes check recovers once the API is back');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await engine?.stop();
    await api.close();
    // Leaf first; a cgroup can only be removed once empty.
    for (const dir of [serverCg, join(serverCg, '..'), join(serverCg, '../..'), join(serverCg, '../../..'), clientCg, join(clientCg, '..'), join(clientCg, '../..'), join(clientCg, '../../..'), root]) {
      try {
        rmdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
});
