/**
 * What the informers know about the cluster, indexed for the lookups behind `df.ctx[...]` and
 * the `px.*` metadata functions. Pure data: the informers feed it objects as JSON (the watch
 * stream's plain objects and the list call's deserialized models read the same way), the
 * metadata view reads it. Names follow Pixie: pods and services are `namespace/name`, ids are
 * UIDs.
 */

/** The fields of a container status the lookups need. */
interface ContainerStatusLike {
  readonly containerID?: string;
  readonly name?: string;
  readonly state?: {
    readonly running?: object;
    readonly waiting?: { readonly reason?: string; readonly message?: string };
    readonly terminated?: { readonly reason?: string; readonly message?: string };
  };
}

/**
 * The fields of a Pod the lookups need (Kubernetes JSON names). Times are RFC 3339 strings in
 * a watch event and Dates in a deserialized list item.
 */
export interface PodLike {
  readonly metadata?: {
    readonly uid?: string;
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly kind?: string; readonly name?: string; readonly uid?: string }[];
  };
  readonly spec?: { readonly nodeName?: string; readonly hostNetwork?: boolean };
  readonly status?: {
    readonly phase?: string;
    readonly message?: string;
    readonly reason?: string;
    readonly startTime?: string | Date;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
    readonly podIP?: string;
    readonly podIPs?: readonly { readonly ip?: string }[];
    readonly containerStatuses?: readonly ContainerStatusLike[];
    readonly initContainerStatuses?: readonly ContainerStatusLike[];
    readonly ephemeralContainerStatuses?: readonly ContainerStatusLike[];
  };
}

/** The fields of a Service the lookups need. */
export interface ServiceLike {
  readonly metadata?: { readonly uid?: string; readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly clusterIP?: string; readonly clusterIPs?: readonly string[]; readonly externalIPs?: readonly string[] };
}

/** The fields of a discovery.k8s.io/v1 EndpointSlice the lookups need. */
export interface EndpointSliceLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly endpoints?: readonly {
    readonly addresses?: readonly string[];
    readonly targetRef?: { readonly kind?: string; readonly name?: string; readonly namespace?: string; readonly uid?: string };
  }[];
}

/** A pod as indexed. */
export interface PodRecord {
  readonly uid: string;
  /** `namespace/name`. */
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string;
  /** Pod IPs, primary first; empty for host-network pods (their IP is the node's). */
  readonly ips: readonly string[];
  /** Full container ids (64 hex digits), runtime prefix stripped. */
  readonly containerIds: readonly string[];
  /** The pod's containers by id: name, and Pixie's status JSON ({"state","message","reason"}). */
  readonly containers: ReadonlyMap<string, { readonly name: string; readonly status: string }>;
  /** When the pod started, epoch ns (0n before it has). */
  readonly startTimeNs: bigint;
  /** Pixie's pod status JSON: {"phase","message","reason","ready"}. */
  readonly status: string;
  /** The owning ReplicaSet (`namespace/name` and UID), if a ReplicaSet owns the pod. */
  readonly replicaSet?: { readonly name: string; readonly uid: string };
  /** `namespace/name` of the Deployment owning that ReplicaSet, '' when there is none. */
  readonly deployment: string;
}

/** A service as indexed. */
export interface ServiceRecord {
  readonly uid: string;
  /** `namespace/name`. */
  readonly name: string;
  readonly namespace: string;
  /** Cluster IPs and external IPs; headless services have none. */
  readonly ips: readonly string[];
}

/** A pod another node runs, known only from an EndpointSlice's targetRef. */
interface RemotePodRef {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
}

interface SliceRecord {
  /** `namespace/name` of the owning service (the `kubernetes.io/service-name` label). */
  readonly service: string;
  readonly endpoints: readonly { readonly addresses: readonly string[]; readonly pod: RemotePodRef | undefined }[];
}

/** Label that ties an EndpointSlice to its Service. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * `containerd://<id>`, `docker://<id>`, `cri-o://<id>` → `<id>`; '' for anything else (a
 * container not started yet has no id).
 */
