import { HostMetadata } from '../host.js';
import type { ProcessMetadata } from '../process.js';
import type { MetadataCheck, MetadataView } from '../types.js';
import { parseUpid } from '../upid.js';
import { describeMode, loadKubeConfig, type KubernetesMode } from './config.js';
import { Informers, type InformerOptions, type InformerStatus } from './informers.js';
import { ClusterState, joinNames, type PodRecord } from './state.js';

/** Options of {@link KubernetesMetadata.configure}. */
export interface KubernetesMetadataOptions {
  readonly mode: KubernetesMode;
  /** This node's name, as in the pods' spec.nodeName. */
  readonly nodeName: string;
  readonly informers?: InformerOptions;
}

/**
 * The metadata view of a Kubernetes node: process keys from procfs (as {@link HostMetadata}),
 * pods, services and namespaces from the API server's informers. A process maps to a pod
 * through its container id (from its cgroup) and the pods' containerStatuses; an IP maps to a
 * pod through podIP(s) and endpoint slices, to a service through cluster IPs and endpoint
 * addresses. A pod in several services has them all, as a JSON array of sorted names (Pixie's
 * convention). While the API is unreachable, lookups answer from what was last seen (empty
 * before the first list) and capture goes on.
 */
export class KubernetesMetadata implements MetadataView {
  readonly state = new ClusterState();
  private readonly host: HostMetadata;
  private readonly informers: Informers;

  private constructor(
    private readonly opts: KubernetesMetadataOptions,
    private readonly server: string,
    processes: ProcessMetadata,
    informers: (state: ClusterState) => Informers,
  ) {
    this.host = new HostMetadata({ processes });
    this.informers = informers(this.state);
  }

  /**
   * Loads the client configuration now (throws naming what is missing: service-account files,
   * kubeconfig, context) and returns what builds the view over a process cache and starts its
   * informers; their failures are retried in the background, never thrown.
   */
  static configure(opts: KubernetesMetadataOptions): (processes: ProcessMetadata) => KubernetesMetadata {
    const kc = loadKubeConfig(opts.mode);
    const server = kc.getCurrentCluster()?.server ?? '';
    return (processes) => {
      const md = new KubernetesMetadata(opts, server, processes, (state) => new Informers(kc, opts.nodeName, state, opts.informers));
      md.informers.start();
      return md;
    };
  }

  /** Stops the informers. */
  close(): Promise<void> {
    return this.informers.stop();
  }

  /** Each informer's state and the version its watch resumes from. */
  informerStatus(): InformerStatus[] {
    return this.informers.status();
  }

  /**
   * The `kubernetes` check of /readyz. Advisory: capture and queries work without the API, so
   * an unreachable API does not make the engine unready (Kubernetes would otherwise pull a
   * capturing DaemonSet pod out of its Service).
   */
  checks(): MetadataCheck[] {
    const status = this.informers.status();
    const ok = status.every((s) => s.state === 'live');
    const c = this.state.counts();
    const counts = `${c.pods} pods on node ${this.opts.nodeName}, ${c.services} services, ${c.endpointSlices} endpoint slices`;
    const problems = status.filter((s) => s.state !== 'live').map((s) => `${s.resource}: ${s.state === 'starting' && !s.error ? 'not synced yet' : s.error}`);
    const detail = ok
      ? `watching ${this.server} (${describeMode(this.opts.mode)}): ${counts}`
      : `API ${this.server} (${describeMode(this.opts.mode)}) not fully available, Kubernetes keys may be empty or stale: ${problems.join('; ')}; last known: ${counts}`;
    return [{ name: 'kubernetes', ok, detail, advisory: true }];
  }

  upidToPid(upid: string): number {
    return this.host.upidToPid(upid);
  }

  upidToCmdline(upid: string): string {
    return this.host.upidToCmdline(upid);
  }

  upidToContainerId(upid: string): string {
    return this.host.upidToContainerId(upid);
  }

  upidToPodId(upid: string): string {
    return this.podOf(upid)?.uid ?? '';
  }

  upidToPodName(upid: string): string {
    return this.podOf(upid)?.name ?? '';
  }

  upidToNamespace(upid: string): string {
    return this.podOf(upid)?.namespace ?? '';
  }

  upidToServiceId(upid: string): string {
    const pod = this.podOf(upid);
    return pod ? joinNames(this.state.serviceIdsOfPod(pod.uid)) : '';
  }

  upidToServiceName(upid: string): string {
    const pod = this.podOf(upid);
    return pod ? this.serviceNames(this.state.serviceIdsOfPod(pod.uid)) : '';
  }

  /** Every process this engine captures runs on its node, in a pod or not. */
  upidToNodeName(upid: string): string {
    return parseUpid(upid) ? this.opts.nodeName : '';
  }

  upidToHostname(upid: string): string {
    return this.host.upidToHostname(upid);
  }

  ipToPodId(ip: string): string {
    return this.state.podIdOfIp(ip);
  }

  ipToServiceId(ip: string): string {
    return joinNames(this.state.serviceIdsOfIp(ip));
  }

  podIdToPodName(podId: string): string {
    return this.state.pod(podId)?.name ?? '';
  }

  podIdToNamespace(podId: string): string {
    return this.state.pod(podId)?.namespace ?? '';
  }

  podIdToNodeName(podId: string): string {
    return this.state.pod(podId)?.nodeName ?? '';
  }

  podIdToServiceId(podId: string): string {
    return joinNames(this.state.serviceIdsOfPod(podId));
  }

  podIdToServiceName(podId: string): string {
    return this.serviceNames(this.state.serviceIdsOfPod(podId));
  }

  podNameToPodId(podName: string): string {
    return this.state.podIdOfName(podName);
  }

  podNameToPodIp(podName: string): string {
    return this.state.pod(this.state.podIdOfName(podName))?.ip ?? '';
  }

  serviceIdToServiceName(serviceId: string): string {
    return this.state.service(serviceId)?.name ?? '';
  }

  serviceNameToServiceId(serviceName: string): string {
    return this.state.serviceIdOfName(serviceName);
  }

  upidToContainerName(upid: string): string {
    const container = this.host.upidToContainerId(upid);
    return this.state.podOfContainer(container)?.containers.get(container)?.name ?? '';
  }

  upidToReplicaSetName(upid: string): string {
    return this.podOf(upid)?.replicaSet?.name ?? '';
  }

  upidToReplicaSetId(upid: string): string {
    return this.podOf(upid)?.replicaSet?.uid ?? '';
  }

  upidToDeploymentName(upid: string): string {
    return this.podOf(upid)?.deployment ?? '';
  }

  /** This node's pods only: a pod another node runs is known by name and IP, not by status. */
  podNameToStatus(podName: string): string {
    return this.state.localPod(this.state.podIdOfName(podName))?.status ?? '';
  }

  podNameToStartTime(podName: string): string {
    const t = this.state.localPod(this.state.podIdOfName(podName))?.startTimeNs ?? 0n;
    return t === 0n ? '' : t.toString();
  }

  containerIdToStatus(containerId: string): string {
    return this.state.podOfContainer(containerId)?.containers.get(containerId)?.status ?? '';
  }

  private serviceNames(ids: readonly string[]): string {
    return joinNames(ids.map((id) => this.state.service(id)?.name ?? '').filter((n) => n !== ''));
  }

  private podOf(upid: string): PodRecord | undefined {
    const container = this.host.upidToContainerId(upid);
    return container === '' ? undefined : this.state.podOfContainer(container);
  }
}
