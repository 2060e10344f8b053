import type { QueryFormat } from './types.js';

/** A ready-made script offered by the editors' preset pickers. */
export interface Preset {
  id: string;
  label: string;
  description: string;
  script: string;
  /** Format the preset's output needs (raw events stay a table, requests as logs are logs). */
  format?: QueryFormat;
}

const SOURCE = `df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)`;

/**
 * The service label of the provisioned dashboard: the Kubernetes service, else the pod, else
 * the process name, so a link from a row lands on a value of the dashboard's `service` variable.
 */
const SERVICE_LABEL = `def service_label(df):
    svc = df.ctx['service']
    pod = df.ctx['pod']
    return px.select(svc != '', svc, px.select(pod != '', pod, df.comm))
`;

/**
 * Panel presets, written as Pixie writes its HTTP scripts. Throughput is count / __interval, a
 * rate per nanosecond (ST_THROUGHPUT_PER_NS), which the frames shows per second.
 */
export const QUERY_PRESETS: Preset[] = [
  {
    id: 'throughput',
    label: 'Request throughput',
    description: 'Requests per second over all traced processes',
    script: `import px

${SOURCE}
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby('timestamp').agg(requests=('latency', px.count))
df.request_throughput = df.requests / __interval
df.time_ = df.timestamp
px.display(df[['time_', 'request_throughput']], 'throughput')
`,
  },
  {
    id: 'throughput_by_service',
    label: 'Throughput by service',
    description: 'Requests per second, one series per service',
    script: `import px

${SOURCE}
df.service = df.ctx['service']
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby(['timestamp', 'service']).agg(requests=('latency', px.count))
df.request_throughput = df.requests / __interval
df.time_ = df.timestamp
px.display(df[['time_', 'service', 'request_throughput']], 'throughput_by_service')
`,
  },
  {
    id: 'latency_by_service',
    label: 'Latency p50/p90/p99 by service',
    description: 'Latency quantiles (first request byte to last response byte) per service',
    script: `import px

${SOURCE}
df.service = df.ctx['service']
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby(['timestamp', 'service']).agg(latency_quantiles=('latency', px.quantiles))
df.latency_p50 = px.DurationNanos(px.floor(px.pluck_float64(df.latency_quantiles, 'p50')))
df.latency_p90 = px.DurationNanos(px.floor(px.pluck_float64(df.latency_quantiles, 'p90')))
df.latency_p99 = px.DurationNanos(px.floor(px.pluck_float64(df.latency_quantiles, 'p99')))
df.time_ = df.timestamp
px.display(df[['time_', 'service', 'latency_p50', 'latency_p90', 'latency_p99']], 'latency_by_service')
`,
  },
  {
    id: 'error_rate_by_service',
    label: 'Error rate by service',
    description: 'Share of responses with status >= 400, per service',
    script: `import px

${SOURCE}
df.service = df.ctx['service']
df.failure = df.resp_status >= 400
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby(['timestamp', 'service']).agg(error_rate=('failure', px.mean))
df.error_rate = px.Percent(df.error_rate)
df.time_ = df.timestamp
px.display(df[['time_', 'service', 'error_rate']], 'error_rate_by_service')
`,
  },
  {
    id: 'raw_events',
    label: 'Raw HTTP events',
    description: 'The latest requests, one row each',
    format: 'table',
    script: `import px

${SOURCE}
df.service = df.ctx['service']
df.pod = df.ctx['pod']
df = df[['time_', 'service', 'pod', 'req_method', 'req_path', 'resp_status', 'latency', 'resp_body_size']]
px.display(df.head(1000), 'http_events')
`,
  },
  {
    id: 'requests_log',
    label: 'Requests as logs',
    description: 'The latest requests as log lines: level from the status class, a link to the service on the HTTP overview',
    format: 'logs',
    script: `import px

${SOURCE}
${SERVICE_LABEL}
df.service = service_label(df)
df = df[['time_', 'service', 'req_method', 'req_path', 'resp_status', 'latency', 'comm', 'pid', 'remote_addr', 'trace_role', 'resp_body_size']]
px.display(df.head(1000), 'requests')
`,
  },
  {
    id: 'service_map',
    label: 'Service map (node graph)',
    description: 'Who calls whom, with request counts, as nodes and edges',
    script: `import px

${SOURCE}
df = df[df.trace_role == 2]
df.responder = df.ctx['service']
df.responder = px.select(df.responder == '', df.ctx['cmd'], df.responder)
df.requestor = px.service_id_to_service_name(px.ip_to_service_id(df.remote_addr))
df.requestor = px.select(df.requestor == '', df.remote_addr, df.requestor)
edges = df.groupby(['requestor', 'responder']).agg(requests=('latency', px.count))
edges.source = edges.requestor
edges.target = edges.responder
edges.id = edges.source + '->' + edges.target
edges.mainstat = edges.requests
px.display(edges[['id', 'source', 'target', 'mainstat']], 'edges')

callers = edges.groupby('source').agg()
callers.id = callers.source
callees = edges.groupby('target').agg(requests=('requests', px.sum))
callees.id = callees.target
nodes = callers[['id']].append(callees[['id']]).groupby('id').agg()
nodes.title = nodes.id
px.display(nodes, 'nodes')
`,
  },
];

