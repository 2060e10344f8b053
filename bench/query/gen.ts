import type { HttpEventRow } from '../../src/engine/http/schema.js';
import type { MetadataView } from '../../src/engine/meta/types.js';
import { formatUpid } from '../../src/engine/meta/upid.js';

import { rng } from '../../src/testkit/rng.js';

interface Proc {
  readonly upid: string;
  readonly pid: number;
  readonly service: string;
  readonly pod: string;
  readonly ip: string;
  readonly medianNs: number;
  readonly paths: readonly string[];
}

/** The simulated cluster: services, their pods (processes) and what they serve. */
export interface Cluster {
  readonly procs: readonly Proc[];
  readonly metadata: MetadataView;
}

const STATUS: readonly (readonly [number, string, number])[] = [
  [200, 'OK', 0.86],
  [201, 'Created', 0.03],
  [204, 'No Content', 0.02],
  [301, 'Moved Permanently', 0.01],
  [304, 'Not Modified', 0.02],
  [400, 'Bad Request', 0.01],
  [401, 'Unauthorized', 0.005],
  [404, 'Not Found', 0.025],
  [500, 'Internal Server Error', 0.012],
  [503, 'Service Unavailable', 0.008],
];

/**
 * Builds services with 3 pods each, and a metadata view that knows them: `services` generated
 * names, or the given `namespace/name`s (an empty string: processes outside any service).
 */
export function makeCluster(services: number | readonly string[], seed: number): Cluster {
  const r = rng(seed);
  const procs: Proc[] = [];
  const byUpid = new Map<string, Proc>();
  const byIp = new Map<string, Proc>();
  const names = typeof services === 'number' ? null : services;
  const count = names ? names.length : (services as number);
  for (let s = 0; s < count; s++) {
    const given = names?.[s]?.split('/');
    const ns = given ? (given[1] === undefined ? '' : given[0]!) : s % 3 === 0 ? 'kube-system' : 'default';
    const name = given ? (given[1] ?? '') : `svc-${s.toString().padStart(2, '0')}`;
    const paths = Array.from({ length: 3 + Math.floor(r() * 6) }, (_, j) => `/api/v${1 + (j % 2)}/${name}/res${j}`);
    const medianNs = 1e6 * Math.exp(r() * Math.log(50));
    for (let p = 0; p < 3; p++) {
      const pid = 1000 + s * 10 + p;
      const proc: Proc = {
        upid: formatUpid({ asid: 7, pid, startTicks: BigInt(100000 + s * 37 + p) }),
        pid,
        service: name === '' ? '' : `${ns}/${name}`,
        pod: `${ns || 'default'}/${name || 'proc'}-${(s * 7919 + p * 104729).toString(36).slice(0, 5)}`,
        ip: `10.1.${s}.${10 + p}`,
        medianNs,
        paths,
      };
      procs.push(proc);
      byUpid.set(proc.upid, proc);
      byIp.set(proc.ip, proc);
    }
  }
  const metadata: MetadataView = {
    upidToPid: (u) => byUpid.get(u)?.pid ?? 0,
    upidToCmdline: (u) => (byUpid.has(u) ? `/app/server --name ${byUpid.get(u)!.service}` : ''),
    upidToContainerId: (u) => (byUpid.has(u) ? `c${byUpid.get(u)!.pid}` : ''),
    upidToPodId: (u) => (byUpid.has(u) ? `pod-uid-${byUpid.get(u)!.pid}` : ''),
    upidToPodName: (u) => byUpid.get(u)?.pod ?? '',
    upidToNamespace: (u) => byUpid.get(u)?.pod.split('/')[0] ?? '',
    upidToServiceId: (u) => (byUpid.has(u) ? `svc-uid-${byUpid.get(u)!.service}` : ''),
    upidToServiceName: (u) => byUpid.get(u)?.service ?? '',
    upidToNodeName: (u) => (byUpid.has(u) ? 'node-1' : ''),
    upidToHostname: (u) => (byUpid.has(u) ? byUpid.get(u)!.pod.split('/')[1]! : ''),
    ipToPodId: (ip) => (byIp.has(ip) ? `pod-uid-${byIp.get(ip)!.pid}` : ''),
    ipToServiceId: (ip) => (byIp.has(ip) ? `svc-uid-${byIp.get(ip)!.service}` : ''),
    podIdToPodName: (id) => procs.find((p) => `pod-uid-${p.pid}` === id)?.pod ?? '',
    podIdToNamespace: (id) => procs.find((p) => `pod-uid-${p.pid}` === id)?.service.split('/')[0] ?? '',
    podNameToPodIp: (name) => procs.find((p) => p.pod === name)?.ip ?? '',
    serviceIdToServiceName: (id) => (id.startsWith('svc-uid-') ? id.slice(8) : ''),
  };
  return { procs, metadata };
}

