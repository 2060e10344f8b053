import { Counter, Histogram, type Registry } from 'prom-client';
import type { MetadataView } from '../meta/types.js';
import { readValue, type StoredColumn } from '../store/column.js';
import type { SeqRange } from '../store/table.js';

/*
 * RED metrics (rate, errors, duration) of the servers the engine sees, for Prometheus to keep
 * for longer than the store does. They are read from `http_events` as a stream reads it (by
 * row sequence number, each server-side row once), on a timer and at each scrape, so capture
 * never touches prom-client and the numbers are those of the rows PxL queries see.
 */

/** The rows a RED reader needs: the store's `Table` satisfies it. */
export interface RedSource {
  nextSeq(): number;
  since(seq: number, maxRows: number): SeqRange;
}

/** Label sets kept at most (service × method × route); the rest are counted under `{overflow}`. */
const DEFAULT_MAX_SERIES = 2000;
/** Latency buckets, seconds: 0.5 ms to 10 s. */
export const RED_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const OVERFLOW = '{overflow}';
const READ_ROWS = 65536;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]{16,}$/i;

/**
 * A request path as a route: the query string dropped, and each segment that is an identifier
 * rather than a name (all digits, a UUID, 16+ hex digits, or 20+ characters with a digit)
 * replaced by `{id}`: `/items/123?x=1` → `/items/{id}`.
 */
export function routeOf(path: string): string {
  const q = path.search(/[?#]/);
  const p = q < 0 ? path : path.slice(0, q);
  if (p === '' || p === '/') return '/';
  return p
    .split('/')
    .map((s) => (s === '' ? s : /^\d+$/.test(s) || UUID.test(s) || HEX.test(s) || (s.length >= 20 && /\d/.test(s)) ? '{id}' : s))
    .join('/');
}

/** The RED metrics of one engine, registered on `registry`. */
export class RedMetrics {
  private seq = 0;
  private readonly series = new Set<string>();
  private readonly requests: Counter<'service' | 'method' | 'route'>;
  private readonly errors: Counter<'service' | 'method' | 'route'>;
  private readonly duration: Histogram<'service' | 'method' | 'route'>;
  private readonly overflow: Counter;
  private readonly missed: Counter;

  constructor(
    registry: Registry,
    private readonly source: RedSource,
    private readonly metadata: MetadataView,
    private readonly maxSeries = DEFAULT_MAX_SERIES,
  ) {
    const registers = [registry];
    const labelNames = ['service', 'method', 'route'] as const;
    const read = (): void => this.catchUp();
    this.requests = new Counter({ name: 'wisp_http_server_requests_total', help: 'Requests served, by service (or process), method and route', labelNames, registers, collect: read });
    this.errors = new Counter({ name: 'wisp_http_server_errors_total', help: 'Requests answered with a status >= 400', labelNames, registers });
    this.duration = new Histogram({
      name: 'wisp_http_server_duration_seconds',
      help: 'Latency of served requests, first request byte to last response byte',
      labelNames,
      buckets: RED_BUCKETS,
      registers,
    });
    this.overflow = new Counter({ name: 'wisp_http_server_overflow_total', help: `Requests counted under ${OVERFLOW} because the label sets reached their cap`, registers });
    this.missed = new Counter({ name: 'wisp_http_server_missed_rows_total', help: 'Rows that left the store before the RED metrics read them', registers });
  }

  /** Reads every row appended since the last call (the first reads every row since the table began). */
  catchUp(): void {
    for (;;) {
      const r = this.source.since(this.seq, READ_ROWS);
      if (r.from > this.seq) this.missed.inc(r.from - this.seq);
      for (const b of r.batches) this.observe(b.rows, b.columns);
      this.seq = r.to;
      if (r.to === r.from) return;
    }
  }

  private observe(rows: number, columns: ReadonlyMap<string, StoredColumn>): void {
    const col = (name: string): StoredColumn => columns.get(name)!;
    const [role, upid, comm, method, path, status, latency] = ['trace_role', 'upid', 'comm', 'req_method', 'req_path', 'resp_status', 'latency'].map(col) as StoredColumn[];
    for (let i = 0; i < rows; i++) {
      if (Number(readValue(role!, i)) !== 2) continue;
      const service = this.metadata.upidToServiceName(String(readValue(upid!, i))) || String(readValue(comm!, i));
      let labels = { service, method: String(readValue(method!, i)), route: routeOf(String(readValue(path!, i))) };
      const key = `${labels.service}\n${labels.method}\n${labels.route}`;
      if (!this.series.has(key)) {
        if (this.series.size >= this.maxSeries) {
          labels = { service: OVERFLOW, method: OVERFLOW, route: OVERFLOW };
          this.overflow.inc();
        } else {
          this.series.add(key);
          // A series of no errors yet exists at 0, so an error ratio has both sides.
          this.errors.inc(labels, 0);
        }
      }
      this.requests.inc(labels);
      if (Number(readValue(status!, i)) >= 400) this.errors.inc(labels);
      this.duration.observe(labels, Number(readValue(latency!, i)) / 1e9);
    }
  }
}
