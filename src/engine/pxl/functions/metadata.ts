import type { MetadataView } from '../../meta/types.js';
import { parseUpid } from '../../meta/upid.js';
import type { DataType, SemanticType } from '../../schema.js';
import type { Val } from '../exec/vec.js';
import type { FunctionEntry, ScalarCall } from './entry.js';
import { asStr, perString, perStringNum } from './vectorized.js';

/*
 * Pixie's metadata functions (px.upid_to_pod_name, px.ip_to_service_id, ...): each a lookup in
 * the node's MetadataView, applied once per distinct value. Their answers live on the engines
 * (a upid belongs to one node's processes), so when a script calls one above the broker's split,
 * each engine answers it for the values its fragment produced (`lookup`). An answer on the wire
 * is '' (or 0) where a node does not know the value, so the broker can prefer the node that
 * does; what a script sees for an unknown value (Pixie's "Unknown" status) is made from it last.
 */

type Lookup = (md: MetadataView, s: string) => string | number;

/** Pixie's status of a pod it does not know. */
const UNKNOWN_POD = JSON.stringify({ phase: 'Unknown', message: '', reason: '', ready: false });
/** Pixie's status of a container it does not know. */
const UNKNOWN_CONTAINER = JSON.stringify({ state: 'Unknown', message: '', reason: '' });

/** A TIME64NS lookup's answers (decimal epoch ns, '' for 0) as an exact column of absolute times. */
function times(f: (s: string) => string, call: ScalarCall): Val {
  const v = call.value(call.args[0]!);
  const abs = (s: string): bigint => {
    const t = f(s);
    return /^-?\d+$/.test(t) ? BigInt(t) : 0n;
  };
  if (v.t === 'scalar') return { t: 'scalar', v: Number(abs(String(v.v)) - call.env.timeBase) };
  const s = asStr(v, call.chunk.n);
  const table = s.dict.map(abs);
  const out = new BigInt64Array(call.chunk.n);
  const sel = call.chunk.sel;
  const m = sel ? sel.length : call.chunk.n;
  for (let k = 0; k < m; k++) {
    const i = sel ? sel[k]! : k;
    out[i] = table[s.c[i]!]!;
  }
  return { t: 'big', d: out };
}

function lookup(
  name: string,
  from: DataType,
  ret: 'STRING' | 'INT64' | 'TIME64NS',
  semantic: SemanticType,
  doc: string,
  example: string,
  f: Lookup,
  shown: (wire: string) => string = (w) => w,
): FunctionEntry {
  return {
    name,
    spelling: `px.${name}`,
    kind: 'scalar',
    signatures: [{ args: [from], ret, semantic }],
    doc,
    example,
    lookup: f,
    eval: (call) => {
      const md = call.env.metadata;
      if (ret === 'INT64') return perStringNum((s) => f(md, s) as number, call, call.args[0]!);
      if (ret === 'TIME64NS') return times((s) => String(f(md, s)), call);
      return perString((s) => shown(String(f(md, s))), call, call.args[0]!);
    },
  };
}

