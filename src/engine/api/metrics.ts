import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsSnapshot } from '../agent.js';

/**
 * The engine's Prometheus metrics. Query metrics are recorded as queries run; capture, parsing
 * and store figures are read from a snapshot at scrape time, so the hot paths never touch
 * prom-client.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly queries: Counter<'outcome'>;
  private readonly queryDuration: Histogram<'outcome'>;
  private snapshot: () => MetricsSnapshot | undefined = () => undefined;

  constructor() {
    const registers = [this.registry];
    this.queries = new Counter({ name: 'wisp_queries_total', help: 'PxL queries by outcome', labelNames: ['outcome'], registers });
    this.queryDuration = new Histogram({
      name: 'wisp_query_duration_seconds',
      help: 'Wall time of PxL queries, compile and execute',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const read = (): MetricsSnapshot | undefined => this.snapshot();
    // Totals kept by the engine's parts are exposed as counters by advancing them to the total.
    const totalCounter = (name: string, help: string, labelNames: string[], values: (s: MetricsSnapshot) => [Record<string, string>, number][]): void => {
      const seen = new Map<string, number>();
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          const s = read();
          if (!s) return;
          for (const [labels, total] of values(s)) {
            const key = JSON.stringify(labels);
            const delta = total - (seen.get(key) ?? 0);
            this.inc(labels, Math.max(0, delta));
            seen.set(key, total);
          }
        },
      });
    };
    totalCounter('wisp_capture_events_total', 'Events delivered by the kernel tracer', [], (s) => [[{}, s.captureEvents]]);
    totalCounter('wisp_capture_dropped_total', 'Capture events or bytes lost, by reason', ['reason'], (s) =>
      Object.entries(s.captureDrops).map(([reason, n]) => [{ reason }, n]),
    );
    totalCounter('wisp_tls_attach_failures_total', 'TLS uprobe attach attempts that failed', [], (s) => [[{}, s.tls.failures]]);
    new Gauge({
      name: 'wisp_tls_attached_files',
      help: 'Files (libssl.so*, executables exporting SSL_write) with the TLS uprobes attached',
      registers,
      collect() {
        const s = read();
        if (s) this.set(s.tls.files);
      },
    });
    new Gauge({
      name: 'wisp_tls_undecoded_connections',
      help: 'TLS connections of processes none of whose TLS is decoded (encrypted, not decoded), by process',
      labelNames: ['pid', 'comm'],
      registers,
      collect() {
        const s = read();
        if (!s) return;
        this.reset();
        for (const u of s.tls.undecoded) this.set({ pid: String(u.pid), comm: u.comm }, u.connections);
      },
    });
    totalCounter('wisp_http_rows_total', 'Request/response pairs produced', [], (s) => [[{}, s.httpRows]]);
    totalCounter('wisp_http_dropped_total', 'HTTP exchanges or bytes given up, by reason', ['reason'], (s) =>
      Object.entries(s.httpDrops).map(([reason, n]) => [{ reason }, n]),
    );
    totalCounter('wisp_table_dropped_rows_total', 'Rows evicted to keep the byte budget', ['table'], (s) =>
      Object.entries(s.tables).map(([table, t]) => [{ table }, t.droppedRows]),
    );
    const tableGauge = (name: string, help: string, pick: (t: MetricsSnapshot['tables'][string]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['table'],
        registers,
        collect() {
          const s = read();
          if (!s) return;
          for (const [table, t] of Object.entries(s.tables)) this.set({ table }, pick(t));
        },
      });
    };
    tableGauge('wisp_table_rows', 'Rows held in memory', (t) => t.rows);
    tableGauge('wisp_table_bytes', 'Bytes held in memory', (t) => t.bytes);
  }

  /** Sets where scrape-time figures come from. */
  setSnapshot(read: () => MetricsSnapshot): void {
    this.snapshot = read;
  }

  /** Records one finished query. */
  observeQuery(outcome: 'ok' | 'error' | 'timeout' | 'cancelled', seconds: number): void {
    this.queries.inc({ outcome });
    this.queryDuration.observe({ outcome }, seconds);
  }
}
