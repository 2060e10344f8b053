import type { MetadataView } from './types.js';

/**
 * Pixie's `px.*` metadata functions that map a string to a string, by registry name. One table
 * for the executor (which applies them per dictionary entry) and the broker (which routes them
 * to the engine holding the process), so a function cannot exist in one and not the other.
 * `upid_to_pid`, the one number-valued lookup, is beside it.
 */
export const STRING_LOOKUPS: ReadonlyMap<string, (md: MetadataView, s: string) => string> = new Map<string, (md: MetadataView, s: string) => string>([
  ['upid_to_pod_name', (md, s) => md.upidToPodName(s)],
  ['upid_to_pod_id', (md, s) => md.upidToPodId(s)],
  ['upid_to_service_name', (md, s) => md.upidToServiceName(s)],
  ['upid_to_service_id', (md, s) => md.upidToServiceId(s)],
  ['upid_to_namespace', (md, s) => md.upidToNamespace(s)],
  ['upid_to_node_name', (md, s) => md.upidToNodeName(s)],
  ['upid_to_hostname', (md, s) => md.upidToHostname(s)],
  ['upid_to_cmdline', (md, s) => md.upidToCmdline(s)],
  ['upid_to_container_id', (md, s) => md.upidToContainerId(s)],
  ['ip_to_pod_id', (md, s) => md.ipToPodId(s)],
  ['ip_to_service_id', (md, s) => md.ipToServiceId(s)],
  ['pod_id_to_pod_name', (md, s) => md.podIdToPodName(s)],
  ['pod_id_to_namespace', (md, s) => md.podIdToNamespace(s)],
  ['pod_name_to_pod_ip', (md, s) => md.podNameToPodIp(s)],
  ['service_id_to_service_name', (md, s) => md.serviceIdToServiceName(s)],
  ['pod_id_to_node_name', (md, s) => md.podIdToNodeName?.(s) ?? ''],
  ['pod_id_to_service_id', (md, s) => md.podIdToServiceId?.(s) ?? ''],
  ['pod_id_to_service_name', (md, s) => md.podIdToServiceName?.(s) ?? ''],
  ['pod_name_to_pod_id', (md, s) => md.podNameToPodId?.(s) ?? ''],
  ['service_name_to_service_id', (md, s) => md.serviceNameToServiceId?.(s) ?? ''],
]);

export const upidToPid = (md: MetadataView, upid: string): number => md.upidToPid(upid);
