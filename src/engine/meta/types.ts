/**
 * Metadata lookups behind `df.ctx[...]` and the `px.*` metadata functions. The process part is
 * filled from /proc on any Linux host; the Kubernetes part is empty strings until the Kubernetes
 * watcher (a later issue) provides pods and services.
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
}