/** The px.upid_to_* / px.ip_to_* / px.pod_* / px.service_* / px.container_* lookups. */
export const METADATA: readonly FunctionEntry[] = [
  lookup('upid_to_pid', 'UINT128', 'INT64', 'ST_NONE', 'The process id of a UPID.', 'px.upid_to_pid(df.upid)', (md, s) => md.upidToPid(s)),
  lookup('upid_to_asid', 'UINT128', 'INT64', 'ST_NONE', 'The agent short id of a UPID (0 for a single engine).', 'px.upid_to_asid(df.upid)', (_md, s) => parseUpid(s)?.asid ?? 0),
  lookup('upid_to_cmdline', 'UINT128', 'STRING', 'ST_NONE', 'The command line of a process.', 'px.upid_to_cmdline(df.upid)', (md, s) => md.upidToCmdline(s)),
  lookup('upid_to_container_id', 'UINT128', 'STRING', 'ST_NONE', 'The container id of a process, or empty.', 'px.upid_to_container_id(df.upid)', (md, s) => md.upidToContainerId(s)),
  lookup('upid_to_container_name', 'UINT128', 'STRING', 'ST_CONTAINER_NAME', 'The Kubernetes name of the container of a process, or empty.', 'px.upid_to_container_name(df.upid)', (md, s) =>
    md.upidToContainerName?.(s) ?? '',
  ),
  lookup('upid_to_pod_id', 'UINT128', 'STRING', 'ST_NONE', 'The pod UID of a process, or empty.', 'px.upid_to_pod_id(df.upid)', (md, s) => md.upidToPodId(s)),
  lookup('upid_to_pod_name', 'UINT128', 'STRING', 'ST_POD_NAME', 'The pod (namespace/name) of a process, or empty.', 'px.upid_to_pod_name(df.upid)', (md, s) => md.upidToPodName(s)),
  lookup('upid_to_namespace', 'UINT128', 'STRING', 'ST_NAMESPACE_NAME', 'The namespace of a process, or empty.', 'px.upid_to_namespace(df.upid)', (md, s) => md.upidToNamespace(s)),
  lookup('upid_to_service_id', 'UINT128', 'STRING', 'ST_NONE', 'The service UID of a process, or empty.', 'px.upid_to_service_id(df.upid)', (md, s) => md.upidToServiceId(s)),
  lookup(
    'upid_to_service_name',
    'UINT128',
    'STRING',
    'ST_SERVICE_NAME',
    'The service (namespace/name) of a process; on a host without Kubernetes, its systemd unit or container scope; or empty.',
    'px.upid_to_service_name(df.upid)',
    (md, s) => md.upidToServiceName(s),
  ),
  lookup('upid_to_replicaset_name', 'UINT128', 'STRING', 'ST_NONE', "The ReplicaSet (namespace/name) owning a process's pod, or empty.", 'px.upid_to_replicaset_name(df.upid)', (md, s) =>
    md.upidToReplicaSetName?.(s) ?? '',
  ),
  lookup('upid_to_replicaset_id', 'UINT128', 'STRING', 'ST_NONE', "The UID of the ReplicaSet owning a process's pod, or empty.", 'px.upid_to_replicaset_id(df.upid)', (md, s) =>
    md.upidToReplicaSetId?.(s) ?? '',
  ),
  lookup('upid_to_deployment_name', 'UINT128', 'STRING', 'ST_NONE', "The Deployment (namespace/name) owning a process's pod, or empty.", 'px.upid_to_deployment_name(df.upid)', (md, s) =>
    md.upidToDeploymentName?.(s) ?? '',
  ),
  lookup('upid_to_node_name', 'UINT128', 'STRING', 'ST_NODE_NAME', 'The node a process runs on.', 'px.upid_to_node_name(df.upid)', (md, s) => md.upidToNodeName(s)),
  lookup('upid_to_hostname', 'UINT128', 'STRING', 'ST_NONE', 'The host name of a process.', 'px.upid_to_hostname(df.upid)', (md, s) => md.upidToHostname(s)),
  lookup('ip_to_pod_id', 'STRING', 'STRING', 'ST_NONE', 'The UID of the pod with this IP, or empty.', 'px.ip_to_pod_id(df.remote_addr)', (md, s) => md.ipToPodId(s)),
  lookup('ip_to_service_id', 'STRING', 'STRING', 'ST_NONE', 'The UID of the service with this IP, or empty.', 'px.ip_to_service_id(df.remote_addr)', (md, s) => md.ipToServiceId(s)),
  lookup('pod_id_to_pod_name', 'STRING', 'STRING', 'ST_POD_NAME', 'The pod (namespace/name) with this UID.', 'px.pod_id_to_pod_name(df.pod_id)', (md, s) => md.podIdToPodName(s)),
  lookup('pod_id_to_namespace', 'STRING', 'STRING', 'ST_NAMESPACE_NAME', 'The namespace of the pod with this UID.', 'px.pod_id_to_namespace(df.pod_id)', (md, s) => md.podIdToNamespace(s)),
  lookup('pod_name_to_pod_ip', 'STRING', 'STRING', 'ST_IP_ADDRESS', 'The IP of the pod (namespace/name).', 'px.pod_name_to_pod_ip(df.pod)', (md, s) => md.podNameToPodIp(s)),
  lookup(
    'pod_name_to_status',
    'STRING',
    'STRING',
    'ST_POD_STATUS',
    'The status of the pod (namespace/name) as JSON with the keys phase, message, reason and ready; phase "Unknown" for a pod this node does not run.',
    'px.pod_name_to_status(df.pod)',
    (md, s) => md.podNameToStatus?.(s) ?? '',
    (w) => (w === '' ? UNKNOWN_POD : w),
  ),
  lookup('pod_name_to_start_time', 'STRING', 'TIME64NS', 'ST_NONE', 'When the pod (namespace/name) started; 0 (1970-01-01) when unknown.', 'px.pod_name_to_start_time(df.pod)', (md, s) =>
    md.podNameToStartTime?.(s) ?? '',
  ),
  lookup(
    'container_id_to_status',
    'STRING',
    'STRING',
    'ST_CONTAINER_STATUS',
    'The status of the container as JSON with the keys state (Running, Waiting, Terminated, Unknown), message and reason.',
    "px.container_id_to_status(df.ctx['container_id'])",
    (md, s) => md.containerIdToStatus?.(s) ?? '',
    (w) => (w === '' ? UNKNOWN_CONTAINER : w),
  ),
  lookup('service_id_to_service_name', 'STRING', 'STRING', 'ST_SERVICE_NAME', 'The service (namespace/name) with this UID.', 'px.service_id_to_service_name(df.service_id)', (md, s) =>
    md.serviceIdToServiceName(s),
  ),
  lookup('pod_id_to_node_name', 'STRING', 'STRING', 'ST_NODE_NAME', 'The node of the pod with this UID (pods of this node only).', 'px.pod_id_to_node_name(df.pod_id)', (md, s) =>
    md.podIdToNodeName?.(s) ?? '',
  ),
  lookup('pod_id_to_service_id', 'STRING', 'STRING', 'ST_NONE', 'The UID of the service(s) of the pod with this UID; several as a JSON array.', 'px.pod_id_to_service_id(df.pod_id)', (md, s) =>
    md.podIdToServiceId?.(s) ?? '',
  ),
  lookup(
    'pod_id_to_service_name',
    'STRING',
    'STRING',
    'ST_SERVICE_NAME',
    'The service(s) (namespace/name) of the pod with this UID; several as a JSON array.',
    'px.pod_id_to_service_name(px.ip_to_pod_id(df.remote_addr))',
    (md, s) => md.podIdToServiceName?.(s) ?? '',
  ),
  lookup('pod_name_to_pod_id', 'STRING', 'STRING', 'ST_NONE', 'The UID of the pod (namespace/name).', 'px.pod_name_to_pod_id(df.pod)', (md, s) => md.podNameToPodId?.(s) ?? ''),
  lookup('service_name_to_service_id', 'STRING', 'STRING', 'ST_NONE', 'The UID of the service (namespace/name).', 'px.service_name_to_service_id(df.service)', (md, s) =>
    md.serviceNameToServiceId?.(s) ?? '',
  ),
];

/** Every metadata function by name: what engines can answer for a broker (distributed/). */
export const METADATA_FNS: ReadonlyMap<string, Lookup> = new Map(METADATA.map((e) => [e.name, e.lookup!]));
