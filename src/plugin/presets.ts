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