export function stripRuntime(containerID: string | undefined): string {
  const m = /^[a-z0-9-]+:\/\/([0-9a-f]{64})$/.exec(containerID ?? '');
  return m ? m[1]! : '';
}

/**
 * Several values as one string, the way Pixie renders a pod that belongs to several services:
 * one value as itself, more as a JSON array of the sorted values, none as ''.
 */
export function joinNames(values: Iterable<string>): string {
  const all = [...new Set(values)].sort();
  if (all.length === 0) return '';
  if (all.length === 1) return all[0]!;
  return JSON.stringify(all);
}

function ref(meta: { readonly name?: string; readonly namespace?: string } | undefined): string {
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}

/** An RFC 3339 time (or a Date) as epoch ns; 0n when absent or unreadable. */
function epochNs(t: string | Date | undefined): bigint {
  const ms = t instanceof Date ? t.getTime() : t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? BigInt(ms) * 1_000_000n : 0n;
}

/** Pixie's container status JSON: the state the status reports, with its reason and message. */
function containerStatus(c: ContainerStatusLike): string {
  const st = c.state;
  const [state, detail] = st?.running ? ['Running', undefined] : st?.waiting ? ['Waiting', st.waiting] : st?.terminated ? ['Terminated', st.terminated] : ['Unknown', undefined];
  return JSON.stringify({ state, message: detail?.message ?? '', reason: detail?.reason ?? '' });
}

