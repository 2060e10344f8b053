import type { MetadataView } from '../../../meta/types.js';
import { parseUpid } from '../../../meta/upid.js';
import { METADATA_FNS } from '../../functions/metadata.js';

/**
 * The broker's metadata view: the engines' answers merged (a non-empty answer wins over an
 * empty one, since only the node that holds a process knows it). Unknown values read as Pixie's
 * "no metadata": empty strings, and the pid decoded from the upid itself.
 */
export class LookupMetadata implements MetadataView {
  private readonly tables = new Map<string, Map<string, string | number>>();

  /** Folds in one `lookup` line. */
  add(fn: string, values: Readonly<Record<string, string | number>>): void {
    if (!METADATA_FNS.has(fn)) return;
    let t = this.tables.get(fn);
    if (!t) this.tables.set(fn, (t = new Map()));
    for (const [k, v] of Object.entries(values)) {
      if (typeof v !== 'string' && typeof v !== 'number') continue;
      if (v === '' || v === 0) {
        if (!t.has(k)) t.set(k, v);
      } else t.set(k, v);
    }
  }

  private s(fn: string, key: string): string {
    const v = this.tables.get(fn)?.get(key);
    return typeof v === 'string' ? v : '';
  }

  upidToPid(upid: string): number {
    const v = this.tables.get('upid_to_pid')?.get(upid);
    return typeof v === 'number' ? v : (parseUpid(upid)?.pid ?? 0);
  }
  upidToCmdline(upid: string): string {
    return this.s('upid_to_cmdline', upid);
  }
  upidToContainerId(upid: string): string {
    return this.s('upid_to_container_id', upid);
  }
  upidToPodId(upid: string): string {
    return this.s('upid_to_pod_id', upid);
  }
  upidToPodName(upid: string): string {
    return this.s('upid_to_pod_name', upid);
  }
  upidToNamespace(upid: string): string {
    return this.s('upid_to_namespace', upid);
  }
  upidToServiceId(upid: string): string {
    return this.s('upid_to_service_id', upid);
  }
  upidToServiceName(upid: string): string {
    return this.s('upid_to_service_name', upid);
  }
  upidToNodeName(upid: string): string {
    return this.s('upid_to_node_name', upid);
  }
  upidToHostname(upid: string): string {
    return this.s('upid_to_hostname', upid);
  }
  ipToPodId(ip: string): string {
    return this.s('ip_to_pod_id', ip);
  }
  ipToServiceId(ip: string): string {
    return this.s('ip_to_service_id', ip);
  }
  podIdToPodName(podId: string): string {
    return this.s('pod_id_to_pod_name', podId);
  }
  podIdToNamespace(podId: string): string {
    return this.s('pod_id_to_namespace', podId);
  }
  podNameToPodIp(podName: string): string {
    return this.s('pod_name_to_pod_ip', podName);
  }
  serviceIdToServiceName(serviceId: string): string {
    return this.s('service_id_to_service_name', serviceId);
  }
  podIdToNodeName(podId: string): string {
    return this.s('pod_id_to_node_name', podId);
  }
  podIdToServiceId(podId: string): string {
    return this.s('pod_id_to_service_id', podId);
  }
  podIdToServiceName(podId: string): string {
    return this.s('pod_id_to_service_name', podId);
  }
  podNameToPodId(podName: string): string {
    return this.s('pod_name_to_pod_id', podName);
  }
  serviceNameToServiceId(serviceName: string): string {
    return this.s('service_name_to_service_id', serviceName);
  }
  upidToContainerName(upid: string): string {
    return this.s('upid_to_container_name', upid);
  }
  upidToReplicaSetName(upid: string): string {
    return this.s('upid_to_replicaset_name', upid);
  }
  upidToReplicaSetId(upid: string): string {
    return this.s('upid_to_replicaset_id', upid);
  }
  upidToDeploymentName(upid: string): string {
    return this.s('upid_to_deployment_name', upid);
  }
  podNameToStatus(podName: string): string {
    return this.s('pod_name_to_status', podName);
  }
  podNameToStartTime(podName: string): string {
    return this.s('pod_name_to_start_time', podName);
  }
  containerIdToStatus(containerId: string): string {
    return this.s('container_id_to_status', containerId);
  }
}