/** The distinct non-empty values of `df.ctx[key]` as column `column`, optionally filtered first. */
export function distinctCtx(key: string, column: string, filter = ''): string {
  return `import px

${SOURCE}
df.${column} = df.ctx['${key}']
${filter}df = df.groupby('${column}').agg()
df = df[df.${column} != '']
px.display(df, '${column}_values')
`;
}

const CONNS = `df = px.DataFrame(table='conn_stats', start_time=__time_from, end_time=__time_to)`;
const TLS = `df = px.DataFrame(table='tls_handshakes', start_time=__time_from, end_time=__time_to)`;

/** The traced side's label in the network presets: service, else pod, else command name. */
const LOCAL_LABEL = `def local_label(df):
    svc = df.ctx['service']
    pod = df.ctx['pod']
    return px.select(svc != '', svc, px.select(pod != '', pod, df.comm))
`;

/**
 * What each conn_stats key did per interval: max − min of its cumulative counters in the bin,
 * as Pixie's conn_stats scripts read them (growth between a bin's last row and the next bin's
 * first is not counted; rows come every report period).
 */
const PER_KEY_PER_BIN = `df.timestamp = px.bin(df.time_, __interval)
df = df.groupby(['timestamp', 'service', 'upid', 'remote_addr', 'remote_port', 'trace_role']).agg(
    sent_max=('bytes_sent', px.max),
    sent_min=('bytes_sent', px.min),
    recv_max=('bytes_recv', px.max),
    recv_min=('bytes_recv', px.min),
    active=('conn_active', px.max),
)
`;

/**
 * Network dashboard presets over `conn_stats` and `tls_handshakes` (the "Network" dashboard's
 * panels): who talks to whom as a node graph, bytes and open connections by service, the
 * heaviest and longest-lived connections, and the TLS facts.
 */