/** Pixie's pod status JSON: phase, message, reason, and whether the Ready condition is True. */
function podStatus(p: PodLike): string {
  const st = p.status;
  const ready = (st?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return JSON.stringify({ phase: st?.phase || 'Unknown', message: st?.message ?? '', reason: st?.reason ?? '', ready });
}

/**
 * The ReplicaSet owning a pod, and the Deployment owning that: a Deployment names its
 * ReplicaSets `<deployment>-<pod-template-hash>` and labels their pods with the hash, so the
 * Deployment's name needs no ReplicaSet informer (its UID would; Wisp does not run one).
 */
function owners(p: PodLike): Pick<PodRecord, 'replicaSet' | 'deployment'> {
  const rs = (p.metadata?.ownerReferences ?? []).find((o) => o.kind === 'ReplicaSet' && o.name);
  if (!rs) return { deployment: '' };
  const ns = p.metadata?.namespace ?? '';
  const hash = p.metadata?.labels?.['pod-template-hash'];
  const deployment = hash && rs.name!.endsWith(`-${hash}`) ? `${ns}/${rs.name!.slice(0, -hash.length - 1)}` : '';
  return { replicaSet: { name: `${ns}/${rs.name}`, uid: rs.uid ?? '' }, deployment };
}

/** The cluster's pods (this node's), services and endpoint slices, with lookup indexes. */
export class ClusterState {
  private readonly pods = new Map<string, PodRecord>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly slices = new Map<string, SliceRecord>();
  private readonly podByContainer = new Map<string, string>();
  private readonly podByIp = new Map<string, string>();
  private readonly podByName = new Map<string, string>();
  private readonly serviceByName = new Map<string, string>();
  private readonly serviceByIp = new Map<string, string>();
  /** Rebuilt from the slices when something changed and a lookup needs it. */
  private derived: { servicesByIp: Map<string, Set<string>>; servicesByPod: Map<string, Set<string>>; remoteByIp: Map<string, RemotePodRef>; remoteByUid: Map<string, RemotePodRef> } | undefined;

  /** Adds or replaces a pod (by UID). A pod without a UID is ignored. */
  upsertPod(p: PodLike): void {
    const uid = p.metadata?.uid;
    if (!uid) return;
    this.deletePod(p);
    // A relist reports a pod recreated under the same name as an update: the old UID goes.
    const sameName = this.podByName.get(ref(p.metadata));
    if (sameName !== undefined) this.deletePod({ metadata: { uid: sameName } });
    const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    // A finished pod's IP is released and may already belong to a new pod; a host-network
    // pod's "IP" is the node's and would claim every host process's traffic.
    const ips = p.spec?.hostNetwork || finished
      ? []
      : [...new Set([p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)].filter((x): x is string => !!x))];
    const statuses = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? []), ...(p.status?.ephemeralContainerStatuses ?? [])];
    const containers = new Map<string, { name: string; status: string }>();
    for (const c of statuses) {
      const id = stripRuntime(c.containerID);
      if (id !== '') containers.set(id, { name: c.name ?? '', status: containerStatus(c) });
    }
    const rec: PodRecord = {
      uid,
      name: ref(p.metadata),
      namespace: p.metadata?.namespace ?? '',
      nodeName: p.spec?.nodeName ?? '',
      ips,
      containerIds: [...containers.keys()],
      containers,
      startTimeNs: epochNs(p.status?.startTime),
      status: podStatus(p),
      ...owners(p),
    };
    this.pods.set(uid, rec);
    for (const id of rec.containerIds) this.podByContainer.set(id, uid);
    for (const ip of rec.ips) this.podByIp.set(ip, uid);
    this.podByName.set(rec.name, uid);
    this.derived = undefined;
  }

  /** Removes a pod (by UID); unknown pods are ignored. */
  deletePod(p: PodLike): void {
    const old = this.pods.get(p.metadata?.uid ?? '');
    if (!old) return;
    this.pods.delete(old.uid);
    for (const id of old.containerIds) if (this.podByContainer.get(id) === old.uid) this.podByContainer.delete(id);
    for (const ip of old.ips) if (this.podByIp.get(ip) === old.uid) this.podByIp.delete(ip);
    if (this.podByName.get(old.name) === old.uid) this.podByName.delete(old.name);
    this.derived = undefined;
  }

  /** Adds or replaces a service (by UID). */
  upsertService(s: ServiceLike): void {
    const uid = s.metadata?.uid;
    if (!uid) return;
    this.deleteService(s);
    const sameName = this.serviceByName.get(ref(s.metadata));
    if (sameName !== undefined) this.deleteService({ metadata: { uid: sameName } });
    const ips = [s.spec?.clusterIP, ...(s.spec?.clusterIPs ?? []), ...(s.spec?.externalIPs ?? [])].filter(
      (ip): ip is string => !!ip && ip !== 'None',
    );
    const rec: ServiceRecord = { uid, name: ref(s.metadata), namespace: s.metadata?.namespace ?? '', ips: [...new Set(ips)] };
    this.services.set(uid, rec);
    for (const ip of rec.ips) this.serviceByIp.set(ip, uid);
    this.serviceByName.set(rec.name, uid);
  }

  /** Removes a service (by UID). */
  deleteService(s: ServiceLike): void {
    const old = this.services.get(s.metadata?.uid ?? '');
    if (!old) return;
    this.services.delete(old.uid);
    for (const ip of old.ips) if (this.serviceByIp.get(ip) === old.uid) this.serviceByIp.delete(ip);
    if (this.serviceByName.get(old.name) === old.uid) this.serviceByName.delete(old.name);
  }

  /** Adds or replaces an endpoint slice (by namespace/name); one without the service label is ignored. */
  upsertSlice(e: EndpointSliceLike): void {
    const svc = e.metadata?.labels?.[SERVICE_NAME_LABEL];
    this.slices.delete(ref(e.metadata));
    this.derived = undefined;
    if (!svc) return;
    const ns = e.metadata?.namespace ?? '';
    this.slices.set(ref(e.metadata), {
      service: `${ns}/${svc}`,
      endpoints: (e.endpoints ?? []).map((ep) => {
        const addresses = ep.addresses ?? [];
        const t = ep.targetRef;
        const pod = t?.kind === 'Pod' && t.uid && t.name
          ? { uid: t.uid, name: `${t.namespace ?? ns}/${t.name}`, namespace: t.namespace ?? ns, ip: addresses[0] ?? '' }
          : undefined;
        return { addresses, pod };
      }),
    });
  }

  /** Removes an endpoint slice. */
  deleteSlice(e: EndpointSliceLike): void {
    if (this.slices.delete(ref(e.metadata))) this.derived = undefined;
  }

  /** Counts, for /readyz. */
  counts(): { pods: number; services: number; endpointSlices: number } {
    return { pods: this.pods.size, services: this.services.size, endpointSlices: this.slices.size };
  }

  /** The pod running the container, if it is one of this node's. */
  podOfContainer(containerId: string): PodRecord | undefined {
    const uid = this.podByContainer.get(containerId);
    return uid === undefined ? undefined : this.pods.get(uid);
  }

  /** A pod of this node by UID, whole. */
  localPod(uid: string): PodRecord | undefined {
    return this.pods.get(uid);
  }

  /** UIDs of the services whose endpoints include the pod (by targetRef UID or pod IP). */
  serviceIdsOfPod(podUid: string): string[] {
    const names = new Set(this.index().servicesByPod.get(podUid));
    for (const ip of this.pods.get(podUid)?.ips ?? []) for (const s of this.index().servicesByIp.get(ip) ?? []) names.add(s);
    return [...names].map((n) => this.serviceByName.get(n)).filter((u): u is string => u !== undefined);
  }

  /** UID of the pod with this IP: this node's pods first, then pods other nodes run as endpoints. */
  podIdOfIp(ip: string): string {
    return this.podByIp.get(ip) ?? this.index().remoteByIp.get(ip)?.uid ?? '';
  }

  /** UIDs of the services an IP belongs to: a cluster IP, or an endpoint address. */
  serviceIdsOfIp(ip: string): string[] {
    const direct = this.serviceByIp.get(ip);
    if (direct !== undefined) return [direct];
    return [...(this.index().servicesByIp.get(ip) ?? [])].map((n) => this.serviceByName.get(n)).filter((u): u is string => u !== undefined);
  }

  /** A pod by UID: `namespace/name`, namespace, node and first IP ('' when unknown). */
  pod(uid: string): { name: string; namespace: string; nodeName: string; ip: string } | undefined {
    const local = this.pods.get(uid);
    if (local) return { name: local.name, namespace: local.namespace, nodeName: local.nodeName, ip: local.ips[0] ?? '' };
    const remote = this.index().remoteByUid.get(uid);
    return remote && { name: remote.name, namespace: remote.namespace, nodeName: '', ip: remote.ip };
  }

  /** UID of the pod called `namespace/name`, here or as an endpoint elsewhere. */
  podIdOfName(name: string): string {
    const local = this.podByName.get(name);
    if (local !== undefined) return local;
    for (const r of this.index().remoteByUid.values()) if (r.name === name) return r.uid;
    return '';
  }

  /** A service by UID. */
  service(uid: string): ServiceRecord | undefined {
    return this.services.get(uid);
  }

  /** UID of the service called `namespace/name`. */
  serviceIdOfName(name: string): string {
    return this.serviceByName.get(name) ?? '';
  }

  private index(): NonNullable<ClusterState['derived']> {
    if (this.derived) return this.derived;
    const d: NonNullable<ClusterState['derived']> = { servicesByIp: new Map(), servicesByPod: new Map(), remoteByIp: new Map(), remoteByUid: new Map() };
    const add = (m: Map<string, Set<string>>, k: string, v: string): void => {
      let s = m.get(k);
      if (!s) m.set(k, (s = new Set()));
      s.add(v);
    };
    for (const slice of this.slices.values()) {
      for (const ep of slice.endpoints) {
        for (const ip of ep.addresses) add(d.servicesByIp, ip, slice.service);
        if (!ep.pod) continue;
        add(d.servicesByPod, ep.pod.uid, slice.service);
        d.remoteByUid.set(ep.pod.uid, ep.pod);
        for (const ip of ep.addresses) d.remoteByIp.set(ip, ep.pod);
      }
    }
    this.derived = d;
    return d;
  }
}