/**
 * Generates `n` http_events rows in time order (with jitter), spread evenly over `spanNs`
 * from `startNs`, handing them to `sink` in batches. Latency is log-normal around each
 * service's median with a heavy tail; statuses follow a typical production mix.
 */
export function generateHttpEvents(
  cluster: Cluster,
  n: number,
  seed: number,
  startNs: bigint,
  spanNs: number,
  sink: (rows: HttpEventRow[]) => void,
  batch = 8192,
): void {
  const r = rng(seed);
  const step = spanNs / Math.max(n, 1);
  let rows: HttpEventRow[] = [];
  for (let i = 0; i < n; i++) {
    const proc = cluster.procs[Math.floor(r() * cluster.procs.length)]!;
    const peer = cluster.procs[Math.floor(r() * cluster.procs.length)]!;
    let u = r();
    let st = STATUS[0]!;
    for (const s of STATUS) {
      if (u < s[2]) {
        st = s;
        break;
      }
      u -= s[2];
    }
    // Box-Muller normal, then log-normal latency; 1 % of requests hit a 10x slow path.
    const z = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    const slow = r() < 0.01 ? 10 : 1;
    const latency = Math.max(1000, Math.round(proc.medianNs * Math.exp(0.6 * z) * slow));
    const path = r() < 0.02 ? '/healthz' : proc.paths[Math.floor(r() * proc.paths.length)]!;
    const post = r() < 0.2;
    const jitter = Math.floor(r() * step);
    const id = Math.floor(r() * 1000);
    rows.push({
      time_: startNs + BigInt(Math.floor(i * step) + jitter),
      upid: proc.upid,
      remote_addr: peer.ip,
      remote_port: 30000 + Math.floor(r() * 30000),
      local_addr: proc.ip,
      local_port: 8080,
      trace_role: r() < 0.1 ? 1 : 2,
      encrypted: false,
      major_version: 1,
      minor_version: 1,
      content_type: 1,
      req_headers: `{"Host":"${proc.pod.split('/')[1]}:8080","User-Agent":"Go-http-client/1.1","Accept":"application/json"}`,
      req_method: post ? 'POST' : 'GET',
      req_path: id % 4 === 0 ? `${path}?id=${id}` : path,
      req_body: post ? `{"id":${id},"op":"update"}` : '',
      req_body_size: post ? 24 : 0,
      resp_headers: `{"Content-Type":"application/json","Content-Length":"${40 + (id % 50)}"}`,
      resp_status: st[0],
      resp_message: st[1],
      resp_body: st[0] >= 400 ? `{"error":"${st[1]}"}` : `{"id":${id},"ok":true}`,
      resp_body_size: 40 + (id % 50),
      latency,
      pid: proc.pid,
      comm: 'server',
      cmdline: `/app/server --name ${proc.service}`,
      container_id: `c${proc.pid}`,
    });
    if (rows.length === batch) {
      sink(rows);
      rows = [];
    }
  }
  if (rows.length > 0) sink(rows);
}