export const NETWORK_PRESETS: Preset[] = [
  {
    id: 'network_graph',
    label: 'Network graph (TCP connections)',
    description: 'Who holds TCP connections to whom: connections opened, bytes each way and mean duration per edge',
    script: `import px

ns_per_s = 1000 * 1000 * 1000
# conn_stats' report period (the engine's --conn-stats-period-ms).
conn_stats_period_ns = 5 * ns_per_s

${LOCAL_LABEL}

def keys():
    ${CONNS}
    df.local = local_label(df)
    df.remote_pod = px.pod_id_to_pod_name(px.ip_to_pod_id(df.remote_addr))
    df.remote_svc = px.service_id_to_service_name(px.ip_to_service_id(df.remote_addr))
    df.remote = px.select(df.remote_svc != '', df.remote_svc, px.select(df.remote_pod != '', df.remote_pod, df.remote_addr))
    # A connection between two traced pods is counted once, from its client end.
    df = df[df.trace_role == 1 or df.remote_pod == '']
    df = df.groupby(['upid', 'local', 'remote', 'remote_port', 'trace_role']).agg(
        open_max=('conn_open', px.max),
        open_min=('conn_open', px.min),
        close_max=('conn_close', px.max),
        close_min=('conn_close', px.min),
        sent_max=('bytes_sent', px.max),
        sent_min=('bytes_sent', px.min),
        recv_max=('bytes_recv', px.max),
        recv_min=('bytes_recv', px.min),
        active_periods=('conn_active', px.sum),
    )
    df.is_client = df.trace_role == 1
    df.source = px.select(df.is_client, df.local, df.remote)
    df.target = px.select(df.is_client, df.remote, df.local)
    df.connections = df.open_max - df.open_min
    df.closed = df.close_max - df.close_min
    df.bytes_to_server = px.select(df.is_client, df.sent_max - df.sent_min, df.recv_max - df.recv_min)
    df.bytes_to_client = px.select(df.is_client, df.recv_max - df.recv_min, df.sent_max - df.sent_min)
    df.connected_ns = df.active_periods * conn_stats_period_ns
    return df


def edges():
    df = keys()
    df = df.groupby(['source', 'target']).agg(
        connections=('connections', px.sum),
        closed=('closed', px.sum),
        bytes_to_server=('bytes_to_server', px.sum),
        bytes_to_client=('bytes_to_client', px.sum),
        connected_ns=('connected_ns', px.sum),
    )
    df = df[df.connections > 0 or df.bytes_to_server + df.bytes_to_client > 0]
    df.id = df.source + '->' + df.target
    df.mainstat = df.connections
    df.secondarystat = (df.bytes_to_server + df.bytes_to_client) / (__time_to - __time_from) * ns_per_s
    df.detail__bytes_to_server = df.bytes_to_server
    df.detail__bytes_to_client = df.bytes_to_client
    df.detail__mean_duration_s = df.connected_ns / px.select(df.closed > 0, df.closed, 1) / ns_per_s
    return df[['id', 'source', 'target', 'mainstat', 'secondarystat', 'detail__bytes_to_server',
               'detail__bytes_to_client', 'detail__mean_duration_s']]


def nodes():
    # A node's main stat: the connections on its edges, either way.
    e = edges()
    outgoing = e.groupby(['source']).agg(mainstat=('mainstat', px.sum))
    outgoing.id = outgoing.source
    incoming = e.groupby(['target']).agg(mainstat=('mainstat', px.sum))
    incoming.id = incoming.target
    df = outgoing[['id', 'mainstat']].append(incoming[['id', 'mainstat']])
    df = df.groupby(['id']).agg(mainstat=('mainstat', px.sum))
    df.title = df.id
    return df[['id', 'title', 'mainstat']]


px.display(nodes(), 'nodes')
px.display(edges(), 'edges')
`,
  },
  {
    id: 'conn_bytes_by_service',
    label: 'TCP bytes/s by service',
    description: 'Bytes per second sent and received over TCP, by service (else pod, else process)',
    script: `import px

${CONNS}
${LOCAL_LABEL}
df.service = local_label(df)
${PER_KEY_PER_BIN}df.bytes = (df.sent_max - df.sent_min) + (df.recv_max - df.recv_min)
df = df.groupby(['timestamp', 'service']).agg(bytes=('bytes', px.sum))
df.bytes_per_s = df.bytes / __interval * 1000 * 1000 * 1000
df.time_ = df.timestamp
px.display(df[['time_', 'service', 'bytes_per_s']], 'bytes')
`,
  },
  {
    id: 'conn_open_by_service',
    label: 'Open TCP connections by service',
    description: 'Connections open at the end of each interval, by service (else pod, else process)',
    script: `import px

${CONNS}
${LOCAL_LABEL}
df.service = local_label(df)
${PER_KEY_PER_BIN}df = df.groupby(['timestamp', 'service']).agg(open_connections=('active', px.sum))
df.time_ = df.timestamp
px.display(df[['time_', 'service', 'open_connections']], 'open_connections')
`,
  },
  {
    id: 'conn_heaviest',
    label: 'Heaviest and longest-lived connections',
    description: 'Per process and remote endpoint: bytes each way, connections, and how long it held connections open',
    format: 'table',
    script: `import px

# conn_stats' report period (the engine's --conn-stats-period-ms): a row with open connections
# stands for a period of them being open.
conn_stats_period_ns = 5 * 1000 * 1000 * 1000

${CONNS}
${LOCAL_LABEL}
df.service = local_label(df)
df.held = px.select(df.conn_active > 0, conn_stats_period_ns, 0)
df = df.groupby(['service', 'upid', 'remote_addr', 'remote_port', 'trace_role']).agg(
    open_max=('conn_open', px.max),
    open_min=('conn_open', px.min),
    sent_max=('bytes_sent', px.max),
    sent_min=('bytes_sent', px.min),
    recv_max=('bytes_recv', px.max),
    recv_min=('bytes_recv', px.min),
    held_ns=('held', px.sum),
)
df.connections = df.open_max - df.open_min
df.bytes_sent = df.sent_max - df.sent_min
df.bytes_recv = df.recv_max - df.recv_min
df.bytes_total = df.bytes_sent + df.bytes_recv
df.held_open = px.DurationNanos(df.held_ns)
df = df[['service', 'remote_addr', 'remote_port', 'trace_role', 'connections', 'bytes_sent', 'bytes_recv', 'bytes_total', 'held_open']]
px.display(df, 'connections')
`,
  },
  {
    id: 'tls_versions_ciphers',
    label: 'TLS versions and ciphers',
    description: 'Handshakes by negotiated version and cipher suite',
    format: 'table',
    script: `import px

${TLS}
df = df[df.version != '']
df = df.groupby(['version', 'cipher']).agg(handshakes=('handshake_duration', px.count), mean_duration=('handshake_duration', px.mean))
df.mean_duration = px.DurationNanos(df.mean_duration)
px.display(df, 'tls_versions')
`,
  },
  {
    id: 'tls_sni',
    label: 'TLS server names (SNI)',
    description: 'Server names asked for, with the protocols offered and chosen and the servers that answered',
    format: 'table',
    script: `import px

${TLS}
${LOCAL_LABEL}
df.service = local_label(df)
df = df.groupby(['sni', 'alpn_offered', 'alpn', 'version', 'trace_role', 'service']).agg(handshakes=('handshake_duration', px.count))
px.display(df, 'sni')
`,
  },
  {
    id: 'tls_expiring_certs',
    label: 'Certificates expiring within 30 days',
    description: 'Server certificates seen in TLS <= 1.2 handshakes that expire within 30 days (or have expired)',
    format: 'table',
    script: `import px

days_ns = 24 * 60 * 60 * 1000 * 1000 * 1000
${TLS}
df = df[df.cert_subject != '']
df = df.groupby(['cert_subject', 'cert_issuer', 'cert_sans', 'cert_not_after', 'sni']).agg(handshakes=('handshake_duration', px.count))
df.expires_in_days = (df.cert_not_after - px.now()) / days_ns
df = df[df.expires_in_days < 30]
px.display(df, 'expiring_certs')
`,
  },
];

