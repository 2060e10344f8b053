/**
 * Metadata lookups behind `df.ctx[...]` and the `px.*` metadata functions. The process part is
 * filled from /proc on any Linux host; the Kubernetes part is empty strings on a plain host and
 * comes from the API server's informers with `wisp engine --kubernetes` (docs/metadata.md).
 *
 * Names follow Pixie: pods and services are `namespace/name`; ids are Kubernetes UIDs.
 */
export interface MetadataView {
  upidToPid(upid: string): number;
  upidToCmdline(upid: string): string;
  upidToContainerId(upid: string): string;
  upidToPodId(upid: string): string;
  upidToPodName(upid: string): string;
  upidToNamespace(upid: string): string;
  upidToServiceId(upid: string): string;
  upidToServiceName(upid: string): string;
  upidToNodeName(upid: string): string;
  upidToHostname(upid: string): string;
  ipToPodId(ip: string): string;
  ipToServiceId(ip: string): string;
  podIdToPodName(podId: string): string;
  podIdToNamespace(podId: string): string;
  podNameToPodIp(podName: string): string;
  serviceIdToServiceName(serviceId: string): string;
  /** Optional lookups (views without them answer ''): Pixie's pod → node/service functions. */
  podIdToNodeName?(podId: string): string;
  podIdToServiceId?(podId: string): string;
  podIdToServiceName?(podId: string): string;
  podNameToPodId?(podName: string): string;
  serviceNameToServiceId?(serviceName: string): string;
  /** The Kubernetes name of a process's container (`spec.containers[].name`). */
  upidToContainerName?(upid: string): string;
  /** `namespace/name` of the ReplicaSet owning a process's pod. */
  upidToReplicaSetName?(upid: string): string;
  /** UID of the ReplicaSet owning a process's pod. */
  upidToReplicaSetId?(upid: string): string;
  /** `namespace/name` of the Deployment owning that ReplicaSet. */
  upidToDeploymentName?(upid: string): string;
  /** Pixie's pod status, JSON `{"phase","message","reason","ready"}`; '' for a pod the view does not know. */
  podNameToStatus?(podName: string): string;
  /** When the pod started, epoch ns as decimal digits; '' for a pod the view does not know. */
  podNameToStartTime?(podName: string): string;
  /** Pixie's container status, JSON `{"state","message","reason"}`; '' for a container the view does not know. */
  containerIdToStatus?(containerId: string): string;
  /** Health of the metadata sources, appended to /readyz's checks. */
  checks?(): MetadataCheck[];
}

/** One /readyz check a metadata source reports. */
export interface MetadataCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** An advisory check is shown but does not make the engine unready. */
  readonly advisory: boolean;
}
