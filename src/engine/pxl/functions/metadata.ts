import type { MetadataView } from '../../meta/types.js';
import type { DataType, SemanticType } from '../../schema.js';
import type { FunctionEntry } from './entry.js';
import { perString, perStringNum } from './vectorized.js';

/*
 * Pixie's metadata functions (px.upid_to_pod_name, px.ip_to_service_id, ...): each a lookup in
 * the node's MetadataView, applied once per distinct value. Their answers live on the engines
 * (a upid belongs to one node's processes), so when a script calls one above the broker's split,
 * each engine answers it for the values its fragment produced (`lookup`).
 */

type Lookup = (md: MetadataView, s: string) => string | number;

function lookup(name: string, from: DataType, semantic: SemanticType, doc: string, example: string, f: Lookup): FunctionEntry {
  const number = name === 'upid_to_pid';
  return {
    name,
    spelling: `px.${name}`,
    kind: 'scalar',
    signatures: [{ args: [from], ret: number ? 'INT64' : 'STRING', semantic }],
    doc,
    example,
    lookup: f,
    eval: (call) =>
      number
        ? perStringNum((s) => f(call.env.metadata, s) as number, call, call.args[0]!)
        : perString((s) => f(call.env.metadata, s) as string, call, call.args[0]!),
  };
}

/** The px.upid_to_* / px.ip_to_* / px.pod_* / px.service_* lookups. */
export const METADATA: readonly FunctionEntry[] = [
  lookup('upid_to_pid', 'UINT128', 'ST_NONE', 'The process id of a UPID.', 'px.upid_to_pid(df.upid)', (md, s) => md.upidToPid(s)),
  lookup('upid_to_cmdline', 'UINT128', 'ST_NONE', 'The command line of a process.', 'px.upid_to_cmdline(df.upid)', (md, s) => md.upidToCmdline(s)),
  lookup('upid_to_container_id', 'UINT128', 'ST_NONE', 'The container id of a process, or empty.', 'px.upid_to_container_id(df.upid)', (md, s) => md.upidToContainerId(s)),
  lookup('upid_to_pod_id', 'UINT128', 'ST_NONE', 'The pod UID of a process, or empty.', 'px.upid_to_pod_id(df.upid)', (md, s) => md.upidToPodId(s)),
  lookup('upid_to_pod_name', 'UINT128', 'ST_POD_NAME', 'The pod (namespace/name) of a process, or empty.', 'px.upid_to_pod_name(df.upid)', (md, s) => md.upidToPodName(s)),
  lookup('upid_to_namespace', 'UINT128', 'ST_NAMESPACE_NAME', 'The namespace of a process, or empty.', 'px.upid_to_namespace(df.upid)', (md, s) => md.upidToNamespace(s)),
  lookup('upid_to_service_id', 'UINT128', 'ST_NONE', 'The service UID of a process, or empty.', 'px.upid_to_service_id(df.upid)', (md, s) => md.upidToServiceId(s)),
  lookup('upid_to_service_name', 'UINT128', 'ST_SERVICE_NAME', 'The service (namespace/name) of a process, or empty.', 'px.upid_to_service_name(df.upid)', (md, s) => md.upidToServiceName(s)),
  lookup('upid_to_node_name', 'UINT128', 'ST_NODE_NAME', 'The node a process runs on.', 'px.upid_to_node_name(df.upid)', (md, s) => md.upidToNodeName(s)),
  lookup('upid_to_hostname', 'UINT128', 'ST_NONE', 'The host name of a process.', 'px.upid_to_hostname(df.upid)', (md, s) => md.upidToHostname(s)),
  lookup('ip_to_pod_id', 'STRING', 'ST_NONE', 'The UID of the pod with this IP, or empty.', 'px.ip_to_pod_id(df.remote_addr)', (md, s) => md.ipToPodId(s)),
  lookup('ip_to_service_id', 'STRING', 'ST_NONE', 'The UID of the service with this IP, or empty.', 'px.ip_to_service_id(df.remote_addr)', (md, s) => md.ipToServiceId(s)),
  lookup('pod_id_to_pod_name', 'STRING', 'ST_POD_NAME', 'The pod (namespace/name) with this UID.', 'px.pod_id_to_pod_name(df.pod_id)', (md, s) => md.podIdToPodName(s)),
  lookup('pod_id_to_namespace', 'STRING', 'ST_NAMESPACE_NAME', 'The namespace of the pod with this UID.', 'px.pod_id_to_namespace(df.pod_id)', (md, s) => md.podIdToNamespace(s)),
  lookup('pod_name_to_pod_ip', 'STRING', 'ST_IP_ADDRESS', 'The IP of the pod (namespace/name).', 'px.pod_name_to_pod_ip(df.pod)', (md, s) => md.podNameToPodIp(s)),
  lookup('service_id_to_service_name', 'STRING', 'ST_SERVICE_NAME', 'The service (namespace/name) with this UID.', 'px.service_id_to_service_name(df.service_id)', (md, s) =>
    md.serviceIdToServiceName(s),
  ),
  lookup('pod_id_to_node_name', 'STRING', 'ST_NODE_NAME', 'The node of the pod with this UID (pods of this node only).', 'px.pod_id_to_node_name(df.pod_id)', (md, s) =>
    md.podIdToNodeName?.(s) ?? '',
  ),
  lookup('pod_id_to_service_id', 'STRING', 'ST_NONE', 'The UID of the service(s) of the pod with this UID; several as a JSON array.', 'px.pod_id_to_service_id(df.pod_id)', (md, s) =>
    md.podIdToServiceId?.(s) ?? '',
  ),
  lookup(
    'pod_id_to_service_name',
    'STRING',
    'ST_SERVICE_NAME',
    'The service(s) (namespace/name) of the pod with this UID; several as a JSON array.',
    'px.pod_id_to_service_name(px.ip_to_pod_id(df.remote_addr))',
    (md, s) => md.podIdToServiceName?.(s) ?? '',
  ),
  lookup('pod_name_to_pod_id', 'STRING', 'ST_NONE', 'The UID of the pod (namespace/name).', 'px.pod_name_to_pod_id(df.pod)', (md, s) => md.podNameToPodId?.(s) ?? ''),
  lookup('service_name_to_service_id', 'STRING', 'ST_NONE', 'The UID of the service (namespace/name).', 'px.service_name_to_service_id(df.service)', (md, s) =>
    md.serviceNameToServiceId?.(s) ?? '',
  ),
];

/** Every metadata function by name: what engines can answer for a broker (distributed/). */
export const METADATA_FNS: ReadonlyMap<string, Lookup> = new Map(METADATA.map((e) => [e.name, e.lookup!]));