/**
 * Variable presets: each script returns one column. "services" and "pods" read their parent
 * variable ($namespace, $service) so Grafana refreshes them when it changes; the value reaches
 * the engine in the request's `variables`, never spliced into the text by the plugin.
 */
export const VARIABLE_PRESETS: Preset[] = [
  { id: 'namespaces', label: 'Namespaces', description: 'Namespaces seen in traffic', script: distinctCtx('namespace', 'namespace') },
  {
    id: 'services',
    label: 'Services (in $namespace)',
    description: 'Services of the namespace chosen in $namespace',
    script: distinctCtx('service', 'service', "df = df[df.ctx['namespace'] == $namespace]\n"),
  },
  {
    id: 'pods',
    label: 'Pods (of $service)',
    description: 'Pods behind the service chosen in $service',
    script: distinctCtx('pod', 'pod', "df = df[df.ctx['service'] == $service]\n"),
  },
  { id: 'nodes', label: 'Nodes', description: 'Kubernetes nodes seen in traffic', script: distinctCtx('node', 'node') },
];

/**
 * Annotation presets: each output row is a marker at `time_` (a region up to `time_end`), with
 * `title`, `text` and comma-separated `tags`.
 */
export const ANNOTATION_PRESETS: Preset[] = [
  {
    id: 'server_errors',
    label: 'Server errors (5xx)',
    description: 'A region over each interval in which a service answered 5xx',
    format: 'table',
    script: `import px

${SOURCE}
df = df[df.resp_status >= 500]
${SERVICE_LABEL}
df.service = service_label(df)
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby(['timestamp', 'service']).agg(errors=('latency', px.count))
df.time_ = df.timestamp
df.time_end = df.timestamp + __interval
df.title = 'HTTP 5xx'
df.text = df.service
df.tags = '5xx,' + df.service
px.display(df[['time_', 'time_end', 'title', 'text', 'tags', 'errors']], 'server_errors')
`,
  },
  {
    id: 'slow_requests',
    label: 'Slow requests (over 1 s)',
    description: 'A region from the first request byte to the last response byte of each request slower than 1 s',
    format: 'table',
    script: `import px

${SOURCE}
df = df[df.latency > 1000 * 1000 * 1000]
${SERVICE_LABEL}
df.service = service_label(df)
df.time_end = df.time_
df.time_ = df.time_ - df.latency
df.title = df.req_method + ' ' + df.req_path
df.text = df.service
df.tags = 'slow,' + df.service
px.display(df[['time_', 'time_end', 'title', 'text', 'tags']].head(200), 'slow_requests')
`,
  },
];
