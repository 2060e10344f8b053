import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { LocalBackend, type LocalSource } from '../../src/engine/api/local.js';
import { ApiMetrics } from '../../src/engine/api/metrics.js';
import { buildApi, type ApiLimits, type QueryBackend } from '../../src/engine/api/server.js';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from '../../src/engine/http/schema.js';
import type { MetadataView } from '../../src/engine/meta/types.js';
import { Store } from '../../src/engine/store/store.js';

/**
 * In-process engines over generated rows, served over real HTTP: a simulated cluster whose
 * processes are spread over `engines` nodes (each process on one node, as in Kubernetes), one
 * store per node, plus a reference store holding every row. Each node's metadata knows only
 * its own processes for upid lookups (and names itself `node-<i>`); IP and pod-id lookups are
 * cluster-wide, as they are through the Kubernetes API.
 */
export interface SyntheticCluster {
  readonly shards: readonly { readonly store: Store; readonly metadata: MetadataView; readonly node: string }[];
  readonly reference: { readonly store: Store; readonly metadata: MetadataView };
  readonly rows: number;
}

function newStore(): Store {
  const s = new Store();
  s.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 4 * 1024 ** 3, batchRows: 16384 });
  return s;
}

/** Builds the cluster: `rows` rows over `spanNs` from `startNs`, deterministic per seed. */
export function syntheticCluster(opts: { engines: number; rows: number; seed: number; startNs: bigint; spanNs: number; services?: number | readonly string[] }): SyntheticCluster {
  const cluster = makeCluster(opts.services ?? 12, opts.seed);
  const nodeOf = new Map(cluster.procs.map((p, i) => [p.upid, i % opts.engines]));
  const reference = newStore();
  const shards = Array.from({ length: opts.engines }, () => newStore());
  const parts: HttpEventRow[][] = shards.map(() => []);
  generateHttpEvents(cluster, opts.rows, opts.seed + 1, opts.startNs, opts.spanNs, (rows) => {
    reference.append('http_events', rows);
    for (const r of rows) parts[nodeOf.get(r.upid as string) ?? 0]!.push(r);
    parts.forEach((p, i) => {
      if (p.length > 0) shards[i]!.append('http_events', p);
      p.length = 0;
    });
  });
  const md = cluster.metadata;
  const nodeName = (u: string): string => (nodeOf.has(u) ? `node-${nodeOf.get(u)}` : '');
  const refMetadata: MetadataView = { ...bind(md), upidToNodeName: nodeName };
  const local = (i: number): MetadataView => {
    const mine = (u: string): boolean => nodeOf.get(u) === i;
    const only =
      <R>(f: (u: string) => R, none: R) =>
      (u: string): R =>
        mine(u) ? f(u) : none;
    const b = bind(md);
    return {
      ...b,
      upidToPid: only(b.upidToPid, 0),
      upidToCmdline: only(b.upidToCmdline, ''),
      upidToContainerId: only(b.upidToContainerId, ''),
      upidToPodId: only(b.upidToPodId, ''),
      upidToPodName: only(b.upidToPodName, ''),
      upidToNamespace: only(b.upidToNamespace, ''),
      upidToServiceId: only(b.upidToServiceId, ''),
      upidToServiceName: only(b.upidToServiceName, ''),
      upidToNodeName: only(nodeName, ''),
      upidToHostname: only(b.upidToHostname, ''),
    };
  };
  return {
    shards: shards.map((store, i) => ({ store, metadata: local(i), node: `node-${i}` })),
    reference: { store: reference, metadata: refMetadata },
    rows: opts.rows,
  };
}

function bind(md: MetadataView): MetadataView {
  return {
    upidToPid: (u) => md.upidToPid(u),
    upidToCmdline: (u) => md.upidToCmdline(u),
    upidToContainerId: (u) => md.upidToContainerId(u),
    upidToPodId: (u) => md.upidToPodId(u),
    upidToPodName: (u) => md.upidToPodName(u),
    upidToNamespace: (u) => md.upidToNamespace(u),
    upidToServiceId: (u) => md.upidToServiceId(u),
    upidToServiceName: (u) => md.upidToServiceName(u),
    upidToNodeName: (u) => md.upidToNodeName(u),
    upidToHostname: (u) => md.upidToHostname(u),
    ipToPodId: (ip) => md.ipToPodId(ip),
    ipToServiceId: (ip) => md.ipToServiceId(ip),
    podIdToPodName: (id) => md.podIdToPodName(id),
    podIdToNamespace: (id) => md.podIdToNamespace(id),
    podNameToPodIp: (n) => md.podNameToPodIp(n),
    serviceIdToServiceName: (id) => md.serviceIdToServiceName(id),
  };
}

/** A LocalSource over a store, for LocalBackend without capture. */
export function storeSource(store: Store, metadata: MetadataView): LocalSource {
  return {
    store,
    metadata,
    captureState: () => ({ running: true, programs: 0 }),
    snapshot: () => ({ captureEvents: 0, captureDrops: {}, tls: { files: 0, failures: 0, lastError: '', processes: 0, undecoded: [] }, httpRows: 0, httpDrops: {}, tables: {} }),
  };
}

/** Serves a backend on an ephemeral loopback port. */
export async function serve(backend: QueryBackend, opts: { token?: string; limits?: Partial<ApiLimits> } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const app = buildApi({ backend, metrics: new ApiMetrics(), ...(opts.token !== undefined ? { token: opts.token } : {}), ...(opts.limits ? { limits: opts.limits } : {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** An engine over one shard, served over HTTP. */
export function serveShard(shard: SyntheticCluster['shards'][number], opts: { token?: string; maxRows?: number } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const backend = new LocalBackend(storeSource(shard.store, shard.metadata), opts.maxRows !== undefined ? { maxRows: opts.maxRows } : {}, { node: shard.node });
  return serve(backend, opts.token !== undefined ? { token: opts.token } : {});
}
