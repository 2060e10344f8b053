import { createDataFrame, DataFrameType, FieldType } from '@grafana/data';
import type { DataFrame, FieldConfig } from '@grafana/data';

/**
 * Raw request rows as Grafana log lines (the dataplane "log-lines" frame): `timestamp`, a
 * `body` written from method, path, status and latency, a `severity` from the status class,
 * and every other column as a field of the line's details. Plus the log-volume query: requests
 * per interval by status class.
 */

/** One decoded column, as frames.ts hands it over. */
export interface DecodedField {
  name: string;
  type: FieldType;
  values: Array<number | string | boolean | null>;
  config: FieldConfig;
}

/** The provisioned "HTTP overview" dashboard (provisioning/dashboards/http-overview.json). */
const OVERVIEW_DASHBOARD = { uid: 'wisp-http-overview', slug: 'http-overview', serviceVariable: 'service' };

/** Data link from a line's `service` to the overview dashboard showing that service, same time range. */
const SERVICE_LINK = {
  title: 'HTTP overview of ${__value.raw}',
  url: `/d/${OVERVIEW_DASHBOARD.uid}/${OVERVIEW_DASHBOARD.slug}?var-${OVERVIEW_DASHBOARD.serviceVariable}=\${__value.raw}&\${__url_time_range}`,
};

/** Grafana's log level for an HTTP status: 5xx error, 4xx warning, 1xx–3xx info. */
function statusLevel(status: unknown): 'error' | 'warning' | 'info' | 'unknown' {
  const n = typeof status === 'number' ? status : Number(status);
  if (!Number.isFinite(n) || n < 100) {
    return 'unknown';
  }
  return n >= 500 ? 'error' : n >= 400 ? 'warning' : 'info';
}

/** A latency in ns as people read it: `850 µs`, `12.3 ms`, `1.25 s`. */
function formatLatency(ns: number): string {
  if (ns < 1e6) {
    return `${Math.round(ns / 1e3)} µs`;
  }
  if (ns < 1e9) {
    return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  }
  return `${(ns / 1e9).toFixed(2)} s`;
}

/**
 * The log frame of one raw output. `time` is the decoded `time_` field (ms) and `timeNs` its
 * exact nanoseconds, kept as the field's `nanos` so lines within a millisecond stay ordered.
 */
export function logsFrame(name: string, refId: string, time: DecodedField, timeNs: string[], fields: DecodedField[]): DataFrame {
  const col = (n: string) => fields.find((f) => f.name === n);
  const method = col('req_method');
  const path = col('req_path');
  const status = col('resp_status');
  const latency = col('latency');
  const rows = time.values.length;
  const body: string[] = [];
  for (let i = 0; i < rows; i++) {
    const parts: string[] = [];
    if (method) parts.push(String(method.values[i] ?? ''));
    if (path) parts.push(String(path.values[i] ?? ''));
    if (status) parts.push(String(status.values[i] ?? ''));
    if (latency && typeof latency.values[i] === 'number') parts.push(formatLatency(latency.values[i] as number));
    if (parts.length === 0) {
      // No HTTP columns: the line lists the string columns, so it is never empty.
      for (const f of fields) if (f.type === FieldType.string) parts.push(`${f.name}=${String(f.values[i] ?? '')}`);
    }
    body.push(parts.join(' '));
  }
  const nanos = timeNs.map((ns) => Number(BigInt(ns) % BigInt(1_000_000)));
  return createDataFrame({
    name,
    refId,
    meta: { type: DataFrameType.LogLines, typeVersion: [0, 0], preferredVisualisationType: 'logs' },
    fields: [
      { name: 'timestamp', type: FieldType.time, values: time.values, config: {}, nanos },
      { name: 'body', type: FieldType.string, values: body, config: {} },
      { name: 'severity', type: FieldType.string, values: status ? status.values.map(statusLevel) : body.map(() => 'unknown'), config: {} },
      ...fields.map((f) => (f.name === 'service' ? { ...f, config: { ...f.config, links: [SERVICE_LINK] } } : f)),
    ],
  });
}

/** Status classes of the log volume, with the level (and colour) each stands for. */
const VOLUME_CLASSES: Record<string, { level: string; color: string }> = {
  '5xx': { level: 'error', color: 'red' },
  '4xx': { level: 'warning', color: 'orange' },
  '3xx': { level: 'info', color: 'blue' },
  '2xx': { level: 'info', color: 'green' },
  '1xx': { level: 'info', color: 'text' },
};

/**
 * Explore's log volume for a logs query: requests of http_events per interval by status class
 * over the whole range. The query's own and the dashboard's ad hoc filters apply to it (they
 * travel as `adhocFilters`); filters written in the query's script do not, as it is another script.
 */
export const VOLUME_SCRIPT = `import px

df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df.timestamp = px.bin(df.time_, __interval)
df.status_class = px.select(df.resp_status >= 500, '5xx', px.select(df.resp_status >= 400, '4xx',
    px.select(df.resp_status >= 300, '3xx', px.select(df.resp_status >= 200, '2xx', '1xx'))))
df = df.groupby(['timestamp', 'status_class']).agg(requests=('latency', px.count))
df.time_ = df.timestamp
px.display(df[['time_', 'status_class', 'requests']], 'log_volume')
`;

/** Names and colours the volume series by status class and level, as Explore's volume panel shows them. */
export function styleVolume(frame: DataFrame): DataFrame {
  return {
    ...frame,
    fields: frame.fields.map((f) => {
      const cls = f.labels?.status_class;
      const style = cls ? VOLUME_CLASSES[cls] : undefined;
      if (!style || !cls) {
        return f;
      }
      return {
        ...f,
        labels: { ...f.labels, level: style.level },
        config: { ...f.config, displayNameFromDS: cls, color: { mode: 'fixed', fixedColor: style.color }, custom: { drawStyle: 'bars', fillOpacity: 100, stacking: { mode: 'normal', group: 'A' } } },
      };
    }),
  };
}
